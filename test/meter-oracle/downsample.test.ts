import fc from "fast-check";
import t from "tap";
import { DAILY, DAY_MS, Downsampler } from "../../meter-oracle/downsample.js";
import type { ChainReading } from "../../meter-oracle/time-map.js";

const isCode = (code: string) => ({ name: "MeterDataError", code });

const reading = (time: bigint, startsPeriod?: bigint): ChainReading => ({
  time,
  fileTime: time / 1000n,
  registers: [time],
  startsPeriod,
});

function run(readings: ChainReading[], intervalMs: bigint, anchorMs = 0n) {
  const d = new Downsampler({ intervalMs, anchorMs });
  const kept = readings.flatMap((r) => d.push(r) ?? []);
  return { kept, report: d.report() };
}

t.test("first reading of each interval, plus every boundary", async (t) => {
  const input = [
    reading(0n),
    reading(10n),
    reading(20n, 4n),
    reading(25n),
    reading(100n),
    reading(150n),
    reading(210n),
  ];
  const { kept, report } = run(input, 100n);
  t.same(
    kept.map((r) => r.time),
    [0n, 20n, 100n, 210n],
  );
  t.same(report, { seen: 7, kept: 4, dropped: 3 });
  t.same(
    run(input, 100n, 50n).kept.map((r) => r.time),
    [0n, 20n, 100n, 150n],
    "the anchor shifts the buckets",
  );
  t.equal(DAILY.intervalMs, DAY_MS);
});

t.test("readings at the same chain time collapse to the first", async (t) => {
  const { kept } = run([reading(5n, 1n), reading(5n), reading(5n), reading(6n)], 1n);
  t.same(
    kept.map((r) => [r.time, r.startsPeriod]),
    [
      [5n, 1n],
      [6n, undefined],
    ],
  );
});

t.test("bad input", async (t) => {
  t.throws(() => new Downsampler({ intervalMs: 0n, anchorMs: 0n }), isCode("BAD_OPTION"));
  const d = new Downsampler({ intervalMs: 10n, anchorMs: 0n });
  d.push(reading(100n));
  t.throws(() => d.push(reading(99n)), isCode("NOT_MONOTONIC"));
  t.throws(
    () => d.push(reading(100n, 3n)),
    isCode("NOT_MONOTONIC"),
    "a boundary never collides silently",
  );
});

// Non-decreasing chain times; a boundary only where the time map could put one, strictly after
// every earlier reading.
const readingsArb = fc
  .array(fc.record({ step: fc.bigInt({ min: 0n, max: 5_000n }), boundary: fc.boolean() }), {
    maxLength: 200,
  })
  .map((steps) => {
    let time = 0n;
    let k = 0n;
    return steps.map(({ step, boundary }, i) => {
      const isBoundary = boundary && (step > 0n || i === 0);
      time += step;
      if (isBoundary) k += 1n;
      return reading(time, isBoundary ? k : undefined);
    });
  });

t.test("deterministic, keeps every boundary, strictly increasing, one per interval", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(readingsArb, fc.bigInt({ min: 1n, max: 20_000n }), (input, interval) => {
        const a = run(input, interval);
        const b = run(input, interval);
        if (
          JSON.stringify(a, (_, v) => (typeof v === "bigint" ? v.toString() : v)) !==
          JSON.stringify(b, (_, v) => (typeof v === "bigint" ? v.toString() : v))
        ) {
          return false;
        }
        const kept = a.kept;
        const boundaries = input.filter((r) => r.startsPeriod !== undefined);
        if (!boundaries.every((r) => kept.includes(r))) return false;
        if (!kept.every((r, i) => i === 0 || r.time > (kept[i - 1]?.time ?? 0n))) return false;
        const buckets = new Map<bigint, number>();
        for (const r of kept) {
          if (r.startsPeriod !== undefined) continue;
          const bucket = r.time / interval;
          buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
        }
        if ([...buckets.values()].some((n) => n > 1)) return false;
        // Every interval with readings keeps its first one.
        const firsts = input.filter(
          (r, i) => i === 0 || r.time / interval !== (input[i - 1]?.time ?? 0n) / interval,
        );
        if (!firsts.every((r) => kept.includes(r))) return false;
        return a.report.dropped === input.length - kept.length && a.report.seen === input.length;
      }),
    ),
  );
});
