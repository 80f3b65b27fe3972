// The golden trading scenarios (test/vm/fixtures/trading/): each runs through the real chain
// path — registrations, readings, finalisation, orders, clearing, compliance, expiry — and
// must end with exactly the statements, balances, credits and auctions its table gives. The
// invariants are checked after every block.
import t, { type Test } from "tap";
import { gainAgainstNoMarket } from "../../vm/settlement/statement.js";
import { BATCH } from "./fixtures/trading/batch.js";
import { CONTINUOUS } from "./fixtures/trading/continuous.js";
import { TradingHarness } from "./fixtures/trading/harness.js";
import { brokenInvariants } from "./fixtures/trading/invariants.js";
import { NONE } from "./fixtures/trading/none.js";
import { PAPER } from "./fixtures/trading/paper.js";
import type { TradingScenario } from "./fixtures/trading/scenario.js";
import { codeOf } from "./helpers.js";

const CAP = 900n;

async function run(t: Test, scenario: TradingScenario) {
  const { given } = scenario;
  const names = Object.keys(given.households);
  const h = await TradingHarness.create({
    mode: given.mode,
    households: Object.fromEntries(names.map((n) => [n, undefined])),
    ...(given.policy ? { policy: given.policy } : {}),
    ...(given.maxJobWorkPerBlock ? { maxJobWorkPerBlock: given.maxJobWorkPerBlock } : {}),
  });
  const auctions: Array<{ at: number; price: bigint | undefined; volume: bigint }> = [];
  let broken: string[] = [];
  const block = async (txs: Parameters<TradingHarness["block"]>[0], at?: number) => {
    const b = await h.block(txs, at);
    for (const e of b.events) {
      if (e.kind === "auction") {
        auctions.push({ at: h.now, price: e.value.price, volume: e.value.volume });
      }
    }
    for (const r of b.receipts) {
      if (codeOf(r) !== "ok") throw new Error(`${scenario.title}: refused ${codeOf(r)}`);
    }
    if (broken.length === 0) broken = await brokenInvariants(h.chain.state);
  };

  for (const [name, g] of Object.entries(given.households)) {
    if (g.funds) await h.pay(name, g.funds);
    for (const [side, price] of Object.entries(g.standing ?? {})) {
      const a = h.actor(name);
      await block([
        h.chain.tx(a, "setStandingOrder", {
          household: a.address,
          side: side as "buy" | "sell",
          price: price as bigint,
        }),
      ]);
    }
  }
  await h.consume(
    1,
    Object.fromEntries(Object.entries(given.households).map(([n, g]) => [n, g.consumes])),
  );
  await block([], 210);
  const first = scenario.when[0]?.at ?? 211;
  while (h.now + 1 < first) await block([]);
  for (const step of scenario.when) {
    await block(
      step.orders.map(([name, side, qty, price]) => h.placeTx(name, side, qty, price)),
      step.at,
    );
  }
  await block([], 240);
  while (h.now < 260) await block([]);
  for (let k = 2; k <= (scenario.laterPeriods ?? 1); k++) {
    await h.consume(k, Object.fromEntries(names.map((n) => [n, CAP])));
    await block([], 100 * k + 110);
    await block([], 100 * k + 140);
    while (h.now < 100 * k + 160) await block([]);
  }

  t.same(broken, [], "the invariants hold after every block");
  if (scenario.expect.auctions) t.same(auctions, scenario.expect.auctions, "auctions");
  for (const [name, want] of Object.entries(scenario.expect.statements)) {
    const s = h.statement(name, 1n);
    if (!s) {
      t.fail(`${name}: no statement`);
      continue;
    }
    const got: Record<string, unknown> = {};
    for (const field of Object.keys(want)) {
      if (field === "gain") got.gain = gainAgainstNoMarket(s);
      else {
        const v = s[field as keyof typeof s];
        got[field] =
          typeof v === "object" && v !== null && "qty" in v ? [v.qty, v.value] : (v as unknown);
      }
    }
    t.same(got, want, `${name}'s statement`);
  }
  for (const [name, balance] of Object.entries(scenario.expect.balances)) {
    t.equal(h.balance(name), balance, `${name}'s balance`);
  }
  t.equal(h.utilityBalance(), scenario.expect.utilityBalance, "the utility's balance");
  for (const [name, want] of Object.entries(scenario.expect.credits)) {
    const got = Object.fromEntries(
      Object.entries(await h.credits(name)).map(([v, [amount]]) => [v, amount]),
    );
    t.same(got, want, `${name}'s credits`);
    const account = h.account(name);
    t.equal(account.lockedMoney + account.openBuyQty, 0n, `${name}: nothing left locked`);
  }
}

for (const scenario of [BATCH, CONTINUOUS, PAPER, NONE]) {
  t.test(scenario.title, (t) => run(t, scenario));
}
