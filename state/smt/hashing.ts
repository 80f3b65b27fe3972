// The hashes of the state tree, shared by the tree and the standalone proof verifier.
// Browser-safe: lib/hash falls back to @noble/hashes where node:crypto is absent.
//
// The tree commits to a binary sparse Merkle tree over the 256 bits of each key's hash, with
// every leaf lifted to the highest position where it is alone in its subtree. Storage groups
// four binary levels into one 16-ary node, but the hashes are those of the binary tree, so a
// proof is a list of binary siblings and the root depends only on the set of key/value pairs.
import { domainHash, domainPrefix, sha256 } from "../../lib/hash.js";

/** The hash of an empty subtree, 32 zero bytes: a placeholder no real node can hash to. Shared:
 * never mutate it. */
export const EMPTY_HASH: Uint8Array = new Uint8Array(32);

export function isEmptyHash(hash: Uint8Array): boolean {
  if (hash.length !== 32) return false;
  for (let i = 0; i < 32; i++) if (hash[i] !== 0) return false;
  return true;
}

export function keyHashOf(key: Uint8Array): Uint8Array {
  return domainHash("smt-key", key);
}

export function valueHashOf(value: Uint8Array): Uint8Array {
  return sha256(value);
}

// Batch updates compute node and leaf hashes by the hundred thousand; one reused input buffer
// per domain spares two allocations per hash (sha256 reads it before returning).
const nodePrefix = domainPrefix("smt-node");
const nodeInput = new Uint8Array(nodePrefix.length + 64);
nodeInput.set(nodePrefix);
const leafPrefix = domainPrefix("smt-leaf");
const leafInput = new Uint8Array(leafPrefix.length + 64);
leafInput.set(leafPrefix);

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, nodePrefix.length);
  nodeInput.set(right, nodePrefix.length + 32);
  return sha256(nodeInput);
}

/** nodeHash of the 64 bytes at `src[offset]`: a left and a right hash side by side. */
export function nodeHashAt(src: Uint8Array, offset: number): Uint8Array {
  const at = nodePrefix.length;
  for (let i = 0; i < 64; i++) nodeInput[at + i] = src[offset + i]!;
  return sha256(nodeInput);
}

export function leafHash(keyHash: Uint8Array, valueHash: Uint8Array): Uint8Array {
  leafInput.set(keyHash, leafPrefix.length);
  leafInput.set(valueHash, leafPrefix.length + 32);
  return sha256(leafInput);
}

/** Bit `i` of a key hash, most significant bit of byte 0 first: 0 goes left, 1 goes right. */
export function bitAt(hash: Uint8Array, i: number): number {
  return (hash[i >> 3]! >> (7 - (i & 7))) & 1;
}

/** Whether two key hashes agree on their first `bits` bits. */
export function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i++) if (bitAt(a, i) !== bitAt(b, i)) return false;
  return true;
}
