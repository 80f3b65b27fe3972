// Meter keys are tagged by curve (DESIGN.md §4): secp256k1 like every other chain key, or P-256,
// the curve of the secure elements in real smart meters. Both sign ECDSA over sha256(reading)
// with 64-byte compact signatures and both are verified with the guarded pattern of
// signature.ts. Real meters often emit high-s P-256 signatures, yet only low-s is accepted:
// with one encoding per signed reading a reading has exactly one id, so a relayed copy with s
// flipped is not a second reading. The oracle converts with normalizeMeterSignature.
import { p256 } from "@noble/curves/nist.js";
import { fromHex } from "./bytes.js";
import {
  generateSecretKey,
  isValidPublicKey,
  KeyError,
  PUBLIC_KEY_LENGTH,
  publicKeyOf,
} from "./keys.js";
import {
  type EcdsaVerifier,
  ecdsaVerifier,
  normalizeSignature,
  sign,
  type VerifyFn,
  verify,
  verifyJs,
} from "./signature.js";

export type MeterKeyType = "secp256k1" | "p256";

interface MeterScheme {
  readonly generateSecretKey: () => Uint8Array;
  readonly publicKeyOf: (secretKey: Uint8Array) => Uint8Array;
  readonly sign: (secretKey: Uint8Array, message: Uint8Array) => Uint8Array;
  readonly isValidPublicKey: (publicKey: Uint8Array) => boolean;
  readonly verify: VerifyFn;
  readonly verifyJs: VerifyFn;
  readonly toLowS: (signature: Uint8Array) => Uint8Array;
}

function isValidP256PublicKey(publicKey: Uint8Array): boolean {
  return (
    publicKey instanceof Uint8Array &&
    publicKey.length === PUBLIC_KEY_LENGTH &&
    (publicKey[0] === 0x02 || publicKey[0] === 0x03) &&
    p256.utils.isValidPublicKey(publicKey, true)
  );
}

function checkedP256SecretKey(secretKey: Uint8Array): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || !p256.utils.isValidSecretKey(secretKey)) {
    throw new KeyError("INVALID_SECRET_KEY", "P-256 secret key must be 32 bytes encoding 1..n-1");
  }
  return secretKey;
}

const p256Verifier: EcdsaVerifier = ecdsaVerifier({
  order: p256.Point.CURVE().n,
  spkiPrefix: fromHex("3039301306072a8648ce3d020106082a8648ce3d030107032200"),
  isValidPublicKey: isValidP256PublicKey,
  nobleVerify: (signature, message, publicKey) =>
    p256.verify(signature, message, publicKey, { prehash: true, lowS: true }),
});

const secp256k1Scheme: MeterScheme = {
  generateSecretKey,
  publicKeyOf,
  sign,
  isValidPublicKey,
  verify,
  verifyJs,
  toLowS: normalizeSignature,
};

const p256Scheme: MeterScheme = {
  generateSecretKey: () => p256.utils.randomSecretKey(),
  publicKeyOf: (secretKey) => p256.getPublicKey(checkedP256SecretKey(secretKey), true),
  sign: (secretKey, message) =>
    p256.sign(message, checkedP256SecretKey(secretKey), {
      prehash: true,
      lowS: true,
      format: "compact",
    }),
  isValidPublicKey: isValidP256PublicKey,
  verify: p256Verifier.verify,
  verifyJs: p256Verifier.verifyJs,
  toLowS: p256Verifier.toLowS,
};

// A switch, not an object lookup: the type may come from decoded bytes ("__proto__", ...).
function schemeOf(type: MeterKeyType): MeterScheme | undefined {
  switch (type) {
    case "secp256k1":
      return secp256k1Scheme;
    case "p256":
      return p256Scheme;
    default:
      return undefined;
  }
}

function knownScheme(type: MeterKeyType): MeterScheme {
  const scheme = schemeOf(type);
  if (!scheme) throw new KeyError("UNKNOWN_KEY_TYPE", `unknown meter key type ${String(type)}`);
  return scheme;
}

/** A fresh secret key for tests and simulated meters. */
export function generateMeterSecretKey(type: MeterKeyType): Uint8Array {
  return knownScheme(type).generateSecretKey();
}

/** The 33-byte compressed public key; throws KeyError for an invalid secret key or type. */
export function meterPublicKeyOf(type: MeterKeyType, secretKey: Uint8Array): Uint8Array {
  return knownScheme(type).publicKeyOf(secretKey);
}

/** ECDSA over sha256(message), RFC 6979, 64-byte compact, low-s on both curves. */
export function signMeter(
  type: MeterKeyType,
  secretKey: Uint8Array,
  message: Uint8Array,
): Uint8Array {
  return knownScheme(type).sign(secretKey, message);
}

/** Never throws; an unknown type is simply not valid. */
export function isValidMeterPublicKey(type: MeterKeyType, publicKey: Uint8Array): boolean {
  return schemeOf(type)?.isValidPublicKey(publicKey) ?? false;
}

/** Never throws: bounds and low-s checks, then OpenSSL (or noble without node:crypto). */
export function verifyMeter(
  type: MeterKeyType,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  return schemeOf(type)?.verify(publicKey, message, signature) ?? false;
}

/** The pure-noble verify with the same checks, exported so tests can compare the two paths. */
export function verifyMeterJs(
  type: MeterKeyType,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  return schemeOf(type)?.verifyJs(publicKey, message, signature) ?? false;
}

/**
 * The low-s form (r, n − s) of a meter's high-s signature: equally valid ECDSA, and the only
 * form the chain accepts. Anything else, including malformed bytes, is returned unchanged.
 */
export function normalizeMeterSignature(type: MeterKeyType, signature: Uint8Array): Uint8Array {
  return knownScheme(type).toLowS(signature);
}
