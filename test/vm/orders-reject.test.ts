// Every way the market refuses an order, a cancellation, a transfer or a standing order: each
// is refused with its stable code, emits nothing, and changes nothing but the signer's nonce.
import t, { type Test } from "tap";
import { toHex } from "../../lib/bytes.js";
import { CodecError } from "../../lib/codec.js";
import type { RejectCode } from "../../vm/codes.js";
import { keys } from "../../vm/keys.js";
import { encodePayload, type PayloadOf, type TxTypeName } from "../../vm/tx/types.js";
import { TradingHarness as Harness, type TradingHarness } from "./fixtures/trading/harness.js";
import { brokenInvariants } from "./fixtures/trading/invariants.js";
import { type Actor, actor, codeOf, operatorOf } from "./helpers.js";

const MAX = (1n << 64n) - 1n;

async function refused<N extends TxTypeName>(
  t: Test,
  h: TradingHarness,
  signer: Actor,
  type: N,
  payload: PayloadOf<N>,
  code: RejectCode,
  seconds?: number,
): Promise<void> {
  const { receipt, block } = await h.send(signer, type, payload, seconds ?? h.now + 0.5);
  t.equal(codeOf(receipt), code, `${type} → ${code}`);
  t.same(receipt.events, [], `${code}: no events`);
  const nonce = toHex(keys.account(signer.address));
  t.same(
    block.changes.map(([k]) => toHex(k)).filter((k) => k !== nonce),
    [],
    `${code}: nothing but the nonce changed`,
  );
}

async function market(mode: "batch" | "none" = "batch") {
  const h = await Harness.create({
    mode,
    households: { seller: undefined, owes: undefined, poor: undefined, debtor: undefined },
    others: { foreign: undefined },
    policy: { holdingLimit: "1000" },
  });
  await h.pay("owes", 1_000_000n);
  await h.pay("foreign", 1_000_000n);
  // A charge beyond the credit limit (5 000 000) puts the debtor in arrears.
  const charge = h.chain.tx(operatorOf(0), "recordCharge", {
    household: h.address("debtor"),
    amount: 5_000_001n,
    reference: "arrears",
  });
  await h.block([charge]);
  await h.settle(1, { seller: 600n, owes: 1200n, poor: 900n, debtor: 900n, foreign: 600n });
  return h;
}

t.test("orders are refused with their codes and change nothing", async (t) => {
  const h = await market();
  const seller = h.actor("seller");
  const owes = h.actor("owes");
  const order = (side: "buy" | "sell", qty: bigint, price: bigint, expiry = MAX) => ({
    side,
    qty,
    price,
    expiry,
  });
  t.same(await h.credits("seller"), { "1": [300n, 0n] });

  await refused(t, h, seller, "placeOrder", order("sell", 0n, 100n), "BAD_QUANTITY");
  await refused(t, h, seller, "placeOrder", order("sell", (1n << 48n) + 1n, 100n), "BAD_QUANTITY");
  await refused(t, h, seller, "placeOrder", order("sell", 10n, 9n), "PRICE_OUT_OF_BAND");
  await refused(t, h, seller, "placeOrder", order("sell", 10n, 301n), "PRICE_OUT_OF_BAND");
  await refused(t, h, seller, "placeOrder", order("sell", 301n, 100n), "INSUFFICIENT_CREDITS");
  await refused(t, h, seller, "placeOrder", order("sell", 10n, 100n, 1n), "BAD_EXPIRY");
  await refused(t, h, actor(77), "placeOrder", order("buy", 10n, 100n), "NOT_AUTHORISED");
  await refused(t, h, h.actor("debtor"), "placeOrder", order("buy", 1n, 10n), "IN_ARREARS");
  // poor has 0 balance and a 5 000 000 credit limit: 1000 Wh at 300 is within it, 1000 at 300
  // on top of an open 1000-Wh buy would not be, but the holding limit (1000) comes first.
  await refused(t, h, h.actor("poor"), "placeOrder", order("buy", 1001n, 10n), "HOLDING_LIMIT");
  await refused(t, h, owes, "placeOrder", order("sell", 1n, 100n), "INSUFFICIENT_CREDITS");

  // An open sell rules out buys by the same household.
  const sell = await h.place("seller", "sell", 100n, 200n, h.now + 0.5);
  t.equal(codeOf(sell.receipt), "ok");
  await refused(t, h, seller, "placeOrder", order("buy", 10n, 100n), "SELF_TRADE");
  await refused(t, h, seller, "placeOrder", order("sell", 201n, 100n), "INSUFFICIENT_CREDITS");
  await refused(t, h, owes, "cancelOrder", { orderId: sell.id }, "UNKNOWN_ORDER");
  await refused(
    t,
    h,
    owes,
    "replaceOrder",
    { orderId: sell.id, qty: 5n, price: 100n, expiry: MAX },
    "UNKNOWN_ORDER",
  );
  t.same(await brokenInvariants(h.chain.state), []);
});

t.test("funds: a buy beyond balance − locked + credit limit is refused", async (t) => {
  const h = await Harness.create({ households: { a: undefined, b: undefined } });
  await h.settle(1, { a: 600n, b: 1200n });
  // Balance 0, credit limit 5 000 000: 16 000 Wh at 300 = 4 800 000 fits, then 1000 more not.
  t.equal(codeOf((await h.place("b", "buy", 16_000n, 300n, 211)).receipt), "ok");
  await refused(
    t,
    h,
    h.actor("b"),
    "placeOrder",
    { side: "buy", qty: 1000n, price: 300n, expiry: MAX },
    "INSUFFICIENT_FUNDS",
  );
});

t.test("outside the trading window", async (t) => {
  const h = await Harness.create({ households: { a: undefined } });
  await h.consume(1, { a: 600n });
  // Period 1 finalises at 210: its window is [210, 240).
  const payload = { side: "sell" as const, qty: 1n, price: 100n, expiry: MAX };
  await refused(t, h, h.actor("a"), "placeOrder", payload, "OUTSIDE_WINDOW", 205);
  await h.tick(210);
  await h.tick(240);
  await refused(t, h, h.actor("a"), "placeOrder", payload, "OUTSIDE_WINDOW", 241);
});

t.test("a household may not open more than 16 orders", async (t) => {
  const h = await Harness.create({ households: { a: undefined } });
  await h.settle(1, { a: 600n });
  const txs = Array.from({ length: 16 }, () => h.placeTx("a", "sell", 1n, 200n));
  const block = await h.block(txs, 211);
  t.same(
    block.receipts.map(codeOf),
    txs.map(() => "ok"),
  );
  await refused(
    t,
    h,
    h.actor("a"),
    "placeOrder",
    { side: "sell", qty: 1n, price: 200n, expiry: MAX },
    "TOO_MANY_ORDERS",
  );
});

t.test("the none mode takes no orders or standing orders", async (t) => {
  const h = await market("none");
  const a = h.actor("seller");
  await refused(
    t,
    h,
    a,
    "placeOrder",
    { side: "sell", qty: 1n, price: 100n, expiry: MAX },
    "MARKET_CLOSED",
  );
  await refused(
    t,
    h,
    a,
    "setStandingOrder",
    { household: a.address, side: "sell", price: 100n },
    "MARKET_CLOSED",
  );
});

t.test("transfers are refused with their codes and change nothing", async (t) => {
  const h = await market();
  const seller = h.actor("seller");
  const to = (name: string, vintage: bigint, qty: bigint) => ({
    to: h.address(name),
    vintage,
    qty,
  });
  await refused(t, h, seller, "transferCredits", to("poor", 1n, 0n), "BAD_QUANTITY");
  await refused(t, h, seller, "transferCredits", to("foreign", 1n, 10n), "CROSS_UTILITY");
  await refused(t, h, seller, "transferCredits", to("poor", 1n, 301n), "INSUFFICIENT_CREDITS");
  await refused(t, h, seller, "transferCredits", to("poor", 2n, 1n), "INSUFFICIENT_CREDITS");
  await refused(t, h, seller, "transferCredits", to("seller", 1n, 1n), "SELF_TRADE");
  await refused(
    t,
    h,
    seller,
    "transferCredits",
    { to: actor(78).address, vintage: 1n, qty: 1n },
    "UNKNOWN_HOUSEHOLD",
  );
  await refused(t, h, h.actor("foreign"), "transferCredits", to("seller", 1n, 1n), "CROSS_UTILITY");
  // The owing household buys 200 and may not pass them on: it still owes 300.
  const sell = await h.place("seller", "sell", 200n, 100n, h.now + 0.5);
  const buy = await h.place("owes", "buy", 200n, 100n, h.now + 0.5);
  t.equal(codeOf(sell.receipt), "ok");
  t.equal(codeOf(buy.receipt), "ok");
  t.same(await h.credits("owes"), { "1": [200n, 0n] });
  await refused(
    t,
    h,
    h.actor("owes"),
    "transferCredits",
    to("poor", 1n, 1n),
    "INSUFFICIENT_CREDITS",
  );

  const ok = await h.send(seller, "transferCredits", to("poor", 1n, 100n), h.now + 0.5);
  t.equal(codeOf(ok.receipt), "ok");
  t.same(await h.credits("poor"), { "1": [100n, 0n] });
  t.same(await h.credits("seller"), {});
  t.same(await brokenInvariants(h.chain.state), []);
});

t.test("holding limit on transfers", async (t) => {
  const h = await Harness.create({
    households: { a: 2000n, b: undefined },
    policy: { holdingLimit: "150" },
  });
  await h.settle(1, { a: 600n, b: 850n });
  t.same(await h.credits("a"), { "1": [1200n, 0n] });
  t.same(await h.credits("b"), { "1": [50n, 0n] });
  await refused(
    t,
    h,
    h.actor("a"),
    "transferCredits",
    { to: h.address("b"), vintage: 1n, qty: 101n },
    "HOLDING_LIMIT",
    212,
  );
});

t.test("standing orders: only the household or its app key", async (t) => {
  const h = await market();
  const seller = h.actor("seller");
  const app = actor(90);
  await refused(
    t,
    h,
    h.actor("owes"),
    "setStandingOrder",
    { household: seller.address, side: "sell", price: 100n },
    "NOT_AUTHORISED",
  );
  await refused(
    t,
    h,
    seller,
    "setStandingOrder",
    { household: seller.address, side: "sell", price: 400n },
    "PRICE_OUT_OF_BAND",
  );
  await refused(
    t,
    h,
    seller,
    "clearStandingOrder",
    { household: seller.address, side: "sell" },
    "UNKNOWN_ORDER",
  );
  t.equal(codeOf((await h.send(seller, "delegateAppKey", { appKey: app.address })).receipt), "ok");
  const set = await h.send(app, "setStandingOrder", {
    household: seller.address,
    side: "sell",
    price: 100n,
  });
  t.equal(codeOf(set.receipt), "ok");
  const clear = await h.send(app, "clearStandingOrder", {
    household: seller.address,
    side: "sell",
  });
  t.equal(codeOf(clear.receipt), "ok");
});

t.test("negative quantities cannot even be encoded", async (t) => {
  t.throws(
    () => encodePayload("placeOrder", { side: "sell", qty: -1n, price: 100n, expiry: MAX }),
    CodecError,
  );
  t.throws(() =>
    encodePayload("placeOrder", { side: "sell", qty: 1n << 64n, price: 1n, expiry: 1n }),
  );
});
