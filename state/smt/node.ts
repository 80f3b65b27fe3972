// Stored nodes of the Jellyfish tree and their byte layouts. A tight hand-written layout rather
// than the msgpack codec: nodes are read and written by the thousand per block, never travel
// between peers, and a fixed layout lets a child's node key be built by copying bytes.
//
// Node key  = version (u64 BE) | nibble count (u8) | nibbles packed two per byte, high first.
//   Version first, so a version's nodes are adjacent in LevelDB and keys grow with height.
//   An internal node's key is its position. A leaf's is the key of the deepest position on its
//   key hash's path (nibble count 64, the whole key hash), wherever in the tree it sits: a leaf
//   that moves (a new key splits its slot, or its siblings go) keeps its record, so an update
//   neither reads nor rewrites it.
// Leaf      = 0x01 | keyHash (32) | key length (u16 BE) | key | value (the rest).
// Internal  = 0x02 | children bitmap (u16 BE) | leaf bitmap (u16 BE)
//             | per child, in nibble order: child version (u64 BE) | child hash (32)
//               | and for a leaf child, its key hash (32).
//   Bit i of a bitmap is nibble i. An internal child's node key is its version and its
//   parent's path plus its nibble, a leaf child's its version and key hash, so the parent
//   stores just the version; the child's hash saves reading it.
// Root ref  = root hash (32) | root node version (u64 BE), and for a tree that is one leaf, that
//   leaf's key hash (32); or just 32 zero bytes for an empty tree. An internal root node's key
//   is its version with an empty path.
// Internal nodes are decoded into their in-memory form in internal.ts.
import { isEmptyHash } from "./hashing.js";
import { allocate } from "./slab.js";

export type SmtErrorCode =
  | "UNKNOWN_VERSION" // no root recorded for the version: never written, or pruned
  | "MISSING_NODE" // a node the version's tree needs is absent: pruned, or a broken store
  | "CORRUPT_NODE" // stored bytes do not decode to a node or root ref
  | "ROOT_MISMATCH" // the root node does not hash to the recorded root hash
  | "BAD_UPDATE"; // an update's arguments are invalid (version order, key size, types)

export class SmtError extends Error {
  override name = "SmtError";
  constructor(
    readonly code: SmtErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const LEAF_TAG = 0x01;
export const INTERNAL_TAG = 0x02;
/** Key hashes are 64 nibbles, so no node is deeper than that. */
export const MAX_DEPTH = 64;
export const MAX_KEY_LENGTH = 0xffff;

export function nibbleAt(hash: Uint8Array, depth: number): number {
  const b = hash[depth >> 1]!;
  return depth & 1 ? b & 15 : b >> 4;
}

/**
 * The key of the node at `depth` nibbles along `path` (any key hash in its subtree), written at
 * `version` (8 bytes). With `last`, the node is one deeper, at nibble `last` below that prefix.
 */
export function nodeKey(
  version: Uint8Array,
  path: Uint8Array,
  depth: number,
  last = -1,
): Uint8Array {
  const nibbles = last < 0 ? depth : depth + 1;
  const key = new Uint8Array(9 + ((nibbles + 1) >> 1));
  key.set(version);
  key[8] = nibbles;
  for (let i = 0; i < depth >> 1; i++) key[9 + i] = path[i]!;
  if (depth & 1) key[9 + (depth >> 1)] = path[depth >> 1]! & 0xf0;
  if (last >= 0) key[9 + (depth >> 1)]! |= depth & 1 ? last : last << 4;
  return key;
}

/** The key of the leaf with key hash `keyHash` whose record was written at `version`. */
export function leafKey(version: Uint8Array, keyHash: Uint8Array): Uint8Array {
  const key = new Uint8Array(9 + 32);
  key.set(version);
  key[8] = MAX_DEPTH;
  key.set(keyHash, 9);
  return key;
}

/** The root node's key: its version and the empty path. */
export function rootNodeKey(version: Uint8Array): Uint8Array {
  const key = new Uint8Array(9);
  key.set(version);
  return key;
}

export function describeNodeKey(key: Uint8Array): string {
  if (key.length < 9) return "<malformed node key>";
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  let path = "";
  for (let i = 0; i < key[8]! && 9 + (i >> 1) < key.length; i++) {
    path += nibbleAt(key.subarray(9), i).toString(16);
  }
  return `v${view.getBigUint64(0)}/${path || "root"}`;
}

export interface LeafNode {
  readonly keyHash: Uint8Array;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export function encodeLeaf(keyHash: Uint8Array, key: Uint8Array, value: Uint8Array): Uint8Array {
  const out = allocate(35 + key.length + value.length);
  out[0] = LEAF_TAG;
  out.set(keyHash, 1);
  out[33] = key.length >> 8;
  out[34] = key.length & 0xff;
  out.set(key, 35);
  out.set(value, 35 + key.length);
  return out;
}

/** Views into `bytes`, not copies: callers copy what they hand out. */
export function decodeLeaf(bytes: Uint8Array, where: Uint8Array): LeafNode {
  if (bytes.length < 35 || bytes[0] !== LEAF_TAG) corrupt(where, "not a leaf");
  const keyEnd = 35 + ((bytes[33]! << 8) | bytes[34]!);
  if (keyEnd > bytes.length) corrupt(where, "leaf key overruns the node");
  return {
    keyHash: bytes.subarray(1, 33),
    key: bytes.subarray(35, keyEnd),
    value: bytes.subarray(keyEnd),
  };
}

export function popcount16(x: number): number {
  let n = x - ((x >> 1) & 0x5555);
  n = (n & 0x3333) + ((n >> 2) & 0x3333);
  n = (n + (n >> 4)) & 0x0f0f;
  return (n + (n >> 8)) & 0x1f;
}

/** Index of the lowest set bit. */
export function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}

export interface RootRef {
  readonly hash: Uint8Array;
  /** The root node's version (8 bytes); absent for the empty tree. */
  readonly version: Uint8Array | undefined;
  /** The key hash when the root is a leaf. */
  readonly leaf?: Uint8Array | undefined;
}

export function encodeRootRef(ref: RootRef): Uint8Array {
  if (ref.version === undefined) return new Uint8Array(32);
  const out = new Uint8Array(ref.leaf === undefined ? 40 : 72);
  out.set(ref.hash);
  out.set(ref.version, 32);
  if (ref.leaf !== undefined) out.set(ref.leaf, 40);
  return out;
}

export function decodeRootRef(bytes: Uint8Array, version: bigint): RootRef {
  const empty = isEmptyHash(bytes.subarray(0, 32));
  if (bytes.length === 32 && empty) return { hash: bytes, version: undefined };
  if ((bytes.length === 40 || bytes.length === 72) && !empty) {
    return {
      hash: bytes.subarray(0, 32),
      version: bytes.subarray(32, 40),
      leaf: bytes.length === 72 ? bytes.subarray(40) : undefined,
    };
  }
  throw new SmtError("CORRUPT_NODE", `root ref of version ${version} is malformed`);
}

function corrupt(where: Uint8Array, why: string): never {
  throw new SmtError("CORRUPT_NODE", `node ${describeNodeKey(where)}: ${why}`);
}
