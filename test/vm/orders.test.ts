// Orders that are accepted: their locks, cancellation, replacement and early expiry.
import t from "tap";
import { orderIdOf } from "../../vm/trading/orders.js";
import { at, TradingHarness } from "./fixtures/trading/harness.js";
import { brokenInvariants } from "./fixtures/trading/invariants.js";
import { codeOf } from "./helpers.js";

async function market(mode: "batch" | "continuous" = "batch") {
  const h = await TradingHarness.create({ mode, households: { a: undefined, b: undefined } });
  await h.pay("b", 100_000n);
  await h.settle(1, { a: 500n, b: 1000n });
  return h;
}

t.test("a sell locks credits and a buy money; cancelling releases them", async (t) => {
  const h = await market();
  const sell = await h.place("a", "sell", 150n, 250n, 211);
  const buy = await h.place("b", "buy", 50n, 100n, 212);
  t.same(await h.credits("a"), { "1": [400n, 150n] });
  t.same(h.account("b"), {
    lockedMoney: 5_000n,
    openBuyQty: 50n,
    buyOrders: 1,
    sellOrders: 0,
    owed: 100n,
    owedThrough: 1n,
  });
  const order = h.order(sell.id)!;
  t.same([order.qty, order.price, order.period, order.expiry], [150n, 250n, 1n, at(240)]);
  t.equal(order.seq, order.placedHeight, "batch orders rank by height, not arrival");

  const cancel = await h.send(h.actor("a"), "cancelOrder", { orderId: sell.id }, 213);
  t.equal(codeOf(cancel.receipt), "ok");
  t.same(await h.credits("a"), { "1": [400n, 0n] });
  t.equal(h.order(sell.id), undefined);
  await h.send(h.actor("b"), "cancelOrder", { orderId: buy.id }, 214);
  t.same(h.account("b").lockedMoney, 0n);
  t.same(await brokenInvariants(h.chain.state), []);
});

t.test("replace: the old order closes, the new one takes its place and lock", async (t) => {
  const h = await market();
  const sell = await h.place("a", "sell", 150n, 250n, 211);
  const tx = h.chain.tx(h.actor("a"), "replaceOrder", {
    orderId: sell.id,
    qty: 300n,
    price: 260n,
    expiry: at(230),
  });
  const block = await h.block([tx], 212);
  t.equal(codeOf(block.receipts[0]!), "ok");
  t.same(
    block.receipts[0]!.events.map((e) => e.kind),
    ["orderClosed", "orderPlaced"],
  );
  t.equal(h.order(sell.id), undefined);
  const next = h.order(orderIdOf(tx.id, 0))!;
  t.same([next.qty, next.price, next.expiry], [300n, 260n, at(230)]);
  t.same(await h.credits("a"), { "1": [400n, 300n] });
  // A replacement the rules refuse leaves the old order as it was.
  const refused = await h.send(
    h.actor("a"),
    "replaceOrder",
    { orderId: next.id, qty: 401n, price: 260n, expiry: at(230) },
    213,
  );
  t.equal(codeOf(refused.receipt), "INSUFFICIENT_CREDITS");
  t.ok(h.order(next.id));
  // Its expiry at 230 s, before the window closes, is handled by the expiry job.
  const expired = await h.tick(230);
  t.ok(expired.events.some((e) => e.kind === "orderClosed" && e.value.reason === "expired"));
  t.equal(h.order(next.id), undefined);
  t.same(await h.credits("a"), { "1": [400n, 0n] });
  t.same(await brokenInvariants(h.chain.state), []);
});

t.test("continuous: an expired maker is closed, not matched", async (t) => {
  const h = await market("continuous");
  const tx = h.chain.tx(h.actor("a"), "placeOrder", {
    side: "sell",
    qty: 100n,
    price: 100n,
    expiry: at(215),
  });
  // The expiry job is bounded; a maker still in the book after its expiry must not trade.
  await h.block([tx], 211);
  const buy = await h.block([h.placeTx("b", "buy", 50n, 120n)], 215);
  const kinds = buy.receipts[0]!.events.map((e) => e.kind);
  t.notOk(kinds.includes("orderFilled"));
  t.equal(h.order(orderIdOf(tx.id, 0)), undefined);
  t.same(await h.credits("b"), {});
  t.same(await brokenInvariants(h.chain.state), []);
});

t.test("continuous: a buy pays each maker's price and keeps the rest of its lock", async (t) => {
  const h = await market("continuous");
  await h.place("a", "sell", 30n, 100n, 211);
  await h.place("a", "sell", 30n, 110n, 212);
  const buy = await h.place("b", "buy", 80n, 120n, 213);
  t.same(
    buy.receipt.events
      .filter((e) => e.kind === "orderFilled")
      .map((e) => [e.value.qty, e.value.price]),
    [
      [30n, 100n],
      [30n, 100n],
      [30n, 110n],
      [30n, 110n],
    ],
  );
  t.equal(h.balance("b"), 100_000n - 3_000n - 3_300n);
  t.equal(h.order(buy.id)?.qty, 20n);
  t.equal(h.account("b").lockedMoney, 20n * 120n);
  t.same(await h.credits("b"), { "1": [60n, 0n] });
  t.same(await brokenInvariants(h.chain.state), []);
});
