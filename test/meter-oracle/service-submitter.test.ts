// The submitter against a fake node (fake-node.ts): batching, the pipeline of transactions in
// flight, crash recovery, idempotent resends, rejections, outages and refusals.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t, { type Test } from "tap";
import { to0x, toHex } from "../../lib/bytes.js";
import { buildSubmitReadings } from "../../meter-oracle/service/batcher.js";
import { Outbox, type OutboxReading, type PendingTx } from "../../meter-oracle/service/outbox.js";
import {
  Submitter,
  type SubmitterOptions,
  TxRefusedError,
} from "../../meter-oracle/service/submitter.js";
import { A, B, CHAIN, FakeNode, ORACLE_KEY } from "./fake-node.js";

const UNKNOWN = new Uint8Array(32).fill(0xcc);

async function openOutbox(t: Test): Promise<{ outbox: Outbox; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-submitter-"));
  const outbox = await Outbox.open(dir);
  t.teardown(async () => {
    await outbox.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  return { outbox, dir };
}

function readings(meter: Uint8Array, count: number, from = 1n): OutboxReading[] {
  return Array.from({ length: count }, (_, i) => ({
    meterIdHash: meter,
    time: from + BigInt(i),
    registers: [(from + BigInt(i)) * 10n],
    signature: undefined,
  }));
}

function submitter(outbox: Outbox, node: FakeNode, options: Partial<SubmitterOptions> = {}) {
  return new Submitter(outbox, node, {
    chainId: CHAIN,
    oracleSecretKey: ORACLE_KEY,
    maxReadings: 10,
    maxInFlight: 4,
    retry: { initialMs: 1, maxMs: 4 },
    pollMs: 1,
    idleMs: 1,
    ...options,
  });
}

async function drain(s: Submitter): Promise<void> {
  await s.run(AbortSignal.timeout(10_000), { untilDrained: true });
}

t.test("drains the outbox in batches; every reading lands once", async (t) => {
  const { outbox } = await openOutbox(t);
  const node = new FakeNode();
  await outbox.enqueue("a", readings(A, 13));
  await outbox.enqueue("b", readings(B, 12));
  const sent: number[] = [];
  await drain(
    submitter(outbox, node, { events: { submitted: (tx) => sent.push(tx.readings.length) } }),
  );
  t.same(sent, [10, 10, 5], "batches of at most maxReadings");
  t.equal(node.applied.length, 25);
  t.equal(new Set(node.applied).size, 25, "no reading applied twice");
  t.equal(node.nonceOf, 3n);
  t.match(outbox.counters(), {
    read: 25,
    submitted: 25,
    confirmed: 25,
    duplicates: 0,
    rejected: {},
  });
  t.equal(outbox.backlog(), 0);
});

t.test("draining waits for the sources to end, submitting what they queue meanwhile", async (t) => {
  const { outbox } = await openOutbox(t);
  const node = new FakeNode();
  let ended = false;
  let stopped = false;
  const run = submitter(outbox, node)
    .run(AbortSignal.timeout(10_000), { untilDrained: true, sourcesEnded: () => ended })
    .then(() => {
      stopped = true;
    });
  await outbox.enqueue("a", readings(A, 5));
  while (node.applied.length < 5) await new Promise((r) => setTimeout(r, 2));
  await new Promise((r) => setTimeout(r, 20));
  t.notOk(stopped, "an empty outbox is not drained while a source may still queue");
  await outbox.enqueue("b", readings(B, 3));
  ended = true;
  await run;
  t.equal(node.applied.length, 8, "the later readings went too");
  t.equal(outbox.backlog(), 0);
});

t.test(
  "a crash between writing a batch and sending it: the same bytes go after restart",
  async (t) => {
    const { outbox } = await openOutbox(t);
    const node = new FakeNode();
    await outbox.enqueue("a", readings(A, 3));
    const due = await outbox.due(10, node.time);
    const built = buildSubmitReadings(CHAIN, 0n, ORACLE_KEY, due);
    const id = to0x(built.id);
    await outbox.submit({ id, nonce: 0n, bytes: built.bytes, readings: due });
    await drain(submitter(outbox, node));
    t.ok(node.included.has(id), "the stored transaction itself was sent");
    t.equal(node.included.size, 1, "and no other");
    t.same(node.applied, ["aa@1", "aa@2", "aa@3"]);
    t.equal(outbox.counters().confirmed, 3);
  },
);

t.test("a crash after the batch landed: settled from the receipt, not sent again", async (t) => {
  const { outbox } = await openOutbox(t);
  const node = new FakeNode();
  await outbox.enqueue("a", readings(A, 3));
  const due = await outbox.due(10, node.time);
  const built = buildSubmitReadings(CHAIN, 0n, ORACLE_KEY, due);
  await outbox.submit({ id: to0x(built.id), nonce: 0n, bytes: built.bytes, readings: due });
  await node.send(built.bytes);
  node.mine();
  const callsBefore = node.calls;
  await drain(submitter(outbox, node));
  t.equal(node.applied.length, 3);
  t.match(outbox.counters(), { confirmed: 3, rejected: {} });
  t.ok(node.calls - callsBefore <= 3, "a lookup settled it");
});

t.test("a resend the node refuses as NONCE_TOO_LOW is found on chain and settled", async (t) => {
  const { outbox } = await openOutbox(t);
  const node = new FakeNode();
  await outbox.enqueue("a", readings(A, 2));
  const due = await outbox.due(10, node.time);
  const built = buildSubmitReadings(CHAIN, 0n, ORACLE_KEY, due);
  await outbox.submit({ id: to0x(built.id), nonce: 0n, bytes: built.bytes, readings: due });
  await node.send(built.bytes);
  node.mine();
  node.blindLookups = 1;
  const refused: string[] = [];
  await drain(submitter(outbox, node, { events: { txRefused: (_, code) => refused.push(code) } }));
  t.same(refused, [], "the replay is not a rejection");
  t.same(node.applied, ["aa@1", "aa@2"], "applied once");
  t.match(outbox.counters(), { submitted: 2, confirmed: 2, rejected: {} });
});

t.test(
  "the chain's duplicate no-op is a confirmation; real rejections keep their codes",
  async (t) => {
    const { outbox } = await openOutbox(t);
    const node = new FakeNode();
    node.meters.set(toHex(A), { time: 30n, registers: [300n] });
    await outbox.enqueue("a", [
      { meterIdHash: A, time: 30n, registers: [300n], signature: undefined },
      { meterIdHash: A, time: 40n, registers: [250n], signature: undefined },
      { meterIdHash: A, time: 50n, registers: [400n], signature: undefined },
    ]);
    await outbox.enqueue("unknown", readings(UNKNOWN, 1));
    await drain(submitter(outbox, node));
    t.same(outbox.counters(), {
      read: 4,
      submitted: 4,
      confirmed: 2,
      duplicates: 1,
      rejected: { READING_NOT_MONOTONIC: 1, READING_UNKNOWN_METER: 1 },
    });
    t.match(outbox.get(A, 30n)?.status, { state: "confirmed", result: "duplicate" });
    t.same(
      (await outbox.rejections(10)).map((r) => r.code),
      ["READING_NOT_MONOTONIC", "READING_UNKNOWN_METER"],
    );
  },
);

t.test("node outages are retried with backoff; nothing is lost or doubled", async (t) => {
  const { outbox } = await openOutbox(t);
  const node = new FakeNode();
  await outbox.enqueue("a", readings(A, 25));
  node.down = 5;
  const pauses: number[] = [];
  const s = submitter(outbox, node, { events: { fault: (_, ms) => pauses.push(ms) } });
  await drain(s);
  t.same(pauses, [1, 2, 4, 4, 4], "capped exponential backoff");
  t.equal(node.applied.length, 25);
  t.equal(new Set(node.applied).size, 25);
  t.equal(s.lastFault, undefined, "cleared by success");
});

t.test("a refused batch is queued again and lands once the cause is fixed", async (t) => {
  const { outbox } = await openOutbox(t);
  const node = new FakeNode();
  node.authorised = false;
  await outbox.enqueue("a", readings(A, 4));
  const refused: string[] = [];
  const s = submitter(outbox, node, {
    events: {
      txRefused: (_, code) => refused.push(code),
      fault: () => {
        node.authorised = true;
      },
    },
  });
  await drain(s);
  t.same(refused, ["NOT_AUTHORISED"]);
  t.equal(node.applied.length, 4);
  t.match(outbox.counters(), { confirmed: 4, rejected: {} });
});

t.test("a batch over the chain's limit is rejected whole, then split", async (t) => {
  const { outbox } = await openOutbox(t);
  const node = new FakeNode();
  node.maxReadings = 3;
  await outbox.enqueue("a", readings(A, 10));
  const sizes: number[] = [];
  await drain(
    submitter(outbox, node, { events: { submitted: (tx) => sizes.push(tx.readings.length) } }),
  );
  // The two batches of 5 were in flight together, so both were rejected before the second halving.
  t.same(sizes, [10, 5, 5, 2, 2, 2, 2, 2], "halved until it fits");
  t.same(
    node.applied,
    readings(A, 10).map((r) => `aa@${r.time}`),
    "in order, once each",
  );
  t.match(outbox.counters(), { confirmed: 10, rejected: {} });
});

/** Readings applied per meter, each meter's in the order the chain applied them. */
function appliedByMeter(node: FakeNode): Map<string, bigint[]> {
  const out = new Map<string, bigint[]>();
  for (const entry of node.applied) {
    const [meter = "", time = "0"] = entry.split("@");
    out.set(meter, [...(out.get(meter) ?? []), BigInt(time)]);
  }
  return out;
}

/** Every reading of `count` per meter applied once, each meter's in time order. */
function assertAllOnceInOrder(t: Test, node: FakeNode, counts: Record<string, number>): void {
  const byMeter = appliedByMeter(node);
  for (const [meter, count] of Object.entries(counts)) {
    t.same(
      byMeter.get(meter),
      Array.from({ length: count }, (_, i) => BigInt(i + 1)),
      `${meter}: every reading once, in time order`,
    );
  }
}

/**
 * An outbox with `count` readings queued per meter, a node that makes blocks only on mine(), and
 * a submitter of batches of 5 between them.
 */
async function pipelineOf(
  t: Test,
  counts: readonly [Uint8Array, number][],
  options: Partial<SubmitterOptions> = {},
) {
  const { outbox } = await openOutbox(t);
  const node = new FakeNode();
  node.autoMine = false;
  for (const [meter, count] of counts) await outbox.enqueue(toHex(meter), readings(meter, count));
  return { outbox, node, s: submitter(outbox, node, { maxReadings: 5, ...options }) };
}

t.test(
  "several transactions in flight, consecutive nonces, each meter's readings in order",
  async (t) => {
    const { outbox, node, s } = await pipelineOf(t, [
      [A, 23],
      [B, 15],
    ]);
    const nonces = () => [...node.pool.values()].map((p) => p.nonce);

    t.equal(await s.step(), "progress");
    t.equal(s.inFlight, 4, "a full pipeline before any block");
    t.same(nonces(), [0n, 1n, 2n, 3n], "consecutive nonces");
    t.equal(await s.step(), "waiting", "no room until one lands");
    node.mine();
    t.equal(await s.step(), "progress");
    t.same(nonces(), [4n, 5n, 6n, 7n], "four settled, three full batches and the partial one sent");
    t.match(outbox.counters(), { submitted: 38, confirmed: 20 });
    node.mine();
    t.equal(await s.step(), "progress");
    t.equal(await s.step(), "idle");

    assertAllOnceInOrder(t, node, { aa: 23, bb: 15 });
    t.equal(node.nonceOf, 8n);
    t.match(outbox.counters(), { read: 38, submitted: 38, confirmed: 38, rejected: {} });
    t.equal(outbox.backlog(), 0);
    t.same(await outbox.pending(), []);
  },
);

t.test(
  "a partial batch joins the pipeline only behind executed sizes, one at a time",
  async (t) => {
    const sizes: number[] = [];
    const { outbox, node, s } = await pipelineOf(t, [[A, 12]], {
      events: { submitted: (tx) => sizes.push(tx.readings.length) },
    });
    await s.step();
    t.same(sizes, [5, 5], "the partial batch waits: no batch of 5 has been executed yet");
    node.mine();
    await s.step();
    t.same(sizes, [5, 5, 2]);
    await outbox.enqueue(toHex(A), readings(A, 12, 13n));
    await s.step();
    t.same(sizes, [5, 5, 2, 5, 5], "full batches join; the next partial waits for the first");
    node.mine();
    await s.step();
    t.same(sizes, [5, 5, 2, 5, 5, 2]);
    node.mine();
    await s.step();
    assertAllOnceInOrder(t, node, { aa: 24 });
  },
);

t.test(
  "later nonces settled before an earlier one: the next batch takes a fresh nonce",
  async (t) => {
    const refused: string[] = [];
    const { outbox, node, s } = await pipelineOf(t, [[A, 22]], {
      events: { txRefused: (_, code) => refused.push(code) },
    });
    await s.step();
    node.mine();
    // The block holds nonces 0 to 3, but the first lookup still sees nonce 0 pending.
    node.laggingLookups = 1;
    await s.step();
    t.equal(s.inFlight, 2, "nonce 0 still in flight, the partial batch sent");
    t.same(
      [...node.pool.values()].map((p) => p.nonce),
      [4n],
      "after the highest settled nonce, not after the one still in flight",
    );
    node.autoMine = true;
    await drain(s);
    t.same(refused, []);
    assertAllOnceInOrder(t, node, { aa: 22 });
    t.match(outbox.counters(), { read: 22, confirmed: 22, rejected: {} });
  },
);

t.test(
  "a refusal mid-pipeline: the later transactions wait to leave the mempool, then all are re-signed",
  async (t) => {
    const refusals: { code: string; nonce: bigint; requeued: bigint[] }[] = [];
    const { outbox, node, s } = await pipelineOf(
      t,
      [
        [A, 12],
        [B, 8],
      ],
      {
        events: {
          txRefused: (tx, code, _, requeued) =>
            refusals.push({ code, nonce: tx.nonce, requeued: requeued.map((r) => r.nonce) }),
        },
      },
    );
    await s.step();
    const first = await outbox.pending();
    t.same(
      first.map((tx) => tx.nonce),
      [0n, 1n, 2n, 3n],
    );
    const [, stranded] = first as [PendingTx, PendingTx, PendingTx, PendingTx];
    // Nonce 1 leaves the node's mempool (evicted, say) and is refused when sent again; 2 and 3
    // wait behind the gap, where they would land the moment anything filled nonce 1.
    node.pool.delete(stranded.id);
    node.refuse.set(1n, "MEMPOOL_FULL");
    node.mine();
    await t.rejects(s.step(), TxRefusedError, "refused again");
    t.same(
      refusals.at(-1),
      { code: "MEMPOOL_FULL", nonce: 1n, requeued: [] },
      "kept: 2 and 3 may still land",
    );
    t.equal(s.inFlight, 3);
    t.equal(node.included.size, 1, "nothing signed anew");
    t.match(outbox.counters(), { confirmed: 5 });

    // 2 and 3 leave the mempool too (expired): now nothing from nonce 1 on can land.
    for (const tx of first.slice(2)) node.pool.delete(tx.id);
    await t.rejects(s.step(), TxRefusedError);
    t.same(refusals.at(-1), { code: "MEMPOOL_FULL", nonce: 1n, requeued: [1n, 2n, 3n] });
    t.equal(s.inFlight, 0);
    t.same(await outbox.pending(), [], "dropped from the outbox in one write");
    t.equal(outbox.backlog(), 15, "their readings queued again");

    node.refuse.clear();
    node.autoMine = true;
    await drain(s);
    // Signing is deterministic: the same readings at the same nonces are the same transactions.
    t.equal(node.included.size, 4, "one transaction per nonce");
    t.equal(node.nonceOf, 4n, "re-signed from the chain's nonce, 1 on");
    assertAllOnceInOrder(t, node, { aa: 12, bb: 8 });
    t.match(outbox.counters(), { read: 20, submitted: 20, confirmed: 20, rejected: {} });
  },
);

t.test("a crash with several in flight: the stored bytes go again, in nonce order", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-submitter-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const node = new FakeNode();
  node.autoMine = false;
  let outbox = await Outbox.open(dir);
  await outbox.enqueue("a", readings(A, 15));
  await outbox.enqueue("b", readings(B, 15));
  await submitter(outbox, node, { maxReadings: 5 }).step();
  const before = await outbox.pending();
  t.equal(before.length, 4);
  // The oracle dies with four in flight; the node restarts too and forgets its mempool.
  await outbox.close();
  node.pool.clear();
  node.sent.length = 0;
  outbox = await Outbox.open(dir);
  t.teardown(() => outbox.close());
  t.same(
    (await outbox.pending()).map((tx) => [tx.id, to0x(tx.bytes)]),
    before.map((tx) => [tx.id, to0x(tx.bytes)]),
    "the transactions in flight are durable, bytes and all",
  );
  const restarted = submitter(outbox, node, { maxReadings: 5 });
  t.equal(await restarted.step(), "waiting", "nothing new before the old ones settle");
  t.same(
    node.sent,
    before.map((tx) => tx.id),
    "the same transactions again, in nonce order",
  );
  node.autoMine = true;
  await drain(restarted);
  t.same(
    node.sent.slice(0, 4),
    before.map((tx) => tx.id),
  );
  for (const tx of before) t.ok(node.included.has(tx.id), `nonce ${tx.nonce} landed as signed`);
  t.equal(node.nonceOf, 6n);
  assertAllOnceInOrder(t, node, { aa: 15, bb: 15 });
  t.match(outbox.counters(), { read: 30, submitted: 30, confirmed: 30, rejected: {} });
});
