import fc from "fast-check";
import t from "tap";
import { monthNumber, monthStart } from "../../meter-oracle/civil.js";
import type { RegisterPoint } from "../../meter-oracle/registers.js";
import { BoundaryMapper, type ChainReading, TimeMap } from "../../meter-oracle/time-map.js";

const isCode = (code: string) => ({ name: "MeterDataError", code });
const GENESIS = 1_700_000_000_000n;
const utc = (iso: string) => BigInt(Date.parse(`${iso}Z`) / 1000);

// A devnet compressing each month of 2011 (Pacific standard time) into one minute.
const devnet = new TimeMap({
  fileYear: 2011,
  fileMonth: 1,
  months: 12,
  fileUtcOffsetSec: -28_800n,
  firstPeriod: 0n,
  periodStartMs: (k) => GENESIS + k * 60_000n,
});

t.test("file months are calendar months at the file's fixed offset", async (t) => {
  const b = devnet.boundaries;
  t.equal(b.length, 13);
  t.equal(b[0]?.fileTime, utc("2011-01-01T08:00:00"));
  t.equal(b[3]?.fileTime, utc("2011-04-01T08:00:00"), "no DST: April starts at 08:00Z too");
  t.equal(b[12]?.fileTime, utc("2012-01-01T08:00:00"));
  t.equal(devnet.fileFrom, b[0]?.fileTime);
  t.equal(devnet.fileTo, b[12]?.fileTime);
});

t.test("every month boundary lands exactly on its period boundary", async (t) => {
  for (const [j, b] of devnet.boundaries.entries()) {
    t.equal(b.period, BigInt(j));
    t.equal(b.chainTimeMs, GENESIS + BigInt(j) * 60_000n);
    t.equal(devnet.toChain(b.fileTime), b.chainTimeMs, `boundary ${j}`);
    t.equal(devnet.toFile(b.chainTimeMs), b.fileTime);
    if (j > 0)
      t.ok(
        (devnet.toChain(b.fileTime - 1n) ?? 0n) < b.chainTimeMs,
        "a second earlier is before it",
      );
  }
  t.equal(devnet.toChain(devnet.fileFrom - 1n), undefined);
  t.equal(devnet.toChain(devnet.fileTo + 1n), undefined);
  t.equal(devnet.toFile(GENESIS - 1n), undefined);
  t.equal(devnet.toFile(GENESIS + 12n * 60_000n + 1n), undefined);
  // Mid-January: 15.5 days of 31 is half the minute.
  t.equal(devnet.toChain(utc("2011-01-16T20:00:00")), GENESIS + 30_000n);
});

t.test("months replayed as the same calendar months map t to t", async (t) => {
  const identity = new TimeMap({
    fileYear: 2012,
    fileMonth: 11,
    months: 5,
    fileUtcOffsetSec: 0n,
    firstPeriod: 3n,
    periodStartMs: (k) => monthStart(monthNumber(2012n, 11n) + k - 3n, 0n) * 1000n,
  });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.bigInt({ min: identity.fileFrom, max: identity.fileTo }), (time) => {
        return identity.toChain(time) === time * 1000n && identity.toFile(time * 1000n) === time;
      }),
    ),
  );
});

t.test("any schedule: exact at boundaries, monotonic, never across a boundary", async (t) => {
  const spec = fc.record({
    fileYear: fc.integer({ min: 1990, max: 2030 }),
    fileMonth: fc.integer({ min: 1, max: 12 }),
    lengths: fc.array(fc.bigInt({ min: 1n, max: 10n ** 11n }), { minLength: 1, maxLength: 14 }),
    offset: fc.integer({ min: -12 * 4, max: 14 * 4 }).map((q) => BigInt(q) * 900n),
    firstPeriod: fc.bigInt({ min: 0n, max: 1000n }),
  });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        spec,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2 }),
        (s, fractions) => {
          const starts = [0n];
          for (const len of s.lengths) starts.push((starts[starts.length - 1] ?? 0n) + len);
          const map = new TimeMap({
            fileYear: s.fileYear,
            fileMonth: s.fileMonth,
            months: s.lengths.length,
            fileUtcOffsetSec: s.offset,
            firstPeriod: s.firstPeriod,
            periodStartMs: (k) => GENESIS + (starts[Number(k - s.firstPeriod)] ?? -1n),
          });
          for (const b of map.boundaries)
            if (map.toChain(b.fileTime) !== b.chainTimeMs) return false;
          const span = Number(map.fileTo - map.fileFrom);
          const times = fractions
            .map((f) => map.fileFrom + BigInt(Math.floor(f * span)))
            .sort((a, b) => (a < b ? -1 : 1));
          let previous = -1n;
          for (const time of times) {
            const chain = map.toChain(time);
            if (chain === undefined || chain < previous) return false;
            previous = chain;
            // The chain time stays inside the period of the file month.
            const j = map.boundaries.findIndex((b) => b.fileTime > time) - 1;
            const [lo, hi] = [map.boundaries[j], map.boundaries[j + 1]];
            if (
              lo !== undefined &&
              hi !== undefined &&
              (chain < lo.chainTimeMs || chain >= hi.chainTimeMs)
            )
              return false;
            const back = map.toFile(chain);
            if (back === undefined || back > time || (map.toChain(back) ?? -1n) > chain)
              return false;
          }
          return true;
        },
      ),
    ),
  );
});

t.test("bad maps are refused", async (t) => {
  const base = { fileYear: 2011, fileMonth: 1, months: 2, fileUtcOffsetSec: 0n, firstPeriod: 0n };
  t.throws(() => new TimeMap({ ...base, periodStartMs: () => GENESIS }), isCode("BAD_TIME_MAP"));
  t.throws(
    () => new TimeMap({ ...base, periodStartMs: (k) => GENESIS - k }),
    isCode("BAD_TIME_MAP"),
  );
  t.throws(
    () => new TimeMap({ ...base, fileMonth: 13, periodStartMs: (k) => k }),
    isCode("BAD_TIME_MAP"),
  );
  t.throws(
    () => new TimeMap({ ...base, months: 0, periodStartMs: (k) => k }),
    isCode("BAD_TIME_MAP"),
  );
});

// January and February 2011 at UTC, ten seconds each.
const twoMonths = new TimeMap({
  fileYear: 2011,
  fileMonth: 1,
  months: 2,
  fileUtcOffsetSec: 0n,
  firstPeriod: 7n,
  periodStartMs: (k) => GENESIS + (k - 7n) * 10_000n,
});
const JAN = utc("2011-01-01T00:00:00");
const FEB = utc("2011-02-01T00:00:00");
const MAR = utc("2011-03-01T00:00:00");

t.test("a snapshot exactly on a boundary becomes the boundary reading", async (t) => {
  const mapper = new BoundaryMapper(twoMonths);
  const out: ChainReading[] = [];
  for (let time = JAN - 7200n, r = 0n; time <= MAR + 7200n; time += 3600n, r += 10n) {
    out.push(...mapper.push({ time, registers: [r] }));
  }
  mapper.finish();
  const boundaries = out.filter((r) => r.startsPeriod !== undefined);
  t.same(
    boundaries.map((r) => [r.startsPeriod, r.time, r.fileTime, r.registers]),
    [
      [7n, GENESIS, JAN, [20n]],
      [8n, GENESIS + 10_000n, FEB, [20n + 31n * 24n * 10n]],
      [9n, GENESIS + 20_000n, MAR, [20n + 59n * 24n * 10n]],
    ],
  );
  t.same(mapper.report(), { outside: 4, interpolated: 0, missing: [] });
  t.equal(out.length, 59 * 24 + 1, "every snapshot inside the map is placed");
  t.ok(out.every((r, i) => i === 0 || r.time >= (out[i - 1]?.time ?? 0n)));
});

t.test(
  "a boundary between snapshots is interpolated by the chain's rule, per register",
  async (t) => {
    const mapper = new BoundaryMapper(twoMonths);
    const a: RegisterPoint = { time: FEB - 1800n, registers: [100n, 7n] };
    const b: RegisterPoint = { time: FEB + 5400n, registers: [201n, 8n] };
    t.same(mapper.push(a).length, 1);
    const out = mapper.push(b);
    t.same(out[0], {
      time: GENESIS + 10_000n,
      fileTime: FEB,
      // 100 + ⌊101 × 1800 / 7200⌋ and 7 + ⌊1 × 1800 / 7200⌋
      registers: [125n, 7n],
      startsPeriod: 8n,
    });
    t.equal(out[1]?.startsPeriod, undefined);
    mapper.finish();
    t.same(mapper.report(), { outside: 0, interpolated: 1, missing: [7n, 9n] });
    t.throws(() => mapper.push(b), isCode("NOT_MONOTONIC"));
  },
);

t.test("a snapshot before the map still anchors the first boundary", async (t) => {
  const mapper = new BoundaryMapper(twoMonths);
  t.same(mapper.push({ time: JAN - 100n, registers: [0n] }), []);
  const out = mapper.push({ time: JAN + 100n, registers: [200n] });
  t.same(
    out.map((r) => [r.startsPeriod, r.registers]),
    [
      [7n, [100n]],
      [undefined, [200n]],
    ],
  );
});
