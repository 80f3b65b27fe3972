// Proleptic Gregorian calendar arithmetic on day numbers, integers only, with no time-zone
// data: the chain's calendar-month periods and the meter readers' month boundaries both need
// "the first of a month at a fixed UTC offset", computed the same way on every machine.

export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

export function isLeapYear(year: bigint): boolean {
  return (year % 4n === 0n && year % 100n !== 0n) || year % 400n === 0n;
}

/** Days in a month (1..12). */
export function daysInMonth(year: bigint, month: bigint): bigint {
  if (month === 2n) return isLeapYear(year) ? 29n : 28n;
  return month === 4n || month === 6n || month === 9n || month === 11n ? 30n : 31n;
}

export interface CivilDate {
  readonly year: bigint;
  /** 1..12 */
  readonly month: bigint;
  /** 1..31 */
  readonly day: bigint;
}

/**
 * Days since 1970-01-01 of a date (month 1..12), after Howard Hinnant's days_from_civil:
 * counting years from March moves the leap day to the end of a 400-year era, so the day of the
 * era is a closed formula.
 */
export function daysFromCivil(year: bigint, month: bigint, day: bigint): bigint {
  const y = month <= 2n ? year - 1n : year;
  const era = floorDiv(y, 400n);
  const yoe = y - era * 400n; // [0, 399]
  const mp = month > 2n ? month - 3n : month + 9n; // March = 0
  const doy = (153n * mp + 2n) / 5n + day - 1n; // [0, 365]
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy; // [0, 146096]
  return era * 146_097n + doe - 719_468n;
}

/** The inverse of daysFromCivil: the date of a day counted from 1970-01-01. */
export function civilFromDays(days: bigint): CivilDate {
  const z = days + 719_468n;
  const era = floorDiv(z, 146_097n);
  const doe = z - era * 146_097n; // [0, 146096]
  const yoe = (doe - doe / 1460n + doe / 36_524n - doe / 146_096n) / 365n; // [0, 399]
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n); // [0, 365]
  const mp = (5n * doy + 2n) / 153n; // March = 0
  const day = doy - (153n * mp + 2n) / 5n + 1n;
  const month = mp < 10n ? mp + 3n : mp - 9n;
  const year = yoe + era * 400n + (month <= 2n ? 1n : 0n);
  return { year, month, day };
}
