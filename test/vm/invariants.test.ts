// Property: whatever households send — orders in and out of band, cancellations, replacements,
// transfers, standing orders, payments and charges — in whatever blocks, in every market mode,
// the money and credit invariants hold after EVERY block (fixtures/trading/invariants.ts), and
// no block becomes invalid.
import fc from "fast-check";
import t from "tap";
import type { BlockTx } from "../../vm/apply.js";
import type { Event } from "../../vm/event.js";
import type { MarketMode } from "../../vm/model/chain.js";
import { ordersOf } from "../../vm/trading/book.js";
import { at, TradingHarness } from "./fixtures/trading/harness.js";
import { brokenInvariants } from "./fixtures/trading/invariants.js";
import { operatorOf } from "./helpers.js";

const isFill = (e: Event) => e.kind === "orderFilled";

const NAMES = ["s1", "s2", "b1", "b2", "m"] as const;
const MAX = (1n << 64n) - 1n;

const who = fc.integer({ min: 0, max: NAMES.length - 1 });
const side = fc.constantFrom("buy" as const, "sell" as const);
const action = fc.oneof(
  // Likely trades: a surplus household sells, a short one buys, in the middle of the band.
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("place" as const),
      who: fc.integer({ min: 0, max: 3 }),
      side: fc.constant("auto" as const),
      qty: fc.bigInt({ min: 1n, max: 200n }),
      price: fc.bigInt({ min: 80n, max: 220n }),
      expiry: fc.constant(undefined),
    }),
  },
  fc.record({
    kind: fc.constant("place" as const),
    who,
    side,
    qty: fc.bigInt({ min: 0n, max: 400n }),
    price: fc.bigInt({ min: 0n, max: 320n }),
    expiry: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant("cancel" as const), who, pick: fc.nat(20) }),
  fc.record({
    kind: fc.constant("replace" as const),
    who,
    pick: fc.nat(20),
    qty: fc.bigInt({ min: 1n, max: 300n }),
    price: fc.bigInt({ min: 10n, max: 300n }),
  }),
  fc.record({
    kind: fc.constant("transfer" as const),
    who,
    to: who,
    qty: fc.bigInt({ min: 0n, max: 200n }),
  }),
  fc.record({
    kind: fc.constantFrom("pay" as const, "charge" as const),
    who,
    amount: fc.bigInt({ min: 1n, max: 100_000n }),
  }),
  fc.record({
    kind: fc.constant("standing" as const),
    who,
    side,
    price: fc.bigInt({ min: 0n, max: 310n }),
  }),
);
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;

const blocks = fc.array(
  fc.record({ step: fc.integer({ min: 1, max: 6 }), actions: fc.array(action, { maxLength: 4 }) }),
  { minLength: 1, maxLength: 10 },
);

async function txsFor(
  h: TradingHarness,
  actions: ReadonlyArray<Action>,
  time: number,
  reference: number,
): Promise<BlockTx[]> {
  const txs: BlockTx[] = [];
  const ctx = h.readContext();
  for (const a of actions) {
    const name = NAMES[a.who]!;
    const me = h.actor(name);
    switch (a.kind) {
      case "place":
        txs.push(
          h.chain.tx(me, "placeOrder", {
            side: a.side !== "auto" ? a.side : a.who < 2 ? "sell" : "buy",
            qty: a.qty,
            price: a.price,
            // Up to 40 s after the block: some expire inside the window, some at its end.
            expiry: a.expiry === undefined ? MAX : at(time + a.expiry),
          }),
        );
        break;
      case "cancel":
      case "replace": {
        const open = await ordersOf(ctx, me.address);
        const target = open[a.pick % Math.max(1, open.length)];
        if (!target) break;
        txs.push(
          a.kind === "cancel"
            ? h.chain.tx(me, "cancelOrder", { orderId: target.id })
            : h.chain.tx(me, "replaceOrder", {
                orderId: target.id,
                qty: a.qty,
                price: a.price,
                expiry: MAX,
              }),
        );
        break;
      }
      case "transfer":
        txs.push(
          h.chain.tx(me, "transferCredits", {
            to: h.address(NAMES[a.to]!),
            vintage: 1n,
            qty: a.qty,
          }),
        );
        break;
      case "pay":
      case "charge":
        txs.push(
          h.chain.tx(operatorOf(0), a.kind === "pay" ? "recordPayment" : "recordCharge", {
            household: me.address,
            amount: a.amount,
            reference: `${a.kind}-${reference}-${txs.length}`,
          }),
        );
        break;
      case "standing":
        txs.push(
          h.chain.tx(me, "setStandingOrder", {
            household: me.address,
            side: a.side,
            price: a.price,
          }),
        );
        break;
    }
  }
  return txs;
}

for (const mode of ["batch", "continuous", "paper"] as const satisfies readonly MarketMode[]) {
  t.test(`${mode}: the invariants hold after every block`, async (t) => {
    let runs = 0;
    let fills = 0;
    await fc.assert(
      fc.asyncProperty(blocks, async (plan) => {
        runs++;
        const h = await TradingHarness.create({
          mode,
          households: Object.fromEntries(NAMES.map((n) => [n, undefined])),
          maxJobWorkPerBlock: 10,
        });
        await h.pay("b1", 50_000n);
        await h.settle(1, { s1: 600n, s2: 750n, b1: 1200n, b2: 1000n, m: 900n });
        let time = 210;
        let n = 0;
        for (const block of plan) {
          time += block.step;
          const applied = await h.block(await txsFor(h, block.actions, time, n++), time);
          for (const r of applied.receipts) fills += r.events.filter(isFill).length;
          fills += applied.events.filter(isFill).length;
          const broken = await brokenInvariants(h.chain.state);
          if (broken.length > 0) throw new Error(`after block at ${time}: ${broken.join("; ")}`);
        }
        for (let s = Math.max(time + 1, 240); s <= 280; s++) {
          fills += (await h.tick(s)).events.filter(isFill).length;
          const broken = await brokenInvariants(h.chain.state);
          if (broken.length > 0) throw new Error(`after tick at ${s}: ${broken.join("; ")}`);
        }
        // The window is over: nothing is left locked.
        for (const name of NAMES) {
          const account = h.account(name);
          if (account.lockedMoney !== 0n || account.buyOrders + account.sellOrders !== 0) {
            throw new Error(`${name} still has orders after compliance`);
          }
        }
      }),
      { numRuns: 25 },
    );
    t.ok(runs >= 25, "every run checked");
    t.ok(fills > 0, `the runs traded (${fills} fills)`);
  });
}
