// Finalisation (DESIGN.md §6 "Finalisation", "Caps", "Missing data"): once period k's readings
// are closed, each household's consumption_k = R(end_k) − R(start_k) is held against its cap.
// Below the cap it is minted the difference as credits of vintage k; above, it owes the excess.
//
// A boundary no reading reached in time is estimated here from the meter's last two readings
// and kept: the next period starts from the same estimate, so when the true value arrives its
// difference lands in the next period's settlement (estimateAdjustment) and nothing is counted
// twice or lost. Utility corrections waiting on the period are settled with it.
import type { ExecutionContext } from "../context.js";
import type { Household } from "../model/household.js";
import type { Utility } from "../model/utility.js";
import { periodStart } from "../period.js";
import {
  type Boundary,
  boundaryTable,
  extrapolate,
  floorDiv,
  interpolate,
} from "../readings/boundary.js";
import { lastSnapshot, type MeterState, meterStateTable } from "../readings/meter-state.js";
import { mintCredits } from "./credits.js";
import { addPeriodTotals, householdCap, householdPeriodTable, periodRecord } from "./snapshot.js";
import type { PeriodStage } from "./stage.js";
import { statementOf, updateStatement } from "./statement.js";

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

function clampI64(v: bigint): bigint {
  return v > I64_MAX ? I64_MAX : v < I64_MIN ? I64_MIN : v;
}

/**
 * Weighted Wh: off-peak + ⌊peak × peakWeightBps / 10000⌋ with time-of-use registers, else the
 * single register. Floored also for the negative deltas a true-up can produce.
 */
export function weightedWh(registers: readonly bigint[], peakWeightBps: number): bigint {
  const [offPeak = 0n, peak] = registers;
  if (peak === undefined) return offPeak;
  return clampI64(offPeak + floorDiv(peak * BigInt(peakWeightBps), 10_000n));
}

/** Per-register b − a. */
function minus(b: readonly bigint[], a: readonly bigint[]): bigint[] {
  return b.map((v, i) => v - (a[i] ?? 0n));
}

/**
 * The meter's value at `at` when no reading at or after it came: extrapolated from the last
 * two readings. A reading after `at` would have interpolated the boundary when it came; should
 * one exist anyway, the readings around `at` still give the best value, and an end-of-block
 * job must not throw and halt the chain.
 */
export function estimateAt(meter: MeterState, at: bigint): bigint[] {
  const last = lastSnapshot(meter);
  if (at >= last.time) return extrapolate(meter.previous, last, at);
  const previous = meter.previous;
  return previous && previous.time <= at ? interpolate(previous, last, at) : [...last.values];
}

/** The household's boundary at start_j, estimating (and keeping) it if none was written. */
function boundaryAt(
  ctx: ExecutionContext,
  household: Uint8Array,
  j: bigint,
  meter: MeterState,
): Boundary {
  const existing = ctx.get(boundaryTable, [household, j]);
  if (existing) return existing;
  const values = estimateAt(meter, periodStart(ctx.params.schedule, j));
  const estimated: Boundary = { values, estimated: true, actual: undefined };
  ctx.put(boundaryTable, [household, j], estimated);
  return estimated;
}

export function finaliseHousehold(
  ctx: ExecutionContext,
  utility: Utility,
  k: bigint,
  household: Household,
): void {
  const record = periodRecord(ctx, utility, k);
  const { cap, source } = householdCap(ctx, household, k);
  const key = [household.address, k] as const;
  const first = household.firstReadingTime;
  const meter = ctx.get(meterStateTable, household.meterIdHash);
  // A household's first settled period is the first to start at or after its first reading;
  // a closed household has settled for good at move-out.
  if (household.status !== "active" || first === undefined || first > record.start || !meter) {
    ctx.put(householdPeriodTable, key, { status: "skipped", cap, capSource: source });
    addPeriodTotals(ctx, utility, k, { skipped: 1 });
    return;
  }

  const start = boundaryAt(ctx, household.address, k, meter);
  const end = boundaryAt(ctx, household.address, k + 1n, meter);
  const bps = record.policy.peakWeightBps;
  const settledRegisters = minus(end.values, start.values);
  const metered = minus(end.values, start.actual ?? start.values);
  const weightedConsumption = weightedWh(metered, bps);
  const estimateAdjustment = clampI64(weightedWh(settledRegisters, bps) - weightedConsumption);
  const corrections = statementOf(ctx, household.address, k)?.corrections ?? [];
  const corrected = corrections.reduce((sum, c) => sum + c.amount, 0n);
  const settledConsumption = clampI64(weightedConsumption + estimateAdjustment + corrected);
  const minted = cap > settledConsumption ? clampI64(cap - settledConsumption) : 0n;
  const obligation = settledConsumption > cap ? clampI64(settledConsumption - cap) : 0n;
  const estimated = end.estimated || (start.estimated && start.actual === undefined);

  if (minted > 0n) mintCredits(ctx, household.address, k, minted);
  ctx.put(householdPeriodTable, key, { status: "settled", cap, capSource: source });
  updateStatement(ctx, household.address, k, (s) => ({
    ...s,
    status: "settled",
    cap,
    capSource: source,
    weighted: metered.length > 1,
    consumption: clampI64(metered.reduce((sum, v) => sum + v, 0n)),
    peak: metered[1] ?? 0n,
    weightedConsumption,
    estimated,
    estimateAdjustment,
    settledConsumption,
    minted,
    obligation,
    penaltyPrice: record.policy.penaltyPrice,
  }));
  addPeriodTotals(ctx, utility, k, {
    settled: 1,
    underCap: minted > 0n ? 1 : 0,
    overCap: obligation > 0n ? 1 : 0,
    estimated: estimated ? 1 : 0,
    consumption: settledConsumption,
    creditsMinted: minted,
    obligations: obligation,
  });
}

export const finaliseStage: PeriodStage = {
  name: "finalise",
  startsAt: "finalisesAt",
  async household(ctx, utility, k, household) {
    finaliseHousehold(ctx, utility, k, household);
  },
};
