import fc from "fast-check";
import t from "tap";
import { toHex } from "../../lib/bytes.js";
import { ContinuousBook } from "../../vm/market/continuous-book.js";
import { validateTrades } from "../../vm/market/fills.js";
import { MarketError, minQty, type Order, type Side, type Trade } from "../../vm/market/order.js";
import { continuousScenarios } from "./fixtures/market/continuous.js";
import { makeOrder, orderId, ownerOf } from "./fixtures/market/orders.js";

const idNumber = (id: Uint8Array) => id[31]!;

t.test("golden scenarios", (t) => {
  for (const { name, steps } of continuousScenarios) {
    const book = new ContinuousBook();
    steps.forEach(({ when, expect }, i) => {
      let trades: Trade[] = [];
      if ("place" in when) {
        const [n, side, qty, price] = when.place;
        trades = book.place(makeOrder(n, side, qty, price));
      } else {
        t.ok(book.cancel(orderId(when.cancel)), `${name} #${i}: cancel finds the order`);
      }
      t.same(
        trades.map((tr) => [idNumber(tr.buyOrderId), idNumber(tr.sellOrderId), tr.qty, tr.price]),
        expect.trades,
        `${name} #${i}: trades`,
      );
      t.same(book.depth(10), { bids: expect.bids, asks: expect.asks }, `${name} #${i}: book`);
    });
  }
  t.end();
});

t.test("trades name the parties and the maker's price", (t) => {
  const book = new ContinuousBook();
  book.place(makeOrder(1, "sell", 5n, 100n));
  const [trade] = book.place(makeOrder(2, "buy", 2n, 120n));
  t.same(trade, {
    buyOrderId: orderId(2),
    sellOrderId: orderId(1),
    buyer: ownerOf(2),
    seller: ownerOf(1),
    qty: 2n,
    price: 100n,
  });
  t.equal(book.get(orderId(1))?.qty, 3n, "the maker keeps its remaining size");
  t.equal(book.get(orderId(2)), undefined, "a filled taker never rests");
  t.equal(book.bestAsk(), 100n);
  t.equal(book.bestBid(), undefined);
  t.equal(book.size, 1);
  t.end();
});

t.test("cancel removes an order from the middle of a level and empty levels", (t) => {
  const book = new ContinuousBook();
  for (const [n, price] of [
    [1, 10n],
    [2, 12n],
    [3, 11n],
    [4, 11n],
    [5, 13n],
  ] as const) {
    book.place(makeOrder(n, "sell", 1n, price));
  }
  t.equal(book.cancel(orderId(9)), undefined, "unknown id");
  t.equal(book.cancel(orderId(3))?.price, 11n);
  t.same(book.depth(10).asks, [
    [10n, 1n],
    [11n, 1n],
    [12n, 1n],
    [13n, 1n],
  ]);
  book.cancel(orderId(2));
  t.same(book.depth(2).asks, [
    [10n, 1n],
    [11n, 1n],
  ]);
  book.cancel(orderId(1));
  t.equal(book.bestAsk(), 11n);
  t.same(
    book.orders().map((o) => idNumber(o.id)),
    [4, 5],
  );
  t.end();
});

t.test("bad placements throw typed errors and leave the book as it was", (t) => {
  const book = new ContinuousBook();
  book.place(makeOrder(1, "sell", 5n, 100n, 1n, 10n));
  const code = (o: Order) => {
    try {
      book.place(o);
    } catch (e) {
      return e instanceof MarketError ? e.code : "untyped";
    }
    return "none";
  };
  t.equal(code(makeOrder(1, "buy", 1n, 100n, 1n, 11n)), "DUPLICATE_ORDER");
  t.equal(code(makeOrder(2, "buy", 1n, 100n, 1n, 10n)), "STALE_SEQ");
  t.equal(code(makeOrder(2, "buy", 0n, 100n, 1n, 11n)), "BAD_ORDER");
  t.equal(
    code({ ...makeOrder(2, "buy", 1n, 100n, 1n, 11n), owner: new Uint8Array(19) }),
    "BAD_ORDER",
  );
  t.equal(code({ ...makeOrder(2, "buy", 1n, 100n, 1n, 11n), side: "hold" as Side }), "BAD_ORDER");
  t.same(book.depth(5), { bids: [], asks: [[100n, 5n]] });
  t.equal(code(makeOrder(2, "buy", 1n, 100n, 1n, 11n)), "none", "seq 11 is still free");
  t.end();
});

t.test("fromOrders restores a book and rejects bad ones", (t) => {
  const orders = [
    makeOrder(3, "buy", 2n, 99n, 1n, 3n),
    makeOrder(1, "buy", 1n, 99n, 1n, 1n),
    makeOrder(2, "sell", 4n, 101n, 1n, 2n),
  ];
  const book = ContinuousBook.fromOrders(orders);
  t.same(
    book.orders().map((o) => idNumber(o.id)),
    [1, 3, 2],
    "time priority from seq, not from the input order",
  );
  const code = (list: Order[]) => {
    try {
      ContinuousBook.fromOrders(list);
    } catch (e) {
      return e instanceof MarketError ? e.code : "untyped";
    }
    return "none";
  };
  t.equal(code([...orders, makeOrder(4, "sell", 1n, 99n, 1n, 4n)]), "CROSSED_BOOK");
  t.equal(code([...orders, makeOrder(1, "sell", 1n, 120n, 1n, 4n)]), "DUPLICATE_ORDER");
  t.equal(code([...orders, makeOrder(4, "sell", 1n, 120n, 1n, 3n)]), "STALE_SEQ");
  t.equal(code([...orders, makeOrder(4, "sell", 0n, 120n, 1n, 4n)]), "BAD_ORDER");
  t.throws(
    () => book.place(makeOrder(5, "sell", 1n, 120n, 1n, 3n)),
    "seq must pass the restored ones",
  );
  t.end();
});

// ---- reference model: an unsorted list, scanned for the best maker on every step ----

class ModelBook {
  resting: Order[] = [];

  place(order: Order): Trade[] {
    const trades: Trade[] = [];
    let left = order.qty;
    const isBuy = order.side === "buy";
    while (left > 0n) {
      let best: Order | undefined;
      for (const o of this.resting) {
        if (o.side === order.side) continue;
        if (isBuy ? o.price > order.price : o.price < order.price) continue;
        if (
          best === undefined ||
          (isBuy ? o.price < best.price : o.price > best.price) ||
          (o.price === best.price && o.seq < best.seq)
        ) {
          best = o;
        }
      }
      if (best === undefined) break;
      const qty = minQty(left, best.qty);
      const maker = best;
      trades.push({
        buyOrderId: isBuy ? order.id : maker.id,
        sellOrderId: isBuy ? maker.id : order.id,
        buyer: isBuy ? order.owner : maker.owner,
        seller: isBuy ? maker.owner : order.owner,
        qty,
        price: maker.price,
      });
      left -= qty;
      this.resting = this.resting
        .map((o) => (o === maker ? { ...o, qty: o.qty - qty } : o))
        .filter((o) => o.qty > 0n);
    }
    if (left > 0n) this.resting.push({ ...order, qty: left });
    return trades;
  }

  cancel(id: Uint8Array): void {
    this.resting = this.resting.filter((o) => toHex(o.id) !== toHex(id));
  }

  /** Priority order: bids high to low, asks low to high, older first at a price. */
  orders(): Order[] {
    const rank = (o: Order) => (o.side === "buy" ? -o.price : o.price);
    const cmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
    const bySide = (side: Side) =>
      this.resting
        .filter((o) => o.side === side)
        .sort((a, b) => cmp(rank(a), rank(b)) || cmp(a.seq, b.seq));
    return [...bySide("buy"), ...bySide("sell")];
  }
}

function wideId(n: number): Uint8Array {
  const id = new Uint8Array(32);
  new DataView(id.buffer).setUint32(28, n);
  return id;
}

type Op =
  | { kind: "place"; side: Side; qty: bigint; price: bigint }
  | { kind: "cancel"; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("place" as const),
      side: fc.constantFrom("buy" as const, "sell" as const),
      qty: fc.bigInt({ min: 1n, max: 10n }),
      price: fc.bigInt({ min: 95n, max: 105n }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }) },
);

const show = (value: unknown) =>
  JSON.stringify(value, (_, v) =>
    typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? toHex(v) : v,
  );

const total = (orders: readonly Order[]) => orders.reduce((s, o) => s + o.qty, 0n);

t.test("random streams: same trades and book as the reference model, invariants hold", (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
      const book = new ContinuousBook();
      const model = new ModelBook();
      let placed = 0;
      for (const op of ops) {
        const before = total(book.orders());
        if (op.kind === "place") {
          placed++;
          const order: Order = {
            id: wideId(placed),
            owner: ownerOf(placed % 7),
            side: op.side,
            qty: op.qty,
            price: op.price,
            placedHeight: BigInt(placed),
            seq: BigInt(placed * 2),
          };
          const snapshot = book.orders();
          const trades = book.place(order);
          if (show(trades) !== show(model.place(order))) return false;
          const traded = trades.reduce((s, tr) => s + tr.qty, 0n);
          if (before + order.qty !== total(book.orders()) + 2n * traded) return false;
          const asBook = {
            buys: [...snapshot, order].filter((o) => o.side === "buy"),
            sells: [...snapshot, order].filter((o) => o.side === "sell"),
          };
          if (!validateTrades(asBook, trades).ok) return false;
        } else {
          const resting = book.orders();
          const victim = resting[op.pick % Math.max(1, resting.length)];
          const id = victim?.id ?? wideId(0);
          const removed = book.cancel(id);
          model.cancel(id);
          if (before - (removed?.qty ?? 0n) !== total(book.orders())) return false;
        }
        const orders = book.orders();
        if (show(orders) !== show(model.orders())) return false;
        if (book.size !== orders.length || orders.some((o) => o.qty <= 0n)) return false;
        const bid = book.bestBid();
        const ask = book.bestAsk();
        if (bid !== undefined && ask !== undefined && bid >= ask) return false;
        const { bids, asks } = book.depth(100);
        if (total(orders) !== [...bids, ...asks].reduce((s, [, q]) => s + q, 0n)) return false;
      }
      const restored = ContinuousBook.fromOrders(book.orders());
      return show(restored.orders()) === show(book.orders());
    }),
    { numRuns: 150 },
  );
  t.end();
});
