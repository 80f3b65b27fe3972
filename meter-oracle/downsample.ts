// Privacy by minimisation (DESIGN.md §6): the chain needs register snapshots, not load
// profiles, so at most one reading per meter per snapshot interval (default one chain day) goes
// on chain, plus every reading that sits on a period boundary. The rule looks at nothing but
// the readings' chain times and boundary marks, so the same input always keeps the same
// readings, and no boundary (the only snapshots settlement needs) is ever dropped.
import { floorDiv } from "../lib/civil.js";
import { MeterDataError } from "./interval.js";
import type { ChainReading } from "./time-map.js";

export const DAY_MS = 86_400_000n;

export interface DownsampleOptions {
  /** Snapshot interval in chain ms, > 0. */
  readonly intervalMs: bigint;
  /** Buckets are [anchor + i·interval, anchor + (i+1)·interval); 0 puts them on UTC midnights. */
  readonly anchorMs: bigint;
}

export const DAILY: DownsampleOptions = { intervalMs: DAY_MS, anchorMs: 0n };

export interface DownsampleReport {
  readonly seen: number;
  readonly kept: number;
  /** seen − kept: readings withheld from the chain. Registers are cumulative, so no energy is. */
  readonly dropped: number;
}

/**
 * Keeps a reading if it opens a period, or if it is the first reading of its bucket; drops the
 * rest. Kept readings have strictly increasing times, as the chain requires; a boundary at or
 * before the last kept reading is an error (the time map never produces one).
 */
export class Downsampler {
  private lastBucket: bigint | undefined;
  private lastSeen: bigint | undefined;
  private lastKept: bigint | undefined;
  private seen = 0;
  private kept = 0;

  constructor(private readonly options: DownsampleOptions = DAILY) {
    if (options.intervalMs <= 0n) {
      throw new MeterDataError("BAD_OPTION", "snapshot interval must be positive");
    }
  }

  /** The reading if kept. Throws NOT_MONOTONIC if times go backwards or a boundary collides. */
  push(reading: ChainReading): ChainReading | undefined {
    if (this.lastSeen !== undefined && reading.time < this.lastSeen) {
      throw new MeterDataError(
        "NOT_MONOTONIC",
        `reading at ${reading.time} is before ${this.lastSeen}`,
      );
    }
    this.seen += 1;
    this.lastSeen = reading.time;
    const bucket = floorDiv(reading.time - this.options.anchorMs, this.options.intervalMs);
    const firstOfBucket = bucket !== this.lastBucket;
    this.lastBucket = bucket;
    if (reading.startsPeriod === undefined && !firstOfBucket) return undefined;
    // Only a boundary can get here without being after every earlier reading: the first of a
    // bucket is later than all readings of earlier buckets.
    if (this.lastKept !== undefined && reading.time <= this.lastKept) {
      throw new MeterDataError(
        "NOT_MONOTONIC",
        `boundary at ${reading.time} is not after the reading kept at ${this.lastKept}`,
      );
    }
    this.lastKept = reading.time;
    this.kept += 1;
    return reading;
  }

  report(): DownsampleReport {
    return { seen: this.seen, kept: this.kept, dropped: this.seen - this.kept };
  }
}
