// Interval data in, chain readings out: registers → time map (with boundary readings) →
// downsampling. Any reader or simulated meter feeds it; the oracle service signs and submits
// what comes out.
import { type DownsampleOptions, type DownsampleReport, Downsampler } from "./downsample.js";
import type { IntervalReading } from "./interval.js";
import { type RegisterBuilder, type RegisterReport, registerPoints } from "./registers.js";
import {
  BoundaryMapper,
  type BoundaryReport,
  type ChainReading,
  type TimeMap,
} from "./time-map.js";

export interface PipelineReport {
  readonly registers: RegisterReport;
  readonly boundaries: BoundaryReport;
  readonly downsample: DownsampleReport;
}

export interface ChainReadings {
  /** In chain-time order; consume once. */
  readonly readings: AsyncGenerator<ChainReading>;
  /** Counts so far; complete once `readings` is exhausted. */
  report(): PipelineReport;
}

export function chainReadings(
  intervals: AsyncIterable<IntervalReading> | Iterable<IntervalReading>,
  registers: RegisterBuilder,
  map: TimeMap,
  snapshots?: DownsampleOptions,
): ChainReadings {
  const boundaries = new BoundaryMapper(map);
  const downsampler = new Downsampler(snapshots);
  async function* run(): AsyncGenerator<ChainReading> {
    for await (const point of registerPoints(intervals, registers)) {
      for (const reading of boundaries.push(point)) {
        const kept = downsampler.push(reading);
        if (kept !== undefined) yield kept;
      }
    }
    boundaries.finish();
  }
  return {
    readings: run(),
    report: () => ({
      registers: registers.report(),
      boundaries: boundaries.report(),
      downsample: downsampler.report(),
    }),
  };
}
