// The household's projected month-end position: consumption so far extrapolated linearly over
// the whole period, against the cap. Integer arithmetic throughout (Wh and unix ms are bigint),
// rounded down like every division on the chain.

export interface Projection {
  /** Weighted Wh projected for the whole period. */
  readonly projected: bigint;
  /** cap − projected: positive is a projected surplus (credits), negative a shortfall. */
  readonly position: bigint;
  /** Share of the period elapsed, in basis points. */
  readonly elapsedBps: bigint;
}

/**
 * `now` is the chain's head time, clamped into [start, end]. Before any time has passed
 * nothing can be extrapolated, so the projection is the consumption so far.
 */
export function projectPeriod(
  consumptionSoFar: bigint,
  cap: bigint,
  start: bigint,
  end: bigint,
  now: bigint,
): Projection {
  if (end <= start) throw new RangeError("a period ends after it starts");
  const at = now < start ? start : now > end ? end : now;
  const elapsed = at - start;
  const length = end - start;
  const projected = elapsed === 0n ? consumptionSoFar : (consumptionSoFar * length) / elapsed;
  return { projected, position: cap - projected, elapsedBps: (elapsed * 10_000n) / length };
}
