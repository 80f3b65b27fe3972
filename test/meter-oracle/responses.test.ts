// Household response factors between the household simulation and the oracle's simulated
// meters: written whole or not at all, read once they exist, validated, applied by flooring.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import t from "tap";
import {
  parseResponses,
  ResponseBook,
  respondedWh,
  responsesFile,
  writeResponses,
} from "../../meter-oracle/responses.js";

t.test("respondedWh floors Wh × ppm / 10^6 and is monotone in both", async (t) => {
  t.equal(respondedWh(1000n, 1_000_000), 1000n);
  t.equal(respondedWh(999n, 500_000), 499n);
  t.equal(respondedWh(1n, 999_999), 0n);
  fc.assert(
    fc.property(fc.bigInt(0n, 10n ** 9n), fc.integer({ min: 0, max: 9_999_999 }), (wh, ppm) => {
      const r = respondedWh(wh, ppm);
      return r <= (wh * BigInt(ppm + 1)) / 1_000_000n && r * 1_000_000n <= wh * BigInt(ppm);
    }),
  );
});

t.test("a meter sees no factor until the period's file exists, then the file's", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-responses-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const book = new ResponseBook(dir, 2);
  t.equal(book.factor(5n), undefined, "no file yet");
  await writeResponses(dir, { period: 5n, ppm: [1_000_000, 900_000, 812_345] });
  t.equal(book.factor(5n), 812_345);
  await writeResponses(dir, { period: 5n, ppm: [1, 1, 1] });
  t.equal(book.factor(5n), 812_345, "a period's factor is read once and kept");
  t.equal(new ResponseBook(dir, 0).factor(5n), 1, "a new reader sees the replaced file");
});

t.test("bad files are refused with BAD_RESPONSES", async (t) => {
  for (const text of [
    "not json",
    "{}",
    JSON.stringify({ format: "wattcap-responses/1", period: "4", ppm: [1] }),
    JSON.stringify({ format: "wattcap-responses/1", period: "5", ppm: [-1] }),
    JSON.stringify({ format: "wattcap-responses/1", period: "5", ppm: [1.5] }),
    JSON.stringify({ format: "wattcap-responses/1", period: "5", ppm: [10_000_001] }),
    JSON.stringify({ format: "wattcap-responses/1", period: "5", ppm: "x" }),
  ]) {
    t.throws(() => parseResponses(text, 5n), { code: "BAD_RESPONSES" }, text);
  }
  const dir = await mkdtemp(join(tmpdir(), "wattcap-responses-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    responsesFile(dir, 1n),
    JSON.stringify({ format: "wattcap-responses/1", period: "1", ppm: [5] }),
  );
  t.throws(
    () => new ResponseBook(dir, 1).factor(1n),
    { code: "BAD_RESPONSES" },
    "no such household",
  );
  await t.rejects(writeResponses(dir, { period: 2n, ppm: [-3] }), { code: "BAD_RESPONSES" });
});
