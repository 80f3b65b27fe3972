// A household's statement for one period (DESIGN.md §6 "Statements"): what it was allowed, what
// it used, what it was credited or owed, what it traded, surrendered and paid, and what the
// market gained it against having none. Finalisation fills the consumption and cap fields; the
// market, compliance, rebate and expiry stages add theirs with updateStatement. Energy fields
// are in weighted Wh when the household's meter has time-of-use registers (`weighted`).
import { bool, enumeration, type Infer, i64, list, struct, text, u64 } from "../../lib/codec.js";
import type { ExecutionContext, StateView } from "../context.js";
import { keys } from "../keys.js";
import { UtilityIdSchema } from "../model/common.js";
import { type Table, table, tables } from "../tables.js";
import { CorrectionReasonSchema } from "../tx/types.js";
import { CapSourceSchema, periodPolicy } from "./snapshot.js";

/** A quantity of credits and the money that changed hands for it. */
export const TradeTotalSchema = struct("TradeTotal", { qty: u64, value: u64 });
export type TradeTotal = Infer<typeof TradeTotalSchema>;

export const NO_TRADE: TradeTotal = { qty: 0n, value: 0n };

export const CorrectionSchema = struct("Correction", {
  /** The settled period the utility corrected. */
  period: u64,
  reason: CorrectionReasonSchema,
  /** Weighted Wh added to (negative: taken from) the consumption settled in this period. */
  amount: i64,
  reference: text(64),
});
export type Correction = Infer<typeof CorrectionSchema>;

/** Corrections one statement can carry; more for the same period are refused. */
export const MAX_CORRECTIONS = 16;

export const StatementSchema = struct("Statement", {
  utility: UtilityIdSchema,
  period: u64,
  /** `open` until finalisation settles the period (corrections may wait on an open one). */
  status: enumeration("StatementStatus", ["open", "settled"]),
  cap: u64,
  capSource: CapSourceSchema,
  /** Time-of-use: energy fields are off-peak Wh + peak Wh × peakWeightBps / 10000, floored. */
  weighted: bool,
  /** Metered Wh over [start_k, end_k), all registers, and the peak register's share. */
  consumption: i64,
  peak: i64,
  weightedConsumption: i64,
  /** The end boundary was extrapolated: no reading at or after end_k came in time. */
  estimated: bool,
  /** Carried from the previous period: true start boundary minus the estimate it settled on. */
  estimateAdjustment: i64,
  corrections: list(CorrectionSchema, MAX_CORRECTIONS),
  /** weightedConsumption + estimateAdjustment + Σ corrections: what was held against the cap. */
  settledConsumption: i64,
  minted: u64,
  obligation: u64,
  bought: TradeTotalSchema,
  sold: TradeTotalSchema,
  surrendered: u64,
  /** Wh of the obligation left uncovered at compliance, and the penalty charged for them. */
  uncovered: u64,
  penalty: u64,
  rebate: TradeTotalSchema,
  buyback: TradeTotalSchema,
  /** From the period's snapshot: the price of each uncovered Wh without a market. */
  penaltyPrice: u64,
});
export type Statement = Infer<typeof StatementSchema>;

/** (household, k) → the household's statement for k. */
export const statementTable: Table<readonly [household: Uint8Array, period: bigint], Statement> =
  table("statement", ([household, k]) => keys.statement(household, k), StatementSchema);

export function emptyStatement(utility: string, k: bigint, penaltyPrice: bigint): Statement {
  return {
    utility,
    period: k,
    status: "open",
    cap: 0n,
    capSource: "baseline",
    weighted: false,
    consumption: 0n,
    peak: 0n,
    weightedConsumption: 0n,
    estimated: false,
    estimateAdjustment: 0n,
    corrections: [],
    settledConsumption: 0n,
    minted: 0n,
    obligation: 0n,
    bought: NO_TRADE,
    sold: NO_TRADE,
    surrendered: 0n,
    uncovered: 0n,
    penalty: 0n,
    rebate: NO_TRADE,
    buyback: NO_TRADE,
    penaltyPrice,
  };
}

export function statementOf(
  view: StateView,
  household: Uint8Array,
  k: bigint,
): Statement | undefined {
  return view.get(statementTable, [household, k]);
}

/** Applies `patch` to the household's statement for k, creating it if it has none yet. */
export function updateStatement(
  ctx: ExecutionContext,
  household: Uint8Array,
  k: bigint,
  patch: (statement: Statement) => Statement,
): Statement {
  const existing = statementOf(ctx, household, k);
  let base = existing;
  if (base === undefined) {
    const record = ctx.need(tables.household, household, "UNKNOWN_HOUSEHOLD");
    const utility = ctx.need(tables.utility, record.utility, "UNKNOWN_UTILITY");
    base = emptyStatement(utility.id, k, periodPolicy(ctx, utility, k).penaltyPrice);
  }
  const next = patch(base);
  ctx.put(statementTable, [household, k], next);
  return next;
}

/** Adds a trade to a running total. */
export function addTrade(total: TradeTotal, qty: bigint, value: bigint): TradeTotal {
  return { qty: total.qty + qty, value: total.value + value };
}

/** Micro-units per Wh, floored; undefined for no trade. */
export function averagePrice(total: TradeTotal): bigint | undefined {
  return total.qty === 0n ? undefined : total.value / total.qty;
}

/**
 * What the market gained the household against having none (DESIGN.md §6):
 * (sales − purchases − penalty + buy-back + rebate) − (−penaltyPrice × obligation). Without a
 * market its whole obligation would have been penalised and its credits worth nothing.
 */
export function gainAgainstNoMarket(s: Statement): bigint {
  const withMarket = s.sold.value - s.bought.value - s.penalty + s.buyback.value + s.rebate.value;
  const withoutMarket = -(s.penaltyPrice * s.obligation);
  return withMarket - withoutMarket;
}
