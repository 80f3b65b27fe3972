// Account addresses, derived the way Ethereum derives them (DESIGN.md §4) so wallets and
// explorers show a familiar form: the last 20 bytes of keccak-256 of the uncompressed public key
// without its 0x04 prefix, written as 0x-hex with the EIP-55 mixed-case checksum.
import { byteString, fromHex, toHex, utf8 } from "./bytes.js";
import { keccak256 } from "./hash.js";
import { LruCache, PUBLIC_KEY_LENGTH, uncompressedPublicKey } from "./keys.js";

export const ADDRESS_LENGTH = 20;

export type AddressErrorCode =
  | "BAD_PREFIX" // the text does not start with 0x
  | "BAD_LENGTH" // not 20 bytes
  | "BAD_HEX" // a character that is not a hex digit
  | "BAD_CHECKSUM" // mixed case that is not the EIP-55 checksum: most likely a typo
  | "BAD_PUBLIC_KEY"; // addressOf was given bytes that are not a valid compressed key

export class AddressError extends Error {
  override name = "AddressError";
  constructor(
    readonly code: AddressErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// Every transaction's signer address is derived from its key, and keccak-256 in JS costs some
// 10-20 µs: about as much as executing a simple transaction. The same few thousand keys sign
// almost everything, so the addresses of valid keys are memoised, as their points are.
const addresses = new LruCache<Uint8Array>(8192);

export function addressOf(publicKey: Uint8Array): Uint8Array {
  const id =
    publicKey instanceof Uint8Array && publicKey.length === PUBLIC_KEY_LENGTH
      ? byteString(publicKey)
      : undefined;
  const cached = id === undefined ? undefined : addresses.get(id);
  if (cached) return cached.slice();
  const point = uncompressedPublicKey(publicKey);
  if (!point || id === undefined) {
    throw new AddressError("BAD_PUBLIC_KEY", "not a valid 33-byte compressed secp256k1 key");
  }
  const address = keccak256(point.subarray(1)).slice(32 - ADDRESS_LENGTH);
  addresses.set(id, address);
  return address.slice();
}

// Checksummed forms by lower-case hex: an RPC node writes the same few thousand addresses over
// and over, and keccak in JavaScript is the dearest part of each.
const checksummed = new LruCache<string>(8192);

/** EIP-55: a hex letter is upper case when the matching nibble of keccak(lower-case hex) ≥ 8. */
export function toChecksumAddress(address: Uint8Array): string {
  if (!(address instanceof Uint8Array) || address.length !== ADDRESS_LENGTH) {
    throw new AddressError("BAD_LENGTH", `an address is ${ADDRESS_LENGTH} bytes`);
  }
  const hex = toHex(address);
  let out = checksummed.get(hex);
  if (out === undefined) {
    out = checksum(hex);
    checksummed.set(hex, out);
  }
  return out;
}

function checksum(hex: string): string {
  const hash = keccak256(utf8(hex));
  let out = "0x";
  for (let i = 0; i < hex.length; i++) {
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0x0f;
    out += nibble >= 8 ? hex[i]!.toUpperCase() : hex[i]!;
  }
  return out;
}

/**
 * Parses `0x` + 40 hex digits. All-lower and all-upper case carry no checksum and are accepted
 * as is; mixed case must be the exact EIP-55 form.
 */
export function parseAddress(text: string): Uint8Array {
  if (typeof text !== "string" || !text.startsWith("0x")) {
    throw new AddressError("BAD_PREFIX", "an address starts with 0x");
  }
  const digits = text.slice(2);
  if (digits.length !== 2 * ADDRESS_LENGTH) {
    throw new AddressError(
      "BAD_LENGTH",
      `an address has ${2 * ADDRESS_LENGTH} hex digits after 0x, got ${digits.length}`,
    );
  }
  if (!/^[0-9a-fA-F]*$/.test(digits)) {
    throw new AddressError("BAD_HEX", "an address has a character that is not a hex digit");
  }
  const address = fromHex(digits);
  const mixedCase = digits !== digits.toLowerCase() && digits !== digits.toUpperCase();
  if (mixedCase && toChecksumAddress(address) !== text) {
    throw new AddressError(
      "BAD_CHECKSUM",
      "address checksum (EIP-55 letter case) does not match; check the address for a typo",
    );
  }
  return address;
}
