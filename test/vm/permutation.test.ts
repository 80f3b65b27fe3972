// In batch mode arrival order within a block decides nothing: any permutation of a block's
// transactions that keeps each sender's own order gives the same fills, the same clearing
// price and the same state (hence state root). Orders and cancellations come from
// independently funded households.
import fc from "fast-check";
import t from "tap";
import { toHex } from "../../lib/bytes.js";
import { applyBlock, type BlockTx } from "../../vm/apply.js";
import { at, TradingHarness } from "./fixtures/trading/harness.js";
import { codeOf } from "./helpers.js";

/** Reorders `txs` by `keys`, then gives each sender's slots back its transactions in order. */
function permute(txs: readonly BlockTx[], keys: readonly number[]): BlockTx[] {
  const order = txs.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
  const sender = (tx: BlockTx) => toHex(tx.body.signer);
  const queues = new Map<string, BlockTx[]>();
  for (const tx of txs) {
    const q = queues.get(sender(tx)) ?? [];
    q.push(tx);
    queues.set(sender(tx), q);
  }
  return order.map((i) => queues.get(sender(txs[i]!))!.shift()!);
}

t.test("batch clearing does not depend on the order of a block's transactions", async (t) => {
  const sellers = ["s1", "s2", "s3", "s4"];
  const buyers = ["b1", "b2", "b3", "b4"];
  const h = await TradingHarness.create({
    households: Object.fromEntries([...sellers, ...buyers].map((n) => [n, undefined])),
  });
  for (const b of buyers) await h.pay(b, 200_000n);
  await h.settle(1, {
    s1: 600n,
    s2: 500n,
    s3: 700n,
    s4: 650n,
    b1: 1200n,
    b2: 1300n,
    b3: 1100n,
    b4: 1250n,
  });
  const early = await h.place("s1", "sell", 50n, 140n, 211);
  const resting = await h.place("b4", "buy", 40n, 90n, 212);
  t.equal(codeOf(early.receipt), "ok");
  t.equal(codeOf(resting.receipt), "ok");

  const c = h.chain;
  const txs: BlockTx[] = [
    c.tx(h.actor("s1"), "cancelOrder", { orderId: early.id }),
    h.placeTx("s1", "sell", 120n, 110n),
    h.placeTx("s2", "sell", 150n, 120n),
    h.placeTx("s3", "sell", 60n, 120n),
    h.placeTx("s3", "sell", 30n, 150n),
    h.placeTx("s4", "sell", 90n, 120n),
    h.placeTx("b1", "buy", 200n, 160n),
    h.placeTx("b2", "buy", 110n, 120n),
    c.tx(h.actor("b4"), "cancelOrder", { orderId: resting.id }),
    h.placeTx("b4", "buy", 70n, 130n),
    h.placeTx("b3", "buy", 50n, 119n),
  ];
  const block = c.blockContext(at(213));
  const outcome = async (order: readonly BlockTx[]) => {
    const result = await applyBlock({ state: c.state, block, txs: order, evidence: [] });
    if (!result.ok) throw new Error(`block invalid: ${result.code}`);
    return {
      changes: result.changes.map(([k, v]) => `${toHex(k)}=${v ? toHex(v) : "-"}`),
      events: result.events,
      codes: result.receipts.map(codeOf).sort(),
    };
  };
  const reference = await outcome(txs);
  t.same(new Set(reference.codes), new Set(["ok"]), "every transaction is accepted");
  const auction = reference.events.find((e) => e.kind === "auction");
  t.ok(auction && auction.kind === "auction" && auction.value.volume > 0n, "the auction trades");
  t.ok(reference.events.filter((e) => e.kind === "orderFilled").length > 4, "several fills");

  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: txs.length, maxLength: txs.length }),
      async (keys) => {
        const got = await outcome(permute(txs, keys));
        return (
          JSON.stringify(got.changes) === JSON.stringify(reference.changes) &&
          got.events.length === reference.events.length &&
          JSON.stringify(got.events, (_, v) =>
            typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? toHex(v) : v,
          ) ===
            JSON.stringify(reference.events, (_, v) =>
              typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? toHex(v) : v,
            )
        );
      },
    ),
    { numRuns: 40 },
  );
  // A sender's own order is not the proposer's to change: its nonces fix it.
  const swapped = [txs[1]!, txs[0]!, ...txs.slice(2)];
  const other = await applyBlock({ state: c.state, block, txs: swapped, evidence: [] });
  t.equal(other.ok ? "ok" : other.code, "NONCE_TOO_HIGH");
});
