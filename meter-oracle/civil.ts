// Proleptic Gregorian calendar arithmetic in unix seconds, integers only. The readers and the
// time map need "which instant is 2011-03-01 00:00 at UTC−8" without a time-zone database, so
// every offset is explicit and fixed: daylight saving never enters (see docs/meter-data.md).

import { daysFromCivil, floorDiv } from "../lib/civil.js";

export const SECONDS_PER_HOUR = 3_600n;
export const SECONDS_PER_DAY = 86_400n;

/**
 * A month as one integer, year × 12 + (month − 1), so "month m + 1" is plain addition.
 * 2011-01 is 24132.
 */
export function monthNumber(year: bigint, month: bigint): bigint {
  return year * 12n + month - 1n;
}

/** Unix seconds of local midnight starting month m, at a fixed offset (local − UTC, seconds). */
export function monthStart(m: bigint, utcOffsetSec: bigint): bigint {
  const year = floorDiv(m, 12n);
  const month = m - year * 12n + 1n;
  return daysFromCivil(year, month, 1n) * SECONDS_PER_DAY - utcOffsetSec;
}
