// Each period's snapshot (DESIGN.md §6 "Periods", "Caps"): at start_k a period takes its
// utility's policy and each household's cap, and every later phase of k reads them from here.
// Scheduled changes fold into the values in force as periods pass, so reading policyForPeriod
// or baselinesForPeriod for k after k is over could give a later period's values; the snapshot
// is what keeps k's terms fixed.
import { enumeration, type Infer, i64, struct, u32, u64 } from "../../lib/codec.js";
import type { ExecutionContext, StateView } from "../context.js";
import { keys } from "../keys.js";
import { intRange, UtilityIdSchema } from "../model/common.js";
import { baselinesForPeriod, type Household } from "../model/household.js";
import { type Policy, PolicySchema } from "../model/policy.js";
import { policyForPeriod, type Utility } from "../model/utility.js";
import { monthOf, periodTimeline } from "../period.js";
import { type Table, table, tables } from "../tables.js";
import type { PeriodStage } from "./stage.js";

/** Per (utility, k) counters for the explorer; other stages add theirs with addPeriodTotals. */
export const PeriodTotalsSchema = struct("PeriodTotals", {
  /** Households settled at finalisation, and those skipped (no data yet, closed). */
  settled: u32,
  skipped: u32,
  underCap: u32,
  overCap: u32,
  /** Settled on an estimated end boundary. */
  estimated: u32,
  /** Σ settled (weighted) consumption, adjustments included. */
  consumption: i64,
  creditsMinted: u64,
  /** Σ obligations recorded at finalisation. */
  obligations: u64,
  creditsSurrendered: u64,
  /** Σ Wh of obligations left uncovered at compliance, and the penalties charged for them. */
  uncovered: u64,
  penalties: u64,
  creditsRebated: u64,
  rebatesPaid: u64,
  creditsExpired: u64,
  buybacksPaid: u64,
});
export type PeriodTotals = Infer<typeof PeriodTotalsSchema>;

export const ZERO_PERIOD_TOTALS: PeriodTotals = {
  settled: 0,
  skipped: 0,
  underCap: 0,
  overCap: 0,
  estimated: 0,
  consumption: 0n,
  creditsMinted: 0n,
  obligations: 0n,
  creditsSurrendered: 0n,
  uncovered: 0n,
  penalties: 0n,
  creditsRebated: 0n,
  rebatesPaid: 0n,
  creditsExpired: 0n,
  buybacksPaid: 0n,
};

export const PeriodRecordSchema = struct("PeriodRecord", {
  utility: UtilityIdSchema,
  period: u64,
  /** Which of the 12 baselines the period uses. */
  month: intRange(0, 11),
  /** The utility's policy for k, taken at start_k. */
  policy: PolicySchema,
  start: u64,
  end: u64,
  finalisesAt: u64,
  tradingEndsAt: u64,
  totals: PeriodTotalsSchema,
});
export type PeriodRecord = Infer<typeof PeriodRecordSchema>;

/** (utility, k) → the period's snapshot and totals. */
export const periodTable: Table<readonly [utility: string, period: bigint], PeriodRecord> = table(
  "period",
  ([utility, k]) => keys.period(utility, k),
  PeriodRecordSchema,
);

function newPeriodRecord(view: StateView, utility: Utility, k: bigint): PeriodRecord {
  const policy = policyForPeriod(utility, k);
  const line = periodTimeline(view.params.schedule, k, policy);
  return {
    utility: utility.id,
    period: k,
    month: monthOf(view.params.schedule, k),
    policy,
    ...line,
    totals: ZERO_PERIOD_TOTALS,
  };
}

/**
 * Period k's record, created the first time anything touches k. Only a started period has one:
 * before start_k its policy may still change.
 */
export function periodRecord(ctx: ExecutionContext, utility: Utility, k: bigint): PeriodRecord {
  const existing = ctx.get(periodTable, [utility.id, k]);
  if (existing) return existing;
  if (!ctx.hasStarted(k)) throw new Error(`period ${k} has not started: it has no snapshot yet`);
  const record = newPeriodRecord(ctx, utility, k);
  ctx.put(periodTable, [utility.id, k], record);
  return record;
}

/** The policy k uses: its snapshot if it has one, else what the snapshot will take. */
export function periodPolicy(view: StateView, utility: Utility, k: bigint): Policy {
  return view.get(periodTable, [utility.id, k])?.policy ?? policyForPeriod(utility, k);
}

type Counters = { [F in keyof PeriodTotals]: PeriodTotals[F] };

/** Adds `delta` to k's totals. */
export function addPeriodTotals(
  ctx: ExecutionContext,
  utility: Utility,
  k: bigint,
  delta: Partial<Counters>,
): void {
  const record = periodRecord(ctx, utility, k);
  const totals: Record<string, number | bigint> = { ...record.totals };
  for (const [field, value] of Object.entries(delta) as Array<[keyof Counters, number | bigint]>) {
    const current = totals[field];
    if (typeof current === "number" && typeof value === "number") totals[field] = current + value;
    else if (typeof current === "bigint" && typeof value === "bigint") {
      totals[field] = current + value;
    } else throw new TypeError(`period total ${field}: wrong type`);
  }
  ctx.put(periodTable, [utility.id, k], { ...record, totals: totals as PeriodTotals });
}

const capSourceVariants = ["baseline", "explicit"] as const;
export const CapSourceSchema = enumeration("CapSource", capSourceVariants);
export type CapSource = Infer<typeof CapSourceSchema>;

export const HouseholdPeriodStatusSchema = enumeration("HouseholdPeriodStatus", [
  "open",
  "settled",
  "skipped",
]);

/** A household's terms for k, taken at start_k, and whether k is settled for it. */
export const HouseholdPeriodSchema = struct("HouseholdPeriod", {
  status: HouseholdPeriodStatusSchema,
  /** In (weighted) Wh. */
  cap: u64,
  capSource: CapSourceSchema,
});
export type HouseholdPeriod = Infer<typeof HouseholdPeriodSchema>;

/** (household, k) → its terms and settlement status for k. */
export const householdPeriodTable: Table<
  readonly [household: Uint8Array, period: bigint],
  HouseholdPeriod
> = table(
  "householdPeriod",
  ([household, k]) => keys.householdPeriod(household, k),
  HouseholdPeriodSchema,
);

/** Whether finalisation has already dealt with the household for k (settled or skipped). */
export function isFinalisedFor(view: StateView, household: Uint8Array, k: bigint): boolean {
  const status = view.get(householdPeriodTable, [household, k])?.status;
  return status === "settled" || status === "skipped";
}

export type Cap = { readonly cap: bigint; readonly source: CapSource };

/** cap_k = baseline[month(k)] × (10000 − reductionBps) / 10000, unless an explicit cap was set. */
export function capOf(
  view: StateView,
  household: Household,
  k: bigint,
  policy: Pick<Policy, "reductionBps">,
): Cap {
  const explicit = view.get(tables.explicitCap, [household.address, k]);
  if (explicit !== undefined) return { cap: explicit, source: "explicit" };
  const baseline = baselinesForPeriod(household, k)[monthOf(view.params.schedule, k)] ?? 0n;
  return { cap: (baseline * BigInt(10_000 - policy.reductionBps)) / 10_000n, source: "baseline" };
}

/** The household's cap for k: from its snapshot, or taken now if the snapshot missed it. */
export function householdCap(ctx: ExecutionContext, household: Household, k: bigint): Cap {
  const snapshot = ctx.get(householdPeriodTable, [household.address, k]);
  if (snapshot) return { cap: snapshot.cap, source: snapshot.capSource };
  const utility = ctx.need(tables.utility, household.utility, "UNKNOWN_UTILITY");
  return capOf(ctx, household, k, periodRecord(ctx, utility, k).policy);
}

/** The first stage of every period: the policy snapshot, then each active household's cap. */
export const snapshotStage: PeriodStage = {
  name: "snapshot",
  startsAt: "start",
  async begin(ctx, utility, k, budget) {
    if (!budget.take(1)) return false;
    periodRecord(ctx, utility, k);
    return true;
  },
  async household(ctx, utility, k, household) {
    if (household.status !== "active") return;
    if (ctx.get(householdPeriodTable, [household.address, k])) return;
    const { cap, source } = capOf(ctx, household, k, periodRecord(ctx, utility, k).policy);
    ctx.put(householdPeriodTable, [household.address, k], {
      status: "open",
      cap,
      capSource: source,
    });
  },
};
