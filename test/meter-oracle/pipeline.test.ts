import { createReadStream, readFileSync } from "node:fs";
import t from "tap";
import { espiIntervals } from "../../meter-oracle/espi.js";
import type { IntervalReading } from "../../meter-oracle/interval.js";
import { readLondonCsv } from "../../meter-oracle/london-csv.js";
import { chainReadings } from "../../meter-oracle/pipeline.js";
import { peakWindows, RegisterBuilder } from "../../meter-oracle/registers.js";
import { TimeMap } from "../../meter-oracle/time-map.js";
import { collect, fixture } from "./fixtures.js";

const COASTAL = fixture("greenbutton/coastal-multi-family-2011-02.xml");
const GENESIS = 1_700_000_000_000n;
const PERIOD = 600_000n;
const FEB_PST = 1_296_547_200n; // 2011-02-01T08:00Z
const MAR_PST = 1_298_966_400n;

// February 2011 (Pacific standard time) replayed as period 5 of a ten-minute devnet.
const february = new TimeMap({
  fileYear: 2011,
  fileMonth: 2,
  months: 1,
  fileUtcOffsetSec: -28_800n,
  firstPeriod: 5n,
  periodStartMs: (k) => GENESIS + k * PERIOD,
});

// February's energy found independently: a regex over the fixture's text.
function februaryWh(): bigint {
  const text = readFileSync(COASTAL, "utf8");
  let sum = 0n;
  for (const m of text.matchAll(
    /<start>(\d+)<\/start>\s*<\/timePeriod>\s*<value>(\d+)<\/value>/g,
  )) {
    const start = BigInt(m[1] ?? "");
    if (start >= FEB_PST && start < MAR_PST) sum += BigInt(m[2] ?? "");
  }
  return sum;
}

t.test(
  "ESPI fixture to chain readings: boundaries exact, one reading per snapshot interval",
  async (t) => {
    const run = chainReadings(
      espiIntervals(createReadStream(COASTAL)),
      new RegisterBuilder({ kind: "single" }, [50_000n]),
      february,
      { intervalMs: 20_000n, anchorMs: 0n },
    );
    const readings = await collect(run.readings);
    const first = readings[0];
    const last = readings[readings.length - 1];
    t.match(first, { time: GENESIS + 5n * PERIOD, fileTime: FEB_PST, startsPeriod: 5n });
    t.match(last, { time: GENESIS + 6n * PERIOD, fileTime: MAR_PST, startsPeriod: 6n });
    t.equal(
      (last?.registers[0] ?? 0n) - (first?.registers[0] ?? 0n),
      februaryWh(),
      "the period's consumption",
    );
    t.equal(first?.registers[0], 50_000n + sumOfJanuary31(), "the register carries January 31 in");
    t.ok(
      readings.every((r, i) => i === 0 || r.time > (readings[i - 1]?.time ?? 0n)),
      "strictly increasing",
    );
    t.equal(readings.length, 31, "30 twenty-second snapshots and the closing boundary");
    const report = run.report();
    t.same(report.registers, { intervals: 696, gaps: 0, gapSeconds: 0n, wh: 374_894n });
    t.same(report.boundaries, { outside: 24, interpolated: 0, missing: [] });
    t.equal(report.downsample.seen, 672 + 1);
    t.equal(report.downsample.dropped, report.downsample.seen - readings.length);
  },
);

function sumOfJanuary31(): bigint {
  const text = readFileSync(COASTAL, "utf8");
  let sum = 0n;
  for (const m of text.matchAll(
    /<start>(\d+)<\/start>\s*<\/timePeriod>\s*<value>(\d+)<\/value>/g,
  )) {
    if (BigInt(m[1] ?? "") < FEB_PST) sum += BigInt(m[2] ?? "");
  }
  return sum;
}

t.test("time-of-use registers split the same energy", async (t) => {
  // 17:00–20:00 Pacific standard time is 01:00–04:00 UTC.
  const peak = peakWindows([{ startMinute: 60, endMinute: 240 }]);
  const readings = await collect(
    chainReadings(
      espiIntervals(createReadStream(COASTAL)),
      new RegisterBuilder({ kind: "tou", peak }),
      february,
    ).readings,
  );
  const [first, last] = [readings[0], readings[readings.length - 1]];
  const used = (r: typeof first) => (r?.registers[0] ?? 0n) + (r?.registers[1] ?? 0n);
  t.equal(used(last) - used(first), februaryWh());
  t.ok((last?.registers[1] ?? 0n) > (first?.registers[1] ?? 0n), "some energy is on peak");
  t.same(
    readings.map((r) => r.startsPeriod),
    [5n, 6n],
    "daily snapshots in chain time: a ten-minute period gets only its boundaries",
  );
});

t.test(
  "London CSV: the April boundary lies inside the data; March 1 and May 1 are missing",
  async (t) => {
    async function* intervals(): AsyncGenerator<IntervalReading> {
      for await (const e of readLondonCsv(
        createReadStream(fixture("london/lcl-three-column.csv")),
      )) {
        if (e.kind === "interval") yield e.interval;
      }
    }
    const map = new TimeMap({
      fileYear: 2013,
      fileMonth: 3,
      months: 2,
      fileUtcOffsetSec: 0n,
      firstPeriod: 0n,
      periodStartMs: (k) => GENESIS + k * PERIOD,
    });
    const run = chainReadings(intervals(), new RegisterBuilder({ kind: "single" }), map);
    const readings = await collect(run.readings);
    const boundary = readings.find((r) => r.startsPeriod !== undefined);
    t.match(boundary, {
      startsPeriod: 1n,
      time: GENESIS + PERIOD,
      fileTime: BigInt(Date.UTC(2013, 3, 1) / 1000),
    });
    t.same(run.report().boundaries.missing, [0n, 2n]);
  },
);
