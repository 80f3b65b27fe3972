// The wallet keystore's file format (rpc/wallet/keystore.ts): its shape, its checks and the
// pieces its decryption needs, without Node's modules, so the browser explorer can open a file
// made by `wattcap wallet` too (rpc/wallet/keystore-browser.ts).
import { addressOf, parseAddress } from "../../lib/address.js";
import { equalBytes, fromHex, utf8 } from "../../lib/bytes.js";
import { isValidSecretKey, publicKeyOf } from "../../lib/keys.js";

export const KEYSTORE_VERSION = 1;

export type KeystoreErrorCode =
  /** GCM authentication failed: the password is wrong (or the ciphertext was changed). */
  | "WRONG_PASSWORD"
  /** The file is not a keystore of this version, or its fields are damaged. */
  | "CORRUPTED"
  | "NOT_FOUND"
  | "EXISTS"
  /** Several keys and none chosen. */
  | "AMBIGUOUS"
  | "BAD_SECRET"
  | "IO";

export class KeystoreError extends Error {
  override name = "KeystoreError";
  constructor(
    readonly code: KeystoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** About 0.4 s and 128 MiB per unlock: costly to guess, bearable to type. */
export const STANDARD_SCRYPT: ScryptParams = { N: 1 << 17, r: 8, p: 1 };
/** For low-power devices and tests: 16 MiB; weaker against guessing. */
export const LIGHT_SCRYPT: ScryptParams = { N: 1 << 14, r: 8, p: 1 };

export interface KeystoreFile {
  version: number;
  address: string;
  crypto: {
    kdf: "scrypt";
    kdfparams: { N: number; r: number; p: number; salt: string };
    cipher: "aes-256-gcm";
    iv: string;
    ciphertext: string;
    tag: string;
  };
}

/** The address binds the file's name and content: GCM authenticates it as associated data. */
export const aad = (address: string) => utf8(address.toLowerCase());

export const corrupted = (source: string, why: string) =>
  new KeystoreError("CORRUPTED", `${source} is not a valid keystore file: ${why}`);

function hexField(value: unknown, length: number, source: string, name: string): Uint8Array {
  if (typeof value !== "string" || !/^[0-9a-f]*$/.test(value) || value.length !== 2 * length) {
    throw corrupted(source, `${name} must be ${length} bytes of lower-case hex`);
  }
  return fromHex(value);
}

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0;

/** Checks a parsed keystore's shape; throws KeystoreError("CORRUPTED") naming what is wrong. */
export function parseKeystore(text: string, source: string): KeystoreFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw corrupted(source, "not JSON");
  }
  const file = json as Partial<KeystoreFile> | null;
  if (typeof file !== "object" || file === null) throw corrupted(source, "not an object");
  if (file.version !== KEYSTORE_VERSION)
    throw corrupted(source, `unknown version ${String(file.version)}`);
  if (typeof file.address !== "string") throw corrupted(source, "no address");
  try {
    parseAddress(file.address);
  } catch (e) {
    throw corrupted(source, `bad address: ${(e as Error).message}`);
  }
  const c = file.crypto;
  if (typeof c !== "object" || c === null) throw corrupted(source, "no crypto section");
  if (c.kdf !== "scrypt" || c.cipher !== "aes-256-gcm") {
    throw corrupted(source, "only scrypt with aes-256-gcm is supported");
  }
  const k = c.kdfparams;
  if (typeof k !== "object" || k === null) throw corrupted(source, "no kdfparams");
  // Bounds keep a damaged or hostile file from asking for gigabytes of scrypt memory.
  if (
    !isPowerOfTwo(k.N) ||
    k.N > 1 << 20 ||
    k.r !== 8 ||
    !Number.isInteger(k.p) ||
    k.p < 1 ||
    k.p > 4
  ) {
    throw corrupted(source, "kdfparams out of range (N a power of two ≤ 2^20, r = 8, p ≤ 4)");
  }
  hexField(k.salt, 32, source, "salt");
  hexField(c.iv, 12, source, "iv");
  hexField(c.ciphertext, 32, source, "ciphertext");
  hexField(c.tag, 16, source, "tag");
  return file as KeystoreFile;
}

/** Checks an opened secret key against the address the file names. */
export function checkOpenedKey(secret: Uint8Array, file: KeystoreFile, source: string): Uint8Array {
  if (
    !isValidSecretKey(secret) ||
    !equalBytes(addressOf(publicKeyOf(secret)), parseAddress(file.address))
  ) {
    throw corrupted(source, "the key inside does not match its address");
  }
  return secret;
}

export const wrongPassword = (source: string): KeystoreError =>
  new KeystoreError(
    "WRONG_PASSWORD",
    `cannot unlock ${source}: wrong password (or the file was altered)`,
  );

/** scrypt's memory bound for these parameters (its 128·N·r·p working set, plus slack). */
export const scryptMaxmem = (params: ScryptParams): number =>
  128 * params.N * params.r * params.p + (16 << 20);

/** A keystore's sealed parts as bytes, for either implementation of decryption. */
export function sealedParts(file: KeystoreFile) {
  const { kdfparams, iv, ciphertext, tag } = file.crypto;
  const { N, r, p, salt } = kdfparams;
  return {
    params: { N, r, p },
    salt: fromHex(salt),
    iv: fromHex(iv),
    ciphertext: fromHex(ciphertext),
    tag: fromHex(tag),
    aad: aad(file.address),
  };
}
