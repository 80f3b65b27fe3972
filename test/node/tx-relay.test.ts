// The relay of transactions submitted to this node: those taken in together go out as one gossip
// batch, and a batch that reached no peer is tried again until one does, or until the mempool no
// longer holds its transactions.
import t from "tap";
import { toHex } from "../../lib/bytes.js";
import { silentLogger } from "../../lib/log.js";
import { MAX_TXS_PER_BATCH } from "../../node/p2p/index.js";
import { TxRelay } from "../../node/tx-relay.js";

function relayWith(reach: (txs: readonly Uint8Array[]) => number | Error) {
  const inMempool = new Set<string>();
  /** Each batch that reached a peer, as the hex of its transactions. */
  const sent: string[][] = [];
  let calls = 0;
  const relay = new TxRelay({
    publish: async (txs) => {
      calls++;
      const outcome = reach(txs);
      if (outcome instanceof Error) throw outcome;
      if (outcome > 0) sent.push(txs.map(toHex));
      return outcome;
    },
    pending: (id) => inMempool.has(toHex(id)),
    logger: silentLogger(),
    intervalMs: 3_600_000, // the test drives retry() itself
    batchDelayMs: 1,
  });
  return { relay, inMempool, sent, calls: () => calls };
}

const idOf = (n: number) => new Uint8Array(Uint16Array.of(n).buffer);
const txOf = (n: number) => ({ id: idOf(n), bytes: Uint8Array.of(n & 0xff, n >> 8, 7) });

t.test("transactions taken in together leave as one batch", async (t) => {
  const { relay, inMempool, sent } = relayWith(() => 3);
  t.teardown(() => relay.stop());
  const txs = [1, 2, 3].map(txOf);
  for (const x of txs) inMempool.add(toHex(x.id));
  await Promise.all(txs.map((x) => relay.relay(x.id, x.bytes)));
  t.same(sent, [txs.map((x) => toHex(x.bytes))], "one batch, in admission order");
  const later = txOf(4);
  await relay.relay(later.id, later.bytes);
  t.same(sent[1], [toHex(later.bytes)], "a later transaction starts the next batch");
  t.equal(relay.unsent, 0);
});

t.test("more than a batch holds is split, in order", async (t) => {
  const { relay, sent } = relayWith(() => 1);
  t.teardown(() => relay.stop());
  const txs = Array.from({ length: MAX_TXS_PER_BATCH + 3 }, (_, i) => txOf(i));
  await Promise.all(txs.map((x) => relay.relay(x.id, x.bytes)));
  t.same(
    sent.map((b) => b.length),
    [MAX_TXS_PER_BATCH, 3],
  );
  t.same(
    sent.flat(),
    txs.map((x) => toHex(x.bytes)),
  );
});

t.test("a batch that reached nobody is retried until a peer gets it", async (t) => {
  let peers = 0;
  const { relay, inMempool, sent } = relayWith(() => peers);
  t.teardown(() => relay.stop());
  const a = txOf(1);
  const b = txOf(2);
  inMempool.add(toHex(a.id));
  inMempool.add(toHex(b.id));
  await Promise.all([relay.relay(a.id, a.bytes), relay.relay(b.id, b.bytes)]);
  t.equal(relay.unsent, 2, "kept: nobody heard them");
  await relay.retry();
  t.equal(relay.unsent, 2, "still nobody");
  peers = 2;
  await relay.retry();
  t.equal(relay.unsent, 0, "a peer got them");
  t.same(sent, [[toHex(a.bytes), toHex(b.bytes)]], "together, in order");
  await relay.retry();
  t.equal(sent.length, 1, "never sent again once heard");
});

t.test("a transaction that left the mempool is dropped, not retried", async (t) => {
  const { relay, inMempool, calls } = relayWith(() => 0);
  t.teardown(() => relay.stop());
  const a = txOf(1);
  const b = txOf(2);
  inMempool.add(toHex(a.id));
  inMempool.add(toHex(b.id));
  await relay.relay(a.id, a.bytes);
  await relay.relay(b.id, b.bytes);
  t.equal(relay.unsent, 2);
  inMempool.delete(toHex(a.id)); // committed, expired or evicted
  const before = calls();
  await relay.retry();
  t.equal(calls() - before, 1, "one batch published again");
  t.equal(relay.unsent, 1, "only b is left");
});

t.test("a retry stops at the first batch nobody heard", async (t) => {
  const { relay, inMempool, calls } = relayWith(() => 0);
  t.teardown(() => relay.stop());
  const txs = Array.from({ length: 2 * MAX_TXS_PER_BATCH }, (_, i) => txOf(i));
  for (const x of txs) inMempool.add(toHex(x.id));
  await Promise.all(txs.map((x) => relay.relay(x.id, x.bytes)));
  t.equal(calls(), 2, "both batches were tried when flushed");
  await relay.retry();
  t.equal(calls(), 3, "the retry gave up after the first");
  t.equal(relay.unsent, txs.length);
});

t.test("a publish that fails counts as unheard; one heard at once is never kept", async (t) => {
  let fail = true;
  const { relay, inMempool } = relayWith(() => (fail ? new Error("stream reset") : 1));
  t.teardown(() => relay.stop());
  const a = txOf(1);
  inMempool.add(toHex(a.id));
  await relay.relay(a.id, a.bytes);
  t.equal(relay.unsent, 1, "the failure did not escape, and a is kept");
  fail = false;
  await relay.retry();
  t.equal(relay.unsent, 0);
  const b = txOf(2);
  inMempool.add(toHex(b.id));
  await relay.relay(b.id, b.bytes);
  t.equal(relay.unsent, 0, "heard on the first publish");
});

t.test("stopping settles a batch still waiting and sends nothing", async (t) => {
  const { relay, calls } = relayWith(() => 1);
  const a = txOf(1);
  const done = relay.relay(a.id, a.bytes);
  relay.stop();
  await done;
  t.equal(calls(), 0);
});
