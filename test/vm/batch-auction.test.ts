import fc from "fast-check";
import t from "tap";
import { compareBytes, concatBytes, toHex } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import {
  type BatchParams,
  clearBatch,
  initialReferencePrice,
} from "../../vm/market/batch-auction.js";
import { validateFills } from "../../vm/market/fills.js";
import { type Book, MarketError, minQty, type Order } from "../../vm/market/order.js";
import { batchScenarios } from "./fixtures/market/batch.js";
import { bookOf, makeOrder, orderId } from "./fixtures/market/orders.js";

const SEED = new Uint8Array(32).fill(7);

const show = (value: unknown) =>
  JSON.stringify(value, (_, v) =>
    typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? toHex(v) : v,
  );

t.test("golden scenarios", (t) => {
  for (const { name, given, expect: then } of batchScenarios) {
    const result = clearBatch(bookOf(given.orders), {
      floor: given.floor,
      penalty: given.penalty,
      referencePrice: given.reference,
      tieSeed: given.seed,
    });
    t.equal(result.price, then.price, `${name}: price`);
    t.equal(result.volume, then.volume, `${name}: volume`);
    const expected = then.fills.map(([id, qty]) => [toHex(orderId(id)), qty, then.price]);
    const actual = result.fills.map((f) => [toHex(f.orderId), f.qty, f.price]);
    t.same(actual, expected, `${name}: fills`);
    if (then.demand) t.same(result.curves.demand, then.demand, `${name}: demand curve`);
    if (then.supply) t.same(result.curves.supply, then.supply, `${name}: supply curve`);
  }
  t.end();
});

t.test("the reference before the first auction is the floored middle of the band", (t) => {
  t.equal(initialReferencePrice(100n, 301n), 200n);
  t.equal(initialReferencePrice(0n, 1n), 0n);
  t.end();
});

t.test("an empty book or a one-sided book does not trade", (t) => {
  const params = { floor: 0n, penalty: 10n, referencePrice: 5n, tieSeed: SEED };
  const empty = clearBatch({ buys: [], sells: [] }, params);
  t.same(empty, { price: undefined, volume: 0n, fills: [], curves: { demand: [], supply: [] } });
  const oneSided = clearBatch({ buys: [makeOrder(1, "buy", 3n, 7n)], sells: [] }, params);
  t.equal(oneSided.price, undefined);
  t.same(oneSided.curves.demand, [[7n, 3n]]);
  t.end();
});

t.test("a wide band is cleared from breakpoints, not by scanning every integer", (t) => {
  // A scan over [0, 10^18] would never finish; breakpoints make this instant.
  const book = {
    buys: [makeOrder(1, "buy", 10n, 600_000_000_000n)],
    sells: [makeOrder(11, "sell", 10n, 400_000_000_000n)],
  };
  const result = clearBatch(book, {
    floor: 0n,
    penalty: 10n ** 18n,
    referencePrice: 10n ** 11n,
    tieSeed: SEED,
  });
  t.equal(result.price, 400_000_000_000n, "nearest the reference within the crossing run");
  t.equal(result.volume, 10n);
  t.end();
});

t.test("bad input throws typed errors", (t) => {
  const params: BatchParams = { floor: 0n, penalty: 10n, referencePrice: 5n, tieSeed: SEED };
  const code = (book: Book, p = params) => {
    try {
      clearBatch(book, p);
    } catch (e) {
      return e instanceof MarketError ? e.code : "untyped";
    }
    return "none";
  };
  const buy = makeOrder(1, "buy", 3n, 7n);
  t.equal(code({ buys: [buy], sells: [] }, { ...params, floor: 11n }), "BAD_PARAMS");
  t.equal(code({ buys: [buy], sells: [] }, { ...params, floor: -1n }), "BAD_PARAMS");
  const noSeed = { ...params, tieSeed: "seed" as unknown as Uint8Array };
  t.equal(code({ buys: [buy], sells: [] }, noSeed), "BAD_PARAMS");
  t.equal(code({ buys: [buy, buy], sells: [] }), "DUPLICATE_ORDER");
  t.equal(code({ buys: [], sells: [buy] }), "WRONG_SIDE");
  t.equal(code({ buys: [{ ...buy, qty: 0n }], sells: [] }), "BAD_ORDER");
  t.equal(code({ buys: [{ ...buy, price: -1n }], sells: [] }), "BAD_ORDER");
  t.equal(code({ buys: [{ ...buy, id: new Uint8Array(31) }], sells: [] }), "BAD_ORDER");
  t.end();
});

// ---- reference model: a full scan of the band and a per-order closed form of the allocation ----

const demandAt = (buys: readonly Order[], p: bigint) =>
  buys.reduce((s, o) => (o.price >= p ? s + o.qty : s), 0n);
const supplyAt = (sells: readonly Order[], p: bigint) =>
  sells.reduce((s, o) => (o.price <= p ? s + o.qty : s), 0n);
const absB = (x: bigint) => (x < 0n ? -x : x);

interface Scan {
  price: bigint;
  volume: bigint;
  /** How many prices tie on volume, |D − S| and distance: the "then the lower" cases. */
  tiedBeforeLower: number;
}

function fullScan(book: Book, floor: bigint, penalty: bigint, ref: bigint): Scan {
  let best: { price: bigint; key: [bigint, bigint, bigint] } | undefined;
  let tied = 0;
  for (let p = floor; p <= penalty; p++) {
    const d = demandAt(book.buys, p);
    const s = supplyAt(book.sells, p);
    const key: [bigint, bigint, bigint] = [-minQty(d, s), absB(d - s), absB(p - ref)];
    const cmp = best === undefined ? -1 : compareKeys(key, best.key);
    if (cmp < 0) {
      best = { price: p, key };
      tied = 1;
    } else if (cmp === 0) tied++;
  }
  return { price: best!.price, volume: -best!.key[0], tiedBeforeLower: tied };
}

function compareKeys(a: readonly bigint[], b: readonly bigint[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

/** What each order should get: a closed form per order rather than a walk over levels. */
function referenceFills(book: Book, price: bigint, volume: bigint, seed: Uint8Array) {
  const out = new Map<string, bigint>();
  for (const [orders, isBuy] of [
    [book.buys, true],
    [book.sells, false],
  ] as const) {
    const eligible = orders.filter((o) => (isBuy ? o.price >= price : o.price <= price));
    const betterThan = (a: Order, b: Order) => (isBuy ? a.price > b.price : a.price < b.price);
    for (const o of eligible) {
      const ahead = eligible.filter((x) => betterThan(x, o)).reduce((s, x) => s + x.qty, 0n);
      const level = eligible.filter((x) => x.price === o.price);
      const q = level.reduce((s, x) => s + x.qty, 0n);
      let share: bigint;
      if (ahead + q <= volume) share = o.qty;
      else if (ahead >= volume) share = 0n;
      else {
        const r = volume - ahead;
        const floorSum = level.reduce((s, x) => s + (x.qty * r) / q, 0n);
        const rank = (x: Order) => [(x.qty * r) % q, sha256(concatBytes(seed, x.id))] as const;
        const [myRem, myHash] = rank(o);
        const before = level.filter((x) => {
          const [rem, hash] = rank(x);
          return rem > myRem || (rem === myRem && compareBytes(hash, myHash) < 0);
        }).length;
        share = (o.qty * r) / q + (BigInt(before) < r - floorSum ? 1n : 0n);
      }
      if (share > 0n) out.set(toHex(o.id), share);
    }
  }
  return out;
}

const smallBook = (maxPrice: number) =>
  fc
    .array(
      fc.record({
        side: fc.constantFrom("buy" as const, "sell" as const),
        qty: fc.bigInt({ min: 1n, max: 12n }),
        price: fc.bigInt({ min: 0n, max: BigInt(maxPrice) }),
      }),
      { maxLength: 12 },
    )
    .map((rows) => {
      const orders = rows.map((r, i) => makeOrder(i + 1, r.side, r.qty, r.price));
      return {
        buys: orders.filter((o) => o.side === "buy"),
        sells: orders.filter((o) => o.side === "sell"),
      };
    });

const bandArb = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 30n }),
    fc.bigInt({ min: 0n, max: 30n }),
    fc.bigInt({ min: -5n, max: 45n }),
  )
  .map(([a, b, ref]) => ({ floor: minQty(a, b), penalty: a + b - minQty(a, b), ref }));

t.test("price and volume equal a full scan of every integer in the band", (t) => {
  fc.assert(
    fc.property(
      smallBook(40),
      bandArb,
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (book, band, seed) => {
        const result = clearBatch(book, {
          floor: band.floor,
          penalty: band.penalty,
          referencePrice: band.ref,
          tieSeed: seed,
        });
        const scan = fullScan(book, band.floor, band.penalty, band.ref);
        if (scan.volume === 0n) return result.price === undefined && result.volume === 0n;
        return result.price === scan.price && result.volume === scan.volume;
      },
    ),
    { numRuns: 400 },
  );
  t.end();
});

t.test("the last tie-break, the lower price, is never needed", (t) => {
  fc.assert(
    fc.property(smallBook(40), bandArb, (book, band) => {
      return fullScan(book, band.floor, band.penalty, band.ref).tiedBeforeLower === 1;
    }),
    { numRuns: 400 },
  );
  t.end();
});

t.test("fills equal the per-order reference and keep the auction's invariants", (t) => {
  fc.assert(
    fc.property(
      smallBook(40),
      bandArb,
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (book, band, seed) => {
        const result = clearBatch(book, {
          floor: band.floor,
          penalty: band.penalty,
          referencePrice: band.ref,
          tieSeed: seed,
        });
        if (result.price === undefined) return result.fills.length === 0;
        const p = result.price;
        const d = demandAt(book.buys, p);
        const s = supplyAt(book.sells, p);
        if (result.volume !== minQty(d, s)) return false;
        const byId = new Map([...book.buys, ...book.sells].map((o) => [toHex(o.id), o]));
        let bought = 0n;
        let sold = 0n;
        for (const f of result.fills) {
          const o = byId.get(toHex(f.orderId))!;
          if (f.price !== p || f.qty <= 0n || f.qty > o.qty || f.side !== o.side) return false;
          if (o.side === "buy" ? o.price < p : o.price > p) return false;
          if (o.side === "buy") bought += f.qty;
          else sold += f.qty;
        }
        if (bought !== result.volume || sold !== result.volume) return false;
        const expected = referenceFills(book, p, result.volume, seed);
        const actual = new Map(result.fills.map((f) => [toHex(f.orderId), f.qty]));
        if (expected.size !== actual.size) return false;
        for (const [k, v] of expected) if (actual.get(k) !== v) return false;
        const check = validateFills(book, result.fills);
        return check.ok && check.volume === result.volume && check.value === result.volume * p;
      },
    ),
    { numRuns: 400 },
  );
  t.end();
});

t.test("fills do not depend on the order of the input arrays", (t) => {
  fc.assert(
    fc.property(
      smallBook(40),
      bandArb,
      fc.array(fc.nat(), { minLength: 24, maxLength: 24 }),
      (book, band, keys) => {
        const shuffle = (orders: readonly Order[]) =>
          orders
            .map((o, i) => [keys[i]!, o] as const)
            .sort(([a], [b]) => a - b)
            .map(([, o]) => o);
        const params = {
          floor: band.floor,
          penalty: band.penalty,
          referencePrice: band.ref,
          tieSeed: SEED,
        };
        const a = clearBatch(book, params);
        const b = clearBatch({ buys: shuffle(book.buys), sells: shuffle(book.sells) }, params);
        return show(a) === show(b);
      },
    ),
    { numRuns: 200 },
  );
  t.end();
});

t.test("curves are sorted, aggregated per price level and cumulative", (t) => {
  fc.assert(
    fc.property(smallBook(40), (book) => {
      const { curves } = clearBatch(book, {
        floor: 0n,
        penalty: 40n,
        referencePrice: 20n,
        tieSeed: SEED,
      });
      const distinct = (orders: readonly Order[]) => new Set(orders.map((o) => o.price)).size;
      if (curves.demand.length !== distinct(book.buys)) return false;
      if (curves.supply.length !== distinct(book.sells)) return false;
      for (let i = 1; i < curves.demand.length; i++) {
        if (!(curves.demand[i - 1]![0] < curves.demand[i]![0])) return false;
        if (!(curves.demand[i - 1]![1] > curves.demand[i]![1])) return false;
      }
      for (let i = 1; i < curves.supply.length; i++) {
        if (!(curves.supply[i - 1]![0] < curves.supply[i]![0])) return false;
        if (!(curves.supply[i - 1]![1] < curves.supply[i]![1])) return false;
      }
      return (
        curves.demand.every(([p, q]) => q === demandAt(book.buys, p)) &&
        curves.supply.every(([p, q]) => q === supplyAt(book.sells, p))
      );
    }),
    { numRuns: 200 },
  );
  t.end();
});
