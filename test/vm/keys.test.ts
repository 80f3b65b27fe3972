import fc from "fast-check";
import t from "tap";
import { compareBytes, toHex } from "../../lib/bytes.js";
import { keys, PREFIX } from "../../vm/keys.js";

const address = (n: number) => new Uint8Array(20).fill(n);
const hash = (n: number) => new Uint8Array(32).fill(n);

t.test("every kind of record has its own one-byte prefix", async (t) => {
  const prefixes = Object.values(PREFIX);
  t.equal(new Set(prefixes).size, prefixes.length);
  for (const p of prefixes) t.ok(Number.isInteger(p) && p > 0 && p < 256);
});

t.test("each builder starts its key with its prefix", async (t) => {
  t.equal(keys.params()[0], PREFIX.params);
  t.equal(keys.account(address(1))[0], PREFIX.account);
  t.equal(keys.household(address(1))[0], PREFIX.household);
  t.equal(keys.householdIndex("u0", 3)[0], PREFIX.householdIndex);
  t.equal(keys.meter(hash(1))[0], PREFIX.meter);
  t.equal(keys.credits(address(1), 4n)[0], PREFIX.credits);
  t.equal(keys.orderBook("u0", "buy", 1n, 2n)[0], PREFIX.orderBook);
  t.equal(keys.statement(address(1), 4n)[0], PREFIX.statement);
  t.equal(keys.job("finalise")[0], PREFIX.job);
});

t.test("fixed-length parts are checked", async (t) => {
  t.throws(() => keys.account(new Uint8Array(19)), RangeError);
  t.throws(() => keys.proposal(new Uint8Array(31)), RangeError);
  t.throws(() => keys.householdIndex("u0", -1), RangeError);
  t.throws(() => keys.credits(address(1), -1n), RangeError);
  t.throws(() => keys.statement(address(1), 1n << 64n), RangeError);
  t.throws(() => keys.orderBook("u0", "buy", 1n << 64n, 0n), RangeError);
});

t.test("an order book entry is its book key followed by the order id", async (t) => {
  const entry = keys.orderBookEntry("u0", "sell", 7n, 9n, hash(3));
  t.same(entry.subarray(0, entry.length - 32), keys.orderBook("u0", "sell", 7n, 9n));
  t.same(entry.subarray(entry.length - 32), hash(3));
});

t.test("u64 parts sort like the numbers they hold", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        (a, b) => {
          const order = Math.sign(
            compareBytes(keys.credits(address(1), a), keys.credits(address(1), b)),
          );
          return order === (a < b ? -1 : a > b ? 1 : 0);
        },
      ),
    ),
  );
});

t.test("household indexes sort by index within a utility", async (t) => {
  const ks = [0, 1, 255, 256, 70000].map((i) => keys.householdIndex("u0", i));
  t.same([...ks].sort(compareBytes).map(toHex), ks.map(toHex));
  for (const k of ks) t.ok(toHex(k).startsWith(toHex(keys.householdIndexOf("u0"))));
});

t.test(
  "utility ids are length-prefixed: one id's keys never fall under another's prefix",
  async (t) => {
    const ab = keys.householdIndexOf("ab");
    const abc = keys.householdIndex("abc", 0);
    t.notOk(toHex(abc).startsWith(toHex(ab)));
    t.notOk(toHex(keys.billRecord("ab", "c1")).startsWith(toHex(keys.billRecord("ab", "c"))));
  },
);

t.test("the order book scans best price first on both sides, then by placement", async (t) => {
  const sells = [
    keys.orderBook("u0", "sell", 20n, 1n),
    keys.orderBook("u0", "sell", 10n, 5n),
    keys.orderBook("u0", "sell", 10n, 2n),
  ].sort(compareBytes);
  t.same(sells.map(toHex), [
    toHex(keys.orderBook("u0", "sell", 10n, 2n)),
    toHex(keys.orderBook("u0", "sell", 10n, 5n)),
    toHex(keys.orderBook("u0", "sell", 20n, 1n)),
  ]);
  const buys = [keys.orderBook("u0", "buy", 10n, 1n), keys.orderBook("u0", "buy", 20n, 2n)].sort(
    compareBytes,
  );
  t.same(buys.map(toHex), [
    toHex(keys.orderBook("u0", "buy", 20n, 2n)),
    toHex(keys.orderBook("u0", "buy", 10n, 1n)),
  ]);
  t.ok(toHex(buys[0]!).startsWith(toHex(keys.orderBookSide("u0", "buy"))));
});
