// Proofs against a state root, and their verifier. Browser-safe (the explorer and the wallet
// verify proofs themselves): imports only lib/ and the tree's hash rules.
//
// A proof walks the binary tree from the root along the bits of the key's hash until it ends:
// at the key's own leaf (inclusion), at another key's leaf that shares the path so far
// (absence: that leaf is alone in its subtree), or at an empty subtree (absence).
import { equalBytes } from "../../lib/bytes.js";
import { bytes, CodecError, list, optional, type Schema, struct } from "../../lib/codec.js";
import {
  bitAt,
  EMPTY_HASH,
  isEmptyHash,
  keyHashOf,
  leafHash,
  nodeHash,
  samePrefix,
  valueHashOf,
} from "./hashing.js";

export interface SmtProofLeaf {
  readonly keyHash: Uint8Array;
  readonly valueHash: Uint8Array;
}

export interface SmtProof {
  /** The leaf where the key's path ends; absent when it ends in an empty subtree. */
  readonly leaf?: SmtProofLeaf;
  /** Binary siblings from the root down: siblings[i] is the sibling at depth i + 1. An empty
   * subtree's sibling is EMPTY_HASH (32 zero bytes). */
  readonly siblings: readonly Uint8Array[];
}

/** A key hash has 256 bits, so no path is longer. */
export const MAX_PROOF_DEPTH = 256;

const hash32 = bytes({ length: 32 });

// Deep in the tree most siblings are empty subtrees; they travel as zero-length bytes, so a
// proof costs 2 bytes, not 34, for each of them. 32 zero bytes on the wire is not canonical.
const sibling: Schema<Uint8Array> = {
  name: "sibling",
  toWire(v, path) {
    if (!(v instanceof Uint8Array) || v.length !== 32) {
      throw new CodecError("SCHEMA", `${path}: expected 32 bytes`);
    }
    return isEmptyHash(v) ? new Uint8Array(0) : v;
  },
  fromWire(w, path) {
    if (!(w instanceof Uint8Array) || (w.length !== 0 && w.length !== 32)) {
      throw new CodecError("SCHEMA", `${path}: expected 0 or 32 bytes`);
    }
    return w.length === 0 ? new Uint8Array(32) : hash32.fromWire(w, path);
  },
};

const proofWire = struct("SmtProof", {
  leaf: optional(struct("SmtProofLeaf", { keyHash: hash32, valueHash: hash32 })),
  siblings: list(sibling, MAX_PROOF_DEPTH),
});

type ProofWire = ReturnType<typeof proofWire.fromWire>;

/** `[leaf?: [keyHash, valueHash], siblings]`, through the canonical codec. */
export const SmtProofSchema: Schema<SmtProof> = {
  name: "SmtProof",
  toWire: (v, path) => proofWire.toWire(v as ProofWire, path),
  fromWire(w, path) {
    const { leaf, siblings } = proofWire.fromWire(w, path);
    return leaf === undefined ? { siblings } : { leaf, siblings };
  },
};

function isHash(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array && v.length === 32;
}

/**
 * Whether `proof` shows that `key` has `value` (or, with `value` undefined, is absent) in the
 * tree with root `rootHash`. Never throws: anything malformed is simply not a proof.
 */
export function verifyProof(
  rootHash: Uint8Array,
  key: Uint8Array,
  value: Uint8Array | undefined,
  proof: SmtProof,
): boolean {
  try {
    return check(rootHash, key, value, proof);
  } catch {
    return false;
  }
}

function check(
  rootHash: unknown,
  key: unknown,
  value: unknown,
  proof: Partial<Record<keyof SmtProof, unknown>> | null | undefined,
): boolean {
  if (!isHash(rootHash) || !(key instanceof Uint8Array)) return false;
  if (value !== undefined && !(value instanceof Uint8Array)) return false;
  if (typeof proof !== "object" || proof === null) return false;
  const { leaf, siblings } = proof;
  if (!Array.isArray(siblings) || siblings.length > MAX_PROOF_DEPTH) return false;
  if (!siblings.every(isHash)) return false;
  const keyHash = keyHashOf(key);
  let hash: Uint8Array;
  if (leaf === undefined) {
    if (value !== undefined) return false;
    hash = EMPTY_HASH;
  } else {
    if (typeof leaf !== "object" || leaf === null) return false;
    const { keyHash: leafKey, valueHash } = leaf as Partial<Record<keyof SmtProofLeaf, unknown>>;
    if (!isHash(leafKey) || !isHash(valueHash)) return false;
    if (value === undefined) {
      // Another key's leaf proves absence only where it stands on this key's path.
      if (equalBytes(leafKey, keyHash) || !samePrefix(leafKey, keyHash, siblings.length)) {
        return false;
      }
    } else if (!equalBytes(leafKey, keyHash) || !equalBytes(valueHash, valueHashOf(value))) {
      return false;
    }
    hash = leafHash(leafKey, valueHash);
  }
  for (let depth = siblings.length - 1; depth >= 0; depth--) {
    const other = siblings[depth] as Uint8Array;
    hash = bitAt(keyHash, depth) ? nodeHash(other, hash) : nodeHash(hash, other);
  }
  return equalBytes(hash, rootHash);
}
