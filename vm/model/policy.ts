// A utility's market policy (DESIGN.md §6 "Governance"). Times are unix-ms durations, prices are
// micro-units per Wh, quantities Wh, money micro-units: all integers.
import { type Infer, list, struct, u32, u64 } from "../../lib/codec.js";
import { intRange } from "./common.js";

const MINUTES_PER_DAY = 1440;

/** A daily peak window [startMinute, endMinute) in UTC minutes after midnight. */
export const PeakWindowSchema = struct("PeakWindow", {
  startMinute: intRange(0, MINUTES_PER_DAY - 1),
  endMinute: intRange(1, MINUTES_PER_DAY),
});
export type PeakWindow = Infer<typeof PeakWindowSchema>;

export const MAX_PEAK_WINDOWS = 8;

export const PolicySchema = struct("Policy", {
  /** cap = baseline × (10000 − reductionBps) / 10000. */
  reductionBps: intRange(0, 10_000),
  /** Paid per uncovered Wh at compliance; also the top of the price band. */
  penaltyPrice: u64,
  /** The bottom of the price band. */
  floorPrice: u64,
  /** What the utility pays per Wh for credits that expire (0: they simply expire). */
  buybackPrice: u64,
  /** Traditional DSM: credits bought by the utility right after finalisation, if > 0. */
  rebatePrice: u64,
  /** Vintage k expires after the compliance of period k + creditLifetime. */
  creditLifetime: intRange(1, 1200),
  /** Most credits a household may hold plus buy, in Wh. */
  holdingLimit: u64,
  /** The overdraft a household may use for its own buys. */
  creditLimit: u64,
  readingGrace: u64,
  tradingWindow: u64,
  /** A policy change applies only to periods starting at least this long after it lands. */
  noticePeriod: u64,
  peakWindows: list(PeakWindowSchema, MAX_PEAK_WINDOWS),
  /** Weighted Wh = off-peak Wh + peak Wh × peakWeightBps / 10000. */
  peakWeightBps: u32,
  /** At most one reading per meter per interval (plus one at each boundary). */
  readingInterval: u64,
  /** How far after the block time a reading's time may be. */
  maxReadingDrift: u64,
});
export type Policy = Infer<typeof PolicySchema>;

/** Why a policy that fits the schema makes no sense, or undefined if it is fine. */
export function policyProblem(policy: Policy): string | undefined {
  if (policy.floorPrice > policy.penaltyPrice) return "floorPrice is above penaltyPrice";
  if (policy.penaltyPrice === 0n) return "penaltyPrice must be positive";
  if (policy.readingInterval === 0n) return "readingInterval must be positive";
  let previousEnd = 0;
  for (const [i, w] of policy.peakWindows.entries()) {
    if (w.startMinute >= w.endMinute) return `peakWindows[${i}] is empty or reversed`;
    if (i > 0 && w.startMinute < previousEnd) {
      return `peakWindows[${i}] overlaps or precedes the window before it`;
    }
    previousEnd = w.endMinute;
  }
  return undefined;
}
