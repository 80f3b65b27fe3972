import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t, { type Test } from "tap";
import { Outbox, type OutboxReading, type PendingTx } from "../../meter-oracle/service/outbox.js";

const A = new Uint8Array(32).fill(0xa1);
const B = new Uint8Array(32).fill(0x0b);

function reading(meter: Uint8Array, time: bigint, wh: bigint): OutboxReading {
  return { meterIdHash: meter, time, registers: [wh], signature: undefined };
}

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-outbox-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function txOf(id: string, nonce: bigint, readings: readonly OutboxReading[]): PendingTx {
  return {
    id,
    nonce,
    bytes: Uint8Array.of(1, 2, 3),
    readings: readings.map(({ meterIdHash, time }) => ({ meterIdHash, time })),
  };
}

t.test("every state change survives a reopen; counters follow the states", async (t) => {
  const dir = await tempDir(t);
  let box = await Outbox.open(dir);
  const a = [reading(A, 10n, 100n), reading(A, 20n, 150n), reading(A, 30n, 170n)];
  const b = [reading(B, 15n, 5n)];
  t.equal(await box.enqueue("meter-a", a), 3);
  t.equal(await box.enqueue("meter-b", b), 1);
  t.equal(box.backlog(), 4);
  await box.close();

  box = await Outbox.open(dir);
  t.equal(box.queuedThrough(A), 30n, "the source cursor is durable");
  t.equal(await box.enqueue("meter-a", [...a, reading(A, 40n, 180n)]), 1, "only the new one");
  const due = await box.due(10, 1000n);
  t.same(
    due.map((r) => [r.meterIdHash[0], r.time]),
    [
      [0x0b, 15n],
      [0xa1, 10n],
      [0xa1, 20n],
      [0xa1, 30n],
      [0xa1, 40n],
    ],
    "(meter, time) order",
  );
  const tx = txOf("0x01", 0n, [b[0] as OutboxReading, ...a]);
  await box.submit(tx);
  t.equal(box.backlog(), 5, "submitted readings are still backlog");
  await box.close();

  box = await Outbox.open(dir);
  const [pending] = await box.pending();
  t.same(pending?.readings.length, 4, "the transaction in flight is durable");
  t.same(pending?.bytes, Uint8Array.of(1, 2, 3));
  t.same(
    (await box.due(10, 1000n)).map((r) => r.time),
    [40n],
    "submitted ones are not due",
  );
  await box.settle(pending as PendingTx, 7n, [
    { kind: "accepted" },
    { kind: "accepted" },
    { kind: "duplicate" },
    { kind: "rejected", code: "READING_NOT_MONOTONIC" },
  ]);
  await box.close();

  box = await Outbox.open(dir);
  t.same(await box.pending(), []);
  t.same(box.counters(), {
    read: 5,
    submitted: 4,
    confirmed: 3,
    duplicates: 1,
    rejected: { READING_NOT_MONOTONIC: 1 },
  });
  t.equal(box.backlog(), 1);
  t.match(box.get(A, 20n)?.status, { state: "confirmed", result: "duplicate", height: "7" });
  t.match(box.get(A, 30n)?.status, { state: "rejected", code: "READING_NOT_MONOTONIC" });
  t.same(await box.rejections(10), [
    {
      meterIdHash: "a1".repeat(32),
      time: "30",
      code: "READING_NOT_MONOTONIC",
      tx: "0x01",
      height: "7",
    },
  ]);
  const meterA = box.meters().find((m) => m.meterId === "meter-a");
  t.match(meterA, {
    lastSubmitted: { time: "30", tx: "0x01" },
    lastConfirmed: "20",
    queued: 1,
    submitted: 0,
    confirmed: 2,
    rejected: 1,
  });
  await box.close();
});

t.test("due readings stop at the chain's clock per meter; requeue puts them back", async (t) => {
  const box = await Outbox.open(await tempDir(t));
  t.teardown(() => box.close());
  await box.enqueue("a", [reading(A, 10n, 1n), reading(A, 50n, 2n), reading(A, 60n, 3n)]);
  await box.enqueue("b", [reading(B, 20n, 1n), reading(B, 30n, 2n)]);
  t.same(
    (await box.due(10, 40n)).map((r) => r.time),
    [20n, 30n, 10n],
    "A's readings after the head wait",
  );
  t.same(
    (await box.due(2, 100n)).map((r) => r.time),
    [20n, 30n],
    "the limit holds",
  );
  const first = await box.due(10, 100n);
  const tx = txOf("0x02", 3n, first);
  await box.submit(tx);
  t.same(await box.due(10, 100n), []);
  await box.requeue([tx]);
  t.same(await box.pending(), []);
  t.equal((await box.due(10, 100n)).length, 5, "all queued again");
  t.equal(box.counters().submitted, 0);
  await t.rejects(box.submit(txOf("0x03", 4n, [reading(A, 99n, 0n)])), /not queued/);
});

t.test("a second process cannot open the same outbox", async (t) => {
  const dir = await tempDir(t);
  const box = await Outbox.open(dir);
  t.teardown(() => box.close());
  await t.rejects(Outbox.open(dir), { code: "LOCKED" });
  await t.rejects(Outbox.open(join(dir, "missing"), { create: false }), { code: "NOT_FOUND" });
});

t.test("chunks enqueued together go in one write, each counted on its own", async (t) => {
  const dir = await tempDir(t);
  let box = await Outbox.open(dir);
  const counts = await Promise.all([
    box.enqueue("meter-a", [reading(A, 10n, 100n), reading(A, 20n, 150n)]),
    box.enqueue("meter-b", [reading(B, 15n, 5n)]),
    // A second chunk of meter a in the same write: what the first queued is skipped.
    box.enqueue("meter-a", [reading(A, 20n, 150n), reading(A, 30n, 170n)]),
    box.enqueue("meter-b", []),
  ]);
  t.same(counts, [2, 1, 1, 0]);
  await t.rejects(
    box.enqueue("meter-a", [reading(A, 40n, 180n), reading(B, 50n, 9n)]),
    /one meter at a time/,
    "a chunk mixing meters is refused, and nothing of it queued",
  );
  t.equal(box.counters().read, 4);
  await box.close();
  box = await Outbox.open(dir);
  t.equal(box.queuedThrough(A), 30n);
  t.equal(box.queuedThrough(B), 15n);
  t.same(
    (await box.due(10, 1000n)).map((r) => [r.meterIdHash[0], r.time]),
    [
      [0x0b, 15n],
      [0xa1, 10n],
      [0xa1, 20n],
      [0xa1, 30n],
    ],
  );
  await box.close();
});
