// secp256k1 keys for accounts, validators and oracles (DESIGN.md §4). Public keys travel as
// 33-byte compressed points only. Decompressing one costs a modular square root (about 0.1 ms in
// JS), and the same few thousand keys sign almost everything, so valid keys are memoised.
import * as secp from "@noble/secp256k1";
import { toHex } from "./bytes.js";

export const PUBLIC_KEY_LENGTH = 33;
export const SIGNATURE_LENGTH = 64;
export const SECRET_KEY_LENGTH = 32;

export type KeyErrorCode = "INVALID_SECRET_KEY" | "UNKNOWN_KEY_TYPE";

export class KeyError extends Error {
  override name = "KeyError";
  constructor(
    readonly code: KeyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** An entry of LruCache, linked from the newest to the oldest. */
interface LruEntry<V> {
  readonly key: string;
  value: V;
  newer: LruEntry<V> | undefined;
  older: LruEntry<V> | undefined;
}

/**
 * A bounded map that forgets the least recently used entry first; backs the key and
 * transaction caches. The entries are linked in order of use, so finding the oldest is one
 * pointer: taking it from the Map's iteration order instead cost microseconds per write on a
 * full cache (the iterator steps over every entry deleted since the table was last rebuilt),
 * which was a few percent of a loaded validator's CPU.
 */
export class LruCache<V> {
  readonly #entries = new Map<string, LruEntry<V>>();
  #newest: LruEntry<V> | undefined;
  #oldest: LruEntry<V> | undefined;

  constructor(readonly capacity: number) {}

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#touch(entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      entry.value = value;
      this.#touch(entry);
      return;
    }
    const added: LruEntry<V> = { key, value, newer: undefined, older: this.#newest };
    if (this.#newest) this.#newest.newer = added;
    else this.#oldest = added;
    this.#newest = added;
    this.#entries.set(key, added);
    if (this.#entries.size > this.capacity) {
      const oldest = this.#oldest!;
      this.#unlink(oldest);
      this.#entries.delete(oldest.key);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Moves the entry to the newest end. */
  #touch(entry: LruEntry<V>): void {
    if (entry === this.#newest) return;
    this.#unlink(entry);
    entry.older = this.#newest;
    entry.newer = undefined;
    if (this.#newest) this.#newest.newer = entry;
    else this.#oldest = entry;
    this.#newest = entry;
  }

  #unlink(entry: LruEntry<V>): void {
    if (entry.newer) entry.newer.older = entry.older;
    else this.#newest = entry.older;
    if (entry.older) entry.older.newer = entry.newer;
    else this.#oldest = entry.newer;
  }
}

/** Uses crypto.getRandomValues through noble; the result is always a valid scalar. */
export function generateSecretKey(): Uint8Array {
  return secp.utils.randomSecretKey();
}

export function isValidSecretKey(secretKey: Uint8Array): boolean {
  return (
    secretKey instanceof Uint8Array &&
    secretKey.length === SECRET_KEY_LENGTH &&
    secp.utils.isValidSecretKey(secretKey)
  );
}

/** The 33-byte compressed public key; throws KeyError for a secret key outside 1..n-1. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  if (!isValidSecretKey(secretKey)) {
    throw new KeyError("INVALID_SECRET_KEY", "secret key must be 32 bytes encoding 1..n-1");
  }
  return secp.getPublicKey(secretKey, true);
}

const uncompressed = new LruCache<Uint8Array>(8192);

/**
 * The 65-byte uncompressed form (0x04 || x || y) of a valid 33-byte compressed key, or
 * undefined if the bytes are not one: wrong length, a prefix other than 02/03, x ≥ p, or an x
 * with no point on the curve. The result is shared with the cache: read it, never write to it.
 */
export function uncompressedPublicKey(publicKey: Uint8Array): Uint8Array | undefined {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return;
  if (publicKey[0] !== 0x02 && publicKey[0] !== 0x03) return;
  const id = toHex(publicKey);
  const cached = uncompressed.get(id);
  if (cached) return cached;
  let point: Uint8Array;
  try {
    point = secp.Point.fromBytes(publicKey).toBytes(false);
  } catch {
    return;
  }
  uncompressed.set(id, point);
  return point;
}

/** Exactly 33 bytes, prefix 02 or 03, a point on the curve. Never throws. */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  return uncompressedPublicKey(publicKey) !== undefined;
}
