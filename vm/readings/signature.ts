// Meter signatures on readings (DESIGN.md §2, §6): where a household's meter has a registered
// key, each of its readings must carry the meter's signature over readingSignBytes, so an
// oracle relays readings but cannot forge them. The host may verify a block's meter signatures
// in its worker pool beforehand and pass their keys; any signature not in that set is verified
// here, inline, with the same function, so a block's results never depend on the host's work.
import { concatBytes, toHex } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import { type MeterKeyType, verifyMeter } from "../../lib/meter-key.js";
import type { VerifiedSignatures } from "../context.js";
import type { MeterKey } from "../model/household.js";

const SCHEME_BYTE: Record<MeterKeyType, number> = { secp256k1: 0, p256: 1 };

/**
 * hex(sha256(scheme ‖ publicKey ‖ message ‖ signature)), scheme one byte (0 secp256k1, 1 P-256):
 * the key under which the host reports a verified meter signature. The public key (33 bytes)
 * and the signature (64) have fixed lengths, so the parts cannot be shifted into each other.
 */
export function meterSignatureKey(
  type: MeterKeyType,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): string {
  return toHex(
    sha256(concatBytes(Uint8Array.of(SCHEME_BYTE[type]), publicKey, message, signature)),
  );
}

/** Whether `signature` is the meter's over `message`, trusting the host's set where it has it. */
export function meterSignatureValid(
  meterKey: MeterKey,
  message: Uint8Array,
  signature: Uint8Array | undefined,
  verified: VerifiedSignatures | undefined,
): boolean {
  if (signature === undefined) return false;
  const { type, publicKey } = meterKey;
  const key = verified && meterSignatureKey(type, publicKey, message, signature);
  if (key && verified.has(key)) return true;
  const valid = verifyMeter(type, publicKey, message, signature);
  if (valid && key) verified.add(key);
  return valid;
}
