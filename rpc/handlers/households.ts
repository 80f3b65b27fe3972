import type { StateView } from "../../vm/context.js";
import type { Household } from "../../vm/model/household.js";
import { periodOf, phaseAt } from "../../vm/period.js";
import { boundaryTable } from "../../vm/readings/boundary.js";
import { householdValues, meterStateTable } from "../../vm/readings/meter-state.js";
import { creditsOf } from "../../vm/settlement/credits.js";
import { weightedWh } from "../../vm/settlement/finalise.js";
import { capOf, householdPeriodTable, periodPolicy } from "../../vm/settlement/snapshot.js";
import {
  gainAgainstNoMarket,
  type Statement,
  statementTable,
} from "../../vm/settlement/statement.js";
import { tables } from "../../vm/tables.js";
import { standingOrderTable, tradingAccountTable } from "../../vm/trading/model.js";
import { addressJson, bigintJson, optionalJson, toJson } from "../json.js";
import type { ResultOf, StatementJson } from "../methods.js";
import { type Handler, headView, parse } from "./context.js";

export const accountGet: Handler<"account_get"> = async (params, { backend }) => {
  const address = parse.address("address", params.address);
  const view = headView(backend);
  const account = view.get(tables.account, address);
  // The household's list of vintages names its holdings: point reads, no range scan.
  let lockedCredits = 0n;
  const credits = creditsOf(view, address).map((holding) => {
    lockedCredits += holding.locked;
    return {
      vintage: bigintJson(holding.vintage),
      amount: bigintJson(holding.amount),
      locked: bigintJson(holding.locked),
    };
  });
  const trading = view.get(tradingAccountTable, address);
  return {
    address: addressJson(address),
    nonce: bigintJson(account?.nonce ?? 0n),
    balance: bigintJson(account?.balance ?? 0n),
    credits,
    lockedCredits: bigintJson(lockedCredits),
    lockedMoney: bigintJson(trading?.lockedMoney ?? 0n),
    openBuyQty: bigintJson(trading?.openBuyQty ?? 0n),
    owed: bigintJson(trading?.owed ?? 0n),
    openOrders: (trading?.buyOrders ?? 0) + (trading?.sellOrders ?? 0),
  };
};

type CurrentPeriod = NonNullable<ResultOf<"household_get">>["currentPeriod"];

function currentPeriod(view: StateView, household: Household): CurrentPeriod {
  const k = periodOf(view.params.schedule, view.block.time);
  const utility = view.get(tables.utility, household.utility);
  if (k === undefined || !utility) return null;
  const policy = periodPolicy(view, utility, k);
  const snapshot = view.get(householdPeriodTable, [household.address, k]);
  const cap = snapshot
    ? { cap: snapshot.cap, source: snapshot.capSource }
    : capOf(view, household, k, policy);
  const meter = view.get(meterStateTable, household.meterIdHash);
  const start = view.get(boundaryTable, [household.address, k]);
  let consumption: bigint | undefined;
  if (meter && start) {
    const now = householdValues(meter, meter.registers);
    const used = now.map((v, i) => v - (start.values[i] ?? 0n));
    consumption = weightedWh(used, policy.peakWeightBps);
  }
  return {
    period: bigintJson(k),
    phase: phaseAt(view.params.schedule, k, view.block.time, policy),
    cap: bigintJson(cap.cap),
    capSource: cap.source,
    consumptionSoFar: optionalJson(consumption, bigintJson) as string | null,
  };
}

export const householdGet: Handler<"household_get"> = (params, { backend }) => {
  const address = parse.address("address", params.address);
  const view = headView(backend);
  const h = view.get(tables.household, address);
  if (!h) return null;
  const sell = view.get(standingOrderTable, [address, "sell"]);
  const buy = view.get(standingOrderTable, [address, "buy"]);
  return {
    address: addressJson(h.address),
    utility: h.utility,
    key: addressJson(h.key),
    appKey: h.appKey ? addressJson(h.appKey) : null,
    meterIdHash: toJson(h.meterIdHash) as string,
    meterKeyType: h.meterKey ? h.meterKey.type : null,
    registers: h.registers,
    baselines: h.baselines.map(bigintJson),
    status: h.status,
    registeredAt: bigintJson(h.registeredAt),
    closedAt: optionalJson(h.closedAt, bigintJson) as string | null,
    firstReadingTime: optionalJson(h.firstReadingTime, bigintJson) as string | null,
    currentPeriod: currentPeriod(view, h),
    standingOrders: {
      sell: sell ? bigintJson(sell.price) : null,
      buy: buy ? bigintJson(buy.price) : null,
    },
  };
};

export function statementJson(household: Uint8Array, s: Statement): StatementJson {
  const fields = toJson(s) as unknown as Omit<StatementJson, "household" | "gainAgainstNoMarket">;
  return {
    household: addressJson(household),
    ...fields,
    gainAgainstNoMarket: bigintJson(gainAgainstNoMarket(s)),
  };
}

export const householdStatement: Handler<"household_statement"> = (params, { backend }) => {
  const address = parse.address("address", params.address);
  const period = parse.u64("period", params.period);
  const s = headView(backend).get(statementTable, [address, period]);
  return s ? statementJson(address, s) : null;
};
