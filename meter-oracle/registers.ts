// Interval energy → cumulative import registers, the only thing a reading carries on chain
// (DESIGN.md §6 "Readings"): one register, or two (off-peak, peak) for a utility with
// time-of-use weighting. Registers move only across intervals whose energy is known: over a gap
// they stay flat (the missing energy is reported, not invented), so the peak split, which
// depends on when energy was used, stays true to the intervals.
import { floorDiv } from "../lib/civil.js";
import { SECONDS_PER_DAY } from "./civil.js";
import { type IntervalReading, MeterDataError } from "./interval.js";

/** Peak time each UTC day, [startMinute, endMinute) minutes after 00:00 UTC. */
export interface PeakWindow {
  readonly startMinute: number;
  readonly endMinute: number;
}

declare const checked: unique symbol;
/** Windows sorted, disjoint and within one day; only peakWindows() makes them. */
export type PeakWindows = readonly PeakWindow[] & { readonly [checked]: true };

const MINUTES_PER_DAY = 1_440;

/**
 * Checks peak windows: integers with 0 ≤ start < end ≤ 1440, in order, not overlapping. A window
 * across midnight is given as two (22:00–24:00 and 00:00–06:00). Throws BAD_PEAK_WINDOWS.
 */
export function peakWindows(windows: readonly PeakWindow[]): PeakWindows {
  let previousEnd = 0;
  for (const { startMinute, endMinute } of windows) {
    if (
      !Number.isInteger(startMinute) ||
      !Number.isInteger(endMinute) ||
      startMinute < previousEnd ||
      startMinute >= endMinute ||
      endMinute > MINUTES_PER_DAY
    ) {
      throw new MeterDataError(
        "BAD_PEAK_WINDOWS",
        `window ${startMinute}–${endMinute} must be whole minutes within the day, after the previous window`,
      );
    }
    previousEnd = endMinute;
  }
  const copy = windows.map(({ startMinute, endMinute }) => ({ startMinute, endMinute }));
  return Object.freeze(copy) as unknown as PeakWindows;
}

export type RegisterMode =
  | { readonly kind: "single" }
  | { readonly kind: "tou"; readonly peak: PeakWindows };

/** Cumulative Wh: [total], or [offPeak, peak] under time-of-use. */
export type Registers = readonly [total: bigint] | readonly [offPeak: bigint, peak: bigint];

export interface RegisterPoint {
  /** Unix seconds, UTC. */
  readonly time: bigint;
  readonly registers: Registers;
}

/** Seconds of [start, start + durationSec) inside the peak windows. */
export function peakSeconds(start: bigint, durationSec: bigint, peak: PeakWindows): bigint {
  const end = start + durationSec;
  if (durationSec <= 0n) return 0n;
  const firstDay = floorDiv(start, SECONDS_PER_DAY);
  const lastDay = floorDiv(end - 1n, SECONDS_PER_DAY);
  if (firstDay === lastDay) return peakInDay(firstDay, start, end, peak);
  // Whole days in between by multiplication, so a long interval costs no more than a short one.
  const wholeDays = lastDay - firstDay - 1n;
  const dailyPeak = peak.reduce((sum, w) => sum + BigInt(w.endMinute - w.startMinute) * 60n, 0n);
  return (
    peakInDay(firstDay, start, (firstDay + 1n) * SECONDS_PER_DAY, peak) +
    wholeDays * dailyPeak +
    peakInDay(lastDay, lastDay * SECONDS_PER_DAY, end, peak)
  );
}

function peakInDay(day: bigint, from: bigint, to: bigint, peak: PeakWindows): bigint {
  const midnight = day * SECONDS_PER_DAY;
  let total = 0n;
  for (const w of peak) {
    const lo = max(from, midnight + BigInt(w.startMinute) * 60n);
    const hi = min(to, midnight + BigInt(w.endMinute) * 60n);
    if (hi > lo) total += hi - lo;
  }
  return total;
}

/**
 * An interval's energy split pro rata by time: peak = ⌊wh × peakSeconds / duration⌋, and
 * off-peak takes the remainder. So a straddling interval may put up to 1 Wh less on peak than
 * the exact share, in the household's favour, and the two always add up to the interval.
 */
export function splitPeak(
  interval: IntervalReading,
  peak: PeakWindows,
): { readonly offPeak: bigint; readonly peak: bigint } {
  const inPeak = peakSeconds(interval.start, interval.durationSec, peak);
  const peakWh = (interval.wh * inPeak) / interval.durationSec;
  return { offPeak: interval.wh - peakWh, peak: peakWh };
}

export interface RegisterReport {
  readonly intervals: number;
  /** Holes between consecutive intervals, and their total length in seconds. */
  readonly gaps: number;
  readonly gapSeconds: bigint;
  /** Energy added to the registers. */
  readonly wh: bigint;
}

/**
 * Accumulates intervals, in time order, into register snapshots: one at the start of the first
 * interval (the initial registers), one at the end of each interval, and one at the start of an
 * interval that follows a gap (unchanged registers, so the gap is flat).
 */
export class RegisterBuilder {
  private registers: Registers;
  private lastEnd: bigint | undefined;
  private intervals = 0;
  private gaps = 0;
  private gapSeconds = 0n;
  private wh = 0n;

  constructor(
    private readonly mode: RegisterMode,
    initial?: Registers,
  ) {
    const width = mode.kind === "single" ? 1 : 2;
    const start: Registers = initial ?? (width === 1 ? [0n] : [0n, 0n]);
    if (start.length !== width || start.some((r) => r < 0n)) {
      throw new MeterDataError("BAD_INTERVALS", `initial registers must be ${width} values ≥ 0`);
    }
    this.registers = start;
  }

  /** Throws BAD_INTERVALS for an empty or negative interval, or one before the previous end. */
  add(interval: IntervalReading): RegisterPoint[] {
    const { start, durationSec, wh } = interval;
    if (durationSec <= 0n || wh < 0n) {
      throw new MeterDataError("BAD_INTERVALS", `interval at ${start}: empty or negative`);
    }
    const points: RegisterPoint[] = [];
    if (this.lastEnd === undefined || start > this.lastEnd) {
      if (this.lastEnd !== undefined) {
        this.gaps += 1;
        this.gapSeconds += start - this.lastEnd;
      }
      points.push({ time: start, registers: this.registers });
    } else if (start < this.lastEnd) {
      throw new MeterDataError(
        "BAD_INTERVALS",
        `interval at ${start} overlaps or precedes the one ending at ${this.lastEnd}`,
      );
    }
    this.registers = this.advance(interval);
    this.lastEnd = start + durationSec;
    this.intervals += 1;
    this.wh += wh;
    points.push({ time: this.lastEnd, registers: this.registers });
    return points;
  }

  report(): RegisterReport {
    return {
      intervals: this.intervals,
      gaps: this.gaps,
      gapSeconds: this.gapSeconds,
      wh: this.wh,
    };
  }

  private advance(interval: IntervalReading): Registers {
    const r = this.registers;
    if (this.mode.kind === "tou" && r.length === 2) {
      const split = splitPeak(interval, this.mode.peak);
      return [r[0] + split.offPeak, r[1] + split.peak];
    }
    return [r[0] + interval.wh];
  }
}

/** Register snapshots of an interval stream, built by `builder` (whose report stays live). */
export async function* registerPoints(
  intervals: AsyncIterable<IntervalReading> | Iterable<IntervalReading>,
  builder: RegisterBuilder,
): AsyncGenerator<RegisterPoint> {
  for await (const interval of intervals) yield* builder.add(interval);
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
