// Small typed repositories over one bucket each, after Lodestar's: a key encoder that sorts the
// way the domain wants (heights big-endian), a value codec, synchronous point reads and writes
// that only ever go into a batch, so every change reaches disk through one atomic write.
import { concatBytes, readU64be, toHex, u64be } from "../lib/bytes.js";
import { decode, encode, type Schema } from "../lib/codec.js";
import type { Bucket } from "./buckets.js";
import type { Db, RangeOptions, WriteBatch } from "./db.js";
import { StoreError } from "./errors.js";

/** Turns keys or values to bytes and back; decode throws on bytes of another shape. */
export interface BytesCodec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** Heights and versions: u64 big-endian, so LevelDB's byte order is numeric order. */
export const u64Codec: BytesCodec<bigint> = {
  encode: u64be,
  decode(bytes) {
    if (bytes.length !== 8) throw new RangeError(`expected 8 bytes, got ${bytes.length}`);
    return readU64be(bytes);
  },
};

/** Bytes of one exact length: hashes and ids. */
export function fixedBytes(length: number): BytesCodec<Uint8Array> {
  const check = (bytes: Uint8Array): Uint8Array => {
    if (bytes.length !== length) {
      throw new RangeError(`expected ${length} bytes, got ${bytes.length}`);
    }
    return bytes;
  };
  return { encode: check, decode: check };
}

/** Bytes stored exactly as given: blocks, commits and receipts are encoded by lib/ and vm/. */
export const rawBytes: BytesCodec<Uint8Array> = {
  encode: (value) => value,
  decode: (bytes) => bytes,
};

/** Values with a canonical-codec schema; non-canonical bytes on disk count as corruption. */
export function schemaCodec<V>(schema: Schema<V>): BytesCodec<V> {
  return {
    encode: (value) => encode(schema, value),
    decode: (bytes) => decode(schema, bytes),
  };
}

/** The least key greater than every key starting with `prefix`; undefined if there is none. */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = prefix[i]! + 1;
      return end;
    }
  }
  return undefined;
}

export interface KeyRange<K> {
  readonly gte?: K;
  readonly gt?: K;
  readonly lt?: K;
  readonly limit?: number;
  readonly reverse?: boolean;
}

export class Repository<K, V> {
  private readonly prefix: Uint8Array;
  private readonly end: Uint8Array;

  constructor(
    private readonly db: Db,
    readonly bucket: Bucket,
    private readonly keys: BytesCodec<K>,
    private readonly values: BytesCodec<V>,
  ) {
    this.prefix = Uint8Array.of(bucket.prefix);
    this.end = Uint8Array.of(bucket.prefix + 1);
  }

  /** The full database key: the bucket's prefix byte, then the encoded key. */
  dbKey(key: K): Uint8Array {
    return concatBytes(this.prefix, this.keys.encode(key));
  }

  get(key: K): V | undefined {
    const dbKey = this.dbKey(key);
    const bytes = this.db.getSync(dbKey);
    return bytes === undefined ? undefined : this.decodeValue(dbKey, bytes);
  }

  has(key: K): boolean {
    return this.db.getSync(this.dbKey(key)) !== undefined;
  }

  put(batch: WriteBatch, key: K, value: V): void {
    batch.put(this.dbKey(key), this.values.encode(value));
  }

  del(batch: WriteBatch, key: K): void {
    batch.del(this.dbKey(key));
  }

  /** Entries of this bucket within the range, in key order (or reverse), decoded. */
  async *entries(range: KeyRange<K> = {}): AsyncGenerator<readonly [K, V]> {
    const options: RangeOptions = {
      ...(range.gt !== undefined
        ? { gt: this.dbKey(range.gt) }
        : { gte: range.gte === undefined ? this.prefix : this.dbKey(range.gte) }),
      lt: range.lt === undefined ? this.end : this.dbKey(range.lt),
      ...(range.limit === undefined ? {} : { limit: range.limit }),
      ...(range.reverse === undefined ? {} : { reverse: range.reverse }),
    };
    for await (const [dbKey, bytes] of this.db.iterate(options)) {
      yield [this.decodeKey(dbKey), this.decodeValue(dbKey, bytes)];
    }
  }

  async range(range: KeyRange<K> = {}): Promise<Array<readonly [K, V]>> {
    const out: Array<readonly [K, V]> = [];
    for await (const entry of this.entries(range)) out.push(entry);
    return out;
  }

  private decodeKey(dbKey: Uint8Array): K {
    try {
      return this.keys.decode(dbKey.subarray(1));
    } catch (error) {
      throw this.corrupt(dbKey, "key", error);
    }
  }

  private decodeValue(dbKey: Uint8Array, bytes: Uint8Array): V {
    try {
      return this.values.decode(bytes);
    } catch (error) {
      throw this.corrupt(dbKey, "value", error);
    }
  }

  private corrupt(dbKey: Uint8Array, what: string, error: unknown): StoreError {
    const reason = error instanceof Error ? error.message : String(error);
    return new StoreError(
      "CORRUPT",
      `${this.db.path}: bad ${what} in bucket ${this.bucket.name} at key ${toHex(dbKey)}: ${reason}`,
      { cause: error },
    );
  }
}
