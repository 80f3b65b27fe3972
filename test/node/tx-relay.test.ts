// The relay of transactions submitted to this node: a publish that reached no peer is tried
// again until one does, or until the mempool no longer holds the transaction.
import t from "tap";
import { toHex } from "../../lib/bytes.js";
import { silentLogger } from "../../lib/log.js";
import { TxRelay } from "../../node/tx-relay.js";

function relayWith(reach: (bytes: Uint8Array) => number | Error) {
  const inMempool = new Set<string>();
  const sent: string[] = [];
  const relay = new TxRelay({
    publish: async (bytes) => {
      const outcome = reach(bytes);
      if (outcome instanceof Error) throw outcome;
      if (outcome > 0) sent.push(toHex(bytes));
      return outcome;
    },
    pending: (id) => inMempool.has(toHex(id)),
    logger: silentLogger(),
    intervalMs: 3_600_000, // the test drives retry() itself
  });
  return { relay, inMempool, sent };
}

const tx = (n: number) => ({ id: Uint8Array.of(n), bytes: Uint8Array.of(100 + n) });

t.test("a publish that reached nobody is retried until a peer gets it", async (t) => {
  let peers = 0;
  const { relay, inMempool, sent } = relayWith(() => peers);
  t.teardown(() => relay.stop());
  const a = tx(1);
  inMempool.add(toHex(a.id));
  await relay.relay(a.id, a.bytes);
  t.equal(relay.unsent, 1, "kept: nobody heard it");
  await relay.retry();
  t.equal(relay.unsent, 1, "still nobody");
  peers = 2;
  await relay.retry();
  t.equal(relay.unsent, 0, "a peer got it");
  t.same(sent, [toHex(a.bytes)]);
  await relay.retry();
  t.same(sent, [toHex(a.bytes)], "never sent again once heard");
});

t.test("a transaction that left the mempool is dropped, not retried", async (t) => {
  let calls = 0;
  const { relay, inMempool } = relayWith(() => {
    calls++;
    return 0;
  });
  t.teardown(() => relay.stop());
  const a = tx(1);
  const b = tx(2);
  inMempool.add(toHex(a.id));
  inMempool.add(toHex(b.id));
  await relay.relay(a.id, a.bytes);
  await relay.relay(b.id, b.bytes);
  inMempool.delete(toHex(a.id)); // committed, expired or evicted
  calls = 0;
  await relay.retry();
  t.equal(calls, 1, "only b was published again");
  t.equal(relay.unsent, 1);
});

t.test("a publish that fails counts as unheard; one heard at once is never kept", async (t) => {
  let fail = true;
  const { relay, inMempool } = relayWith(() => (fail ? new Error("stream reset") : 1));
  t.teardown(() => relay.stop());
  const a = tx(1);
  inMempool.add(toHex(a.id));
  await relay.relay(a.id, a.bytes);
  t.equal(relay.unsent, 1, "the failure did not escape, and a is kept");
  fail = false;
  await relay.retry();
  t.equal(relay.unsent, 0);
  const b = tx(2);
  inMempool.add(toHex(b.id));
  await relay.relay(b.id, b.bytes);
  t.equal(relay.unsent, 0, "heard on the first publish");
});
