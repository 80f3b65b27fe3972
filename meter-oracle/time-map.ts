// Historic files onto chain time (DESIGN.md §7): file month m is replayed as chain period k, by
// a map that is affine within each month and sends every month boundary exactly onto a period
// boundary. For t in month j of the map, [F_j, F_{j+1}):
//   chain(t) = P_j + ⌊(t − F_j) × (P_{j+1} − P_j) / (F_{j+1} − F_j)⌋
// with F the file-month starts (unix seconds, calendar months at a fixed UTC offset) and P the
// period starts (unix ms, from the chain's schedule). It is non-decreasing, exact at every
// boundary, and never crosses one: a time before F_j lands before P_j.
//
// BoundaryMapper then puts one reading exactly on each mapped boundary, with the register
// value the chain itself would interpolate there (DESIGN.md §6 "Boundaries"), so the chain
// never has to guess a boundary of replayed data.
import { floorDiv } from "../lib/civil.js";
import { monthNumber, monthStart } from "./civil.js";
import { MeterDataError } from "./interval.js";
import type { RegisterPoint, Registers } from "./registers.js";

export interface TimeMapSpec {
  /** The file month replayed first: its year and month (1..12). */
  readonly fileYear: number;
  readonly fileMonth: number;
  /** How many consecutive file months are replayed, ≥ 1. */
  readonly months: number;
  /** The file calendar's fixed offset, local − UTC in seconds (0 for GMT, −28800 for PST). */
  readonly fileUtcOffsetSec: bigint;
  /** The period the first file month becomes. */
  readonly firstPeriod: bigint;
  /** start_k in unix ms: the chain's period schedule (vm/period.ts periodStart). */
  readonly periodStartMs: (k: bigint) => bigint;
}

export interface MappedBoundary {
  /** The period that starts here. */
  readonly period: bigint;
  /** Unix seconds in the file. */
  readonly fileTime: bigint;
  /** Unix ms on chain. */
  readonly chainTimeMs: bigint;
}

export class TimeMap {
  /** months + 1 boundaries: the start of each replayed month and the end of the last. */
  readonly boundaries: readonly MappedBoundary[];

  constructor(spec: TimeMapSpec) {
    const { fileYear, fileMonth, months, fileUtcOffsetSec, firstPeriod } = spec;
    if (
      !Number.isInteger(fileYear) ||
      !Number.isInteger(fileMonth) ||
      fileMonth < 1 ||
      fileMonth > 12 ||
      !Number.isInteger(months) ||
      months < 1
    ) {
      throw new MeterDataError("BAD_TIME_MAP", "file month must be 1..12 and months ≥ 1");
    }
    const first = monthNumber(BigInt(fileYear), BigInt(fileMonth));
    const boundaries: MappedBoundary[] = [];
    for (let j = 0n; j <= BigInt(months); j += 1n) {
      const period = firstPeriod + j;
      const chainTimeMs = spec.periodStartMs(period);
      const previous = boundaries[boundaries.length - 1];
      if (previous !== undefined && chainTimeMs <= previous.chainTimeMs) {
        throw new MeterDataError(
          "BAD_TIME_MAP",
          `period ${period} does not start after ${period - 1n}`,
        );
      }
      boundaries.push({ period, fileTime: monthStart(first + j, fileUtcOffsetSec), chainTimeMs });
    }
    this.boundaries = boundaries;
  }

  /** The replayed span of the file, [from, to) in unix seconds. */
  get fileFrom(): bigint {
    return this.first.fileTime;
  }

  get fileTo(): bigint {
    return this.last.fileTime;
  }

  /** Chain ms of file time t; undefined outside [fileFrom, fileTo]. */
  toChain(fileTime: bigint): bigint | undefined {
    if (fileTime === this.last.fileTime) return this.last.chainTimeMs;
    const j = this.segment((b) => b.fileTime, fileTime);
    if (j === undefined) return undefined;
    const [a, b] = this.pair(j);
    const elapsed = fileTime - a.fileTime;
    return a.chainTimeMs + (elapsed * (b.chainTimeMs - a.chainTimeMs)) / (b.fileTime - a.fileTime);
  }

  /**
   * The file time a chain instant replays: the inverse within each month, floored to whole
   * seconds; undefined outside the mapped periods. A live oracle asks it "how far has the
   * replay got".
   */
  toFile(chainTimeMs: bigint): bigint | undefined {
    if (chainTimeMs === this.last.chainTimeMs) return this.last.fileTime;
    const j = this.segment((b) => b.chainTimeMs, chainTimeMs);
    if (j === undefined) return undefined;
    const [a, b] = this.pair(j);
    const elapsed = chainTimeMs - a.chainTimeMs;
    return a.fileTime + (elapsed * (b.fileTime - a.fileTime)) / (b.chainTimeMs - a.chainTimeMs);
  }

  /** The period whose replayed month holds file time t; undefined outside [fileFrom, fileTo). */
  periodOfFile(fileTime: bigint): bigint | undefined {
    const j = this.segment((b) => b.fileTime, fileTime);
    return j === undefined ? undefined : this.boundaries[j]?.period;
  }

  private get first(): MappedBoundary {
    return this.pair(0)[0];
  }

  private get last(): MappedBoundary {
    return this.pair(this.boundaries.length - 2)[1];
  }

  private pair(j: number): readonly [MappedBoundary, MappedBoundary] {
    const a = this.boundaries[j];
    const b = this.boundaries[j + 1];
    if (a === undefined || b === undefined) throw new RangeError(`no month ${j} in the map`);
    return [a, b];
  }

  // Binary search for the month [key(j), key(j + 1)) holding x.
  private segment(key: (b: MappedBoundary) => bigint, x: bigint): number | undefined {
    let lo = 0;
    let hi = this.boundaries.length - 1;
    const low = this.boundaries[lo];
    const high = this.boundaries[hi];
    if (low === undefined || high === undefined || x < key(low) || x >= key(high)) return undefined;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const b = this.boundaries[mid];
      if (b !== undefined && key(b) <= x) lo = mid;
      else hi = mid;
    }
    return lo;
  }
}

/** A register snapshot placed on chain time: what the oracle submits. */
export interface ChainReading {
  /** Unix ms on chain. */
  readonly time: bigint;
  /** Unix seconds in the file it was read from. */
  readonly fileTime: bigint;
  readonly registers: Registers;
  /** The period this reading opens, when it sits exactly on a mapped boundary. */
  readonly startsPeriod: bigint | undefined;
}

export interface BoundaryReport {
  /** Snapshots before the first or after the last mapped boundary. */
  readonly outside: number;
  /** Boundaries that fell between two snapshots and were interpolated. */
  readonly interpolated: number;
  /** Periods whose start no snapshot surrounds (data begins later or ends earlier). */
  readonly missing: readonly bigint[];
}

/**
 * Maps register snapshots (file time, strictly increasing) onto chain time and adds one reading
 * exactly at each boundary: the snapshot there if there is one, else
 * R(b) = R_a + ⌊(R_b − R_a)(b − t_a)/(t_b − t_a)⌋ between the snapshots around it, per register.
 */
export class BoundaryMapper {
  private next = 0;
  private previous: RegisterPoint | undefined;
  private outside = 0;
  private interpolated = 0;
  private readonly missing: bigint[] = [];

  constructor(private readonly map: TimeMap) {}

  /** Throws NOT_MONOTONIC if `point` is not after the previous one. */
  push(point: RegisterPoint): ChainReading[] {
    const previous = this.previous;
    if (previous !== undefined && point.time <= previous.time) {
      throw new MeterDataError(
        "NOT_MONOTONIC",
        `snapshot at ${point.time} is not after ${previous.time}`,
      );
    }
    const out: ChainReading[] = [];
    const boundaries = this.map.boundaries;
    let boundary = boundaries[this.next];
    while (boundary !== undefined && boundary.fileTime < point.time) {
      if (previous === undefined) {
        this.missing.push(boundary.period);
      } else {
        this.interpolated += 1;
        out.push({
          time: boundary.chainTimeMs,
          fileTime: boundary.fileTime,
          registers: interpolate(previous, point, boundary.fileTime),
          startsPeriod: boundary.period,
        });
      }
      this.next += 1;
      boundary = boundaries[this.next];
    }
    if (boundary !== undefined && boundary.fileTime === point.time) {
      out.push({
        time: boundary.chainTimeMs,
        fileTime: point.time,
        registers: point.registers,
        startsPeriod: boundary.period,
      });
      this.next += 1;
    } else {
      const time = this.map.toChain(point.time);
      if (time === undefined) this.outside += 1;
      else
        out.push({
          time,
          fileTime: point.time,
          registers: point.registers,
          startsPeriod: undefined,
        });
    }
    this.previous = point;
    return out;
  }

  /** Call after the last snapshot: boundaries never reached count as missing. */
  finish(): void {
    for (const b of this.map.boundaries.slice(this.next)) this.missing.push(b.period);
    this.next = this.map.boundaries.length;
  }

  report(): BoundaryReport {
    return { outside: this.outside, interpolated: this.interpolated, missing: [...this.missing] };
  }
}

/** The chain's boundary rule, per register, for a < t < b. */
export function interpolate(a: RegisterPoint, b: RegisterPoint, t: bigint): Registers {
  const span = b.time - a.time;
  const at = (ra: bigint, rb: bigint): bigint => ra + floorDiv((rb - ra) * (t - a.time), span);
  const [a0, a1] = a.registers;
  const [b0, b1] = b.registers;
  if (a1 !== undefined && b1 !== undefined) return [at(a0, b0), at(a1, b1)];
  return [at(a0, b0)];
}
