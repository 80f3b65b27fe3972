import fc from "fast-check";
import t from "tap";
import { concatBytes, equalBytes, toHex, u64be, utf8 } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import { buckets } from "../../state/buckets.js";
import { WriteBatch } from "../../state/db.js";
import { type Change, emptyState, StateOverlay } from "../../state/overlay.js";
import { MemoryNodeStore } from "../../state/smt/memory-store.js";
import { verifyProof } from "../../state/smt/proof.js";
import { JellyfishTree } from "../../state/smt/tree.js";
import { Store } from "../../state/store.js";
import { blockOf, commitHeight, freshRoot, heightWrites, modelState } from "./fixtures/chain.js";
import { tempDir } from "./fixtures/temp.js";

const SEED = 11;
const WRITES = 40;

async function build(dir: string, heights: number, keepVersions?: number): Promise<Store> {
  const store = await Store.open(dir, keepVersions === undefined ? {} : { keepVersions });
  for (let h = 1n; h <= BigInt(heights); h++)
    await commitHeight(store, h, heightWrites(SEED, h, WRITES));
  return store;
}

t.test("an empty store has no head and an empty state", async (t) => {
  const store = await Store.open(await tempDir(t));
  t.teardown(() => store.close());
  t.equal(store.head(), undefined);
  t.same(await store.state().scan(new Uint8Array()), []);
  t.doesNotThrow(() => store.checkIntegrity());
});

t.test(
  "committed blocks, receipts, indexes and state read back, and survive reopening",
  async (t) => {
    const dir = await tempDir(t);
    const store = await build(dir, 5);
    const head = store.head()!;
    t.equal(head.height, 5n);
    t.same(head.blockHash, blockOf(5n).blockHash);
    const state = modelState(SEED, 5n, WRITES);
    t.same(head.stateRoot, freshRoot(state), "root equals a fresh recomputation");
    for (let h = 1n; h <= 5n; h++) {
      const b = blockOf(h);
      t.same(store.getBlock(h), b.block);
      t.same(store.getBlock(b.blockHash), b.block);
      t.same(store.getCommit(h), b.commit);
      t.same(store.chain.getBlockHash(h), b.blockHash);
      t.same(await store.chain.getReceipts(h), b.receipts);
      for (const [i, id] of b.txIds.entries()) {
        t.same(store.getTxLocation(id), { height: h, index: i });
        t.same(store.getReceipt(id), b.receipts[i]);
      }
    }
    t.equal(store.getBlock(6n), undefined);
    t.equal(store.getBlock(-1n), undefined, "an out-of-range height has no block");
    t.equal(store.getBlock(sha256(utf8("nope"))), undefined);
    t.equal(store.getReceipt(sha256(utf8("nope"))), undefined);
    const scanned = await store.state().scan(utf8("k/"));
    t.same(
      scanned.map(([k, v]) => [toHex(k), toHex(v)]),
      [...state].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, toHex(v)]),
    );
    const page = await store.state().scan(utf8("k/"), { after: scanned[2]![0], limit: 3 });
    t.same(page, scanned.slice(3, 6));
    await store.close();

    const again = await Store.open(dir);
    t.teardown(() => again.close());
    t.same(again.head(), head, "reopening gives the same head and root");
    t.same(again.world.rootHash(5n), head.stateRoot);
    const [key, value] = scanned[0]!;
    t.same(again.state().get(key), value);
    t.same(again.readStateAt(5n, key), value);
    const proof = again.proveState(5n, key);
    t.ok(verifyProof(head.stateRoot, key, value, proof), "a proof from the store verifies");
    await commitHeight(again, 6n, heightWrites(SEED, 6n, WRITES));
    t.same(again.head()!.stateRoot, freshRoot(modelState(SEED, 6n, WRITES)));
  },
);

t.test("reopening gives the same root, equal to a fresh recomputation (property)", async (t) => {
  const writeArb = fc.tuple(
    fc.integer({ min: 0, max: 30 }).map((k) => utf8(`key${k}`)),
    fc.option(fc.uint8Array({ minLength: 0, maxLength: 8 }), { nil: undefined, freq: 4 }),
  );
  const property = fc.asyncProperty(
    fc.array(fc.array(writeArb, { maxLength: 12 }), { minLength: 1, maxLength: 6 }),
    async (blocks) => {
      const dir = await tempDir(t);
      const store = await Store.open(dir, { keepVersions: 2 });
      const model = new Map<string, Uint8Array>();
      try {
        for (const [i, writes] of blocks.entries()) {
          await commitHeight(store, BigInt(i + 1), writes as Change[]);
          for (const [k, v] of writes) {
            if (v === undefined) model.delete(toHex(k));
            else model.set(toHex(k), v);
          }
        }
      } finally {
        await store.close();
      }
      const reopened = await Store.open(dir, { keepVersions: 2 });
      try {
        const head = reopened.head()!;
        if (!equalBytes(head.stateRoot, freshRoot(model))) throw new Error("root differs");
        for (const [hex, value] of model) {
          const got = reopened.state().get(Uint8Array.from(Buffer.from(hex, "hex")));
          if (!got || !equalBytes(got, value)) throw new Error(`value of ${hex} differs`);
        }
        if ((await reopened.state().scan(new Uint8Array())).length !== model.size) {
          throw new Error("the flat state holds other keys");
        }
      } finally {
        await reopened.close();
      }
    },
  );
  await t.resolves(fc.assert(property, { numRuns: 25 }));
});

t.test("pruning keeps exactly the last N versions and deletes what they do not use", async (t) => {
  const keep = 3;
  const heights = 9n;
  const store = await build(await tempDir(t), Number(heights), keep);
  t.teardown(() => store.close());
  // The same stream in memory, pruned at the same moments: before each height's writes land.
  const memory = new MemoryNodeStore();
  const tree = new JellyfishTree(memory);
  let state = new StateOverlay(emptyState);
  for (let h = 1n; h <= heights; h++) {
    const next = new StateOverlay(state);
    for (const [k, v] of heightWrites(SEED, h, WRITES)) {
      if (v === undefined) next.delete(k);
      else next.set(k, v);
    }
    const batch = tree.update(h === 1n ? undefined : h - 1n, h, next.changes());
    if (h - BigInt(keep - 1) > 0n) memory.prune(h - BigInt(keep - 1));
    memory.apply(batch);
    state = next;
  }
  const stored = await store.db.range({
    gte: Uint8Array.of(buckets.smtNode.prefix),
    lt: Uint8Array.of(buckets.smtNode.prefix + 1),
  });
  t.equal(stored.length, memory.nodeCount, "the store holds as many nodes as the pruned model");
  const bucket = (prefix: number) =>
    store.db.range({ gte: Uint8Array.of(prefix), lt: Uint8Array.of(prefix + 1) });
  const roots = await bucket(buckets.smtRoot.prefix);
  t.same(
    roots.map(([k]) => toHex(k.subarray(1))),
    [7n, 8n, 9n].map((v) => toHex(u64be(v))),
    "only the kept versions' root refs remain",
  );
  const stale = await bucket(buckets.smtStale.prefix);
  t.ok(
    stale.every(([k]) => k.length === 9 && k[8]! > Number(heights) - keep + 1),
    "no stale list of a pruned version remains",
  );
  const key = heightWrites(SEED, heights, WRITES).find(([, v]) => v !== undefined)![0];
  for (let v = 1n; v <= heights; v++) {
    if (v > heights - BigInt(keep)) {
      const value = modelState(SEED, v, WRITES).get(toHex(key));
      t.same(store.readStateAt(v, key), value, `version ${v} is readable`);
      const root = store.world.rootHash(v);
      t.ok(verifyProof(root, key, value, store.proveState(v, key)), `version ${v} is provable`);
    } else {
      t.throws(() => store.readStateAt(v, key), { code: "VERSION_UNAVAILABLE" }, `${v} is pruned`);
      t.throws(() => store.proveState(v, key), { code: "VERSION_UNAVAILABLE" });
    }
  }
  t.throws(() => store.readStateAt(heights + 1n, key), { code: "VERSION_UNAVAILABLE" });
});

t.test("invalid commits are refused and write nothing", async (t) => {
  const store = await build(await tempDir(t), 2);
  t.teardown(() => store.close());
  const head = store.head()!;
  const writes: Change[] = [[utf8("x"), utf8("1")]];
  const changes = new StateOverlay(store.state());
  changes.set(utf8("x"), utf8("1"));
  const { treeBatch } = store.computeStateRoot(changes.changes(), 3n);
  const good = { ...blockOf(3n), changes: changes.changes(), treeBatch };
  await t.rejects(store.commitBlock({ ...good, height: 4n }), { code: "INVALID_COMMIT" }, "a gap");
  t.throws(() => store.computeStateRoot(writes, 2n), { code: "INVALID_COMMIT" }, "not above head");
  await t.rejects(store.commitBlock({ ...good, changes: [[utf8("x"), utf8("2")]] }), {
    code: "INVALID_COMMIT",
    message: /state changes differ/,
  });
  await t.rejects(store.commitBlock({ ...good, receipts: [] }), {
    code: "INVALID_COMMIT",
    message: /0 receipts for 2 transactions/,
  });
  await t.rejects(store.commitBlock({ ...good, blockHash: new Uint8Array(5) }), {
    code: "INVALID_COMMIT",
  });
  const outside = new WriteBatch();
  outside.put(concatBytes(Uint8Array.of(buckets.state.prefix), utf8("x")), utf8("sneaky"));
  await t.rejects(store.commitBlock({ ...good, extra: outside }), {
    code: "INVALID_COMMIT",
    message: /outside the node's buckets/,
  });
  const foreign = new JellyfishTree(new MemoryNodeStore()).update(undefined, 3n, writes);
  await t.rejects(store.commitBlock({ ...good, treeBatch: foreign }), {
    code: "INVALID_COMMIT",
    message: /not computed by computeStateRoot/,
  });
  t.same(store.head(), head, "the head did not move");
  t.equal(store.getBlock(3n), undefined);
  t.equal(store.state().get(utf8("x")), undefined);

  const index = new WriteBatch();
  index.put(Uint8Array.of(0x40, 1), utf8("node index"));
  await store.commitBlock({ ...good, extra: index });
  t.same(store.db.getSync(Uint8Array.of(0x40, 1)), utf8("node index"), "extra ops land too");
  t.same(store.state().get(utf8("x")), utf8("1"));
  await t.rejects(store.commitBlock(good), { code: "INVALID_COMMIT" }, "a batch is used once");
});

t.test("a stale proposal's root cannot be committed after the head moved", async (t) => {
  const store = await build(await tempDir(t), 1);
  t.teardown(() => store.close());
  const a = store.computeStateRoot([[utf8("a"), utf8("1")]], 2n);
  const b = store.computeStateRoot([[utf8("b"), utf8("1")]], 2n);
  await store.commitBlock({
    ...blockOf(2n),
    changes: [[utf8("a"), utf8("1")]],
    treeBatch: a.treeBatch,
  });
  await t.rejects(
    store.commitBlock({
      ...blockOf(3n),
      changes: [[utf8("b"), utf8("1")]],
      treeBatch: b.treeBatch,
    }),
    { code: "INVALID_COMMIT" },
  );
});

t.test("a closed store reports CLOSED and a second open reports LOCKED", async (t) => {
  const dir = await tempDir(t);
  const store = await Store.open(dir);
  await t.rejects(Store.open(dir), {
    code: "LOCKED",
    message: `database ${dir} is in use by another process (LOCK held)`,
  });
  await store.close();
  t.throws(() => store.head(), { code: "CLOSED" });
  t.throws(() => store.state(), { code: "CLOSED" });
  await store.close();
  const again = await Store.open(dir);
  await again.close();
  t.pass("the directory opens again once closed");
  await t.rejects(Store.open(dir, { keepVersions: 0 }), RangeError);
});

t.test("head of u64 values round-trip (heights beyond 2^32)", async (t) => {
  const store = await Store.open(await tempDir(t));
  t.teardown(() => store.close());
  const height = 2n ** 40n;
  await commitHeight(store, height, [[utf8("far"), u64be(height)]]);
  t.equal(store.head()!.height, height);
  t.same(store.readStateAt(height, utf8("far")), u64be(height));
});
