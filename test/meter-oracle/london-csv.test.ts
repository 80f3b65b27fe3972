import { createReadStream, readFileSync } from "node:fs";
import t from "tap";
import {
  type LondonEvent,
  type LondonIssue,
  parseLondonHeader,
  parseLondonTimestamp,
  readLondonCsv,
} from "../../meter-oracle/london-csv.js";
import { byteChunks, collect, fixture } from "./fixtures.js";

const QUIRKS = fixture("london/lcl-quirks.csv");
const THREE_COLUMN = fixture("london/lcl-three-column.csv");

const isCode = (code: string) => ({ name: "MeterDataError", code });
const utc = (iso: string) => BigInt(Date.parse(`${iso}Z`) / 1000);

function split(events: LondonEvent[]) {
  const intervals = events.flatMap((e) => (e.kind === "interval" ? [e] : []));
  const issues = events.flatMap((e) => (e.kind === "issue" ? [e.issue] : []));
  const summaries = events.flatMap((e) => (e.kind === "end" ? [e.summary] : []));
  return { intervals, issues, summaries };
}

t.test("every quirk of the quirks fixture has its rule", async (t) => {
  const { intervals, issues, summaries } = split(
    await collect(readLondonCsv(createReadStream(QUIRKS))),
  );
  // Each value is for the half hour ENDING at its timestamp.
  const at = (iso: string, wh: bigint) => ({
    start: utc(iso) - 1800n,
    durationSec: 1800n,
    wh,
  });
  t.same(
    intervals.filter((i) => i.lclid === "MAC000002").map((i) => i.interval),
    [
      at("2012-10-12T00:30:00", 0n), // " 0 "
      at("2012-10-12T01:00:00", 263n),
      at("2012-10-12T01:30:00", 269n), // its exact duplicate is dropped
      // 02:00 Null, 02:30 conflicting: no intervals
      at("2012-10-12T03:00:00", 250n),
      at("2012-10-12T03:30:00", 123n), // 123.4 Wh: 0.4 carried
      at("2012-10-12T04:00:00", 124n), // 123.6 + 0.4
    ],
  );
  t.same(
    intervals.filter((i) => i.lclid === "MAC000003").map((i) => [i.interval.start, i.interval.wh]),
    [
      [utc("2012-10-12T00:00:00"), 1500n],
      [utc("2012-10-12T02:30:00"), 900n],
    ],
  );
  t.ok(intervals.every((i) => i.tariff === (i.lclid === "MAC000002" ? "Std" : "ToU")));
  t.equal(intervals[0]?.line, 2, "line numbers are 1-based file lines");

  const brief = (i: LondonIssue) => [i.code, i.line, i.lclid];
  t.same(issues.map(brief).sort(), [
    ["BAD_ROW", 20, "MAC000003"], // three fields
    ["BAD_ROW", 21, "MAC000003"], // stdorToU "Xyz"
    ["BAD_TIMESTAMP", 19, "MAC000003"], // month 13
    ["BAD_VALUE", 17, "MAC000003"], // "abc"
    ["BAD_VALUE", 18, "MAC000003"], // "-0.1"
    ["CONFLICTING_DUPLICATE", 7, "MAC000002"],
    ["NULL_VALUE", 6, "MAC000002"],
    ["OFF_GRID", 10, "MAC000002"], // 03:15
    ["OFF_GRID", 11, "MAC000002"], // 03:30:00.0000001
    ["OUT_OF_ORDER", 14, "MAC000002"],
  ]);
  const conflict = issues.find((i) => i.code === "CONFLICTING_DUPLICATE");
  t.match(conflict?.message, /0\.275, 0\.301/, "the conflict names both values");
  t.same(summaries, [
    { rows: 20, intervals: 8, exactDuplicates: 1, blankLines: 1, issues: 10, households: 2 },
  ]);
});

t.test("chunk boundaries anywhere (inside CRLF, inside a row) change nothing", async (t) => {
  const bytes = readFileSync(QUIRKS);
  const whole = await collect(readLondonCsv([bytes]));
  for (const size of [1, 2, 7, 64]) {
    t.same(await collect(readLondonCsv(byteChunks(bytes, size))), whole, `chunks of ${size}`);
  }
});

t.test("three-column form: UTC throughout, 48 half hours on the BST change day", async (t) => {
  const { intervals, issues } = split(await collect(readLondonCsv(createReadStream(THREE_COLUMN))));
  t.same(issues, []);
  t.equal(intervals.length, 52);
  t.ok(intervals.every((i) => i.tariff === undefined && i.lclid === "MAC000150"));
  const first = intervals[0]?.interval;
  t.same(first, { start: utc("2013-03-30T23:00:00"), durationSec: 1800n, wh: 100n });
  intervals.forEach((e, i) => {
    // The fixture's values were written as 100 + 37·i mod 400 Wh.
    if (e.interval.wh !== BigInt(100 + ((i * 37) % 400))) t.fail(`value ${i}`);
    if (e.interval.start !== utc("2013-03-30T23:00:00") + BigInt(i) * 1800n) t.fail(`start ${i}`);
  });
  const changeDay = intervals.filter((e) => {
    const start = e.interval.start;
    return start >= utc("2013-03-31T00:00:00") && start < utc("2013-04-01T00:00:00");
  });
  t.equal(changeDay.length, 48);
});

t.test("header forms", async (t) => {
  t.match(parseLondonHeader("LCLid,stdorToU,DateTime,KWH/hh (per half hour) "), {
    count: 4,
    lclid: 0,
    tariff: 1,
    time: 2,
    kwh: 3,
  });
  t.match(parseLondonHeader("LCLid,DateTime,KWH/hh (per half hour) "), {
    count: 3,
    tariff: undefined,
  });
  t.match(parseLondonHeader("LCLid,tstp,energy(kWh/hh)"), { count: 3, time: 1, kwh: 2 });
  t.throws(() => parseLondonHeader("id,time,value"), isCode("BAD_CSV_HEADER"));
  t.throws(() => parseLondonHeader("LCLid,DateTime"), isCode("BAD_CSV_HEADER"));
  t.throws(
    () => parseLondonHeader("LCLid,DateTime,DateTime,KWH/hh (per half hour)"),
    isCode("BAD_CSV_HEADER"),
  );

  const bom = "\uFEFFLCLid,DateTime,KWH/hh (per half hour)\nMAC1,2014-01-01 00:30:00, 1.000\n";
  const { intervals } = split(await collect(readLondonCsv([new TextEncoder().encode(bom)])));
  t.equal(intervals.length, 1, "a UTF-8 BOM is skipped");
  const noNewline = "LCLid,DateTime,KWH/hh (per half hour)\nMAC1,2014-01-01 00:30:00,0.5";
  t.equal(split(await collect(readLondonCsv([noNewline]))).intervals[0]?.interval.wh, 500n);
});

t.test("files that are not this format throw", async (t) => {
  await t.rejects(collect(readLondonCsv([""])), isCode("BAD_CSV_HEADER"));
  await t.rejects(collect(readLondonCsv(["a,b,c\n1,2,3\n"])), isCode("BAD_CSV_HEADER"));
  await t.rejects(collect(readLondonCsv(["x".repeat(10_000)])), isCode("LINE_TOO_LONG"));
  await t.rejects(collect(readLondonCsv([new Uint8Array([0xc3, 0x28])])), isCode("BAD_ENCODING"));
});

t.test("timestamps", async (t) => {
  t.same(parseLondonTimestamp("2012-10-12 00:30:00.0000000"), {
    ok: true,
    time: utc("2012-10-12T00:30:00"),
  });
  t.same(parseLondonTimestamp("2012-10-12 00:30:00"), {
    ok: true,
    time: utc("2012-10-12T00:30:00"),
  });
  t.same(parseLondonTimestamp("2012-02-29 12:00:00"), {
    ok: true,
    time: utc("2012-02-29T12:00:00"),
  });
  for (const bad of [
    "2013-02-29 12:00:00",
    "2012-10-12 24:00:00",
    "2012-10-12",
    "12/10/2012 00:30",
    "",
  ]) {
    t.same(parseLondonTimestamp(bad), { ok: false, code: "BAD_TIMESTAMP" }, bad);
  }
  for (const off of ["2012-10-12 00:15:00", "2012-10-12 00:30:01", "2012-10-12 00:30:00.0000001"]) {
    t.same(parseLondonTimestamp(off), { ok: false, code: "OFF_GRID" }, off);
  }
  // Across a wide range the integer calendar agrees with Date.
  for (let day = -1000; day < 40_000; day += 97) {
    const iso = new Date(day * 86_400_000).toISOString().slice(0, 10);
    const r = parseLondonTimestamp(`${iso} 00:00:00`);
    if (!r.ok || r.time !== BigInt(day) * 86_400n) t.fail(iso);
  }
});
