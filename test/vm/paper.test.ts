import fc from "fast-check";
import t from "tap";
import { toHex } from "../../lib/bytes.js";
import { validateTrades } from "../../vm/market/fills.js";
import { type Book, MarketError, minQty, type Order, type Trade } from "../../vm/market/order.js";
import { buyerQueue, clearPaper, offerQueue, PaperClearing } from "../../vm/market/paper.js";
import { makeOrder } from "./fixtures/market/orders.js";
import { paperWalk } from "./fixtures/market/paper.js";

const idNumber = (id: Uint8Array) => id[31]!;
const show = (value: unknown) =>
  JSON.stringify(value, (_, v) =>
    typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? toHex(v) : v,
  );

function walkBook(): Book {
  const orders = paperWalk.given.map(([n, side, qty, price, height]) =>
    makeOrder(n, side, qty, price, height),
  );
  return {
    buys: orders.filter((o) => o.side === "buy"),
    sells: orders.filter((o) => o.side === "sell"),
  };
}

t.test("Algorithm 1 walked by hand", (t) => {
  const book = walkBook();
  t.same(
    offerQueue(book.sells).map((o) => idNumber(o.id)),
    paperWalk.expect.offerQueue,
  );
  t.same(
    buyerQueue(book.buys).map((o) => idNumber(o.id)),
    paperWalk.expect.buyerQueue,
  );
  const trades = clearPaper(book);
  t.same(
    trades.map((tr) => [idNumber(tr.buyOrderId), idNumber(tr.sellOrderId), tr.qty, tr.price]),
    paperWalk.expect.trades,
  );
  const check = validateTrades(book, trades);
  t.ok(check.ok);
  if (check.ok) {
    t.equal(check.value, paperWalk.expect.value);
    t.same(
      check.residual.buys.map((o) => [idNumber(o.id), o.qty]),
      [[2, 20n]],
      "only buyer 2 is left uncovered, with 20 Wh",
    );
    t.same(check.residual.sells, [], "every offer sold out");
  }
  t.end();
});

t.test("stepping buyer by buyer gives the trades of one run", (t) => {
  const book = walkBook();
  const clearing = new PaperClearing(book);
  const steps: Trade[][] = [];
  t.notOk(clearing.done);
  t.same(clearing.step(0), [], "a zero step serves no one");
  while (!clearing.done) steps.push(clearing.step(1));
  t.same(
    steps.map((s) => s.length),
    [1, 1, 2],
    "one step per buyer",
  );
  t.same(steps.flat(), clearPaper(book));
  t.same(clearing.step(5), [], "nothing after the last buyer");
  t.end();
});

t.test("a malformed book throws a typed error", (t) => {
  const buy = makeOrder(1, "buy", 1n, 10n);
  t.throws(() => clearPaper({ buys: [buy], sells: [buy] }), MarketError);
  t.end();
});

// ---- properties against a naive re-scan of the sorted offers for every unit of need ----

function naivePaper(book: Book): Trade[] {
  const offers = offerQueue(book.sells).map((o) => ({ o, left: o.qty }));
  const trades: Trade[] = [];
  for (const buyer of buyerQueue(book.buys)) {
    let need = buyer.qty;
    for (;;) {
      const offer = offers.find((x) => x.left > 0n && x.o.price <= buyer.price);
      if (offer === undefined || need === 0n) break;
      const qty = minQty(offer.left, need);
      trades.push({
        buyOrderId: buyer.id,
        sellOrderId: offer.o.id,
        buyer: buyer.owner,
        seller: offer.o.owner,
        qty,
        price: offer.o.price,
      });
      offer.left -= qty;
      need -= qty;
    }
  }
  return trades;
}

const bookArb = fc
  .array(
    fc.record({
      side: fc.constantFrom("buy" as const, "sell" as const),
      qty: fc.bigInt({ min: 1n, max: 20n }),
      price: fc.bigInt({ min: 90n, max: 110n }),
      height: fc.bigInt({ min: 1n, max: 4n }),
    }),
    { maxLength: 20 },
  )
  .map((rows) => {
    const orders = rows.map((r, i) => makeOrder(i + 1, r.side, r.qty, r.price, r.height));
    return {
      buys: orders.filter((o) => o.side === "buy"),
      sells: orders.filter((o) => o.side === "sell"),
    };
  });

t.test("random books: same trades as a naive re-scan, and valid pay-as-offer fills", (t) => {
  fc.assert(
    fc.property(bookArb, (book) => {
      const trades = clearPaper(book);
      if (show(trades) !== show(naivePaper(book))) return false;
      const sellers = new Map(book.sells.map((o) => [toHex(o.id), o]));
      if (trades.some((tr) => tr.price !== sellers.get(toHex(tr.sellOrderId))!.price)) return false;
      const check = validateTrades(book, trades);
      if (!check.ok) return false;
      // Greedy to the end: no buyer left short while an offer it could afford is unsold.
      return !check.residual.buys.some((b) => check.residual.sells.some((s) => s.price <= b.price));
    }),
    { numRuns: 300 },
  );
  t.end();
});

t.test("the clearing does not depend on the order of the input arrays", (t) => {
  fc.assert(
    fc.property(bookArb, fc.array(fc.nat(), { minLength: 20, maxLength: 20 }), (book, keys) => {
      const shuffle = (orders: readonly Order[]) =>
        orders
          .map((o, i) => [keys[i]!, o] as const)
          .sort(([a], [b]) => a - b)
          .map(([, o]) => o);
      const shuffled = { buys: shuffle(book.buys), sells: shuffle(book.sells) };
      return show(clearPaper(book)) === show(clearPaper(shuffled));
    }),
    { numRuns: 200 },
  );
  t.end();
});

t.test("chunked stepping equals one run for any chunk sizes", (t) => {
  fc.assert(
    fc.property(
      bookArb,
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1 }),
      (book, sizes) => {
        const clearing = new PaperClearing(book);
        const trades: Trade[] = [];
        for (let i = 0; !clearing.done; i++)
          trades.push(...clearing.step(sizes[i % sizes.length]!));
        return show(trades) === show(clearPaper(book));
      },
    ),
    { numRuns: 150 },
  );
  t.end();
});
