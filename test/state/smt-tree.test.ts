import fc from "fast-check";
import t from "tap";
import { compareBytes, equalBytes, fromHex, toHex, u64be, utf8 } from "../../lib/bytes.js";
import { domainHash, sha256 } from "../../lib/hash.js";
import { Internal } from "../../state/smt/internal.js";
import { MemoryNodeStore } from "../../state/smt/memory-store.js";
import {
  decodeLeaf,
  encodeLeaf,
  LEAF_TAG,
  leafKey,
  nodeKey,
  rootNodeKey,
} from "../../state/smt/node.js";
import { verifyProof } from "../../state/smt/proof.js";
import { EMPTY_ROOT, JellyfishTree, SmtError, type TreeBatch } from "../../state/smt/tree.js";

const isCode = (code: string) => ({ name: "SmtError", code });

/** The state as a test model: key hex -> value. */
type Model = Map<string, Uint8Array>;

// The commitment from its definition alone: a binary tree over the bits of sha256("smt-key")
// of each key, every leaf lifted to where it is alone, empty subtrees as 32 zero bytes.
function referenceRoot(model: Model): Uint8Array {
  const leaves = [...model].map(([key, value]) => {
    const keyHash = domainHash("smt-key", fromHex(key));
    return { keyHash, hash: domainHash("smt-leaf", keyHash, sha256(value)) };
  });
  const bit = (h: Uint8Array, i: number) => (h[i >> 3]! >> (7 - (i & 7))) & 1;
  const root = (set: typeof leaves, depth: number): Uint8Array => {
    if (set.length === 0) return new Uint8Array(32);
    if (set.length === 1) return set[0]!.hash;
    return domainHash(
      "smt-node",
      root(
        set.filter((l) => bit(l.keyHash, depth) === 0),
        depth + 1,
      ),
      root(
        set.filter((l) => bit(l.keyHash, depth) === 1),
        depth + 1,
      ),
    );
  };
  return root(leaves, 0);
}

type Change = readonly [Uint8Array, Uint8Array | undefined];

const keyOf = (i: number) => utf8(`key-${i}`);
// A small key space, so batches overwrite and delete keys that exist.
const changeArb: fc.Arbitrary<Change> = fc.tuple(
  fc.nat({ max: 47 }).map(keyOf),
  fc.option(fc.uint8Array({ maxLength: 12 }), { nil: undefined }),
);
const batchesArb = fc.array(fc.array(changeArb, { maxLength: 24 }), { minLength: 1, maxLength: 8 });

function applyModel(model: Model, changes: readonly Change[]): void {
  for (const [key, value] of changes) {
    if (value === undefined) model.delete(toHex(key));
    else model.set(toHex(key), value);
  }
}

/** Applies batches as versions 1..n; returns the models after each version. */
function run(
  tree: JellyfishTree,
  store: MemoryNodeStore,
  batches: readonly (readonly Change[])[],
): Model[] {
  const model: Model = new Map();
  const models: Model[] = [];
  let base: bigint | undefined;
  batches.forEach((changes, i) => {
    const version = BigInt(i + 1);
    const batch = tree.update(base, version, changes);
    store.apply(batch);
    base = version;
    applyModel(model, changes);
    models.push(new Map(model));
  });
  return models;
}

function fresh(cacheSize?: number): { store: MemoryNodeStore; tree: JellyfishTree } {
  const store = new MemoryNodeStore();
  return { store, tree: new JellyfishTree(store, { cacheSize }) };
}

/** The keys of every node the tree at `version` uses, walking from its root. */
function reachable(store: MemoryNodeStore, version: bigint, into = new Set<string>()): Set<string> {
  const ref = store.getRoot(version);
  if (ref === undefined) throw new Error(`no root for ${version}`);
  if (ref.length === 32) return into;
  const visit = (key: Uint8Array) => {
    into.add(toHex(key));
    const bytes = store.getNode(key);
    if (bytes === undefined) throw new Error(`missing node ${toHex(key)}`);
    if (bytes[0] === LEAF_TAG) return;
    const node = Internal.decode(bytes, key);
    for (let slot = 0; slot < 16; slot++) {
      if (node.leaves & (1 << slot)) {
        visit(leafKey(node.childVersion(slot), node.leafKeyHash(slot)));
      } else if (node.children & (1 << slot)) {
        visit(nodeKey(node.childVersion(slot), key.subarray(9), key[8]!, slot));
      }
    }
  };
  const rootVersion = ref.subarray(32, 40);
  visit(ref.length === 72 ? leafKey(rootVersion, ref.subarray(40)) : rootNodeKey(rootVersion));
  return into;
}

// Cross-checked with an independent 15-line Python rendering of the definition.
t.test("pinned root of a fixed key/value set", async (t) => {
  const { tree } = fresh();
  const changes: Change[] = [
    [utf8("alice"), utf8("100")],
    [utf8("bob"), utf8("250")],
    [utf8("carol"), utf8("")],
    [utf8("dave"), utf8("42")],
    [utf8("erin"), Uint8Array.of(0, 1, 2, 3)],
  ];
  const batch = tree.update(undefined, 1n, changes);
  t.equal(
    toHex(batch.rootHash),
    "526a452a67bce7625dc742cae8cf6d9a401a6e648fbe3e23fd91bdc20cff0360",
  );
  const model: Model = new Map();
  applyModel(model, changes);
  t.same(batch.rootHash, referenceRoot(model));
});

t.test("the empty tree and a one-key tree", async (t) => {
  const { store, tree } = fresh();
  t.same(EMPTY_ROOT, new Uint8Array(32));
  const empty = tree.update(undefined, 0n, []);
  t.same(empty.rootHash, EMPTY_ROOT);
  t.equal(empty.nodes.length, 0);
  store.apply(empty);
  t.same(tree.rootHash(0n), EMPTY_ROOT);
  t.equal(tree.get(0n, utf8("x")), undefined);
  const one = tree.update(0n, 1n, [[utf8("x"), utf8("y")]]);
  const keyHash = domainHash("smt-key", utf8("x"));
  t.same(one.rootHash, domainHash("smt-leaf", keyHash, sha256(utf8("y"))));
  t.equal(one.nodes.length, 1, "a lone leaf is the root");
  store.apply(one);
  t.same(tree.get(1n, utf8("x")), utf8("y"));
  t.equal(tree.get(1n, utf8("z")), undefined);
  tree.checkRoot(1n);
});

t.test("the root is the reference binary tree's root", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(batchesArb, (batches) => {
        const { store, tree } = fresh();
        const models = run(tree, store, batches);
        return models.every((model, i) =>
          equalBytes(tree.rootHash(BigInt(i + 1)), referenceRoot(model)),
        );
      }),
      { numRuns: 60 },
    ),
  );
});

t.test("the root depends only on the final key/value set", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.nat({ max: 200 }), fc.uint8Array({ maxLength: 8 })), {
          selector: ([k]) => k,
          maxLength: 60,
        }),
        fc.array(fc.nat({ max: 59 }), { maxLength: 5 }),
        fc.infiniteStream(fc.nat()),
        (entries, cuts, noise) => {
          const changes: Change[] = entries.map(([k, v]) => [keyOf(k), v]);
          const whole = fresh().tree.update(undefined, 1n, changes).rootHash;
          // The same set in another order, split over several versions, with detours: keys
          // written with other values, and keys inserted then deleted again, on the way.
          const shuffled = changes
            .map((change) => ({ change, order: noise.next().value }))
            .sort((x, y) => x.order - y.order)
            .map(({ change }) => change);
          const bounds = [...new Set([0, ...cuts.filter((c) => c < shuffled.length)])].sort(
            (a, b) => a - b,
          );
          const batches: Change[][] = bounds.map((from, i) =>
            shuffled.slice(from, bounds[i + 1] ?? shuffled.length),
          );
          batches[0]!.unshift([keyOf(1000), utf8("detour")]);
          if (changes[0]) batches[0]!.unshift([changes[0][0], utf8("old value")]);
          batches.push([[keyOf(1000), undefined]]);
          if (changes[0]) batches.push([changes[0]]);
          const { store, tree } = fresh();
          run(tree, store, batches);
          return equalBytes(tree.rootHash(BigInt(batches.length)), whole);
        },
      ),
      { numRuns: 80 },
    ),
  );
});

t.test("every version reads as the model did at that version", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(batchesArb, (batches) => {
        const { store, tree } = fresh();
        const models = run(tree, store, batches);
        models.forEach((model, i) => {
          const version = BigInt(i + 1);
          tree.checkRoot(version);
          for (let k = 0; k < 48; k++) {
            const got = tree.get(version, keyOf(k));
            const want = model.get(toHex(keyOf(k)));
            if (!(got === want || (got && want && equalBytes(got, want)))) {
              throw new Error(`version ${version} key ${k}`);
            }
          }
        });
        return true;
      }),
      { numRuns: 40 },
    ),
  );
});

t.test("deletes restore earlier roots", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat({ max: 300 }), { minLength: 1, maxLength: 40 }),
        fc.uniqueArray(fc.nat({ max: 300 }), { minLength: 1, maxLength: 10 }),
        (present, extra) => {
          const added = extra.filter((k) => !present.includes(k));
          const { store, tree } = fresh();
          store.apply(
            tree.update(
              undefined,
              1n,
              present.map((k) => [keyOf(k), utf8(`v${k}`)]),
            ),
          );
          const before = tree.rootHash(1n);
          store.apply(
            tree.update(
              1n,
              2n,
              added.map((k) => [keyOf(k), utf8("new")]),
            ),
          );
          store.apply(
            tree.update(
              2n,
              3n,
              added.map((k) => [keyOf(k), undefined]),
            ),
          );
          if (!equalBytes(tree.rootHash(3n), before)) return false;
          store.apply(
            tree.update(
              3n,
              4n,
              present.map((k) => [keyOf(k), undefined]),
            ),
          );
          return (
            equalBytes(tree.rootHash(4n), EMPTY_ROOT) &&
            tree.get(4n, keyOf(present[0]!)) === undefined
          );
        },
      ),
      { numRuns: 80 },
    ),
  );
});

t.test("updates write exactly the nodes their version uses, and retire the rest", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(batchesArb, (batches) => {
        const { store, tree } = fresh();
        run(tree, store, batches);
        const latest = BigInt(batches.length);
        const all = new Set<string>();
        for (let v = 1n; v <= latest; v++) reachable(store, v, all);
        if (all.size !== store.nodeCount) return false;
        // Keeping only the latest version leaves exactly its nodes.
        store.prune(latest);
        return reachable(store, latest).size === store.nodeCount;
      }),
      { numRuns: 60 },
    ),
  );
});

t.test("pruning keeps the last versions readable and provable", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(batchesArb, fc.nat({ max: 8 }), (batches, keep) => {
        const { store, tree } = fresh();
        const models = run(tree, store, batches);
        const latest = BigInt(batches.length);
        const keepFrom = latest - BigInt(Math.min(keep, batches.length - 1));
        store.prune(keepFrom);
        for (let v = 1n; v <= latest; v++) {
          const model = models[Number(v) - 1]!;
          if (v < keepFrom) {
            try {
              tree.get(v, keyOf(0));
              return false;
            } catch (e) {
              if (!(e instanceof SmtError) || e.code !== "UNKNOWN_VERSION") return false;
            }
            continue;
          }
          if (!equalBytes(tree.rootHash(v), referenceRoot(model))) return false;
          for (let k = 0; k < 48; k++) {
            const want = model.get(toHex(keyOf(k)));
            const got = tree.get(v, keyOf(k));
            if (want === undefined ? got !== undefined : !got || !equalBytes(got, want)) {
              return false;
            }
            if (!verifyProof(tree.rootHash(v), keyOf(k), want, tree.prove(v, keyOf(k))))
              return false;
          }
        }
        return reachable(store, latest).size <= store.nodeCount;
      }),
      { numRuns: 40 },
    ),
  );
});

t.test("reads of pruned nodes fail with MISSING_NODE", async (t) => {
  const { store, tree } = fresh(0);
  const keys = Array.from({ length: 40 }, (_, i) => keyOf(i));
  store.apply(
    tree.update(
      undefined,
      1n,
      keys.map((k) => [k, utf8("a")]),
    ),
  );
  store.apply(
    tree.update(
      1n,
      2n,
      keys.map((k) => [k, utf8("b")]),
    ),
  );
  // A store that pruned nodes but still has the old root ref: reads fail, never wrongly.
  const ref = store.getRoot(1n)!;
  store.prune(2n);
  store.apply({
    version: 1n,
    rootHash: ref.subarray(0, 32),
    nodes: [],
    roots: [[1n, ref]],
    stale: [],
  });
  t.throws(() => tree.get(1n, keys[0]!), isCode("MISSING_NODE"));
  t.throws(() => tree.prove(1n, keys[0]!), isCode("MISSING_NODE"));
  t.throws(() => tree.update(1n, 3n, [[keys[0]!, utf8("c")]]), isCode("MISSING_NODE"));
  t.same(tree.get(2n, keys[0]!), utf8("b"));
});

t.test("writing current values or deleting absent keys changes nothing", async (t) => {
  const { store, tree } = fresh();
  store.apply(
    tree.update(undefined, 1n, [
      [utf8("a"), utf8("1")],
      [utf8("b"), utf8("2")],
      [utf8("c"), utf8("3")],
    ]),
  );
  const batch = tree.update(1n, 2n, [
    [utf8("a"), utf8("1")],
    [utf8("zzz"), undefined],
  ]);
  t.equal(batch.nodes.length, 0);
  t.equal(batch.stale.length, 0);
  t.same(batch.rootHash, tree.rootHash(1n));
  t.same(batch.roots[0]![1], store.getRoot(1n), "the version shares its base's root node");
  store.apply(batch);
  t.same(tree.get(2n, utf8("b")), utf8("2"));
});

t.test("duplicate keys in one update: the last change wins", async (t) => {
  const { tree } = fresh();
  const a = tree.update(undefined, 1n, [
    [utf8("k"), utf8("first")],
    [utf8("j"), utf8("x")],
    [utf8("k"), utf8("last")],
  ]);
  const b = fresh().tree.update(undefined, 1n, [
    [utf8("j"), utf8("x")],
    [utf8("k"), utf8("last")],
  ]);
  t.same(a.rootHash, b.rootHash);
  const c = fresh().tree.update(undefined, 1n, [
    [utf8("k"), utf8("first")],
    [utf8("k"), undefined],
  ]);
  t.same(c.rootHash, EMPTY_ROOT);
});

t.test("bad arguments and unknown versions fail with stable codes", async (t) => {
  const { store, tree } = fresh();
  store.apply(tree.update(undefined, 5n, [[utf8("a"), utf8("1")]]));
  t.throws(() => tree.update(5n, 5n, []), isCode("BAD_UPDATE"));
  t.throws(() => tree.update(5n, 4n, []), isCode("BAD_UPDATE"));
  t.throws(() => tree.update(undefined, -1n, []), isCode("BAD_UPDATE"));
  t.throws(() => tree.update(undefined, 1n << 64n, []), isCode("BAD_UPDATE"));
  t.throws(
    () => tree.update(5n, 6n, [["a" as unknown as Uint8Array, undefined]]),
    isCode("BAD_UPDATE"),
  );
  t.throws(
    () => tree.update(5n, 6n, [[utf8("a"), 7 as unknown as Uint8Array]]),
    isCode("BAD_UPDATE"),
  );
  t.throws(() => tree.update(5n, 6n, [[new Uint8Array(0x10000), undefined]]), isCode("BAD_UPDATE"));
  t.throws(() => tree.update(4n, 6n, []), isCode("UNKNOWN_VERSION"));
  t.throws(() => tree.rootHash(6n), isCode("UNKNOWN_VERSION"));
  t.throws(() => tree.get(6n, utf8("a")), isCode("UNKNOWN_VERSION"));
  t.throws(() => tree.prove(6n, utf8("a")), isCode("UNKNOWN_VERSION"));
  t.throws(() => tree.checkRoot(6n), isCode("UNKNOWN_VERSION"));
  const big = tree.update(5n, 6n, [[new Uint8Array(0xffff), new Uint8Array(100_000)]]);
  store.apply(big);
  t.equal(tree.get(6n, new Uint8Array(0xffff))?.length, 100_000, "a key of 65535 bytes fits");
});

/** A store whose node under `target` is replaced by `bytes` (or removed). */
function tampered(
  store: MemoryNodeStore,
  target: Uint8Array,
  bytes: Uint8Array | undefined,
): MemoryNodeStore {
  return Object.assign(Object.create(store) as MemoryNodeStore, {
    getNode: (key: Uint8Array) => (compareBytes(key, target) === 0 ? bytes : store.getNode(key)),
  });
}

t.test("corrupt and missing nodes give SmtErrors, never raw exceptions", async (t) => {
  const { store, tree } = fresh();
  const keys = Array.from({ length: 300 }, (_, i) => keyOf(i));
  const batch = tree.update(
    undefined,
    1n,
    keys.map((k) => [k, utf8("v")]),
  );
  store.apply(batch);
  const codes = new Set(["CORRUPT_NODE", "MISSING_NODE"]);
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        fc.nat({ max: batch.nodes.length - 1 }),
        fc.oneof(
          fc.uint8Array({ maxLength: 700 }),
          fc.constant(undefined),
          // Plausible prefixes: a leaf or internal tag followed by junk.
          fc
            .tuple(fc.constantFrom(1, 2), fc.uint8Array({ maxLength: 700 }))
            .map(([tag, rest]) => Uint8Array.of(tag, ...rest)),
        ),
        (index, bytes) => {
          const [key] = batch.nodes[index]!;
          const bad = new JellyfishTree(tampered(store, key, bytes), { cacheSize: 0 });
          for (const op of [
            () => {
              for (const k of keys) bad.get(1n, k);
            },
            () => {
              for (const k of keys) bad.prove(1n, k);
            },
            () =>
              bad.update(
                1n,
                2n,
                keys.map((k) => [k, utf8("w")]),
              ),
            () => bad.checkRoot(1n),
          ]) {
            try {
              op();
            } catch (e) {
              if (!(e instanceof SmtError) || !(codes.has(e.code) || e.code === "ROOT_MISMATCH")) {
                throw e;
              }
            }
          }
          return true;
        },
      ),
      { numRuns: 100 },
    ),
  );
});

t.test("checkRoot catches a root node that does not match the recorded root", async (t) => {
  const { store, tree } = fresh();
  store.apply(
    tree.update(
      undefined,
      1n,
      Array.from({ length: 50 }, (_, i) => [keyOf(i), utf8("a")] as const),
    ),
  );
  store.apply(tree.update(1n, 2n, [[keyOf(3), utf8("b")]]));
  tree.checkRoot(1n);
  tree.checkRoot(2n);
  const root2 = rootNodeKey(u64be(2n));
  const other = store.getNode(rootNodeKey(u64be(1n)))!;
  t.throws(
    () => new JellyfishTree(tampered(store, root2, other)).checkRoot(2n),
    isCode("ROOT_MISMATCH"),
  );
  const { store: single, tree: singleTree } = fresh();
  single.apply(singleTree.update(undefined, 1n, [[utf8("k"), utf8("v")]]));
  const rootLeaf = leafKey(u64be(1n), domainHash("smt-key", utf8("k")));
  const leaf = decodeLeaf(single.getNode(rootLeaf)!, rootLeaf);
  t.same(leaf.key, utf8("k"));
  const forged = single.getNode(rootLeaf)!.slice();
  forged[forged.length - 1] = "w".charCodeAt(0);
  t.throws(
    () => new JellyfishTree(tampered(single, rootLeaf, forged)).checkRoot(1n),
    isCode("ROOT_MISMATCH"),
  );
  const otherKeys = encodeLeaf(domainHash("smt-key", utf8("j")), utf8("j"), utf8("v"));
  t.throws(
    () => new JellyfishTree(tampered(single, rootLeaf, otherKeys)).checkRoot(1n),
    isCode("CORRUPT_NODE"),
    "a record holding another key's leaf",
  );
});

t.test("the node cache never changes results, whatever is proposed and dropped", async (t) => {
  // Competing proposals for one version (computed, never applied), from the same base or from
  // another one, then the one that is committed: a cached tree must agree with an uncached one.
  const step = fc.record({
    changes: fc.array(changeArb, { maxLength: 20 }),
    dropped: fc.array(fc.array(changeArb, { maxLength: 20 }), { maxLength: 2 }),
    otherBase: fc.boolean(),
  });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 8 }),
        fc.nat({ max: 16 }),
        (steps, size) => {
          const cached = fresh(size);
          const plain = fresh(0);
          let base: bigint | undefined;
          steps.forEach(({ changes, dropped, otherBase }, i) => {
            const version = BigInt(i + 1);
            for (const proposal of dropped) {
              const from = otherBase && base !== undefined && base > 1n ? base - 1n : base;
              cached.tree.update(from, version, proposal);
            }
            const a: TreeBatch = cached.tree.update(base, version, changes);
            const b: TreeBatch = plain.tree.update(base, version, changes);
            const same = (x: readonly (readonly [unknown, Uint8Array])[], y: typeof x) =>
              x.length === y.length &&
              x.every(([key, bytes], j) => {
                const [otherKey, otherBytes] = y[j]!;
                const keysEqual =
                  key instanceof Uint8Array && otherKey instanceof Uint8Array
                    ? equalBytes(key, otherKey)
                    : key === otherKey;
                return keysEqual && equalBytes(bytes, otherBytes);
              });
            if (
              !equalBytes(a.rootHash, b.rootHash) ||
              !same(a.nodes, b.nodes) ||
              !same(a.stale, b.stale)
            ) {
              throw new Error(`version ${version} differs`);
            }
            cached.store.apply(a);
            plain.store.apply(b);
            base = version;
            for (let k = 0; k < 48; k += 7) {
              const x = cached.tree.prove(version, keyOf(k));
              const y = plain.tree.prove(version, keyOf(k));
              if (JSON.stringify(x) !== JSON.stringify(y)) throw new Error("proofs differ");
            }
          });
          return true;
        },
      ),
      { numRuns: 80 },
    ),
  );
});

t.test("a dropped proposal from another base does not leak into later updates", async (t) => {
  // Versions 3 from base 2 (committed) and from base 1 (dropped, computed before or after it)
  // end in the same root, but the dropped one's root node points at the older copy of x.
  const x = keyOf(0);
  const first = (k: Uint8Array) => domainHash("smt-key", k)[0]! >> 4;
  const z = [1, 2, 3, 4, 5].map(keyOf).find((k) => first(k) !== first(x))!;
  // `order`: when the dropped (d) and the committed (c) proposal are computed.
  const runWith = (cacheSize: number, order: string) => {
    const { store, tree } = fresh(cacheSize);
    store.apply(
      tree.update(undefined, 1n, [
        [x, utf8("1")],
        [z, utf8("1")],
      ]),
    );
    store.apply(tree.update(1n, 2n, [[x, utf8("2")]]));
    for (const step of order) {
      if (step === "d") {
        tree.update(1n, 3n, [[z, utf8("2")]]);
      } else {
        const committed = tree.update(2n, 3n, [
          [x, utf8("1")],
          [z, utf8("2")],
        ]);
        store.apply(committed);
      }
    }
    t.same(tree.update(1n, 3n, [[z, utf8("2")]]).rootHash, tree.rootHash(3n), "same root");
    const next = tree.update(3n, 4n, [[x, utf8("5")]]);
    return next.stale.map(([, key]) => toHex(key)).sort();
  };
  for (const order of ["c", "dc", "dcd", "cdc"])
    t.same(runWith(64, order), runWith(0, order), order);
});

t.test("the cache stays right after thousands of versions", async (t) => {
  // Past the tracked versions, updates still agree with an uncached tree, including a dropped
  // proposal for a long-gone version from another base.
  const cached = fresh(64);
  const plain = fresh(0);
  const stale: string[][] = [[], []];
  for (let v = 1n; v <= 4300n; v++) {
    const changes: Change[] = [[keyOf(Number(v % 40n)), utf8(`${v}`)]];
    if (v === 4200n) cached.tree.update(9n, 10n, [[keyOf(1), utf8("dropped")]]);
    const a = cached.tree.update(v === 1n ? undefined : v - 1n, v, changes);
    const b = plain.tree.update(v === 1n ? undefined : v - 1n, v, changes);
    cached.store.apply(a);
    plain.store.apply(b);
    if (v > 4190n) {
      stale[0]!.push(...a.stale.map(([, key]) => toHex(key)));
      stale[1]!.push(...b.stale.map(([, key]) => toHex(key)));
    }
  }
  t.same(stale[0], stale[1]);
  t.same(cached.tree.rootHash(4300n), plain.tree.rootHash(4300n));
});

t.test(
  "batch layout: new nodes at the version, one root ref, stale nodes of older ones",
  async (t) => {
    const { store, tree } = fresh();
    const first = tree.update(undefined, 1n, [
      [utf8("a"), utf8("1")],
      [utf8("b"), utf8("2")],
    ]);
    store.apply(first);
    const second = tree.update(1n, 7n, [[utf8("a"), utf8("9")]]);
    t.equal(second.version, 7n);
    t.same(
      second.roots.map(([v]) => v),
      [7n],
    );
    t.ok(second.nodes.every(([key]) => equalBytes(key.subarray(0, 8), u64be(7n))));
    t.ok(
      second.stale.every(
        ([since, key]) => since === 7n && equalBytes(key.subarray(0, 8), u64be(1n)),
      ),
    );
    t.equal(second.stale.length, 2, "the old root and the old leaf of a");
    t.ok(second.stale.some(([, key]) => equalBytes(key, rootNodeKey(u64be(1n)))));
  },
);
