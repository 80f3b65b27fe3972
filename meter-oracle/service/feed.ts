// From a meter's source to its queue in the outbox: the source's intervals go through the
// pipeline (registers → time map → downsampling, docs/meter-data.md), the meter signs each
// reading (or not, oracle-only), and they are queued in chunks. The pipeline is deterministic,
// so after a restart a source is simply read again and the outbox skips what it already has.
// A simulated meter is live: it meters the hours the chain's clock has replayed so far and
// waits for more.
import { createReadStream } from "node:fs";
import { espiIntervals } from "../espi.js";
import type { IntervalReading } from "../interval.js";
import { chainReadings, type PipelineReport } from "../pipeline.js";
import { loadProfiles } from "../profile.js";
import { RegisterBuilder } from "../registers.js";
import { ResponseBook, respondedWh } from "../responses.js";
import { simulatedHousehold, simulatedIntervals } from "../simulated-meter.js";
import { TimeMap } from "../time-map.js";
import { type MeterConfig, type OracleConfig, type SourceConfig, timeMapSpec } from "./config.js";
import { LondonFiles } from "./london-files.js";
import type { MeterSigner } from "./meter-sign.js";
import type { Outbox, OutboxReading } from "./outbox.js";
import { sleep } from "./submitter.js";

/** Readings queued per outbox write (one fsync). */
const CHUNK = 512;
/**
 * How long a signed reading waits at most for its chunk to fill. A meter's readings can stop
 * long before its source ends (a London file holds its meters one after another, and each
 * meter's source ends with the file): without this, nothing would reach the submitter until
 * the whole file had been read and signed.
 */
const FLUSH_MS = 50;
/**
 * Readings a meter signs between two turns of the event loop (a few milliseconds): a file's
 * meters sign back to back, and without a pause the submitter's round trips would wait behind
 * whole files of signing.
 */
const SIGN_RUN = 32;

export interface FeedOptions {
  readonly signal: AbortSignal;
  /** Chain time now, unix ms: how far a simulated meter has got. */
  readonly now: () => bigint;
  /** How often a live source looks for newly completed intervals. */
  readonly tickMs: number;
  /** Replaces the configured source (a one-off import of another file). */
  readonly source?: SourceConfig;
  /** Called with each chunk's newly queued count. */
  readonly onQueued?: (count: number) => void;
  /** Shares one pass over a London CSV among the meters fed from it (one pass each if absent). */
  readonly londonFiles?: LondonFiles;
}

/** Feeds one meter until its source ends (a file) or `signal` aborts; the pipeline's report. */
export async function feedMeter(
  outbox: Outbox,
  config: OracleConfig,
  meter: MeterConfig,
  signer: MeterSigner,
  options: FeedOptions,
): Promise<PipelineReport> {
  const map = new TimeMap(timeMapSpec(config, meter));
  let buffer: OutboxReading[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing = Promise.resolve();
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (buffer.length > 0) {
      const chunk = buffer;
      buffer = [];
      // Chained: once a write failed no later chunk is written, or the outbox would hold the
      // meter as queued past readings it never stored. The failure surfaces at the next await.
      writing = writing.then(async () => {
        const queued = await outbox.enqueue(meter.meterId, chunk);
        options.onQueued?.(queued);
      });
    }
    return writing;
  };
  const intervals = await intervalsOf(options.source ?? meter.source, map, options, flush);
  const run = chainReadings(
    intervals,
    new RegisterBuilder(meter.registers, meter.initialRegisters),
    map,
    config.snapshots,
  );
  const through = outbox.queuedThrough(meter.meterIdHash);
  try {
    for await (const r of run.readings) {
      if (options.signal.aborted) break;
      if (through !== undefined && r.time <= through) continue;
      const unsigned = {
        meterIdHash: meter.meterIdHash,
        time: r.time,
        registers: [...r.registers],
      };
      buffer.push({ ...unsigned, signature: signer.sign(config.chainId, unsigned) });
      if (buffer.length >= CHUNK) await flush();
      else timer ??= setTimeout(() => flush().catch(() => undefined), FLUSH_MS);
      if (buffer.length % SIGN_RUN === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await flush();
  } finally {
    clearTimeout(timer);
  }
  return run.report();
}

async function intervalsOf(
  source: SourceConfig,
  map: TimeMap,
  options: FeedOptions,
  beforeWait: () => Promise<void>,
): Promise<AsyncIterable<IntervalReading>> {
  switch (source.kind) {
    case "espi":
      return espiIntervals(createReadStream(source.path), { fileName: source.path });
    case "london-csv":
      return (options.londonFiles ?? new LondonFiles()).intervals(source.path, source.lclid);
    case "simulated": {
      const profiles = await loadProfiles(source.profiles);
      const household = simulatedHousehold(profiles, source.seed, source.index, {
        utcOffsetSec: source.utcOffsetSec,
      });
      const responses = source.responses;
      if (responses === undefined) {
        return liveIntervals(
          (from, to) => simulatedIntervals(household, from, to),
          map,
          options,
          beforeWait,
        );
      }
      const book = new ResponseBook(responses, source.index);
      let waiting = false;
      // Each hour is metered at its period's response factor; at the first hour whose period
      // has no factor yet the meter stops and waits, so no reading is made at the wrong level.
      function* responded(from: bigint, to: bigint): Generator<IntervalReading> {
        waiting = false;
        for (const interval of simulatedIntervals(household, from, to)) {
          const period = map.periodOfFile(interval.start);
          const ppm = period === undefined ? undefined : book.factor(period);
          if (ppm === undefined) {
            waiting = true;
            return;
          }
          yield { ...interval, wh: respondedWh(interval.wh, ppm) };
        }
      }
      return liveIntervals(responded, map, { ...options, waiting: () => waiting }, beforeWait);
    }
  }
}

/**
 * The intervals a live meter has completed by chain time now, replayed through the map: the
 * file-time span [fileFrom, toFile(now)), extended tick by tick until the map's end.
 */
export async function* liveIntervals(
  meter: (from: bigint, to: bigint) => Iterable<IntervalReading>,
  map: TimeMap,
  options: Pick<FeedOptions, "signal" | "now" | "tickMs"> & {
    /** True when the meter stopped short of `to` and must be asked again. */
    readonly waiting?: () => boolean;
  },
  beforeWait: () => Promise<void>,
): AsyncGenerator<IntervalReading> {
  const end = map.boundaries[map.boundaries.length - 1];
  if (end === undefined) return;
  let from = map.fileFrom;
  while (!options.signal.aborted) {
    const now = options.now();
    const reached = now >= end.chainTimeMs ? map.fileTo : map.toFile(now);
    if (reached !== undefined && reached > from) {
      for (const interval of meter(from, reached)) {
        yield interval;
        from = interval.start + interval.durationSec;
      }
    }
    if (now >= end.chainTimeMs && options.waiting?.() !== true) return;
    await beforeWait();
    await sleep(options.tickMs, options.signal);
  }
}
