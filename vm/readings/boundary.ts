// Register values at period boundaries (DESIGN.md §6 "Readings", "Missing data"). The chain
// keeps, per household, the value of each register at start_k, never the readings themselves:
// exactly interpolated between the readings around the boundary, or estimated by finalisation
// when no reading at or after it came in time. Values are the household's cumulative Wh, which
// continue across meter replacements (vm/readings/meter-state.ts), so a boundary never depends
// on which meter was fitted.
import { bool, type Infer, list, optional, struct, u64 } from "../../lib/codec.js";
import { keys } from "../keys.js";
import { type Table, table } from "../tables.js";

/** No real meter counts this many Wh; keeping below it keeps every difference within i64. */
export const MAX_REGISTER_WH = 1n << 48n;

/** Cumulative Wh per register at one instant. */
export interface Snapshot {
  readonly time: bigint;
  readonly values: readonly bigint[];
}

/** ⌊a / b⌋ for b > 0, also for negative a (bigint division truncates towards zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/**
 * R(at) = R_a + ⌊(R_b − R_a)(at − t_a)/(t_b − t_a)⌋ per register, for t_a ≤ at ≤ t_b; a reading
 * exactly at `at` is used as it is.
 */
export function interpolate(a: Snapshot, b: Snapshot, at: bigint): bigint[] {
  if (at < a.time || at > b.time) throw new RangeError("interpolation outside its readings");
  if (at === b.time) return [...b.values];
  if (at === a.time) return [...a.values];
  const span = b.time - a.time;
  return a.values.map((ra, i) => ra + floorDiv(((b.values[i] ?? ra) - ra) * (at - a.time), span));
}

/**
 * The estimate at `at` (after the last reading) from the last two readings' rate, never below
 * what was read, and with a single reading simply what was read.
 */
export function extrapolate(previous: Snapshot | undefined, last: Snapshot, at: bigint): bigint[] {
  if (at < last.time) throw new RangeError("extrapolation before the last reading");
  if (previous === undefined || previous.time >= last.time) return [...last.values];
  const span = last.time - previous.time;
  return last.values.map((rl, i) => {
    const rate = rl - (previous.values[i] ?? rl);
    const value = rl + floorDiv((rate > 0n ? rate : 0n) * (at - last.time), span);
    return value < MAX_REGISTER_WH ? value : MAX_REGISTER_WH - 1n;
  });
}

export const RegisterValuesSchema = list(u64, 2);

export const BoundarySchema = struct("Boundary", {
  /** The values settlement uses for start_k (and end_{k−1}); never changed once written. */
  values: RegisterValuesSchema,
  /** Written by finalisation from the last two readings, because no reading came at or after. */
  estimated: bool,
  /**
   * For an estimated boundary: the true values, interpolated once a later reading arrived
   * before period k was finalised. The difference is settled in period k (its start is the
   * estimate), so the total over periods equals what the meter measured.
   */
  actual: optional(RegisterValuesSchema),
});
export type Boundary = Infer<typeof BoundarySchema>;

/** (household, k) → the household's register values at start_k. */
export const boundaryTable: Table<readonly [household: Uint8Array, period: bigint], Boundary> =
  table("boundary", ([household, k]) => keys.boundary(household, k), BoundarySchema);
