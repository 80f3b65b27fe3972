// Banking: vintage k expires right after the compliance of period k + creditLifetime, and the
// utility buys it back at vintage k's own buybackPrice (its snapshot, not a later policy).
import t from "tap";
import { tables } from "../../vm/tables.js";
import { TradingHarness } from "./fixtures/trading/harness.js";
import { brokenInvariants } from "./fixtures/trading/invariants.js";
import { codeOf, operatorOf } from "./helpers.js";

t.test("each vintage expires at its own lifetime with its own buy-back price", async (t) => {
  const h = await TradingHarness.create({
    households: { a: undefined },
    policy: { creditLifetime: 1, buybackPrice: 5 },
  });
  // From period 2 on, the buy-back price is 50: vintage 1 keeps its 5.
  const policy = h.chain.get(tables.utility, "u0")!.policy;
  const set = await h.send(operatorOf(0), "setPolicy", {
    fromPeriod: 2n,
    policy: { ...policy, buybackPrice: 50n },
  });
  t.equal(codeOf(set.receipt), "ok");
  await h.settle(1, { a: 600n });
  await h.tick(240);
  t.same(await h.credits("a"), { "1": [300n, 0n] });
  await h.settle(2, { a: 800n });
  t.same(await h.credits("a"), { "1": [300n, 0n], "2": [100n, 0n] });
  const before = h.utilityBalance();
  const expiry = await h.tick(340);
  t.same(
    expiry.events.filter((e) => e.kind === "creditsExpired").map((e) => e.value),
    [{ household: h.address("a"), vintage: 1n, qty: 300n, buyback: 1500n }],
  );
  t.same(await h.credits("a"), { "2": [100n, 0n] });
  t.equal(h.balance("a"), 1500n);
  t.equal(before - h.utilityBalance(), 1500n);
  t.same(h.statement("a", 1n)!.buyback, { qty: 300n, value: 1500n });
  await h.settle(3, { a: 900n });
  await h.tick(440);
  t.same(await h.credits("a"), {});
  t.same(h.statement("a", 2n)!.buyback, { qty: 100n, value: 5000n });
  t.equal(h.totals().creditsExpired, 400n);
  t.same(await brokenInvariants(h.chain.state), []);
});

t.test("with a buy-back price of 0 credits simply expire", async (t) => {
  const h = await TradingHarness.create({
    households: { a: undefined },
    policy: { creditLifetime: 1, buybackPrice: 0 },
  });
  await h.settle(1, { a: 600n });
  await h.tick(240);
  await h.settle(2, { a: 900n });
  await h.tick(340);
  t.same(await h.credits("a"), {});
  t.equal(h.balance("a"), 0n);
  t.same(h.statement("a", 1n)!.buyback, { qty: 0n, value: 0n });
  t.equal(h.totals().creditsExpired, 300n);
  t.same(await brokenInvariants(h.chain.state), []);
});
