// Fuzz target: the meter-data readers (meter-oracle/espi.ts and london-csv.ts), which read files
// an oracle operator is handed. Inputs: the committed fixtures (the Green Button one trimmed to a
// few readings per block), mutated at the byte level (which also breaks UTF-8) and at the token
// level (markup, entities, DTDs, deep nesting, edge numbers and timestamps, long lines), fed in
// random chunk sizes as text or bytes.
// Promise: a reader either finishes or throws MeterDataError — never another error, and never
// more events than the input has characters (no runaway loop).
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { readEspi } from "../../../meter-oracle/espi.js";
import { MeterDataError } from "../../../meter-oracle/interval.js";
import { readLondonCsv } from "../../../meter-oracle/london-csv.js";
import { fixture } from "../../meter-oracle/fixtures.js";
import { check, FuzzFailure, type FuzzReport, type FuzzTarget, merge, mutated } from "./fuzz.js";

const encoder = new TextEncoder();

/** The Green Button fixture with its comments dropped and three readings kept per block. */
function espiSeed(): string {
  const text = readFileSync(fixture("greenbutton/desert-single-family-2011-03.xml"), "utf8");
  let kept = 0;
  return text
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<IntervalBlock[\s\S]*?<\/IntervalBlock>/g, (block) => {
      kept = 0;
      return block.replace(/\s*<IntervalReading>[\s\S]*?<\/IntervalReading>/g, (r) =>
        ++kept <= 3 ? r : "",
      );
    });
}

const XML_TOKENS = [
  "<",
  ">",
  "&",
  "&amp;",
  "&bogus;",
  "&#0;",
  "&#x110000;",
  "<![CDATA[1]]>",
  '<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
  "&b;",
  "</entry>",
  "<entry>",
  "<content>",
  "<IntervalReading><timePeriod><start>1</start></timePeriod><value>1</value></IntervalReading>",
  '<link rel="self" href="x"/>',
  '<link rel="related" href="x"/>',
  "<uom>72</uom>",
  "<powerOfTenMultiplier>-300</powerOfTenMultiplier>",
  "<powerOfTenMultiplier>400</powerOfTenMultiplier>",
  "<a>".repeat(5000),
  "\u0000",
  "\uFEFF",
];
const CSV_TOKENS = [
  ",",
  "\n",
  "\r\n",
  "\r",
  "\uFEFF",
  "Null",
  " ",
  '"a,b"',
  "-0.5",
  "1e3",
  "0.0000000000000000000001",
  "99999999999999999999999999999",
  "2012-02-30 00:00:00.0000000",
  "2012-10-12 00:15:00.0000000",
  "9999-12-31 23:30:00.0000000",
  "0000-01-01 00:00:00",
  "2012-10-12T00:30:00Z",
  "MAC000002,Std,2012-10-12 02:00:00.0000000, 0.5\n",
  "MAC000002,ToU,2012-10-11 02:00:00.0000000, 0.5\n",
  "x".repeat(5000),
  "\n".repeat(1000),
];
const NUMBERS = ["-1", "", " 7 ", "1.5", "1e5", "0x10", "99999999999999999999999", "-0", "NaN"];

/** A text edit: insert a token, or swap a run of digits for an edge number. */
function textEdits(tokens: readonly string[]) {
  const edit = fc.oneof(
    fc.record({ at: fc.nat(), insert: fc.constantFrom(...tokens, ...NUMBERS) }),
    fc.record({ at: fc.nat(), digits: fc.constantFrom(...NUMBERS) }),
  );
  return (seed: string) =>
    fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) =>
      edits.reduce((text, e) => {
        const at = e.at % (text.length + 1);
        if ("insert" in e) return text.slice(0, at) + e.insert + text.slice(at);
        const run = /\d+/.exec(text.slice(at));
        if (!run) return text;
        const start = at + run.index;
        return text.slice(0, start) + e.digits + text.slice(start + run[0].length);
      }, seed),
    );
}

type Chunks = Array<string | Uint8Array>;

/** The input cut into chunks of random sizes, as text or as bytes (splitting characters). */
function chunked(input: fc.Arbitrary<string | Uint8Array>): fc.Arbitrary<Chunks> {
  return fc
    .tuple(input, fc.boolean(), fc.integer({ min: 1, max: 4096 }))
    .map(([data, asBytes, size]) => {
      const all = typeof data === "string" && asBytes ? encoder.encode(data) : data;
      const out: Chunks = [];
      for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
      return out;
    });
}

function inputs(seeds: readonly string[], tokens: readonly string[]) {
  const edit = textEdits(tokens);
  return chunked(
    fc.oneof(
      fc.constantFrom(...seeds),
      fc.constantFrom(...seeds).chain(edit),
      mutated(seeds.map((s) => encoder.encode(s))),
      fc.string({ maxLength: 300, unit: "binary" }),
    ),
  );
}

async function drain(events: AsyncIterable<unknown>, chunks: Chunks, what: string): Promise<void> {
  const size = chunks.reduce((n, c) => n + c.length, 0);
  let count = 0;
  try {
    for await (const _ of events) {
      if (++count > size + 16) throw new FuzzFailure(`${what}: more events than input`);
    }
  } catch (error) {
    if (error instanceof MeterDataError) return;
    throw error;
  }
}

export const meterDataTarget: FuzzTarget = {
  name: "meter-data",
  async run(runs: number, seed: number): Promise<FuzzReport> {
    const espi = inputs([espiSeed()], XML_TOKENS);
    const csvSeeds = ["lcl-quirks.csv", "lcl-three-column.csv"].map((name) =>
      readFileSync(fixture(`london/${name}`), "utf8"),
    );
    const csv = inputs(csvSeeds, CSV_TOKENS);
    const half = Math.max(1, Math.ceil(runs / 2));
    return merge(
      await check(
        fc.asyncProperty(espi, (chunks) => drain(readEspi(chunks), chunks, "readEspi")),
        half,
        seed,
      ),
      await check(
        fc.asyncProperty(csv, (chunks) => drain(readLondonCsv(chunks), chunks, "readLondonCsv")),
        half,
        seed,
      ),
    );
  },
};
