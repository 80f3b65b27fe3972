// Block retention: a store keeps the bodies of the last N blocks and drops older ones in the
// commit batch, a bounded number per commit, while hashes, commits and receipts stay.
import t from "tap";
import { MAX_PRUNED_PER_COMMIT, Store } from "../../state/store.js";
import { blockOf, commitHeight, heightWrites } from "./fixtures/chain.js";
import { tempDir } from "./fixtures/temp.js";

const SEED = 5;
const WRITES = 4;

async function commitUpTo(store: Store, from: bigint, to: bigint): Promise<void> {
  for (let h = from; h <= to; h++) await commitHeight(store, h, heightWrites(SEED, h, WRITES));
}

t.test("the last N bodies stay; hashes, commits and receipts of pruned blocks stay", async (t) => {
  const dir = await tempDir(t);
  const store = await Store.open(dir, { keepVersions: 2, blockRetention: 3 });
  t.equal(store.earliestBlockHeight(), undefined, "no block yet");
  await commitUpTo(store, 1n, 2n);
  t.equal(store.earliestBlockHeight(), 1n);
  await commitUpTo(store, 3n, 8n);
  t.equal(store.earliestBlockHeight(), 6n, "8 - 3 + 1");
  for (let h = 1n; h <= 8n; h++) {
    const b = blockOf(h);
    if (h < 6n) t.equal(store.getBlock(h), undefined, `body ${h} pruned`);
    else t.same(store.getBlock(h), b.block, `body ${h} kept`);
    t.same(store.chain.getBlockHash(h), b.blockHash, `hash ${h} kept`);
    t.same(store.getCommit(h), b.commit, `commit ${h} kept`);
    t.same(await store.chain.getReceipts(h), b.receipts, `receipts ${h} kept`);
  }
  await store.close();
  const reopened = await Store.open(dir, { keepVersions: 2, blockRetention: 3 });
  t.teardown(() => reopened.close());
  t.equal(reopened.earliestBlockHeight(), 6n, "found again on open");
  t.doesNotThrow(() => reopened.checkIntegrity());
});

t.test("an archive store switched to retention catches up a bounded step per commit", async (t) => {
  const dir = await tempDir(t);
  const archive = await Store.open(dir, { keepVersions: 2 });
  const last = BigInt(MAX_PRUNED_PER_COMMIT + 10);
  await commitUpTo(archive, 1n, last);
  t.equal(archive.earliestBlockHeight(), 1n, "retention 0 keeps every block");
  await archive.close();

  const store = await Store.open(dir, { keepVersions: 2, blockRetention: 2 });
  t.teardown(() => store.close());
  t.equal(store.earliestBlockHeight(), 1n);
  await commitUpTo(store, last + 1n, last + 1n);
  t.equal(store.earliestBlockHeight(), BigInt(MAX_PRUNED_PER_COMMIT) + 1n, "one bounded step");
  t.equal(store.getBlock(BigInt(MAX_PRUNED_PER_COMMIT)), undefined);
  t.ok(store.getBlock(BigInt(MAX_PRUNED_PER_COMMIT) + 1n), "the next is still there");
  await commitUpTo(store, last + 2n, last + 2n);
  t.equal(store.earliestBlockHeight(), last + 1n, "caught up: the last two remain");
});

t.test("a negative or fractional retention is refused", async (t) => {
  const dir = await tempDir(t);
  await t.rejects(Store.open(dir, { blockRetention: -1 }), RangeError);
  await t.rejects(Store.open(dir, { blockRetention: 1.5 }), RangeError);
});
