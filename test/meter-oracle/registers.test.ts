import fc from "fast-check";
import t from "tap";
import type { IntervalReading } from "../../meter-oracle/interval.js";
import {
  type PeakWindow,
  peakSeconds,
  peakWindows,
  RegisterBuilder,
  type RegisterPoint,
  registerPoints,
  splitPeak,
} from "../../meter-oracle/registers.js";
import { collect } from "./fixtures.js";

const isCode = (code: string) => ({ name: "MeterDataError", code });
const EVENING = peakWindows([{ startMinute: 17 * 60, endMinute: 20 * 60 }]);
const DAY = 86_400n;

t.test("peak windows are validated", async (t) => {
  const bad: PeakWindow[][] = [
    [{ startMinute: 60, endMinute: 60 }],
    [{ startMinute: -1, endMinute: 60 }],
    [{ startMinute: 60, endMinute: 1441 }],
    [{ startMinute: 1.5, endMinute: 60 }],
    [
      { startMinute: 100, endMinute: 200 },
      { startMinute: 150, endMinute: 300 },
    ],
    [
      { startMinute: 300, endMinute: 400 },
      { startMinute: 100, endMinute: 200 },
    ],
  ];
  for (const windows of bad) t.throws(() => peakWindows(windows), isCode("BAD_PEAK_WINDOWS"));
  t.same(peakWindows([]), []);
  t.same(
    peakWindows([
      { startMinute: 0, endMinute: 360 },
      { startMinute: 1320, endMinute: 1440 },
    ]).length,
    2,
  );
});

t.test("peak seconds: inside, straddling, across days", async (t) => {
  const five = 17n * 3600n;
  t.equal(peakSeconds(five, 3600n, EVENING), 3600n);
  t.equal(peakSeconds(five - 1800n, 3600n, EVENING), 1800n, "16:30–17:30 is half peak");
  t.equal(peakSeconds(0n, 3600n, EVENING), 0n);
  t.equal(peakSeconds(0n, 3n * DAY, EVENING), 3n * 3n * 3600n, "three whole days");
  t.equal(peakSeconds(five + 3600n, DAY, EVENING), 3n * 3600n, "18:00 to 18:00 next day");
  t.equal(peakSeconds(-DAY + five, 1800n, EVENING), 1800n, "before 1970 too");
  t.equal(
    peakSeconds(0n, 10n ** 12n * DAY, EVENING),
    10n ** 12n * 3n * 3600n,
    "long spans are cheap",
  );
});

t.test("split: floor on peak, remainder off-peak", async (t) => {
  const straddle: IntervalReading = { start: 17n * 3600n - 1800n, durationSec: 3600n, wh: 101n };
  t.same(splitPeak(straddle, EVENING), { offPeak: 51n, peak: 50n });
  t.same(splitPeak({ ...straddle, start: 17n * 3600n }, EVENING), { offPeak: 0n, peak: 101n });
});

t.test("snapshots: start, each interval end, flat across gaps", async (t) => {
  const b = new RegisterBuilder({ kind: "single" }, [1000n]);
  const points = await collect(
    registerPoints(
      [
        { start: 0n, durationSec: 3600n, wh: 5n },
        { start: 3600n, durationSec: 3600n, wh: 7n },
        { start: 10_800n, durationSec: 1800n, wh: 1n },
      ],
      b,
    ),
  );
  t.same(points, [
    { time: 0n, registers: [1000n] },
    { time: 3600n, registers: [1005n] },
    { time: 7200n, registers: [1012n] },
    { time: 10_800n, registers: [1012n] },
    { time: 12_600n, registers: [1013n] },
  ]);
  t.same(b.report(), { intervals: 3, gaps: 1, gapSeconds: 3600n, wh: 13n });
  t.throws(() => b.add({ start: 12_000n, durationSec: 60n, wh: 1n }), isCode("BAD_INTERVALS"));
  t.throws(() => b.add({ start: 20_000n, durationSec: 0n, wh: 1n }), isCode("BAD_INTERVALS"));
  t.throws(() => b.add({ start: 20_000n, durationSec: 60n, wh: -1n }), isCode("BAD_INTERVALS"));
  t.throws(
    () => new RegisterBuilder({ kind: "tou", peak: EVENING }, [1n]),
    isCode("BAD_INTERVALS"),
  );
  t.throws(() => new RegisterBuilder({ kind: "single" }, [-1n]), isCode("BAD_INTERVALS"));
});

// Random interval streams: durations of 15 min to 2 h, gaps now and then.
const stream = fc
  .array(
    fc.record({
      gap: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 20_000n })),
      durationSec: fc.constantFrom(900n, 1800n, 3600n, 7200n, 1234n),
      wh: fc.bigInt({ min: 0n, max: 5_000n }),
    }),
    { minLength: 1, maxLength: 60 },
  )
  .chain((items) =>
    fc.bigInt({ min: -10n * DAY, max: 400n * DAY }).map((origin) => {
      let t = origin;
      return items.map(({ gap, durationSec, wh }): IntervalReading => {
        t += gap;
        const interval = { start: t, durationSec, wh };
        t += durationSec;
        return interval;
      });
    }),
  );

const windowsArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 1440 }), { minLength: 0, maxLength: 6 })
  .map((cuts) => {
    const sorted = [...cuts].sort((a, b) => a - b);
    const windows: PeakWindow[] = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) {
      windows.push({ startMinute: sorted[i] ?? 0, endMinute: sorted[i + 1] ?? 0 });
    }
    return peakWindows(windows);
  });

function collectPoints(builder: RegisterBuilder, intervals: IntervalReading[]): RegisterPoint[] {
  return intervals.flatMap((i) => builder.add(i));
}

t.test("registers never decrease and their increments are the interval energy", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(stream, windowsArb, (intervals, peak) => {
        const points = collectPoints(new RegisterBuilder({ kind: "tou", peak }), intervals);
        const total = intervals.reduce((s, i) => s + i.wh, 0n);
        for (let i = 1; i < points.length; i++) {
          const [a, b] = [points[i - 1], points[i]];
          if (a === undefined || b === undefined || b.time <= a.time) return false;
          if (b.registers.some((r, k) => r < (a.registers[k] ?? 0n))) return false;
        }
        // Each interval's end snapshot minus the snapshot at its start is its energy.
        for (const interval of intervals) {
          const at = (time: bigint) => points.find((p) => p.time === time)?.registers;
          const before = at(interval.start);
          const after = at(interval.start + interval.durationSec);
          if (before === undefined || after === undefined) return false;
          const delta = after.reduce((s, r) => s + r, 0n) - before.reduce((s, r) => s + r, 0n);
          if (delta !== interval.wh) return false;
        }
        const last = points[points.length - 1]?.registers ?? [];
        const [offPeak = -1n, onPeak = -1n] = last;
        return offPeak + onPeak === total && last.length === 2;
      }),
    ),
  );
});

t.test("peak + off-peak = single register, interval by interval", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(stream, windowsArb, (intervals, peak) => {
        const single = collectPoints(new RegisterBuilder({ kind: "single" }), intervals);
        const tou = collectPoints(new RegisterBuilder({ kind: "tou", peak }), intervals);
        return (
          single.length === tou.length &&
          single.every((p, i) => {
            const q = tou[i];
            return (
              q !== undefined &&
              q.time === p.time &&
              q.registers[0] + (q.registers[1] ?? 0n) === p.registers[0]
            );
          })
        );
      }),
    ),
  );
});

t.test("no peak windows: everything off-peak; all-day window: everything peak", async (t) => {
  const intervals: IntervalReading[] = [{ start: 123n, durationSec: 4000n, wh: 999n }];
  const none = collectPoints(
    new RegisterBuilder({ kind: "tou", peak: peakWindows([]) }),
    intervals,
  );
  t.same(none[1]?.registers, [999n, 0n]);
  const all = peakWindows([{ startMinute: 0, endMinute: 1440 }]);
  t.same(collectPoints(new RegisterBuilder({ kind: "tou", peak: all }), intervals)[1]?.registers, [
    0n,
    999n,
  ]);
});
