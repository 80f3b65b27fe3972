// The chain store: blocks, the commits certifying them, receipts and the indexes that find them.
// Block, commit and receipt bytes are opaque here (lib/ and vm/ encode them), so the store never
// depends on their schemas; it keeps the block hash beside each block for the same reason.
import { concatBytes, readU32be, readU64be, u32be, u64be } from "../lib/bytes.js";
import { buckets } from "./buckets.js";
import type { Db, WriteBatch } from "./db.js";
import { StoreError } from "./errors.js";
import { type BytesCodec, fixedBytes, Repository, rawBytes, u64Codec } from "./repository.js";

/** Block hashes and transaction ids are sha256 digests. */
export const HASH_LENGTH = 32;

/** Where a transaction sits: the block's height and its index among the block's txs. */
export interface TxLocation {
  readonly height: bigint;
  readonly index: number;
}

/** (height, index) as u64be || u32be: sorts by height, then index, so a block's receipts are one range. */
const locationCodec: BytesCodec<TxLocation> = {
  encode: ({ height, index }) => concatBytes(u64be(height), u32be(index)),
  decode(bytes) {
    if (bytes.length !== 12) throw new RangeError(`expected 12 bytes, got ${bytes.length}`);
    return { height: readU64be(bytes), index: readU32be(bytes, 8) };
  },
};

export interface BlockRecord {
  readonly height: bigint;
  readonly blockHash: Uint8Array;
  /** The encoded block. */
  readonly block: Uint8Array;
  /** The encoded commit certifying the block. */
  readonly commit: Uint8Array;
  /** The ids of the block's transactions, in block order. */
  readonly txIds: readonly Uint8Array[];
  /** One encoded receipt per transaction, in the same order. */
  readonly receipts: readonly Uint8Array[];
  /**
   * The encoded events of the block's end-of-block work (auctions, settlement), which no
   * receipt carries; kept so that indexes rebuilt from the store hold them too.
   */
  readonly endEvents?: Uint8Array;
}

const U64_MAX = (1n << 64n) - 1n;

/** Heights come from callers such as RPC requests; one outside u64 simply has no block. */
function isHeight(height: bigint): boolean {
  return height >= 0n && height <= U64_MAX;
}

/** Checks a record's shape before anything is written, so a bad one never half-lands. */
function validate(record: BlockRecord): void {
  const bad = (message: string): never => {
    throw new StoreError("INVALID_COMMIT", `block ${record.height}: ${message}`);
  };
  if (record.blockHash.length !== HASH_LENGTH) bad(`block hash is not ${HASH_LENGTH} bytes`);
  if (record.receipts.length !== record.txIds.length) {
    bad(`${record.receipts.length} receipts for ${record.txIds.length} transactions`);
  }
  for (const id of record.txIds) {
    if (id.length !== HASH_LENGTH) bad(`a transaction id is not ${HASH_LENGTH} bytes`);
  }
}

export class ChainStore {
  private readonly blocks: Repository<bigint, Uint8Array>;
  private readonly hashes: Repository<bigint, Uint8Array>;
  private readonly heights: Repository<Uint8Array, bigint>;
  private readonly commits: Repository<bigint, Uint8Array>;
  private readonly receipts: Repository<TxLocation, Uint8Array>;
  private readonly locations: Repository<Uint8Array, TxLocation>;
  private readonly endEvents: Repository<bigint, Uint8Array>;

  constructor(db: Db) {
    const hash = fixedBytes(HASH_LENGTH);
    this.blocks = new Repository(db, buckets.block, u64Codec, rawBytes);
    this.hashes = new Repository(db, buckets.blockHash, u64Codec, hash);
    this.heights = new Repository(db, buckets.blockHeight, hash, u64Codec);
    this.commits = new Repository(db, buckets.commit, u64Codec, rawBytes);
    this.receipts = new Repository(db, buckets.receipt, locationCodec, rawBytes);
    this.locations = new Repository(db, buckets.txLocation, hash, locationCodec);
    this.endEvents = new Repository(db, buckets.blockEvents, u64Codec, rawBytes);
  }

  /** Adds the block, its commit, receipts and indexes to the batch. */
  write(batch: WriteBatch, record: BlockRecord): void {
    validate(record);
    const { height } = record;
    this.blocks.put(batch, height, record.block);
    this.hashes.put(batch, height, record.blockHash);
    this.heights.put(batch, record.blockHash, height);
    this.commits.put(batch, height, record.commit);
    record.txIds.forEach((id, index) => {
      this.receipts.put(batch, { height, index }, record.receipts[index]!);
      this.locations.put(batch, id, { height, index });
    });
    if (record.endEvents !== undefined) this.endEvents.put(batch, height, record.endEvents);
  }

  getBlock(at: bigint | Uint8Array): Uint8Array | undefined {
    const height = typeof at === "bigint" ? at : this.getBlockHeight(at);
    return height === undefined || !isHeight(height) ? undefined : this.blocks.get(height);
  }

  /**
   * Removes a block's body, keeping its hash, commit, receipts and the transactions' locations:
   * what block retention prunes (headers go with the body, so keep those a proof may need).
   */
  deleteBlockBody(batch: WriteBatch, height: bigint): void {
    this.blocks.del(batch, height);
  }

  /** The lowest height at or above `from` whose body is stored, if any. */
  async firstBlockFrom(from: bigint): Promise<bigint | undefined> {
    const [first] = await this.blocks.range({ gte: from, limit: 1 });
    return first?.[0];
  }

  getBlockHash(height: bigint): Uint8Array | undefined {
    return isHeight(height) ? this.hashes.get(height) : undefined;
  }

  getBlockHeight(blockHash: Uint8Array): bigint | undefined {
    return blockHash.length === HASH_LENGTH ? this.heights.get(blockHash) : undefined;
  }

  getCommit(height: bigint): Uint8Array | undefined {
    return isHeight(height) ? this.commits.get(height) : undefined;
  }

  getTxLocation(txId: Uint8Array): TxLocation | undefined {
    return txId.length === HASH_LENGTH ? this.locations.get(txId) : undefined;
  }

  getReceipt(txId: Uint8Array): Uint8Array | undefined {
    const location = this.getTxLocation(txId);
    return location === undefined ? undefined : this.receipts.get(location);
  }

  /** The block's encoded end-of-block events; undefined when it had none (or is unknown). */
  getEndEvents(height: bigint): Uint8Array | undefined {
    return isHeight(height) ? this.endEvents.get(height) : undefined;
  }

  /** The block's receipts in transaction order. */
  async getReceipts(height: bigint): Promise<Uint8Array[]> {
    if (!isHeight(height)) return [];
    const entries = await this.receipts.range({
      gte: { height, index: 0 },
      ...(height < U64_MAX ? { lt: { height: height + 1n, index: 0 } } : {}),
    });
    return entries.map(([, receipt]) => receipt);
  }
}
