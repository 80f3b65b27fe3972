// ECDSA signatures (DESIGN.md §4): the digest is SHA-256 of the message, the encoding is 64-byte
// compact r || s, and only low-s is valid (0 < r < n, 0 < s ≤ n/2) so every signed message has
// exactly one signature encoding. noble signs. Node verifies through OpenSSL, about four times
// faster, but OpenSSL accepts high-s; so both paths first apply the same checks here, and the
// set of accepted signatures is the same whichever path runs (test/lib/signature.test.ts).
import type { KeyObject } from "node:crypto";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import * as secp from "@noble/secp256k1";
import { concatBytes, fromHex, toHex } from "./bytes.js";
import {
  isValidPublicKey,
  isValidSecretKey,
  KeyError,
  LruCache,
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
} from "./keys.js";

// noble needs these for synchronous RFC 6979 signing and for prehash (digest = sha256(message)).
secp.hashes.hmacSha256 = (key, message) => hmac(sha256, key, message);
secp.hashes.sha256 = sha256;

type NodeCrypto = {
  createPublicKey(key: { key: Uint8Array; format: "der"; type: "spki" }): KeyObject;
  verify(
    algorithm: string,
    data: Uint8Array,
    key: { key: KeyObject; dsaEncoding: "ieee-p1363" },
    signature: Uint8Array,
  ): boolean;
};

// Reached without a static import (as in hash.ts) so browser bundles never pull in node:crypto.
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;

/** True when verify runs through OpenSSL (Node); false in the browser, where noble verifies. */
export const hasOpenSsl = nodeCrypto !== undefined;

/** What the guarded verifier needs to know about one curve. */
export interface EcdsaCurve {
  /** The group order n. */
  readonly order: bigint;
  /** DER SubjectPublicKeyInfo up to the 33-byte compressed point, so OpenSSL can import it. */
  readonly spkiPrefix: Uint8Array;
  /** 33 bytes, prefix 02/03, on the curve; never throws. */
  readonly isValidPublicKey: (publicKey: Uint8Array) => boolean;
  /** noble's ECDSA verify over sha256(message), rejecting high-s. */
  readonly nobleVerify: (signature: Uint8Array, message: Uint8Array, pk: Uint8Array) => boolean;
}

export type VerifyFn = (
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
) => boolean;

export interface EcdsaVerifier {
  /** 64 bytes with 0 < r < n and 0 < s ≤ n/2. */
  readonly isCanonical: (signature: Uint8Array) => boolean;
  /** The fast path: our checks, then OpenSSL with a cached key; noble when there is no OpenSSL. */
  readonly verify: VerifyFn;
  /** Our checks, then noble only. */
  readonly verifyJs: VerifyFn;
  /** The low-s twin (r, n − s) of a high-s signature; any other input is returned unchanged. */
  readonly toLowS: (signature: Uint8Array) => Uint8Array;
}

const SCALAR = 32;

function scalarAt(signature: Uint8Array, offset: number): bigint {
  return BigInt(`0x${toHex(signature.subarray(offset, offset + SCALAR))}`);
}

function scalarBytes(value: bigint): Uint8Array {
  return fromHex(value.toString(16).padStart(2 * SCALAR, "0"));
}

/** Builds the guarded verify pair for one curve; shared by secp256k1 here and P-256 meter keys. */
export function ecdsaVerifier(curve: EcdsaCurve): EcdsaVerifier {
  const n = curve.order;
  const halfN = n >> 1n;

  const isCanonical = (signature: Uint8Array): boolean => {
    if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
    const r = scalarAt(signature, 0);
    const s = scalarAt(signature, SCALAR);
    return r > 0n && r < n && s > 0n && s <= halfN;
  };

  const verifyJs: VerifyFn = (publicKey, message, signature) => {
    if (!isCanonical(signature) || !(message instanceof Uint8Array)) return false;
    if (!curve.isValidPublicKey(publicKey)) return false;
    try {
      return curve.nobleVerify(signature, message, publicKey);
    } catch {
      return false;
    }
  };

  const toLowS = (signature: Uint8Array): Uint8Array => {
    if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) {
      return signature;
    }
    const s = scalarAt(signature, SCALAR);
    if (s <= halfN || s >= n) return signature;
    return concatBytes(signature.subarray(0, SCALAR), scalarBytes(n - s));
  };

  const openSsl = nodeCrypto;
  if (!openSsl) return { isCanonical, verify: verifyJs, verifyJs, toLowS };

  // Importing a key costs about a third of a verify, and a few thousand keys sign almost
  // everything; a cached KeyObject also means the key was already checked on the curve.
  const keyObjects = new LruCache<KeyObject>(4096);
  const keyObjectOf = (publicKey: Uint8Array): KeyObject | "invalid" | "unimportable" => {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
      return "invalid";
    }
    const id = toHex(publicKey);
    const cached = keyObjects.get(id);
    if (cached) return cached;
    if (!curve.isValidPublicKey(publicKey)) return "invalid";
    try {
      const key = openSsl.createPublicKey({
        key: concatBytes(curve.spkiPrefix, publicKey),
        format: "der",
        type: "spki",
      });
      keyObjects.set(id, key);
      return key;
    } catch {
      return "unimportable";
    }
  };

  const verify: VerifyFn = (publicKey, message, signature) => {
    if (!isCanonical(signature) || !(message instanceof Uint8Array)) return false;
    const key = keyObjectOf(publicKey);
    if (key === "invalid") return false;
    // A key noble accepts but OpenSSL would not import has never been seen; if one exists, noble
    // decides, so the accepted set still cannot differ between the two paths.
    if (key === "unimportable") return verifyJs(publicKey, message, signature);
    try {
      return openSsl.verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, signature);
    } catch {
      return false;
    }
  };

  return { isCanonical, verify, verifyJs, toLowS };
}

const secp256k1 = ecdsaVerifier({
  order: secp.Point.CURVE().n,
  spkiPrefix: fromHex("3036301006072a8648ce3d020106052b8104000a032200"),
  isValidPublicKey,
  nobleVerify: (signature, message, publicKey) =>
    secp.verify(signature, message, publicKey, { prehash: true, lowS: true }),
});

/** ECDSA over sha256(message): RFC 6979 nonces, 64-byte compact r || s, low-s. */
export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  if (!isValidSecretKey(secretKey)) {
    throw new KeyError("INVALID_SECRET_KEY", "secret key must be 32 bytes encoding 1..n-1");
  }
  return secp.sign(message, secretKey, { prehash: true, lowS: true, format: "compact" });
}

/** Never throws: a bad key, a malformed or high-s signature, or a wrong message gives false. */
export const verify: VerifyFn = secp256k1.verify;

/**
 * A verify that remembers what verified (never a failure) by key, message and signature, the
 * last `capacity` of them. A validator meets each vote up to four times (gossiped, in the commit
 * that decides its block, in the next block's lastCommit; its own as its signer returns it), and
 * verifying them was most of what a height cost an idle network.
 */
export function rememberingVerify(capacity: number, inner: VerifyFn = verify): VerifyFn {
  const verified = new LruCache<true>(capacity);
  return (publicKey, message, signature) => {
    const wellTyped =
      publicKey instanceof Uint8Array &&
      message instanceof Uint8Array &&
      signature instanceof Uint8Array;
    if (!wellTyped) return inner(publicKey, message, signature);
    const key = `${toHex(publicKey)}${toHex(signature)}${toHex(message)}`;
    if (verified.get(key)) return true;
    if (!inner(publicKey, message, signature)) return false;
    verified.set(key, true);
    return true;
  };
}

/** The pure-noble verify with the same checks; what runs without OpenSSL, exported for tests. */
export const verifyJs: VerifyFn = secp256k1.verifyJs;

/** 64 bytes, 0 < r < n, 0 < s ≤ n/2: the only signature encoding the chain accepts. */
export const isCanonicalSignature: (signature: Uint8Array) => boolean = secp256k1.isCanonical;

/** The low-s twin (r, n − s) of a high-s signature, e.g. one made by OpenSSL; else unchanged. */
export const normalizeSignature: (signature: Uint8Array) => Uint8Array = secp256k1.toLowS;
