// Account addresses, derived the way Ethereum derives them (DESIGN.md §4) so wallets and
// explorers show a familiar form: the last 20 bytes of keccak-256 of the uncompressed public key
// without its 0x04 prefix, written as 0x-hex with the EIP-55 mixed-case checksum.
import { fromHex, toHex, utf8 } from "./bytes.js";
import { keccak256 } from "./hash.js";
import { LruCache, uncompressedPublicKey } from "./keys.js";

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

/**
 * The same few thousand signers send almost every transaction, and each one's address is
 * derived several times on its way (admission's role checks, execution, the indexes): keccak in
 * JS costs more than the rest of that lookup, so addresses are memoised by key.
 */
const addresses = new LruCache<Uint8Array>(8192);

export function addressOf(publicKey: Uint8Array): Uint8Array {
  const point = uncompressedPublicKey(publicKey);
  if (!point) {
    throw new AddressError("BAD_PUBLIC_KEY", "not a valid 33-byte compressed secp256k1 key");
  }
  const key = toHex(publicKey);
  let address = addresses.get(key);
  if (!address) {
    address = keccak256(point.subarray(1)).slice(32 - ADDRESS_LENGTH);
    addresses.set(key, address);
  }
  // A copy: callers own the bytes they get.
  return address.slice();
}

/** EIP-55: a hex letter is upper case when the matching nibble of keccak(lower-case hex) ≥ 8. */
export function toChecksumAddress(address: Uint8Array): string {
  if (!(address instanceof Uint8Array) || address.length !== ADDRESS_LENGTH) {
    throw new AddressError("BAD_LENGTH", `an address is ${ADDRESS_LENGTH} bytes`);
  }
  const hex = toHex(address);
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
