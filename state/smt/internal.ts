// An internal node in memory: its 16 child slots and the binary tree hashed over them, kept
// whole so that changing a few children rehashes only their paths to the node's root (4
// hashes each) instead of all 15 inner positions, and a proof reads its siblings directly.
//
// Everything lives in one buffer, one allocation per node:
//   [0, 1024)     position hashes, 32 bytes each: position 1 is the node's root, 2p and 2p+1
//                 are p's children, 16 + i is slot i (position 0 is unused). Empty: zeros.
//   [1024, 1152)  child versions, 8 bytes per slot.
//   [1152, 1184)  the kind of each position: EMPTY, LEAF (exactly one leaf below, lifted
//                 here) or NODE (anything else; at a slot, an internal child).
//   [1184, 1696)  the key hash of each leaf child (stored with the node), so that replacing,
//                 deleting or moving that leaf needs no read of it.
import { nodeHashAt } from "./hashing.js";
import { describeNodeKey, INTERNAL_TAG, lowestBit, popcount16, SmtError } from "./node.js";
import { allocate } from "./slab.js";

export const EMPTY = 0;
export const LEAF = 1;
export const NODE = 2;
export type SlotKind = typeof EMPTY | typeof LEAF | typeof NODE;

const VERSIONS = 1024;
const KINDS = 1152;
const LEAF_KEYS = 1184;
const SIZE = 1696;
/** Positions 1..15, the inner positions. */
const ALL_INNER = 0xfffe;

export class Internal {
  private constructor(
    readonly buf: Uint8Array,
    public children: number,
    public leaves: number,
    /** Bit p set: inner position p must be rehashed. */
    private dirty: number,
  ) {}

  static empty(): Internal {
    return new Internal(allocate(SIZE), 0, 0, 0);
  }

  /** Decodes a stored internal node (layout in node.ts); `where` is its key, for errors. */
  static decode(bytes: Uint8Array, where: Uint8Array): Internal {
    const corrupt = (why: string): never => {
      throw new SmtError("CORRUPT_NODE", `node ${describeNodeKey(where)}: ${why}`);
    };
    if (bytes.length < 5 || bytes[0] !== INTERNAL_TAG) corrupt("not an internal node");
    const children = (bytes[1]! << 8) | bytes[2]!;
    const leaves = (bytes[3]! << 8) | bytes[4]!;
    const count = popcount16(children);
    if ((leaves & ~children) !== 0) corrupt("leaf bitmap names an absent child");
    if (bytes.length !== 5 + 40 * count + 32 * popcount16(leaves)) {
      corrupt("internal node has the wrong length");
    }
    // A lone leaf is always lifted into its parent's place and an empty node removed, so
    // neither is ever written: one in the store is not a node this tree wrote.
    if (count === 0 || (count === 1 && leaves !== 0)) corrupt("internal node is degenerate");
    const buf = allocate(SIZE);
    let offset = 5;
    for (let rest = children; rest !== 0; rest &= rest - 1) {
      const slot = lowestBit(rest);
      const v = VERSIONS + 8 * slot;
      for (let k = 0; k < 8; k++) buf[v + k] = bytes[offset + k]!;
      const h = 32 * (16 + slot);
      for (let k = 0; k < 32; k++) buf[h + k] = bytes[offset + 8 + k]!;
      offset += 40;
      if ((leaves >> slot) & 1) {
        buf[KINDS + 16 + slot] = LEAF;
        const k = LEAF_KEYS + 32 * slot;
        for (let i = 0; i < 32; i++) buf[k + i] = bytes[offset + i]!;
        offset += 32;
      } else buf[KINDS + 16 + slot] = NODE;
    }
    return new Internal(buf, children, leaves, ALL_INNER);
  }

  encode(): Uint8Array {
    const { buf, children, leaves } = this;
    const out = allocate(5 + 40 * popcount16(children) + 32 * popcount16(leaves));
    out[0] = INTERNAL_TAG;
    out[1] = children >> 8;
    out[2] = children & 0xff;
    out[3] = leaves >> 8;
    out[4] = leaves & 0xff;
    let offset = 5;
    for (let rest = children; rest !== 0; rest &= rest - 1) {
      const slot = lowestBit(rest);
      const v = VERSIONS + 8 * slot;
      for (let k = 0; k < 8; k++) out[offset + k] = buf[v + k]!;
      const h = 32 * (16 + slot);
      for (let k = 0; k < 32; k++) out[offset + 8 + k] = buf[h + k]!;
      offset += 40;
      if ((leaves >> slot) & 1) {
        const l = LEAF_KEYS + 32 * slot;
        for (let k = 0; k < 32; k++) out[offset + k] = buf[l + k]!;
        offset += 32;
      }
    }
    return out;
  }

  /** Makes slot `slot` a leaf with `hash` and key hash `keyHash`, written at `version`. */
  setLeaf(slot: number, hash: Uint8Array, version: Uint8Array, keyHash: Uint8Array): void {
    this.leaves |= 1 << slot;
    this.put(slot, LEAF, hash, version);
    this.buf.set(keyHash, LEAF_KEYS + 32 * slot);
  }

  /** Makes slot `slot` an internal child with `hash`, written at `version`. */
  setNode(slot: number, hash: Uint8Array, version: Uint8Array): void {
    this.leaves &= ~(1 << slot);
    this.put(slot, NODE, hash, version);
  }

  private put(slot: number, kind: SlotKind, hash: Uint8Array, version: Uint8Array): void {
    this.children |= 1 << slot;
    this.buf.set(hash, 32 * (16 + slot));
    this.buf.set(version, VERSIONS + 8 * slot);
    this.buf[KINDS + 16 + slot] = kind;
    this.touch(slot);
  }

  /** Whether the leaf in slot `slot` has key hash `keyHash`. */
  leafKeyIs(slot: number, keyHash: Uint8Array): boolean {
    const at = LEAF_KEYS + 32 * slot;
    for (let i = 0; i < 32; i++) if (this.buf[at + i] !== keyHash[i]) return false;
    return true;
  }

  /** A view of the key hash of the leaf in slot `slot`. */
  leafKeyHash(slot: number): Uint8Array {
    return this.buf.subarray(LEAF_KEYS + 32 * slot, LEAF_KEYS + 32 * slot + 32);
  }

  clear(slot: number): void {
    const bit = 1 << slot;
    this.children &= ~bit;
    this.leaves &= ~bit;
    this.buf.fill(0, 32 * (16 + slot), 32 * (17 + slot));
    this.buf[KINDS + 16 + slot] = EMPTY;
    this.touch(slot);
  }

  private touch(slot: number): void {
    for (let p = (16 + slot) >> 1; p >= 1; p >>= 1) this.dirty |= 1 << p;
  }

  /** The node's hash (a view: copy it before handing it out). */
  hash(): Uint8Array {
    this.rehash();
    return this.buf.subarray(32, 64);
  }

  kind(position: number): SlotKind {
    this.rehash();
    return this.buf[KINDS + position] as SlotKind;
  }

  /** A copy of the hash at `position`. */
  hashAt(position: number): Uint8Array {
    this.rehash();
    return this.buf.slice(32 * position, 32 * position + 32);
  }

  /** A view of slot `slot`'s child hash. */
  childHash(slot: number): Uint8Array {
    return this.buf.subarray(32 * (16 + slot), 32 * (17 + slot));
  }

  /** A view of slot `slot`'s child version. */
  childVersion(slot: number): Uint8Array {
    return this.buf.subarray(VERSIONS + 8 * slot, VERSIONS + 8 * slot + 8);
  }

  /** The slot of the only leaf below inner `position`, whose kind is LEAF. */
  loneLeaf(position: number): number {
    let p = position;
    while (p < 16) p = 2 * p + (this.buf[KINDS + 2 * p] === LEAF ? 0 : 1);
    return p - 16;
  }

  // Children before parents: the inner positions in descending order.
  private rehash(): void {
    const { buf } = this;
    for (let p = 15; this.dirty !== 0 && p >= 1; p--) {
      if ((this.dirty & (1 << p)) === 0) continue;
      this.dirty &= ~(1 << p);
      const left = buf[KINDS + 2 * p]!;
      const right = buf[KINDS + 2 * p + 1]!;
      const at = 32 * p;
      if (left === EMPTY && right === EMPTY) {
        buf[KINDS + p] = EMPTY;
        buf.fill(0, at, at + 32);
      } else if ((left === EMPTY && right === LEAF) || (left === LEAF && right === EMPTY)) {
        buf[KINDS + p] = LEAF;
        const from = 32 * (left === LEAF ? 2 * p : 2 * p + 1);
        buf.copyWithin(at, from, from + 32);
      } else {
        buf[KINDS + p] = NODE;
        buf.set(nodeHashAt(buf, 64 * p), at);
      }
    }
  }
}
