import t from "tap";
import { type FillCheck, validateFills, validateTrades } from "../../vm/market/fills.js";
import { type Book, type Fill, type Trade, tradesToFills } from "../../vm/market/order.js";
import { makeOrder, orderId, ownerOf } from "./fixtures/market/orders.js";

// Buy 1: 10 at ≤ 120, buy 2: 5 at ≤ 100; sell 11: 8 at ≥ 90, sell 12: 6 at ≥ 110.
const book: Book = {
  buys: [makeOrder(1, "buy", 10n, 120n), makeOrder(2, "buy", 5n, 100n)],
  sells: [makeOrder(11, "sell", 8n, 90n), makeOrder(12, "sell", 6n, 110n)],
};

const fill = (n: number, side: "buy" | "sell", qty: bigint, price: bigint): Fill => ({
  orderId: orderId(n),
  side,
  qty,
  price,
});

const codeOf = (check: FillCheck) => (check.ok ? "ok" : check.error.code);

t.test("a valid uniform-price fill set: volume, value and the residual book", (t) => {
  const check = validateFills(book, [
    fill(1, "buy", 10n, 110n),
    fill(11, "sell", 8n, 110n),
    fill(12, "sell", 2n, 110n),
  ]);
  t.ok(check.ok);
  if (!check.ok) return t.end();
  t.equal(check.volume, 10n);
  t.equal(check.value, 1_100n);
  t.same(
    check.residual.buys.map((o) => [o.id[31], o.qty]),
    [[2, 5n]],
  );
  t.same(
    check.residual.sells.map((o) => [o.id[31], o.qty]),
    [[12, 4n]],
  );
  t.end();
});

t.test("pay-as-offer fills balance in money only in total", (t) => {
  // Buy 1 takes 8 from sell 11 at 90 and 2 from sell 12 at 110: several fills for one order.
  const check = validateFills(book, [
    fill(1, "buy", 8n, 90n),
    fill(11, "sell", 8n, 90n),
    fill(1, "buy", 2n, 110n),
    fill(12, "sell", 2n, 110n),
  ]);
  t.ok(check.ok);
  t.equal(check.ok && check.value, 940n);
  t.equal(codeOf(validateFills(book, [])), "ok", "no fills is a valid, empty clearing");
  t.end();
});

t.test("each rule has its own error code", (t) => {
  const cases: [string, Fill[], string][] = [
    ["zero quantity", [fill(1, "buy", 0n, 100n)], "BAD_FILL"],
    ["negative price", [fill(1, "buy", 1n, -1n)], "BAD_FILL"],
    ["short id", [{ ...fill(1, "buy", 1n, 100n), orderId: new Uint8Array(31) }], "BAD_FILL"],
    ["unknown order", [fill(9, "buy", 1n, 100n)], "UNKNOWN_ORDER"],
    ["wrong side", [fill(11, "buy", 1n, 100n)], "SIDE_MISMATCH"],
    ["buy above its limit", [fill(2, "buy", 1n, 101n)], "PRICE_BEYOND_LIMIT"],
    ["sell below its limit", [fill(12, "sell", 1n, 109n)], "PRICE_BEYOND_LIMIT"],
    ["over the size in one fill", [fill(2, "buy", 6n, 100n)], "OVERFILL"],
    [
      "over the size in two fills",
      [fill(2, "buy", 3n, 100n), fill(2, "buy", 3n, 100n)],
      "OVERFILL",
    ],
    [
      "more bought than sold",
      [fill(1, "buy", 3n, 100n), fill(11, "sell", 2n, 100n)],
      "VOLUME_MISMATCH",
    ],
    [
      "paid differs from received",
      [fill(1, "buy", 2n, 100n), fill(11, "sell", 2n, 99n)],
      "VALUE_MISMATCH",
    ],
  ];
  for (const [name, fills, code] of cases) {
    const check = validateFills(book, fills);
    t.equal(codeOf(check), code, name);
  }
  const unknown = validateFills(book, [fill(9, "buy", 1n, 100n)]);
  t.same(!unknown.ok && unknown.error.orderId, orderId(9), "the error names the order");
  t.end();
});

t.test("a malformed book is reported, not thrown", (t) => {
  const dup = { buys: [...book.buys, book.buys[0]!], sells: book.sells };
  t.equal(codeOf(validateFills(dup, [])), "BAD_BOOK");
  t.equal(codeOf(validateTrades(dup, [])), "BAD_BOOK");
  t.end();
});

t.test("trades: both ends must be open orders of their side, owned by the named parties", (t) => {
  const trade: Trade = {
    buyOrderId: orderId(1),
    sellOrderId: orderId(11),
    buyer: ownerOf(1),
    seller: ownerOf(11),
    qty: 8n,
    price: 90n,
  };
  t.equal(codeOf(validateTrades(book, [trade])), "ok");
  t.same(tradesToFills([trade]), [fill(1, "buy", 8n, 90n), fill(11, "sell", 8n, 90n)]);
  const cases: [string, Trade, string][] = [
    ["unknown buy", { ...trade, buyOrderId: orderId(9) }, "UNKNOWN_ORDER"],
    ["short sell id", { ...trade, sellOrderId: new Uint8Array(3) }, "BAD_FILL"],
    ["sell named as the buy", { ...trade, buyOrderId: orderId(12) }, "SIDE_MISMATCH"],
    ["buy named as the sell", { ...trade, sellOrderId: orderId(2) }, "SIDE_MISMATCH"],
    ["buyer not the owner", { ...trade, buyer: ownerOf(2) }, "OWNER_MISMATCH"],
    ["seller not the owner", { ...trade, seller: ownerOf(1) }, "OWNER_MISMATCH"],
    ["below the seller's limit", { ...trade, price: 89n }, "PRICE_BEYOND_LIMIT"],
    [
      "above the buyer's limit",
      { ...trade, buyOrderId: orderId(2), buyer: ownerOf(2), price: 101n },
      "PRICE_BEYOND_LIMIT",
    ],
    ["beyond the sell's size", { ...trade, qty: 9n }, "OVERFILL"],
  ];
  for (const [name, bad, code] of cases) t.equal(codeOf(validateTrades(book, [bad])), code, name);
  t.end();
});
