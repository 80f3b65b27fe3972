// The submitter against a fake node (fake-node.ts): batching, crash recovery, idempotent
// resends, rejections, outages and refusals.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t, { type Test } from "tap";
import { to0x, toHex } from "../../lib/bytes.js";
import { buildSubmitReadings } from "../../meter-oracle/service/batcher.js";
import { Outbox, type OutboxReading } from "../../meter-oracle/service/outbox.js";
import { Submitter, type SubmitterOptions } from "../../meter-oracle/service/submitter.js";
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
  t.same(sizes.slice(0, 3), [10, 5, 2], "halved until it fits");
  t.equal(node.applied.length, 10);
  t.match(outbox.counters(), { confirmed: 10, rejected: {} });
});
