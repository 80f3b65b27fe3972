import fc from "fast-check";
import t from "tap";
import { fromHex, toHex, u64be, utf8 } from "../../lib/bytes.js";
import { Internal, LEAF, NODE } from "../../state/smt/internal.js";
import { MemoryNodeStore } from "../../state/smt/memory-store.js";
import {
  decodeLeaf,
  decodeRootRef,
  encodeLeaf,
  encodeRootRef,
  leafKey,
  nodeKey,
  rootNodeKey,
} from "../../state/smt/node.js";
import { decodeStaleList, encodeStaleList, isPrunable } from "../../state/smt/prune.js";
import { JellyfishTree } from "../../state/smt/tree.js";

const isCode = (code: string) => ({ name: "SmtError", code });
const hash = (fill: number) => new Uint8Array(32).fill(fill);

t.test("node keys: version, nibble count, packed nibbles", async (t) => {
  const path = fromHex("abcdef".padEnd(64, "0"));
  const v = u64be(0x0102n);
  t.equal(toHex(rootNodeKey(v)), "000000000000010200");
  t.equal(toHex(nodeKey(v, path, 0)), "000000000000010200");
  t.equal(toHex(nodeKey(v, path, 1)), "000000000000010201a0");
  t.equal(toHex(nodeKey(v, path, 2)), "000000000000010202ab");
  t.equal(toHex(nodeKey(v, path, 3)), "000000000000010203abc0");
  t.equal(toHex(nodeKey(v, path, 2, 7)), "000000000000010203ab70", "one deeper, at nibble 7");
  t.equal(toHex(nodeKey(v, path, 3, 9)), "000000000000010204abc9");
  t.equal(nodeKey(v, fromHex("ff".repeat(32)), 64).length, 9 + 32);
  // A leaf is keyed by its key hash, as at the deepest position on its path.
  t.same(leafKey(v, path), nodeKey(v, path, 64));
  // Keys of a later version sort after every key of an earlier one.
  const a = nodeKey(u64be(1n), fromHex("ff".repeat(32)), 64);
  const b = rootNodeKey(u64be(2n));
  t.ok(Buffer.compare(a, b) < 0);
});

t.test("leaves round-trip and reject malformed bytes", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }),
        (key, value) => {
          const bytes = encodeLeaf(hash(7), key, value);
          const leaf = decodeLeaf(bytes, rootNodeKey(u64be(1n)));
          return (
            toHex(leaf.keyHash) === toHex(hash(7)) &&
            toHex(leaf.key) === toHex(key) &&
            toHex(leaf.value) === toHex(value) &&
            bytes.length === 35 + key.length + value.length
          );
        },
      ),
    ),
  );
  const where = rootNodeKey(u64be(1n));
  t.throws(() => decodeLeaf(new Uint8Array(34).fill(1), where), isCode("CORRUPT_NODE"));
  const overrun = encodeLeaf(hash(1), utf8("key"), utf8(""));
  overrun[34] = 9;
  t.throws(() => decodeLeaf(overrun, where), isCode("CORRUPT_NODE"));
  t.throws(() => decodeLeaf(Uint8Array.of(2, ...hash(0), 0, 0), where), isCode("CORRUPT_NODE"));
});

t.test("internal nodes round-trip, hash as the binary tree over their slots", async (t) => {
  const node = Internal.empty();
  node.setLeaf(0, hash(1), u64be(3n), hash(0x50));
  node.setNode(5, hash(2), u64be(4n));
  node.setLeaf(15, hash(3), u64be(5n), hash(0x5f));
  const bytes = node.encode();
  t.equal(bytes.length, 5 + 3 * 40 + 2 * 32, "leaf children carry their key hash");
  t.equal(toHex(bytes.subarray(0, 5)), "0280218001");
  const back = Internal.decode(bytes, rootNodeKey(u64be(9n)));
  t.same(back.hash(), node.hash());
  t.same(back.childVersion(5), u64be(4n));
  t.same(back.childHash(15), hash(3));
  t.equal(back.children, 0x8021);
  t.equal(back.leaves, 0x8001);
  // Slot 15 is alone in the right half, so its leaf is lifted there; slot 0's leaf shares the
  // left half with the internal child at 5.
  t.same(back.hashAt(3), hash(3));
  t.equal(back.kind(3), LEAF);
  t.equal(back.kind(2), NODE);
  t.equal(back.loneLeaf(3), 15);
  // Leaf key hashes are stored, so an update needs no read of a leaf to place it.
  t.equal(back.leafKeyIs(0, hash(0x50)), true);
  t.equal(back.leafKeyIs(0, hash(0x51)), false);
  t.same(back.leafKeyHash(15), hash(0x5f));
  t.same(back.encode(), bytes);
  node.clear(5);
  t.equal(node.kind(2), LEAF, "removing the internal child lifts the leaf at 0");
  t.same(node.hashAt(2), hash(1));
});

t.test("malformed internal nodes are CORRUPT_NODE", async (t) => {
  const where = rootNodeKey(u64be(1n));
  const good = Internal.empty();
  good.setLeaf(1, hash(1), u64be(1n), hash(0x51));
  good.setLeaf(2, hash(2), u64be(1n), hash(0x52));
  const bytes = good.encode();
  const cases: Array<[string, Uint8Array]> = [
    ["too short", Uint8Array.of(2, 0)],
    ["wrong tag", Uint8Array.of(3, ...bytes.subarray(1))],
    ["truncated", bytes.subarray(0, bytes.length - 1)],
    [
      "leaf bit without a child",
      Uint8Array.of(...bytes.subarray(0, 3), 0x80, 0x06, ...bytes.subarray(5)),
    ],
    ["no children", Uint8Array.of(2, 0, 0, 0, 0)],
    ["a lone leaf", Uint8Array.of(2, 0, 2, 0, 2, ...bytes.subarray(5, 77))],
    [
      "a leaf child without its key hash",
      Uint8Array.of(...bytes.subarray(0, 45), ...bytes.subarray(77, 117)),
    ],
  ];
  for (const [why, b] of cases)
    t.throws(() => Internal.decode(b, where), isCode("CORRUPT_NODE"), why);
});

t.test("root refs", async (t) => {
  t.same(encodeRootRef({ hash: hash(0), version: undefined }), new Uint8Array(32));
  const ref = encodeRootRef({ hash: hash(9), version: u64be(12n) });
  t.equal(ref.length, 40);
  const back = decodeRootRef(ref, 12n);
  t.same(back.hash, hash(9));
  t.same(back.version, u64be(12n));
  t.equal(back.leaf, undefined);
  const leafRef = encodeRootRef({ hash: hash(9), version: u64be(12n), leaf: hash(4) });
  t.equal(leafRef.length, 72, "a one-leaf tree's ref names the leaf's key hash");
  t.same(decodeRootRef(leafRef, 12n).leaf, hash(4));
  t.same(decodeRootRef(leafRef, 12n).version, u64be(12n));
  t.equal(decodeRootRef(new Uint8Array(32), 1n).version, undefined);
  for (const bad of [
    new Uint8Array(31),
    hash(1),
    new Uint8Array(40),
    new Uint8Array(41).fill(1),
    new Uint8Array(72),
    new Uint8Array(71).fill(1),
  ]) {
    t.throws(() => decodeRootRef(bad, 1n), isCode("CORRUPT_NODE"));
  }
});

t.test("prune selection: stale since <= keepFrom goes", async (t) => {
  t.equal(isPrunable(5n, 6n), true);
  t.equal(isPrunable(6n, 6n), true);
  t.equal(isPrunable(7n, 6n), false);
});

t.test("a version's stale node keys as one record", async (t) => {
  const store = new MemoryNodeStore();
  const tree = new JellyfishTree(store);
  const keys = Array.from({ length: 200 }, (_, i) => utf8(`k${i}`));
  store.apply(
    tree.update(
      undefined,
      1n,
      keys.map((k) => [k, utf8("a")]),
    ),
  );
  const batch = tree.update(
    1n,
    2n,
    keys.slice(0, 120).map((k) => [k, utf8("b")]),
  );
  const staleKeys = batch.stale.map(([, key]) => key);
  t.ok(staleKeys.length > 100);
  const record = encodeStaleList(staleKeys);
  t.same(decodeStaleList(record), staleKeys);
  t.same(decodeStaleList(new Uint8Array(0)), []);
  t.throws(() => decodeStaleList(record.subarray(0, record.length - 1)), isCode("CORRUPT_NODE"));
  t.throws(() => decodeStaleList(record.subarray(0, 5)), isCode("CORRUPT_NODE"));
  const deep = Uint8Array.of(...new Uint8Array(8), 65, ...new Uint8Array(33));
  t.throws(() => decodeStaleList(deep), isCode("CORRUPT_NODE"));
});

t.test("the memory store keeps versions, prunes roots below keepFrom", async (t) => {
  const store = new MemoryNodeStore();
  const tree = new JellyfishTree(store);
  let base: bigint | undefined;
  for (let v = 1n; v <= 5n; v++) {
    store.apply(
      tree.update(base, v, [
        [utf8("k"), utf8(`v${v}`)],
        [utf8(`x${v}`), utf8("1")],
      ]),
    );
    base = v;
  }
  t.same(store.versions(), [1n, 2n, 3n, 4n, 5n]);
  const before = store.nodeCount;
  const staleBefore = store.staleCount;
  const deleted = store.prune(4n);
  t.ok(deleted > 0);
  t.equal(store.nodeCount, before - deleted);
  t.equal(store.staleCount, staleBefore - deleted, "each pruned node leaves the stale index");
  t.same(store.versions(), [4n, 5n]);
  t.equal(store.prune(4n), 0, "pruning again deletes nothing");
  t.same(tree.get(4n, utf8("k")), utf8("v4"));
  t.throws(() => tree.get(3n, utf8("k")), isCode("UNKNOWN_VERSION"));
});
