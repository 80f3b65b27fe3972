import fc from "fast-check";
import t from "tap";
import {
  type ExactWh,
  formatKwh,
  kwhToWh,
  MAX_SCALE,
  parseKwh,
  sameEnergy,
  scaledWh,
  WhCarry,
} from "../../meter-oracle/decimal.js";
import { MeterDataError } from "../../meter-oracle/interval.js";

// A pattern for t.throws / t.rejects: a MeterDataError with this code.
const isCode = (code: string) => ({ name: "MeterDataError", code });

t.test("parses kWh strings exactly", async (t) => {
  t.same(parseKwh("0.263"), { units: 263n, scale: 0 });
  t.same(parseKwh("12"), { units: 12_000n, scale: 0 });
  t.same(parseKwh("1.5"), { units: 1_500n, scale: 0 });
  t.same(parseKwh("0.1234"), { units: 1_234n, scale: 1 });
  t.same(parseKwh("0.0000000"), { units: 0n, scale: 4 });
  t.same(parseKwh("007.000"), { units: 7_000n, scale: 0 });
  t.equal(kwhToWh("0.1239"), 123n, "fractions of a Wh are floored");
  t.equal(kwhToWh("123456789.987"), 123_456_789_987n);
});

t.test("formatting integer Wh as kWh and parsing it back is the identity", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.nat({ max: 6 }), (wh, zeros) => {
        const text = formatKwh(wh) + "0".repeat(zeros);
        return kwhToWh(text) === wh && parseKwh(text).units === wh * 10n ** BigInt(zeros);
      }),
    ),
  );
  t.equal(formatKwh(1_234n), "1.234");
  t.equal(formatKwh(5n), "0.005");
});

t.test("rejects garbage", async (t) => {
  const garbage = [
    "",
    " ",
    " 0.1",
    "0.1 ",
    ".5",
    "5.",
    "-0.1",
    "+1",
    "1e3",
    "1E-3",
    "0x10",
    "1,5",
    "1.2.3",
    "NaN",
    "Infinity",
    "Null",
    "١٢",
    "1".repeat(41),
    `0.${"1".repeat(MAX_SCALE + 4)}`,
  ];
  for (const text of garbage)
    t.throws(() => parseKwh(text), isCode("BAD_DECIMAL"), JSON.stringify(text));
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/^[0-9]+(\.[0-9]+)?$/.test(s)),
        (s) => {
          try {
            parseKwh(s);
            return false;
          } catch (err) {
            return err instanceof MeterDataError && err.code === "BAD_DECIMAL";
          }
        },
      ),
    ),
  );
});

t.test("scaled integers, the ESPI form", async (t) => {
  t.same(scaledWh(1_500n, -3), { units: 1_500n, scale: 3 });
  t.same(scaledWh(7n, 3), { units: 7_000n, scale: 0 });
  t.same(scaledWh(42n, 0), { units: 42n, scale: 0 });
  t.throws(() => scaledWh(-1n, 0), isCode("BAD_DECIMAL"));
  t.throws(() => scaledWh(1n, 19), isCode("BAD_DECIMAL"));
  t.throws(() => scaledWh(1n, 0.5), isCode("BAD_DECIMAL"));
});

t.test("sameEnergy compares quantities, not spellings", async (t) => {
  t.ok(sameEnergy(parseKwh("0.1"), parseKwh("0.1000")));
  t.notOk(sameEnergy(parseKwh("0.1"), parseKwh("0.1001")));
});

t.test("WhCarry emits floor of the running exact total", async (t) => {
  const carry = new WhCarry();
  t.equal(carry.add({ units: 1_500n, scale: 3 }), 1n);
  t.equal(carry.add({ units: 1_500n, scale: 3 }), 2n);
  t.equal(carry.add({ units: 999n, scale: 3 }), 0n);
  t.equal(carry.add({ units: 1n, scale: 3 }), 1n);

  const exact = fc.record({
    units: fc.bigInt({ min: 0n, max: 10n ** 9n }),
    scale: fc.nat({ max: 6 }),
  });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(exact, { maxLength: 40 }), (values: ExactWh[]) => {
        const c = new WhCarry();
        let emitted = 0n;
        let total = 0n; // in 10^-6 Wh
        for (const v of values) {
          emitted += c.add(v);
          total += v.units * 10n ** BigInt(6 - v.scale);
          if (emitted !== total / 10n ** 6n) return false;
        }
        return true;
      }),
    ),
  );
});
