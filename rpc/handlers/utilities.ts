// period_get, utility_get, oracle_list, export_settlement: a utility's records at the head.
import { decode } from "../../lib/codec.js";
import { keys, PREFIX } from "../../vm/keys.js";
import { AddressSchema } from "../../vm/model/common.js";
import { OracleSchema } from "../../vm/model/oracle.js";
import { policyForPeriod } from "../../vm/model/utility.js";
import { monthOf, periodOf, periodTimeline, phaseAt } from "../../vm/period.js";
import { periodTable } from "../../vm/settlement/snapshot.js";
import { statementTable } from "../../vm/settlement/statement.js";
import { tables } from "../../vm/tables.js";
import type { RpcBackend } from "../backend.js";
import { invalidParams } from "../errors.js";
import { addressJson, bigintJson, bytesJson, toJson } from "../json.js";
import type { PeriodTotalsJson, PolicyJson, StatementJson } from "../methods.js";
import { type Handler, headView, indexPage, pageRequest, parse } from "./context.js";
import { statementJson } from "./households.js";

export const periodGet: Handler<"period_get"> = (params, { backend }) => {
  const view = headView(backend);
  const utility = view.get(tables.utility, params.utility);
  if (!utility) throw invalidParams(`no utility ${params.utility}`, { param: "utility" });
  const schedule = view.params.schedule;
  const k =
    params.period === undefined
      ? periodOf(schedule, view.block.time)
      : parse.u64("period", params.period);
  if (k === undefined) throw invalidParams("the head is before the first period");
  const record = view.get(periodTable, [utility.id, k]);
  const policy = record?.policy ?? policyForPeriod(utility, k);
  const line = periodTimeline(schedule, k, policy);
  return {
    utility: utility.id,
    period: bigintJson(k),
    phase: phaseAt(schedule, k, view.block.time, policy),
    start: bigintJson(line.start),
    end: bigintJson(line.end),
    finalisesAt: bigintJson(line.finalisesAt),
    tradingEndsAt: bigintJson(line.tradingEndsAt),
    month: monthOf(schedule, k),
    snapshotTaken: record !== undefined,
    policy: record ? (toJson(record.policy) as unknown as PolicyJson) : null,
    totals: record ? (toJson(record.totals) as unknown as PeriodTotalsJson) : null,
  };
};

export const utilityGet: Handler<"utility_get"> = async (params, { backend }) => {
  const view = headView(backend);
  const u = view.get(tables.utility, params.utility);
  if (!u) return null;
  const history = await indexPage(
    () => backend.indexes.policyHistory(u.id, pageRequest(params)),
    (p) => ({
      height: bigintJson(p.height),
      time: bigintJson(p.time),
      fromPeriod: bigintJson(p.fromPeriod),
      tx: p.txId ? bytesJson(p.txId) : null,
    }),
  );
  return {
    id: u.id,
    name: u.name,
    operator: addressJson(u.operator),
    status: u.status,
    policy: toJson(u.policy) as unknown as PolicyJson,
    pendingPolicies: toJson(u.pendingPolicies) as unknown as {
      fromPeriod: string;
      value: PolicyJson;
    }[],
    householdCount: u.householdCount,
    activeHouseholds: u.activeHouseholds,
    balance: bigintJson(u.balance),
    history,
  };
};

/** Scans state under `start` after the cursor, keeping matches, until a page is full. */
export async function scanPage<T>(
  backend: RpcBackend,
  start: Uint8Array,
  params: { cursor?: string | null; limit?: number },
  pick: (key: Uint8Array, value: Uint8Array) => T | undefined,
): Promise<{ items: T[]; nextCursor: string | null }> {
  const { after, limit } = pageRequest(params);
  if (after && !startsWith(after, start)) throw invalidParams("params.cursor: not this list's");
  const items: T[] = [];
  let cursor = after;
  // Bounded: at most a few scans of limit entries whatever the filter drops.
  for (let round = 0; round < 8 && items.length < limit; round++) {
    const rows = await backend.state().scan(start, { ...(cursor ? { after: cursor } : {}), limit });
    for (const [key, value] of rows) {
      cursor = key;
      const item = pick(key, value);
      if (item !== undefined) items.push(item);
      if (items.length === limit) break;
    }
    if (rows.length < limit) return { items, nextCursor: null };
  }
  return { items, nextCursor: cursor ? bytesJson(cursor) : null };
}

function startsWith(key: Uint8Array, start: Uint8Array): boolean {
  if (key.length < start.length) return false;
  for (let i = 0; i < start.length; i++) if (key[i] !== start[i]) return false;
  return true;
}

export const oracleList: Handler<"oracle_list"> = async (params, { backend }) => {
  const page = await scanPage(backend, Uint8Array.of(PREFIX.oracle), params, (_key, value) => {
    const o = decode(OracleSchema, value);
    if (params.utility !== undefined && o.utility !== params.utility) return undefined;
    const stats = backend.indexes.oracleStats(o.address);
    return {
      address: addressJson(o.address),
      utility: o.utility,
      active: o.active,
      registeredHeight: bigintJson(o.registeredHeight),
      readingsRelayed: bigintJson(stats.readings),
      batches: bigintJson(stats.batches),
      rejections: stats.rejections.map((r) => ({ code: r.code, count: bigintJson(r.count) })),
    };
  });
  return page;
};

export const exportSettlement: Handler<"export_settlement"> = async (params, { backend }) => {
  const view = headView(backend);
  const utility = view.get(tables.utility, params.utility);
  if (!utility) throw invalidParams(`no utility ${params.utility}`, { param: "utility" });
  const k = parse.u64("period", params.period);
  const record = view.get(periodTable, [utility.id, k]);
  const policy = record?.policy ?? policyForPeriod(utility, k);
  const statements = await scanPage<StatementJson>(
    backend,
    keys.householdIndexOf(utility.id),
    params,
    (_key, value) => {
      const household = decode(AddressSchema, value);
      const s = view.get(statementTable, [household, k]);
      return s ? statementJson(household, s) : undefined;
    },
  );
  return {
    utility: utility.id,
    period: bigintJson(k),
    phase: phaseAt(view.params.schedule, k, view.block.time, policy),
    totals: record ? (toJson(record.totals) as unknown as PeriodTotalsJson) : null,
    statements,
  };
};
