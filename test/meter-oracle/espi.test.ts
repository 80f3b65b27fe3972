import { createReadStream, readFileSync } from "node:fs";
import t from "tap";
import { type EspiEvent, espiIntervals, readEspi } from "../../meter-oracle/espi.js";
import type { IntervalReading } from "../../meter-oracle/interval.js";
import { byteChunks, collect, fixture } from "./fixtures.js";

const COASTAL = fixture("greenbutton/coastal-multi-family-2011-02.xml");
const DESERT = fixture("greenbutton/desert-single-family-2011-03.xml");

// A pattern for t.throws / t.rejects: a MeterDataError with this code.
const isCode = (code: string) => ({ name: "MeterDataError", code });

// The fixture's readings found by a different method than the reader: a regular expression over
// the raw text, numbers through parseInt.
function scan(path: string): { start: number; duration: number; value: number }[] {
  const text = readFileSync(path, "utf8");
  const re =
    /<IntervalReading>\s*<timePeriod>\s*<duration>(\d+)<\/duration>\s*<start>(\d+)<\/start>\s*<\/timePeriod>\s*<value>(\d+)<\/value>\s*<\/IntervalReading>/g;
  return [...text.matchAll(re)].map((m) => ({
    duration: Number.parseInt(m[1] ?? "", 10),
    start: Number.parseInt(m[2] ?? "", 10),
    value: Number.parseInt(m[3] ?? "", 10),
  }));
}

function monthlySums(items: { start: number; value: number }[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const { start, value } of items) {
    const d = new Date(start * 1000);
    const key = `${d.getUTCFullYear()}-${d.getUTCMonth() + 1}`;
    sums.set(key, (sums.get(key) ?? 0) + value);
  }
  return sums;
}

const asNumbers = (rs: IntervalReading[]) =>
  rs.map((r) => ({ start: Number(r.start), duration: Number(r.durationSec), value: Number(r.wh) }));

for (const [path, count, total] of [
  [COASTAL, 696, 374_894],
  [DESERT, 504, 573_744],
] as const) {
  t.test(`reproduces the hourly values of ${path.split("/").pop()}`, async (t) => {
    const expected = scan(path);
    t.equal(expected.length, count, "independent scan finds every reading");
    const read = asNumbers(
      await collect(espiIntervals(createReadStream(path, { highWaterMark: 4096 }))),
    );
    t.equal(read.length, count);
    t.same(read, expected, "every start, duration and value");
    t.same(monthlySums(read), monthlySums(expected), "monthly sums");
    t.equal(
      read.reduce((s, r) => s + r.value, 0),
      total,
      "total Wh",
    );
    for (let i = 1; i < read.length; i++) {
      if (read[i]?.start !== (read[i - 1]?.start ?? 0) + 3600) t.fail(`not contiguous at ${i}`);
    }
  });
}

t.test("fixture facts", async (t) => {
  const events = await collect(readEspi(createReadStream(COASTAL), { fileName: "coastal" }));
  const first = events.find((e) => e.kind === "interval");
  t.same(first?.kind === "interval" && first.interval, {
    start: 1_296_460_800n,
    durationSec: 3600n,
    wh: 473n,
  });
  const usage = events.find((e) => e.kind === "usage-point");
  t.equal(usage?.kind === "usage-point" && usage.title, "Coastal Multi-Family");
  const local = events.find((e) => e.kind === "local-time");
  t.equal(local?.kind === "local-time" && local.tzOffsetSec, -28_800n);
  const rt = events.find((e) => e.kind === "reading-type");
  t.match(rt?.kind === "reading-type" && rt.readingType, {
    uom: 72,
    powerOfTenMultiplier: 0,
    intervalLengthSec: 3600n,
    accumulationBehaviour: 4,
    flowDirection: 1,
  });
  const interval = events.find((e) => e.kind === "interval");
  t.match(
    interval,
    { meterReading: /\/MeterReading\/01$/ },
    "blocks are linked to their MeterReading",
  );
  // UTC-month sums straddle the local-month blocks: 31 Jan 08:00Z–1 Feb 08:00Z is block one.
  const sums = monthlySums(scan(COASTAL));
  t.same([...sums.keys()], ["2011-1", "2011-2", "2011-3"]);
});

t.test(
  "UTC timestamps run straight through the 2011 US DST change (13 March, 10:00Z)",
  async (t) => {
    const starts = (await collect(espiIntervals(createReadStream(DESERT)))).map((r) => r.start);
    const change = starts.indexOf(1_300_010_400n);
    t.ok(change > 0);
    t.equal(starts[change - 1], 1_300_006_800n);
    t.equal(starts[change + 1], 1_300_014_000n);
    // 21 days of 24 hours: no short or long day.
    t.equal(starts.length, 21 * 24);
  },
);

t.test("reads in tiny chunks, cut anywhere", async (t) => {
  const bytes = readFileSync(COASTAL);
  const whole = await collect(espiIntervals([bytes]));
  const pieces = await collect(espiIntervals(byteChunks(bytes, 997)));
  t.same(pieces, whole);
});

interface SyntheticOptions {
  readonly multiplier?: number;
  readonly uom?: number;
  readonly flow?: number;
  readonly readings?: string;
}

// A tiny feed in the prefixed style (espi:…) that many utilities emit.
function synthetic(o: SyntheticOptions = {}): string {
  const base = "https://example.test/espi/1_1/resource";
  const readings =
    o.readings ??
    `<espi:IntervalReading><espi:timePeriod><espi:duration>900</espi:duration><espi:start>1600000000</espi:start></espi:timePeriod><espi:value>1500</espi:value></espi:IntervalReading>
     <espi:IntervalReading><espi:timePeriod><espi:duration>900</espi:duration><espi:start>1600000900</espi:start></espi:timePeriod><espi:value>1500</espi:value></espi:IntervalReading>
     <espi:IntervalReading><espi:timePeriod><espi:start>1600001800</espi:start></espi:timePeriod><espi:value>999</espi:value></espi:IntervalReading>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:espi="http://naesb.org/espi">
  <entry>
    <link rel="self" href="${base}/UsagePoint/1/MeterReading/1"/>
    <link rel="related" href="${base}/UsagePoint/1/MeterReading/1/IntervalBlock"/>
    <link rel="related" href="${base}/ReadingType/9"/>
    <content><espi:MeterReading/></content>
  </entry>
  <entry>
    <link rel="self" href="${base}/ReadingType/9"/>
    <content><espi:ReadingType>
      <espi:accumulationBehaviour>4</espi:accumulationBehaviour>
      <espi:flowDirection>${o.flow ?? 1}</espi:flowDirection>
      <espi:intervalLength>900</espi:intervalLength>
      <espi:powerOfTenMultiplier>${o.multiplier ?? -3}</espi:powerOfTenMultiplier>
      <espi:uom>${o.uom ?? 72}</espi:uom>
    </espi:ReadingType></content>
  </entry>
  <entry>
    <link rel="up" href="${base}/UsagePoint/1/MeterReading/1/IntervalBlock"/>
    <content><espi:IntervalBlock>${readings}</espi:IntervalBlock></content>
  </entry>
</feed>`;
}

t.test("powerOfTenMultiplier −3 in Wh: fractions carried, never rounded away", async (t) => {
  const rs = await collect(espiIntervals([synthetic()]));
  t.same(rs, [
    { start: 1_600_000_000n, durationSec: 900n, wh: 1n },
    { start: 1_600_000_900n, durationSec: 900n, wh: 2n },
    { start: 1_600_001_800n, durationSec: 900n, wh: 0n },
  ]);
  t.equal(
    rs.reduce((s, r) => s + r.wh, 0n),
    3n,
    "floor(1.5 + 1.5 + 0.999) Wh",
  );
  t.equal(rs[2]?.durationSec, 900n, "a missing duration is the ReadingType's intervalLength");
});

t.test("powerOfTenMultiplier 3 in Wh is kWh", async (t) => {
  const rs = await collect(espiIntervals([synthetic({ multiplier: 3 })]));
  t.same(
    rs.map((r) => r.wh),
    [1_500_000n, 1_500_000n, 999_000n],
  );
});

t.test("series that are not forward Wh deltas are reported, not converted", async (t) => {
  await t.rejects(collect(espiIntervals([synthetic({ uom: 38 })])), isCode("UNSUPPORTED_UOM"));
  await t.rejects(
    collect(espiIntervals([synthetic({ flow: 19 })])),
    isCode("UNSUPPORTED_READING_TYPE"),
  );
  const events = await collect(readEspi([synthetic({ uom: 38 })]));
  t.same(
    events.map((e) => e.kind),
    ["reading-type", "block-skipped"],
  );
});

t.test("two linked series are told apart; espiIntervals refuses to mix them", async (t) => {
  const base = "https://example.test/r";
  const series = (n: number, uomValue: number) => `
  <entry><link rel="self" href="${base}/MR/${n}"/><link rel="related" href="${base}/RT/${n}"/>
    <content><MeterReading xmlns="http://naesb.org/espi"/></content></entry>
  <entry><link rel="self" href="${base}/RT/${n}"/>
    <content><ReadingType xmlns="http://naesb.org/espi"><uom>72</uom><powerOfTenMultiplier>${uomValue}</powerOfTenMultiplier></ReadingType></content></entry>`;
  const block = (n: number, value: number) => `
  <entry><link rel="up" href="${base}/MR/${n}/IntervalBlock"/>
    <content><IntervalBlock xmlns="http://naesb.org/espi"><IntervalReading><timePeriod><duration>3600</duration><start>0</start></timePeriod><value>${value}</value></IntervalReading></IntervalBlock></content></entry>`;
  const doc = `<feed xmlns="http://www.w3.org/2005/Atom">${series(1, 0)}${series(2, 3)}${block(2, 5)}${block(1, 7)}</feed>`;
  const intervals = (await collect(readEspi([doc]))).filter(
    (e): e is Extract<EspiEvent, { kind: "interval" }> => e.kind === "interval",
  );
  t.same(
    intervals.map((e) => [e.meterReading, e.interval.wh]),
    [
      [`${base}/MR/2`, 5000n],
      [`${base}/MR/1`, 7n],
    ],
  );
  await t.rejects(collect(espiIntervals([doc])), isCode("AMBIGUOUS_SERIES"));
});

t.test("bad input gives typed errors, after the events before it", async (t) => {
  const text = readFileSync(COASTAL, "utf8");
  const truncated = text.slice(0, Math.floor(text.length / 2));
  const seen: EspiEvent[] = [];
  await t.rejects(
    (async () => {
      for await (const e of readEspi([truncated])) seen.push(e);
    })(),
    isCode("MALFORMED_XML"),
  );
  t.ok(seen.filter((e) => e.kind === "interval").length > 300, "readings before the cut arrive");

  const cases: [string, string | Uint8Array, string][] = [
    [
      "mismatched tags",
      "<feed xmlns='http://www.w3.org/2005/Atom'><entry></feed>",
      "MALFORMED_XML",
    ],
    ["not XML", "meter,value\n1,2\n", "MALFORMED_XML"],
    ["empty", "", "MALFORMED_XML"],
    ["not a feed", "<html><body/></html>", "BAD_ESPI"],
    ["bad UTF-8", new Uint8Array([0x3c, 0x66, 0xff, 0xfe]), "BAD_ENCODING"],
    [
      "value not an integer",
      synthetic({
        readings:
          "<espi:IntervalReading><espi:timePeriod><espi:start>0</espi:start></espi:timePeriod><espi:value>1.5</espi:value></espi:IntervalReading>",
      }),
      "BAD_ESPI",
    ],
    [
      "negative value",
      synthetic({
        readings:
          "<espi:IntervalReading><espi:timePeriod><espi:start>0</espi:start></espi:timePeriod><espi:value>-5</espi:value></espi:IntervalReading>",
      }),
      "BAD_ESPI",
    ],
    [
      "no value",
      synthetic({
        readings:
          "<espi:IntervalReading><espi:timePeriod><espi:start>0</espi:start></espi:timePeriod></espi:IntervalReading>",
      }),
      "BAD_ESPI",
    ],
    [
      "overlapping intervals",
      synthetic({
        readings:
          "<espi:IntervalReading><espi:timePeriod><espi:start>0</espi:start></espi:timePeriod><espi:value>5</espi:value></espi:IntervalReading>" +
          "<espi:IntervalReading><espi:timePeriod><espi:start>600</espi:start></espi:timePeriod><espi:value>5</espi:value></espi:IntervalReading>",
      }),
      "BAD_INTERVALS",
    ],
    [
      "block before any ReadingType",
      "<feed xmlns='http://www.w3.org/2005/Atom'><entry><content><IntervalBlock xmlns='http://naesb.org/espi'/></content></entry></feed>",
      "BAD_ESPI",
    ],
  ];
  for (const [name, doc, code] of cases) {
    await t.rejects(collect(readEspi([doc])), isCode(code), name);
  }
});

t.test(
  "an unlinked block uses the feed's only ReadingType, and refuses to pick among several",
  async (t) => {
    const rt = (n: number) =>
      `<entry><link rel="self" href="/RT/${n}"/><content><ReadingType xmlns="http://naesb.org/espi"><uom>72</uom><intervalLength>60</intervalLength></ReadingType></content></entry>`;
    const block =
      "<entry><content><IntervalBlock xmlns='http://naesb.org/espi'><IntervalReading><timePeriod><start>120</start></timePeriod><value>9</value></IntervalReading></IntervalBlock></content></entry>";
    const feed = (body: string) => `<feed xmlns="http://www.w3.org/2005/Atom">${body}</feed>`;
    const events = await collect(readEspi([feed(rt(1) + block)]));
    t.same(events[1], {
      kind: "interval",
      meterReading: "",
      readingType: {
        href: "/RT/1",
        uom: 72,
        powerOfTenMultiplier: 0,
        intervalLengthSec: 60n,
        accumulationBehaviour: undefined,
        flowDirection: undefined,
      },
      interval: { start: 120n, durationSec: 60n, wh: 9n },
    });
    await t.rejects(collect(readEspi([feed(rt(1) + rt(2) + block)])), isCode("AMBIGUOUS_SERIES"));
  },
);

t.test("ReadingType fields are checked", async (t) => {
  const rt = (fields: string) =>
    `<feed xmlns="http://www.w3.org/2005/Atom"><entry><content><ReadingType xmlns="http://naesb.org/espi">${fields}</ReadingType></content></entry></feed>`;
  await t.rejects(
    collect(readEspi([rt("<powerOfTenMultiplier>0</powerOfTenMultiplier>")])),
    isCode("BAD_ESPI"),
  );
  await t.rejects(
    collect(readEspi([rt("<uom>72</uom><intervalLength>0</intervalLength>")])),
    isCode("BAD_ESPI"),
  );
  await t.rejects(collect(readEspi([rt("<uom>7200000000</uom>")])), isCode("BAD_ESPI"));
  await t.rejects(collect(readEspi([rt("<uom>seventy-two</uom>")])), isCode("BAD_ESPI"));
  const cumulative = synthetic().replace(
    "<espi:accumulationBehaviour>4</espi:accumulationBehaviour>",
    "<espi:accumulationBehaviour>1</espi:accumulationBehaviour>",
  );
  await t.rejects(collect(espiIntervals([cumulative])), isCode("UNSUPPORTED_READING_TYPE"));
});
