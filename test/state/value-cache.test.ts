// The head's value and range caches (state/world-state.ts, state/range-cache.ts) must be
// invisible: a store with them, one whose caches are so small they keep evicting, and one without
// them read the same values and scan the same entries after every commit, absences included,
// and agree with a model of the state.
import fc from "fast-check";
import t from "tap";
import { byteString, toHex, utf8 } from "../../lib/bytes.js";
import { BoundedMap } from "../../state/bounded-map.js";
import type { Change } from "../../state/overlay.js";
import { Store } from "../../state/store.js";
import { blockOf, commitHeight } from "./fixtures/chain.js";
import { tempDir } from "./fixtures/temp.js";

const KEYS = 24;
const keyOf = (k: number) => utf8(`key${k}`);
const show = (v: Uint8Array | undefined) => (v === undefined ? "absent" : toHex(v));
const showAll = (entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>) =>
  entries.map(([k, v]) => `${toHex(k)}=${toHex(v)}`).join(",");

/** The model's scan: keys under `prefix`, strictly after `after` when not below it, `limit`. */
function modelScan(
  model: Map<string, Uint8Array>,
  prefix: Uint8Array,
  after: Uint8Array | undefined,
  limit: number | undefined,
): string {
  const p = byteString(prefix);
  const a = after === undefined ? undefined : byteString(after);
  const keys = [...model.keys()]
    .map((hex) => Uint8Array.from(Buffer.from(hex, "hex")))
    .filter((k) => {
      const id = byteString(k);
      return id.startsWith(p) && (a === undefined || a < p || id > a);
    })
    .sort((x, y) => (byteString(x) < byteString(y) ? -1 : 1))
    .slice(0, limit);
  return showAll(keys.map((k) => [k, model.get(toHex(k))!] as const));
}

t.test(
  "BoundedMap keeps its newer half when full; below capacity 2 it holds nothing",
  async (t) => {
    const map = new BoundedMap<number>(4);
    for (let i = 0; i < 4; i++) map.set(`k${i}`, i);
    map.set("k1", 10);
    t.equal(map.size, 4, "rewriting a key does not evict");
    map.set("k4", 4);
    t.same(
      [...map.keys()].map((k) => [k, map.get(k)]),
      [
        ["k2", 2],
        ["k3", 3],
        ["k4", 4],
      ],
    );
    map.delete("k3");
    t.equal(map.get("k3"), undefined);
    map.clear();
    t.equal(map.size, 0);
    const off = new BoundedMap<number>(1);
    off.set("k", 1);
    t.equal(off.get("k"), undefined);
  },
);

t.test("cached, evicting and uncached stores read the same head values (property)", async (t) => {
  const writeArb = fc.tuple(
    fc.integer({ min: 0, max: KEYS - 1 }).map(keyOf),
    fc.option(fc.uint8Array({ minLength: 0, maxLength: 6 }), { nil: undefined, freq: 4 }),
  );
  const scanArb = fc.record({
    // "key" is every key's prefix, "key1" that of key1 and key10-key19.
    prefix: fc.constantFrom("key", "key1", "key2", "k", "x").map(utf8),
    after: fc.option(fc.integer({ min: 0, max: KEYS - 1 }).map(keyOf), { nil: undefined }),
    limit: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  });
  const blockArb = fc.record({
    writes: fc.array(writeArb, { maxLength: 10 }),
    // Keys read and ranges scanned before the block commits, so the caches hold them (or
    // their absence) when the commit changes them.
    reads: fc.array(fc.integer({ min: 0, max: KEYS - 1 }), { maxLength: 10 }),
    scans: fc.array(scanArb, { maxLength: 4 }),
  });
  const property = fc.asyncProperty(
    fc.array(blockArb, { minLength: 1, maxLength: 6 }),
    async (blocks) => {
      const stores = await Promise.all(
        [undefined, 3, 0].map(async (valueCacheSize) =>
          Store.open(await tempDir(t), valueCacheSize === undefined ? {} : { valueCacheSize }),
        ),
      );
      const model = new Map<string, Uint8Array>();
      try {
        for (const [i, { writes, reads, scans }] of blocks.entries()) {
          for (const k of reads) for (const store of stores) store.state().get(keyOf(k));
          // Bounded too: one that comes back short of its limit caches the whole prefix.
          for (const { prefix, limit } of scans)
            for (const store of stores) await store.state().scan(prefix, { limit });
          for (const store of stores) {
            await commitHeight(store, BigInt(i + 1), writes as Change[]);
          }
          for (const [k, v] of writes) {
            if (v === undefined) model.delete(toHex(k));
            else model.set(toHex(k), v);
          }
          for (let k = 0; k < KEYS; k++) {
            const want = show(model.get(toHex(keyOf(k))));
            for (const [s, store] of stores.entries()) {
              const got = show(store.state().get(keyOf(k)));
              if (got !== want) throw new Error(`store ${s}, key${k}: ${got}, want ${want}`);
            }
          }
          for (const { prefix, after, limit } of scans) {
            const want = modelScan(model, prefix, after, limit);
            for (const [s, store] of stores.entries()) {
              const got = showAll(await store.state().scan(prefix, { after, limit }));
              if (got !== want) throw new Error(`store ${s}, scan: ${got}, want ${want}`);
            }
          }
        }
      } finally {
        for (const store of stores) await store.close();
      }
    },
  );
  await t.resolves(fc.assert(property, { numRuns: 25, seed: 7 }));
});

t.test("a refused commit leaves the cached values as they were", async (t) => {
  const store = await Store.open(await tempDir(t));
  t.teardown(() => store.close());
  await commitHeight(store, 1n, [[keyOf(1), utf8("one")]]);
  t.same(store.state().get(keyOf(1)), utf8("one"));
  const changes: Change[] = [[keyOf(1), utf8("two")]];
  const { treeBatch } = store.computeStateRoot(changes, 2n);
  await t.rejects(store.commitBlock({ ...blockOf(2n), receipts: [], changes, treeBatch }), {
    code: "INVALID_COMMIT",
  });
  t.same(store.state().get(keyOf(1)), utf8("one"));
});

t.test("committed values are copied, and a reader kept past close reports CLOSED", async (t) => {
  const store = await Store.open(await tempDir(t));
  const value = utf8("kept");
  const { treeBatch } = store.computeStateRoot([[keyOf(2), value]], 1n);
  await store.commitBlock({ ...blockOf(1n), changes: [[keyOf(2), value]], treeBatch });
  value.fill(0);
  const reader = store.state();
  t.same(reader.get(keyOf(2)), utf8("kept"), "the caller's array is not the cached one");
  await store.close();
  t.throws(() => reader.get(keyOf(2)), { code: "CLOSED" });
  await t.rejects(Store.open(await tempDir(t), { valueCacheSize: -1 }), RangeError);
});
