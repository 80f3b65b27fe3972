// Period arithmetic (DESIGN.md §6 "Periods"). Boundaries are UTC instants in unix milliseconds,
// computed by integer arithmetic alone: the chain must agree on them to the millisecond on every
// node, so no calendar library, time-zone database or floating point is involved.

/** A month as an index into a household's 12 baselines: 0 = January … 11 = December. */
import { civilFromDays, daysFromCivil, floorDiv } from "../lib/civil.js";

export type MonthIndex = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11;

/** Periods of one fixed length from a genesis start; devnets compress a month into seconds. */
export interface FixedSchedule {
  readonly kind: "fixed";
  /** start_0, unix ms. */
  readonly start: bigint;
  /** Period length in ms, > 0. */
  readonly length: bigint;
  /** The month period 0 stands for; period k stands for (firstMonth + k) mod 12. */
  readonly firstMonth: MonthIndex;
}

/** Calendar months whose boundaries are local midnights at a fixed offset from UTC. */
export interface CalendarSchedule {
  readonly kind: "calendar";
  /** Proleptic Gregorian year of period 0. */
  readonly firstYear: number;
  readonly firstMonth: MonthIndex;
  /** Local time minus UTC, in minutes: +60 puts each boundary at 23:00Z the day before. */
  readonly offsetMinutes: number;
}

export type PeriodSchedule = FixedSchedule | CalendarSchedule;

export type PeriodErrorCode =
  | "BAD_SCHEDULE" // a schedule field is out of its range
  | "NEGATIVE_PERIOD"; // a period index below 0: no period exists before genesis

export class PeriodError extends Error {
  override name = "PeriodError";
  constructor(
    readonly code: PeriodErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const MS_PER_MINUTE = 60_000n;
const MS_PER_DAY = 86_400_000n;
// Civil offsets in use run from UTC−12:00 to UTC+14:00; anything else is a typo in a genesis file.
const MIN_OFFSET_MINUTES = -12 * 60;
const MAX_OFFSET_MINUTES = 14 * 60;
// Keeps the year a safe JS integer through every conversion; far wider than any chain's life.
const MAX_ABS_YEAR = 1_000_000;

function isMonthIndex(m: unknown): m is MonthIndex {
  return Number.isInteger(m) && (m as number) >= 0 && (m as number) <= 11;
}

/** Checks a fixed-length schedule decoded from genesis; throws PeriodError("BAD_SCHEDULE"). */
export function fixedSchedule(start: bigint, length: bigint, firstMonth: number): FixedSchedule {
  if (length <= 0n) throw new PeriodError("BAD_SCHEDULE", "period length must be positive");
  if (!isMonthIndex(firstMonth)) {
    throw new PeriodError("BAD_SCHEDULE", "first month must be an integer in 0..11");
  }
  return { kind: "fixed", start, length, firstMonth };
}

/** Checks a calendar schedule decoded from genesis; throws PeriodError("BAD_SCHEDULE"). */
export function calendarSchedule(
  firstYear: number,
  firstMonth: number,
  offsetMinutes: number,
): CalendarSchedule {
  if (!Number.isInteger(firstYear) || Math.abs(firstYear) > MAX_ABS_YEAR) {
    throw new PeriodError("BAD_SCHEDULE", `first year must be an integer within ±${MAX_ABS_YEAR}`);
  }
  if (!isMonthIndex(firstMonth)) {
    throw new PeriodError("BAD_SCHEDULE", "first month must be an integer in 0..11");
  }
  if (
    !Number.isInteger(offsetMinutes) ||
    offsetMinutes < MIN_OFFSET_MINUTES ||
    offsetMinutes > MAX_OFFSET_MINUTES
  ) {
    throw new PeriodError("BAD_SCHEDULE", "UTC offset must be whole minutes in −720..+840");
  }
  return { kind: "calendar", firstYear, firstMonth, offsetMinutes };
}

function requirePeriod(k: bigint): void {
  if (k < 0n) throw new PeriodError("NEGATIVE_PERIOD", `period ${k} is before genesis`);
}

/** start_k in unix ms. */
export function periodStart(schedule: PeriodSchedule, k: bigint): bigint {
  requirePeriod(k);
  if (schedule.kind === "fixed") return schedule.start + k * schedule.length;
  const monthsSinceYear0 = BigInt(schedule.firstMonth) + k;
  const year = BigInt(schedule.firstYear) + monthsSinceYear0 / 12n;
  const month = (monthsSinceYear0 % 12n) + 1n;
  return (
    daysFromCivil(year, month, 1n) * MS_PER_DAY - BigInt(schedule.offsetMinutes) * MS_PER_MINUTE
  );
}

/** end_k = start_{k+1}: consumption of period k is [start_k, end_k). */
export function periodEnd(schedule: PeriodSchedule, k: bigint): bigint {
  return periodStart(schedule, k + 1n);
}

/** The period whose [start, end) holds `time`, or undefined before genesis. */
export function periodOf(schedule: PeriodSchedule, time: bigint): bigint | undefined {
  if (schedule.kind === "fixed") {
    if (time < schedule.start) return undefined;
    return (time - schedule.start) / schedule.length;
  }
  const localDay = floorDiv(time + BigInt(schedule.offsetMinutes) * MS_PER_MINUTE, MS_PER_DAY);
  const { year, month } = civilFromDays(localDay);
  const k = (year - BigInt(schedule.firstYear)) * 12n + (month - 1n) - BigInt(schedule.firstMonth);
  return k < 0n ? undefined : k;
}

/** Which of the 12 monthly baselines period k uses. */
export function monthOf(schedule: PeriodSchedule, k: bigint): MonthIndex {
  requirePeriod(k);
  return Number((BigInt(schedule.firstMonth) + k) % 12n) as MonthIndex;
}

/** Durations from the period's policy snapshot, in ms. */
export interface PhaseDurations {
  /** Readings for k are accepted until end_k + readingGrace. */
  readonly readingGrace: bigint;
  /** Credits of k trade until end_k + readingGrace + tradingWindow. */
  readonly tradingWindow: bigint;
}

/** The instants at which period k changes phase, in unix ms. */
export interface PeriodTimeline {
  readonly start: bigint;
  readonly end: bigint;
  /** end + readingGrace: readings close and finalisation runs. */
  readonly finalisesAt: bigint;
  /** finalisesAt + tradingWindow: the trading window closes and compliance is due. */
  readonly tradingEndsAt: bigint;
}

export function periodTimeline(
  schedule: PeriodSchedule,
  k: bigint,
  durations: PhaseDurations,
): PeriodTimeline {
  if (durations.readingGrace < 0n || durations.tradingWindow < 0n) {
    throw new PeriodError("BAD_SCHEDULE", "reading grace and trading window cannot be negative");
  }
  const start = periodStart(schedule, k);
  const end = periodEnd(schedule, k);
  const finalisesAt = end + durations.readingGrace;
  return { start, end, finalisesAt, tradingEndsAt: finalisesAt + durations.tradingWindow };
}

/**
 * - `upcoming`: before start_k;
 * - `open`: consumption is being metered, [start, end);
 * - `reading-grace`: late readings for k are still accepted, [end, finalisesAt);
 * - `trading`: k is final and its credits trade, [finalisesAt, tradingEndsAt);
 * - `closed`: compliance for k is due or done.
 */
export type Phase = "upcoming" | "open" | "reading-grace" | "trading" | "closed";

export function phaseAt(
  schedule: PeriodSchedule,
  k: bigint,
  time: bigint,
  durations: PhaseDurations,
): Phase {
  const line = periodTimeline(schedule, k, durations);
  if (time < line.start) return "upcoming";
  if (time < line.end) return "open";
  if (time < line.finalisesAt) return "reading-grace";
  if (time < line.tradingEndsAt) return "trading";
  return "closed";
}
