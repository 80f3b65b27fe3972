import fc from "fast-check";
import t from "tap";
import { extrapolate, floorDiv, interpolate, type Snapshot } from "../../vm/readings/boundary.js";

t.test("floorDiv floors towards minus infinity", async (t) => {
  t.equal(floorDiv(7n, 2n), 3n);
  t.equal(floorDiv(-7n, 2n), -4n);
  t.equal(floorDiv(-8n, 2n), -4n);
  t.equal(floorDiv(0n, 5n), 0n);
});

t.test("interpolation vectors: R_a + ⌊(R_b − R_a)(b − t_a)/(t_b − t_a)⌋", async (t) => {
  const a: Snapshot = { time: 60n, values: [600n, 10n] };
  const b: Snapshot = { time: 150n, values: [1300n, 11n] };
  t.same(interpolate(a, b, 100n), [911n, 10n], "600 + ⌊700 × 40/90⌋, 10 + ⌊1 × 40/90⌋");
  t.same(interpolate(a, b, 149n), [1292n, 10n], "600 + ⌊700 × 89/90⌋ = 600 + 692");
  t.same(interpolate(a, b, 150n), [1300n, 11n], "a reading at the boundary is used as is");
  t.same(interpolate(a, b, 60n), [600n, 10n]);
  t.throws(() => interpolate(a, b, 151n), RangeError);
  t.throws(() => interpolate(a, b, 59n), RangeError);
});

t.test(
  "extrapolation vectors: the last two readings' rate, never below what was read",
  async (t) => {
    const previous: Snapshot = { time: 40n, values: [400n] };
    const last: Snapshot = { time: 60n, values: [600n] };
    t.same(extrapolate(previous, last, 100n), [1000n]);
    t.same(extrapolate(previous, last, 61n), [610n]);
    t.same(extrapolate(previous, last, 60n), [600n]);
    t.same(extrapolate(undefined, last, 1000n), [600n], "one reading: flat");
    t.same(extrapolate({ time: 40n, values: [600n] }, last, 1000n), [600n], "no use: flat");
    t.same(extrapolate({ time: 0n, values: [0n] }, { time: 3n, values: [1n] }, 5n), [1n]);
    t.throws(() => extrapolate(previous, last, 59n), RangeError);
  },
);

const reading = fc
  .record({
    t: fc.bigInt({ min: 0n, max: 1n << 40n }),
    dt: fc.bigInt({ min: 1n, max: 1n << 32n }),
    r: fc.array(fc.bigInt({ min: 0n, max: 1n << 47n }), { minLength: 1, maxLength: 2 }),
    dr: fc.array(fc.bigInt({ min: 0n, max: 1n << 40n }), { minLength: 2, maxLength: 2 }),
  })
  .map(({ t, dt, r, dr }) => ({
    a: { time: t, values: r },
    b: { time: t + dt, values: r.map((v, i) => v + dr[i]!) },
  }));

t.test("interpolated boundaries lie between their readings", async () => {
  fc.assert(
    fc.property(reading, fc.bigInt({ min: 0n, max: 1n << 32n }), ({ a, b }, x) => {
      const at = a.time + (x % (b.time - a.time + 1n));
      const v = interpolate(a, b, at);
      return v.every((value, i) => a.values[i]! <= value && value <= b.values[i]!);
    }),
  );
});

t.test("interpolation is monotone in the boundary's time and exact at the readings", async () => {
  fc.assert(
    fc.property(
      reading,
      fc.bigInt({ min: 0n, max: 1n << 32n }),
      fc.bigInt({ min: 0n, max: 1n << 32n }),
      ({ a, b }, x, y) => {
        const span = b.time - a.time + 1n;
        const [p, q] = [a.time + (x % span), a.time + (y % span)].sort((u, w) =>
          u < w ? -1 : u > w ? 1 : 0,
        );
        const vp = interpolate(a, b, p!);
        const vq = interpolate(a, b, q!);
        return (
          vp.every((v, i) => v <= vq[i]!) &&
          interpolate(a, b, a.time).every((v, i) => v === a.values[i]) &&
          interpolate(a, b, b.time).every((v, i) => v === b.values[i])
        );
      },
    ),
  );
});

t.test("interpolation is exact integer arithmetic: the remainder is below the span", async () => {
  fc.assert(
    fc.property(reading, fc.bigInt({ min: 0n, max: 1n << 32n }), ({ a, b }, x) => {
      const span = b.time - a.time;
      const at = a.time + (x % (span + 1n));
      return interpolate(a, b, at).every((v, i) => {
        const exact = (b.values[i]! - a.values[i]!) * (at - a.time);
        const rest = exact - (v - a.values[i]!) * span;
        return rest >= 0n && rest < span;
      });
    }),
  );
});

t.test("extrapolation never goes below the last reading and grows with time", async () => {
  fc.assert(
    fc.property(
      reading,
      fc.bigInt({ min: 0n, max: 1n << 20n }),
      fc.bigInt({ min: 0n, max: 1n << 20n }),
      ({ a, b }, x, y) => {
        const [p, q] = x < y ? [x, y] : [y, x];
        const vp = extrapolate(a, b, b.time + p);
        const vq = extrapolate(a, b, b.time + q);
        return vp.every((v, i) => b.values[i]! <= v && v <= vq[i]!);
      },
    ),
  );
});
