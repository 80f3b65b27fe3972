// A small benchmark harness: each measurement runs an operation repeatedly for a fixed time
// after a warm-up, three times, and keeps the median rate. Results are rates, and the report
// shows them as ratios to a baseline measured in the same run, so they stay comparable across
// machines.
import { performance } from "node:perf_hooks";

export interface Measurement {
  /** Stable key, e.g. `sig.verify.openssl`. */
  readonly id: string;
  readonly label: string;
  /** Operations per second (median of the runs). */
  readonly rate: number;
  readonly unit: string;
  readonly runs: readonly number[];
  /** The id of the measurement this one is reported against, if any. */
  readonly baseline?: string;
  readonly note?: string;
}

export interface MeasureOptions {
  readonly unit?: string;
  readonly baseline?: string;
  readonly note?: string;
  readonly runs?: number;
  readonly runMs?: number;
  readonly warmupMs?: number;
}

/**
 * Measures `op`, which performs some work and returns how many operations it did (a batch of
 * 1,000 updates returns 1,000). Sync and async operations are both accepted.
 */
export async function measure(
  id: string,
  label: string,
  op: () => number | Promise<number>,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const runs = options.runs ?? 3;
  const runMs = options.runMs ?? 1000;
  await timed(op, options.warmupMs ?? 300);
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) rates.push(await timed(op, runMs));
  const sorted = [...rates].sort((a, b) => a - b);
  return {
    id,
    label,
    rate: sorted[Math.floor(sorted.length / 2)]!,
    unit: options.unit ?? "ops/s",
    runs: rates,
    ...(options.baseline ? { baseline: options.baseline } : {}),
    ...(options.note ? { note: options.note } : {}),
  };
}

async function timed(op: () => number | Promise<number>, ms: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    count += await op();
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (count * 1000) / elapsed;
}

/** A measurement taken once (latency percentiles, a whole workload): no repetition. */
export function single(
  id: string,
  label: string,
  value: number,
  unit: string,
  extra: { baseline?: string; note?: string } = {},
): Measurement {
  return { id, label, rate: value, unit, runs: [value], ...extra };
}

export interface BenchGroup {
  readonly title: string;
  /** What the group measures and what it is compared against. */
  readonly description: string;
  /** Targets from the issues, checked against the measured ratios in the report. */
  readonly targets?: readonly Target[];
  run(): Promise<Measurement[]>;
}

export interface Target {
  readonly description: string;
  /** True when the measured results meet the target. */
  check(results: ReadonlyMap<string, Measurement>): boolean;
}

/**
 * Config for the validators of the network benchmarks: the node's own round timeouts (a 3 s
 * propose timeout, consensus/timeout.ts), not the test harness's fail-fast ones, which a loaded
 * network on two cores outlasts; blocks every 500 ms.
 */
export const NODE_CONSENSUS = {
  consensus: {
    targetBlockTimeMs: 500,
    timeouts: {
      propose: { baseMs: 3000, deltaMs: 500 },
      prevote: { baseMs: 1000, deltaMs: 500 },
      precommit: { baseMs: 1000, deltaMs: 500 },
    },
  },
};
