// Compliance at a period's tradingEndsAt: open sells are closed first, credits of vintages ≤ k
// are surrendered oldest first, and each uncovered Wh costs penaltyPrice (k's snapshot), moved
// to the utility; a penalty can put a household in arrears, which stops its buys.
import t from "tap";
import { creditsTable } from "../../vm/settlement/credits.js";
import { TradingHarness } from "./fixtures/trading/harness.js";
import { brokenInvariants } from "./fixtures/trading/invariants.js";
import { codeOf, operatorOf } from "./helpers.js";

t.test("surrenders oldest first and closes open sells first", async (t) => {
  const h = await TradingHarness.create({ households: { a: undefined, b: undefined } });
  await h.settle(1, { a: 600n, b: 400n });
  // b's 500 credits of vintage 1; a gives b nothing. In period 2 b mints 100 more and a owes.
  await h.tick(240);
  await h.settle(2, { a: 1100n, b: 800n });
  t.same(await h.credits("b"), { "1": [500n, 0n], "2": [100n, 0n] });
  // b owes nothing; a owes 200 and holds 300 of vintage 1: it may sell 100, not more.
  t.same(await h.credits("a"), { "1": [300n, 0n] });
  t.equal(h.account("a").owed, 200n);
  t.equal(codeOf((await h.place("a", "sell", 101n, 300n, 311)).receipt), "INSUFFICIENT_CREDITS");
  const sell = await h.place("a", "sell", 100n, 300n, 312);
  t.equal(codeOf(sell.receipt), "ok");
  t.same(await h.credits("a"), { "1": [300n, 100n] });

  const block = await h.tick(340);
  const kinds = block.events.map((e) => e.kind);
  t.ok(kinds.indexOf("orderClosed") < kinds.indexOf("complianceSettled"), "sells closed first");
  t.same(await h.credits("a"), { "1": [100n, 0n] });
  const s = h.statement("a", 2n)!;
  t.same([s.obligation, s.surrendered, s.uncovered, s.penalty], [200n, 200n, 0n, 0n]);
  t.equal(h.account("a").owed, 0n);
  t.equal(h.order(sell.id), undefined);
  t.equal(h.totals().creditsSurrendered, 200n);
  t.same(await brokenInvariants(h.chain.state), []);
});

t.test("a penalty can put a household in arrears: no new buys until it pays", async (t) => {
  const h = await TradingHarness.create({
    households: { a: undefined, c: undefined },
    policy: { creditLimit: "10000" },
  });
  await h.settle(1, { a: 600n, c: 1200n });
  const before = h.utilityBalance();
  await h.tick(240);
  t.equal(h.balance("c"), -90_000n);
  t.equal(h.utilityBalance() - before, 90_000n);
  t.same([h.statement("c", 1n)!.uncovered, h.statement("c", 1n)!.penalty], [300n, 90_000n]);
  await h.settle(2, { a: 900n, c: 900n });
  t.equal(codeOf((await h.place("a", "sell", 10n, 100n, 311)).receipt), "ok");
  t.equal(codeOf((await h.place("c", "buy", 10n, 100n, 312)).receipt), "IN_ARREARS");
  await h.pay("c", 100_000n, 313);
  t.equal(codeOf((await h.place("c", "buy", 10n, 100n, 314)).receipt), "ok");
  t.same(await h.credits("c"), { "1": [10n, 0n] });
  // Nothing carries forward: period 2's compliance owes nothing for period 1.
  await h.tick(340);
  t.equal(h.statement("c", 2n)!.penalty, 0n);
  t.equal(h.balance("c"), 100_000n - 90_000n - 1_000n);
  t.same(await brokenInvariants(h.chain.state), []);
});

t.test("a household's close releases its orders and standing orders", async (t) => {
  const h = await TradingHarness.create({ households: { a: undefined, b: undefined } });
  await h.pay("b", 100_000n);
  await h.settle(1, { a: 600n, b: 1200n });
  const sell = await h.place("a", "sell", 100n, 250n, 211);
  const a = h.actor("a");
  await h.send(a, "setStandingOrder", { household: a.address, side: "sell", price: 100n });
  t.same(await h.credits("a"), { "1": [300n, 100n] });
  const { receipt, block } = await h.send(operatorOf(0), "closeHousehold", {
    household: a.address,
    reference: "move-out",
  });
  t.equal(codeOf(receipt), "ok");
  t.ok(
    receipt.events.some((e) => e.kind === "orderClosed" && e.value.reason === "household-closed"),
  );
  t.equal(h.order(sell.id), undefined);
  t.same(await h.credits("a"), { "1": [300n, 0n] });
  t.equal(h.chain.get(creditsTable, [a.address, 1n])?.locked, 0n);
  t.ok(block.changes.length > 0);
  t.same(await brokenInvariants(h.chain.state), []);
});

t.test("an obligation binds from finalisation, before the market-open stage", async (t) => {
  // One unit of work a block: finalisation and market-open reach each household in turn.
  const h = await TradingHarness.create({
    households: { a: undefined, b: undefined },
    maxJobWorkPerBlock: 1,
  });
  await h.consume(1, { a: 500n, b: 1200n });
  let at = 210;
  // Tick until b is finalised (it owes 300) while its obligation is not yet in `owed`.
  while (!(h.statement("b", 1n)?.status === "settled" && h.account("b").owed === 0n)) {
    await h.tick(at);
    at += 0.5;
    if (at > 239) throw new Error("b was never between finalisation and market-open");
  }
  t.same(await h.credits("a"), { "1": [400n, 0n] });
  const gift = h.chain.tx(h.actor("a"), "transferCredits", {
    to: h.address("b"),
    vintage: 1n,
    qty: 350n,
  });
  const resell = h.placeTx("b", "sell", 51n, 100n);
  const pass = h.chain.tx(h.actor("b"), "transferCredits", {
    to: h.address("a"),
    vintage: 1n,
    qty: 51n,
  });
  const ok = h.placeTx("b", "sell", 50n, 100n);
  const block = await h.block([gift, resell, pass, ok], at);
  t.same(block.receipts.map(codeOf), ["ok", "INSUFFICIENT_CREDITS", "INSUFFICIENT_CREDITS", "ok"]);
  t.same(await brokenInvariants(h.chain.state), []);
});
