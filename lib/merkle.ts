// Binary Merkle trees in the shape of RFC 6962 (Certificate Transparency): a tree of n leaves
// splits at the largest power of two below n, so appending leaves never reshapes the left part
// and inclusion proofs are at most ceil(log2 n) hashes. Leaf and node hashes carry different
// first bytes (0x00, 0x01) so a node can never pass as a leaf, and each tree hashes in its own
// domain so a tx-root proof proves nothing about receipts. Browser-safe.
import { equalBytes } from "./bytes.js";
import { type Domain, domainHash } from "./hash.js";

export type MerkleDomain = Extract<Domain, "tx-root" | "receipts-root">;

const LEAF = new Uint8Array([0x00]);
const NODE = new Uint8Array([0x01]);

export function merkleLeafHash(domain: MerkleDomain, leaf: Uint8Array): Uint8Array {
  return domainHash(domain, LEAF, leaf);
}

function nodeHash(domain: MerkleDomain, left: Uint8Array, right: Uint8Array): Uint8Array {
  return domainHash(domain, NODE, left, right);
}

/** The hash of one level up: pairs adjacent nodes; an odd last node is carried up unchanged. */
function parentLevel(domain: MerkleDomain, level: Uint8Array[]): Uint8Array[] {
  const up: Uint8Array[] = [];
  for (let i = 0; i + 1 < level.length; i += 2) up.push(nodeHash(domain, level[i]!, level[i + 1]!));
  if (level.length % 2 === 1) up.push(level[level.length - 1]!);
  return up;
}

// Carrying the odd node up level by level builds exactly RFC 6962's tree: its left subtree is
// always the complete tree over the first 2^k leaves, and the carried node is the right subtree.
export function merkleRoot(domain: MerkleDomain, leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return domainHash(domain);
  let level = leaves.map((leaf) => merkleLeafHash(domain, leaf));
  while (level.length > 1) level = parentLevel(domain, level);
  return level[0]!;
}

/** Proof that the leaf at `index` is in a tree of `size` leaves: the sibling hashes, leaf first. */
export interface MerkleProof {
  readonly index: number;
  readonly size: number;
  readonly siblings: readonly Uint8Array[];
}

export function merkleProof(
  domain: MerkleDomain,
  leaves: readonly Uint8Array[],
  index: number,
): MerkleProof {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw new RangeError(`merkleProof: index ${index} is outside a tree of ${leaves.length}`);
  }
  const siblings: Uint8Array[] = [];
  let level = leaves.map((leaf) => merkleLeafHash(domain, leaf));
  let i = index;
  while (level.length > 1) {
    const sibling = i % 2 === 1 ? i - 1 : i + 1;
    // The last node of an odd level has no sibling: it is carried up and adds nothing.
    if (sibling < level.length) siblings.push(level[sibling]!);
    level = parentLevel(domain, level);
    i = Math.floor(i / 2);
  }
  return { index, size: leaves.length, siblings };
}

/**
 * Checks a proof against a root (RFC 9162 §2.1.3.2). Never throws: a proof of the wrong shape,
 * with too many or too few hashes or an index outside the tree, is simply not valid.
 * A valid proof shows the leaf is in the tree; as in RFC 6962 the root does not commit to the
 * tree's size, so trust `index` as a position only if `size` comes from a trusted source.
 */
export function verifyMerkleProof(
  domain: MerkleDomain,
  root: Uint8Array,
  leaf: Uint8Array,
  proof: MerkleProof,
): boolean {
  const { index, size, siblings } = proof;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    return false;
  }
  if (!Array.isArray(siblings)) return false;
  // fn walks the leaf's position up the tree and sn the tree's last position; when they meet at
  // an even fn, the node is a carried-up last node and climbs without a sibling.
  let fn = index;
  let sn = size - 1;
  let hash = merkleLeafHash(domain, leaf);
  for (const sibling of siblings) {
    if (!(sibling instanceof Uint8Array) || sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      hash = nodeHash(domain, sibling, hash);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      hash = nodeHash(domain, hash, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && root instanceof Uint8Array && equalBytes(hash, root);
}
