// The authenticated state commitment: a Jellyfish Merkle tree (as in Diem/Aptos) over sha256 of
// the state keys. Nodes are 16-ary by nibble and keyed by (version, path), so an update writes
// only the nodes on changed paths and every retained version stays readable and provable. The
// tree does no I/O: it reads through a synchronous NodeReader and returns the writes of an
// update as a TreeBatch, which the storage layer persists (and can drop, for a proposal that
// is never committed).
import { compareBytes, equalBytes, u64be } from "../../lib/bytes.js";
import { NodeCache } from "./cache.js";
import { EMPTY_HASH, keyHashOf, leafHash, valueHashOf } from "./hashing.js";
import { EMPTY as EMPTY_SLOT, Internal, LEAF } from "./internal.js";
import {
  decodeLeaf,
  decodeRootRef,
  describeNodeKey,
  encodeLeaf,
  encodeRootRef,
  INTERNAL_TAG,
  LEAF_TAG,
  type LeafNode,
  leafKey,
  lowestBit,
  MAX_DEPTH,
  MAX_KEY_LENGTH,
  nibbleAt,
  nodeKey,
  type RootRef,
  rootNodeKey,
  SmtError,
} from "./node.js";
import type { SmtProof } from "./proof.js";

export { SmtError, type SmtErrorCode } from "./node.js";

/** The root hash of the empty tree (32 zero bytes). Shared: never mutate it. */
export const EMPTY_ROOT: Uint8Array = EMPTY_HASH;

export interface NodeReader {
  /** The stored node under `nodeKey` (see node.ts for the key and node layouts). */
  getNode(nodeKey: Uint8Array): Uint8Array | undefined;
  /** The root ref recorded for `version`: 40 bytes (root hash, root node version) or 32 zero
   * bytes for an empty tree. */
  getRoot(version: bigint): Uint8Array | undefined;
}

export interface TreeBatch {
  readonly version: bigint;
  readonly rootHash: Uint8Array;
  /** New nodes, all keyed at `version`. */
  readonly nodes: ReadonlyArray<readonly [nodeKey: Uint8Array, encodedNode: Uint8Array]>;
  /** The root ref of `version`; one entry. */
  readonly roots: ReadonlyArray<readonly [version: bigint, encodedRootRef: Uint8Array]>;
  /** Nodes of the base tree that `version`'s tree no longer uses. */
  readonly stale: ReadonlyArray<readonly [staleSince: bigint, nodeKey: Uint8Array]>;
}

export type TreeChange = readonly [key: Uint8Array, value: Uint8Array | undefined];

/** A change to apply, or a stored leaf on its way to a new position. */
interface Item {
  readonly keyHash: Uint8Array;
  readonly key: Uint8Array;
  /** undefined deletes the key. */
  readonly value: Uint8Array | undefined;
  /** The leaf hash, set whenever `value` is. */
  readonly hash: Uint8Array | undefined;
  /**
   * For a stored leaf that moves unchanged: the version its record was written at, which the
   * new position refers to instead of rewriting it. Its key and value are then not known.
   */
  readonly at?: Uint8Array;
}

const NO_BYTES = new Uint8Array(0);

/** A stored leaf as an item that moves without being read (see Item.at); copies its views. */
function storedItem(keyHash: Uint8Array, hash: Uint8Array, at: Uint8Array): Item {
  return {
    keyHash: keyHash.slice(),
    key: NO_BYTES,
    value: NO_BYTES,
    hash: hash.slice(),
    at: at.slice(),
  };
}

/** What updating one subtree did to it. */
type Outcome =
  | { readonly kind: "same" }
  | { readonly kind: "empty" }
  // A single leaf is not written where it was built: its parent may lift it further up.
  | { readonly kind: "leaf"; readonly item: Item }
  | { readonly kind: "internal"; readonly hash: Uint8Array };

const SAME: Outcome = { kind: "same" };
const GONE: Outcome = { kind: "empty" };

function badUpdate(message: string): never {
  throw new SmtError("BAD_UPDATE", message);
}

/** Hashes, sorts and de-duplicates (the last change to a key wins) an update's changes. */
function prepare(changes: ReadonlyArray<TreeChange>): Item[] {
  if (!Array.isArray(changes)) badUpdate("changes must be an array");
  const items: Item[] = [];
  for (const change of changes) {
    const key: unknown = change?.[0];
    const value: unknown = change?.[1];
    if (!(key instanceof Uint8Array) || key.length > MAX_KEY_LENGTH) {
      badUpdate(`a key must be bytes of at most ${MAX_KEY_LENGTH}`);
    }
    if (value !== undefined && !(value instanceof Uint8Array)) {
      badUpdate("a value must be bytes or undefined");
    }
    const keyHash = keyHashOf(key);
    const hash = value === undefined ? undefined : leafHash(keyHash, valueHashOf(value));
    items.push({ keyHash, key, value, hash });
  }
  // Array.prototype.sort is stable, so among equal key hashes the last change stays last.
  items.sort((a, b) => compareBytes(a.keyHash, b.keyHash));
  let n = 0;
  for (let i = 0; i < items.length; i++) {
    const next = items[i + 1];
    if (next === undefined || !equalBytes(items[i]!.keyHash, next.keyHash)) items[n++] = items[i]!;
  }
  items.length = n;
  return items;
}

/** End of the run of items[lo..] that share the nibble at `depth`. */
function groupEnd(items: readonly Item[], lo: number, hi: number, depth: number): number {
  const nibble = nibbleAt(items[lo]!.keyHash, depth);
  let j = lo + 1;
  while (j < hi && nibbleAt(items[j]!.keyHash, depth) === nibble) j++;
  return j;
}

function loadNode(reader: NodeReader, key: Uint8Array, leaf: boolean): Uint8Array {
  const bytes = reader.getNode(key);
  if (bytes === undefined) {
    throw new SmtError("MISSING_NODE", `node ${describeNodeKey(key)} is not in the store`);
  }
  if (bytes[0] !== (leaf ? LEAF_TAG : INTERNAL_TAG)) {
    throw new SmtError("CORRUPT_NODE", `node ${describeNodeKey(key)} has the wrong kind`);
  }
  return bytes;
}

/** The leaf with key hash `keyHash` whose record was written at `version`. */
function loadLeaf(reader: NodeReader, version: Uint8Array, keyHash: Uint8Array): LeafNode {
  const key = leafKey(version, keyHash);
  const leaf = decodeLeaf(loadNode(reader, key, true), key);
  if (!equalBytes(leaf.keyHash, keyHash)) {
    throw new SmtError("CORRUPT_NODE", `node ${describeNodeKey(key)} holds another key's leaf`);
  }
  return leaf;
}

/** Sets slot `slot` of `node` as an update's outcome left it. */
function place(node: Internal, slot: number, outcome: Outcome, version: Uint8Array): void {
  if (outcome.kind === "empty") node.clear(slot);
  else if (outcome.kind === "leaf") {
    node.setLeaf(slot, outcome.item.hash!, outcome.item.at ?? version, outcome.item.keyHash);
  } else if (outcome.kind === "internal") node.setNode(slot, outcome.hash, version);
}

/** One update in progress: the writes it has collected so far. */
class Update {
  readonly nodes: Array<readonly [Uint8Array, Uint8Array]> = [];
  readonly stale: Array<readonly [bigint, Uint8Array]> = [];

  constructor(
    private readonly reader: NodeReader,
    private readonly cache: NodeCache,
    private readonly cacheWrites: boolean,
    private readonly version: bigint,
    private readonly v8: Uint8Array,
  ) {}

  /**
   * The stored internal node at `key`, `depth` nibbles deep and hashing to `hash`, after the
   * changes items[lo, hi).
   */
  existing(
    key: Uint8Array,
    hash: Uint8Array,
    depth: number,
    items: readonly Item[],
    lo: number,
    hi: number,
  ): Outcome {
    // The node leaves the cache: this update either changes it, and caches the result under
    // its new key, or puts it back as it was.
    const node =
      this.cache.take(key, hash) ?? Internal.decode(loadNode(this.reader, key, false), key);
    if (depth >= MAX_DEPTH) {
      throw new SmtError("CORRUPT_NODE", `node ${describeNodeKey(key)} is below the last nibble`);
    }
    let pending: Array<Item | undefined> | undefined;
    for (let i = lo; i < hi; ) {
      const j = groupEnd(items, i, hi, depth);
      const slot = nibbleAt(items[i]!.keyHash, depth);
      const bit = 1 << slot;
      const outcome =
        (node.children & bit) === 0
          ? this.fresh(depth + 1, items, i, j)
          : node.leaves & bit
            ? this.leafSlot(node, slot, depth + 1, items, i, j)
            : this.existing(
                nodeKey(node.childVersion(slot), items[i]!.keyHash, depth + 1),
                node.childHash(slot),
                depth + 1,
                items,
                i,
                j,
              );
      if (outcome !== SAME) {
        place(node, slot, outcome, this.v8);
        pending ??= [];
        pending[slot] = outcome.kind === "leaf" ? outcome.item : undefined;
      }
      i = j;
    }
    if (pending === undefined) {
      this.cache.put(key, hash.slice(), node);
      return SAME;
    }
    this.retire(key);
    return this.finish(depth, items[lo]!.keyHash, node, pending);
  }

  /**
   * The leaf in `parent`'s slot `slot` after items[lo, hi). The parent holds the leaf's key
   * hash, so no case reads the leaf: replacing or deleting its key retires it, new keys beside
   * it push it down into a new subtree, where its record is referred to as it is.
   */
  private leafSlot(
    parent: Internal,
    slot: number,
    depth: number,
    items: readonly Item[],
    lo: number,
    hi: number,
  ): Outcome {
    let match: Item | undefined;
    let split = false;
    for (let i = lo; i < hi; i++) {
      const item = items[i]!;
      if (parent.leafKeyIs(slot, item.keyHash)) match = item;
      else if (item.value !== undefined) split = true;
    }
    const hash = parent.childHash(slot);
    if (!split) {
      if (match === undefined) return SAME;
      if (match.value !== undefined && equalBytes(match.hash!, hash)) return SAME;
      this.retire(leafKey(parent.childVersion(slot), match.keyHash));
      return match.value === undefined ? GONE : { kind: "leaf", item: match };
    }
    const stored = storedItem(parent.leafKeyHash(slot), hash, parent.childVersion(slot));
    return this.storedLeaf(stored, depth, items, lo, hi);
  }

  /**
   * A stored leaf (an item with `at`) after items[lo, hi): replaced, deleted, pushed down
   * beside new keys, or untouched.
   */
  storedLeaf(stored: Item, depth: number, items: readonly Item[], lo: number, hi: number): Outcome {
    const merged: Item[] = [];
    let override: Item | undefined;
    let at = -1;
    let inserted = false;
    for (let i = lo; i < hi; i++) {
      const item = items[i]!;
      const order = compareBytes(item.keyHash, stored.keyHash);
      if (order === 0) {
        override = item;
        continue;
      }
      if (order > 0 && at < 0) at = merged.length;
      if (item.value !== undefined) inserted = true;
      merged.push(item);
    }
    // Equal leaf hashes mean equal values: the key hash is the same.
    const replaced =
      override !== undefined &&
      (override.value === undefined || !equalBytes(override.hash!, stored.hash!));
    if (!replaced && !inserted) return SAME;
    if (replaced) this.retire(leafKey(stored.at!, stored.keyHash));
    merged.splice(at < 0 ? merged.length : at, 0, replaced ? override! : stored);
    return this.build(depth, merged, 0, merged.length);
  }

  /** An empty subtree after items[lo, hi). */
  fresh(depth: number, items: readonly Item[], lo: number, hi: number): Outcome {
    for (let i = lo; i < hi; i++) {
      if (items[i]!.value !== undefined) return this.build(depth, items, lo, hi);
    }
    return SAME;
  }

  /** A new subtree holding the non-delete items of items[lo, hi). */
  private build(depth: number, items: readonly Item[], lo: number, hi: number): Outcome {
    let first: Item | undefined;
    let count = 0;
    for (let i = lo; i < hi && count < 2; i++) {
      const item = items[i]!;
      if (item.value !== undefined) {
        first ??= item;
        count++;
      }
    }
    if (first === undefined) return GONE;
    if (count === 1) return { kind: "leaf", item: first };
    const node = Internal.empty();
    const pending: Array<Item | undefined> = [];
    for (let i = lo; i < hi; ) {
      const j = groupEnd(items, i, hi, depth);
      const outcome = this.build(depth + 1, items, i, j);
      if (outcome !== GONE) {
        const slot = nibbleAt(items[i]!.keyHash, depth);
        place(node, slot, outcome, this.v8);
        if (outcome.kind === "leaf") pending[slot] = outcome.item;
      }
      i = j;
    }
    return this.finish(depth, first.keyHash, node, pending);
  }

  /**
   * Writes `node`, `depth` nibbles along `path`, with the new leaves `pending` in its slots, or
   * lifts its lone leaf into its place.
   */
  private finish(
    depth: number,
    path: Uint8Array,
    node: Internal,
    pending: ReadonlyArray<Item | undefined>,
  ): Outcome {
    const { children, leaves } = node;
    if (children === 0) return GONE;
    if ((children & (children - 1)) === 0 && leaves !== 0) {
      const slot = lowestBit(children);
      const item = pending[slot];
      if (item !== undefined) return { kind: "leaf", item };
      // An untouched stored leaf whose siblings all went: it moves up to this node's place.
      return {
        kind: "leaf",
        item: storedItem(node.leafKeyHash(slot), node.childHash(slot), node.childVersion(slot)),
      };
    }
    for (let rest = leaves; rest !== 0; rest &= rest - 1) {
      const item = pending[lowestBit(rest)];
      if (item !== undefined) this.writeLeaf(item);
    }
    const key = nodeKey(this.v8, path, depth);
    const hash = node.hash();
    this.nodes.push([key, node.encode()]);
    if (this.cacheWrites) this.cache.put(key, hash, node);
    return { kind: "internal", hash };
  }

  /** Writes a new leaf; a moved one (with `at`) keeps its record. */
  writeLeaf(item: Item): void {
    if (item.at !== undefined) return;
    this.nodes.push([
      leafKey(this.v8, item.keyHash),
      encodeLeaf(item.keyHash, item.key, item.value!),
    ]);
  }

  private retire(key: Uint8Array): void {
    this.stale.push([this.version, key]);
  }
}

const MAX_VERSION = (1n << 64n) - 1n;
const MAX_TRACKED_VERSIONS = 4096;

export interface TreeOptions {
  /**
   * How many internal nodes to keep decoded in memory (default 131,072; about 1.8 KB each).
   * 0 turns the cache off. The cache holds little besides the current tree's nodes, so it
   * takes memory in proportion to the state until it is full. Updates and proofs skip most
   * node reads and rehashing while this is above the tree's internal node count, which is
   * 35-40% of its key count: the default covers some 300,000 keys.
   */
  readonly cacheSize?: number;
}

export class JellyfishTree {
  private readonly cache: NodeCache;
  /** The base of the updates to each recent version, and the versions updated from two. */
  private readonly bases = new Map<bigint, bigint | undefined>();
  private readonly mixed = new Set<bigint>();
  /** Versions below this are no longer tracked (see cacheable). */
  private oldestTracked = 0n;

  constructor(
    private readonly reader: NodeReader,
    options: TreeOptions = {},
  ) {
    this.cache = new NodeCache(options.cacheSize ?? 1 << 17);
  }

  /** The root hash at `version`; SmtError("UNKNOWN_VERSION") if none is recorded. */
  rootHash(version: bigint): Uint8Array {
    return this.rootRef(version).hash.slice();
  }

  /** The value of `key` at `version`, or undefined if the key is absent. */
  get(version: bigint, key: Uint8Array): Uint8Array | undefined {
    const keyHash = keyHashOf(key);
    const leaf = this.walk(version, keyHash, undefined);
    if (leaf === undefined || !equalBytes(leaf.keyHash, keyHash)) return undefined;
    if (!equalBytes(leaf.key, key)) {
      throw new SmtError("CORRUPT_NODE", "a stored leaf's key does not match its key hash");
    }
    return leaf.value.slice();
  }

  /** A proof of the value of `key` at `version`, or of its absence. */
  prove(version: bigint, key: Uint8Array): SmtProof {
    const siblings: Uint8Array[] = [];
    const leaf = this.walk(version, keyHashOf(key), siblings);
    if (leaf === undefined) return { siblings };
    return {
      leaf: { keyHash: leaf.keyHash.slice(), valueHash: valueHashOf(leaf.value) },
      siblings,
    };
  }

  /**
   * Applies `changes` as a set to the tree at `base` (undefined: the empty tree) and returns the
   * writes that make up the tree at `version`. Duplicate keys: the last change wins. Writing a
   * key's current value or deleting an absent key changes nothing. Reads only; writes nothing.
   */
  update(base: bigint | undefined, version: bigint, changes: ReadonlyArray<TreeChange>): TreeBatch {
    if (typeof version !== "bigint" || version < 0n || version > MAX_VERSION) {
      badUpdate("version must be a u64");
    }
    if (base !== undefined && (typeof base !== "bigint" || base >= version)) {
      badUpdate(`version ${version} must be above its base ${String(base)}`);
    }
    const baseRef: RootRef =
      base === undefined ? { hash: EMPTY_HASH, version: undefined } : this.rootRef(base);
    const items = prepare(changes);
    const v8 = u64be(version);
    const cacheWrites = this.cacheable(version, base, v8);
    const update = new Update(this.reader, this.cache, cacheWrites, version, v8);
    let outcome = SAME;
    if (items.length > 0) {
      if (baseRef.version === undefined) outcome = update.fresh(0, items, 0, items.length);
      else if (baseRef.leaf !== undefined) {
        const stored = storedItem(baseRef.leaf, baseRef.hash, baseRef.version);
        outcome = update.storedLeaf(stored, 0, items, 0, items.length);
      } else {
        const key = rootNodeKey(baseRef.version);
        outcome = update.existing(key, baseRef.hash, 0, items, 0, items.length);
      }
    }
    let ref = baseRef;
    if (outcome.kind === "empty") ref = { hash: EMPTY_HASH, version: undefined };
    else if (outcome.kind === "internal") ref = { hash: outcome.hash, version: v8 };
    else if (outcome.kind === "leaf") {
      const { item } = outcome;
      update.writeLeaf(item);
      ref = { hash: item.hash!, version: item.at ?? v8, leaf: item.keyHash };
    }
    return {
      version,
      rootHash: ref.hash.slice(),
      nodes: update.nodes,
      roots: [[version, encodeRootRef(ref)]],
      stale: update.stale,
    };
  }

  /**
   * A cheap start-up check that the store matches its recorded root: the root node of `version`
   * must hash to the root hash, from its stored child hashes (one level, no descent).
   * Throws SmtError ROOT_MISMATCH, or the codes of a failed read.
   */
  checkRoot(version: bigint): void {
    const ref = this.rootRef(version);
    if (ref.version === undefined) return;
    let hash: Uint8Array;
    if (ref.leaf !== undefined) {
      const leaf = loadLeaf(this.reader, ref.version, ref.leaf);
      if (!equalBytes(keyHashOf(leaf.key), leaf.keyHash)) {
        throw new SmtError("ROOT_MISMATCH", `root leaf of version ${version} has a wrong key hash`);
      }
      hash = leafHash(leaf.keyHash, valueHashOf(leaf.value));
    } else {
      const key = rootNodeKey(ref.version);
      hash = Internal.decode(loadNode(this.reader, key, false), key).hash();
    }
    if (!equalBytes(hash, ref.hash)) {
      throw new SmtError(
        "ROOT_MISMATCH",
        `root node of version ${version} does not match its hash`,
      );
    }
  }

  private rootRef(version: bigint): RootRef {
    const bytes = this.reader.getRoot(version);
    if (bytes === undefined) {
      throw new SmtError("UNKNOWN_VERSION", `no state tree is kept for version ${version}`);
    }
    return decodeRootRef(bytes, version);
  }

  /**
   * Whether this update's nodes may be cached, keeping the cache's premise (see NodeCache): the
   * cached nodes of a version all come from updates on one base. Once a version has updates
   * from two bases, none of them can be trusted to be the one committed, so the version's
   * nodes leave the cache and are never cached from updates again.
   */
  private cacheable(version: bigint, base: bigint | undefined, v8: Uint8Array): boolean {
    if (this.mixed.has(version)) return false;
    const known = this.bases.has(version);
    if (known && this.bases.get(version) === base) return true;
    // A second base, or a version too old to be tracked: the cache keeps none of its nodes.
    if (known || version < this.oldestTracked) {
      this.mixed.add(version);
      this.cache.forgetVersion(v8);
      return false;
    }
    this.bases.set(version, base);
    if (this.bases.size > MAX_TRACKED_VERSIONS) this.forgetOlderHalf();
    return true;
  }

  /** Bounds the records: versions below the median stop being tracked. */
  private forgetOlderHalf(): void {
    const versions = [...this.bases.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.oldestTracked = versions[versions.length >> 1]!;
    for (const v of versions) if (v < this.oldestTracked) this.bases.delete(v);
    for (const v of [...this.mixed]) if (v < this.oldestTracked) this.mixed.delete(v);
  }

  /**
   * Follows `keyHash` down the tree at `version` to where its path ends: a leaf (the key's own
   * or another's) or an empty subtree (undefined). Collects the binary siblings if asked.
   */
  private walk(
    version: bigint,
    keyHash: Uint8Array,
    siblings: Uint8Array[] | undefined,
  ): LeafNode | undefined {
    const ref = this.rootRef(version);
    if (ref.version === undefined) return undefined;
    if (ref.leaf !== undefined) return loadLeaf(this.reader, ref.version, ref.leaf);
    let key = rootNodeKey(ref.version);
    let hash = ref.hash;
    for (let depth = 0; ; depth++) {
      let node = this.cache.get(key, hash);
      if (node === undefined) {
        node = Internal.decode(loadNode(this.reader, key, false), key);
        this.cache.put(key, hash.slice(), node);
      }
      if (depth >= MAX_DEPTH) {
        throw new SmtError("CORRUPT_NODE", `node ${describeNodeKey(key)} is below the last nibble`);
      }
      const slot = nibbleAt(keyHash, depth);
      if (siblings !== undefined) {
        // Descend the node's binary tree: position p's children are 2p and 2p + 1.
        for (let level = 1; level <= 4; level++) {
          const position = (1 << level) | (slot >> (4 - level));
          siblings.push(node.hashAt(position ^ 1));
          const kind = node.kind(position);
          if (kind === EMPTY_SLOT) return undefined;
          if (kind === LEAF) {
            const child = node.loneLeaf(position);
            return loadLeaf(this.reader, node.childVersion(child), node.leafKeyHash(child));
          }
        }
      }
      const bit = 1 << slot;
      if ((node.children & bit) === 0) return undefined;
      if ((node.leaves & bit) !== 0) {
        return loadLeaf(this.reader, node.childVersion(slot), node.leafKeyHash(slot));
      }
      key = nodeKey(node.childVersion(slot), keyHash, depth + 1);
      hash = node.childHash(slot);
    }
  }
}
