// The store: one LevelDB holding the chain and the world state, committed a block at a time.
// Everything a block changes (the block, its commit, receipts, indexes, state values, tree nodes,
// pruning and the head pointer) goes into ONE batch written with fsync, so after a crash or
// power loss the store is at the last complete height, never between two.
import { equalBytes, toHex, utf8 } from "../lib/bytes.js";
import { bytes, struct, text, u64, uint } from "../lib/codec.js";
import { buckets, NODE_PREFIX_MAX, NODE_PREFIX_MIN } from "./buckets.js";
import { type BlockRecord, ChainStore, HASH_LENGTH, type TxLocation } from "./chain-store.js";
import { Db, WriteBatch } from "./db.js";
import { StoreError } from "./errors.js";
import type { Change, StateReader } from "./overlay.js";
import { type BytesCodec, Repository, schemaCodec } from "./repository.js";
import type { SmtProof } from "./smt/proof.js";
import type { TreeBatch } from "./smt/tree.js";
import { WorldState } from "./world-state.js";

export interface Head {
  readonly height: bigint;
  readonly blockHash: Uint8Array;
  /** The state root after executing the block at `height`. */
  readonly stateRoot: Uint8Array;
}

const HeadSchema = struct("Head", {
  height: u64,
  blockHash: bytes({ length: HASH_LENGTH }),
  stateRoot: bytes({ length: HASH_LENGTH }),
});

// Written with the first block, so a directory can be told apart from some other LevelDB and a
// later release can recognise (and migrate or refuse) an older layout.
const FormatSchema = struct("StoreFormat", { name: text(32), version: uint() });
// Format 2: leaves keyed by key hash, their key hashes in the parent (state/smt/node.ts).
const FORMAT = { name: "wattcap-store", version: 2 };

type MetaKey = "head" | "format";

const metaKey: BytesCodec<MetaKey> = {
  encode: (name) => utf8(name),
  decode: () => {
    throw new RangeError("meta keys are never listed");
  },
};

export interface StoreOptions {
  /**
   * How many state versions (heights) to keep provable; older tree versions are pruned in the
   * commit batch. Default 256.
   */
  readonly keepVersions?: number;
  /** Create the store if the directory holds none (default true); false for inspection tools. */
  readonly create?: boolean;
  /**
   * How many recent block bodies to keep (0, the default: all). Older bodies are deleted in the
   * commit batch, at most MAX_PRUNED_PER_COMMIT at a time; hashes, commits and receipts stay.
   * Keep at least keepVersions, so that every provable state still has its block's header.
   */
  readonly blockRetention?: number;
  /**
   * How many values of the head's state to keep in memory for point reads (world-state.ts);
   * 0 turns the cache off. Default DEFAULT_VALUE_CACHE.
   */
  readonly valueCacheSize?: number;
}

/** The result of executing a proposal: its state root and the tree writes that produce it. */
export interface StateCommitment {
  readonly rootHash: Uint8Array;
  readonly treeBatch: TreeBatch;
}

export interface BlockCommit extends BlockRecord {
  /** The block's state changes, as StateOverlay.changes() gives them. */
  readonly changes: readonly Change[];
  /** From computeStateRoot(changes, height) against the current head. */
  readonly treeBatch: TreeBatch;
  /** Writes to the node's own index buckets (owner "node"), committed in the same batch. */
  readonly extra?: WriteBatch;
}

interface Issued {
  readonly base: bigint | undefined;
  readonly changes: readonly Change[];
}

const DEFAULT_KEEP_VERSIONS = 256;
/** Bounds a commit's extra work when retention shrinks over a long history. */
export const MAX_PRUNED_PER_COMMIT = 64;
const U64_MAX = (1n << 64n) - 1n;

function sameChanges(a: readonly Change[], b: readonly Change[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    // The usual case: the very change computeStateRoot was given (issued keeps the entries).
    if (a[i] === b[i]) continue;
    const [ka, va] = a[i]!;
    const [kb, vb] = b[i]!;
    if (!equalBytes(ka, kb)) return false;
    if (va === undefined || vb === undefined ? va !== vb : !equalBytes(va, vb)) return false;
  }
  return true;
}

export class Store {
  readonly chain: ChainStore;
  readonly world: WorldState;
  private readonly heads: Repository<MetaKey, Head>;
  private readonly formats: Repository<MetaKey, { name: string; version: number }>;
  private current: Head | undefined;
  /** The lowest height above the genesis record with a stored block body. */
  private earliest: bigint | undefined;
  private committing = false;
  private closed = false;
  // Tree batches this store computed, with what they were computed from, so a batch computed
  // against an older head or for other changes can never be committed.
  private readonly issued = new WeakMap<TreeBatch, Issued>();

  private constructor(
    /** The database, for the node's own repositories over its index buckets. */
    readonly db: Db,
    private readonly keepVersions: number,
    private readonly blockRetention: number,
    valueCacheSize: number | undefined,
  ) {
    this.chain = new ChainStore(db);
    this.world = new WorldState(db, { valueCacheSize });
    this.heads = new Repository(db, buckets.meta, metaKey, schemaCodec(HeadSchema));
    this.formats = new Repository(db, buckets.meta, metaKey, schemaCodec(FormatSchema));
  }

  /**
   * Opens (or creates) the store at `path` and runs the integrity check. Writes nothing: a new
   * store gets its first records with its first block. Fails with StoreError LOCKED, NOT_FOUND,
   * NOT_A_DIRECTORY, IO, CORRUPT or INCOMPATIBLE.
   */
  static async open(path: string, options: StoreOptions = {}): Promise<Store> {
    const keep = options.keepVersions ?? DEFAULT_KEEP_VERSIONS;
    if (!Number.isSafeInteger(keep) || keep < 1) {
      throw new RangeError(`keepVersions must be a positive integer, got ${keep}`);
    }
    const retention = options.blockRetention ?? 0;
    if (!Number.isSafeInteger(retention) || retention < 0) {
      throw new RangeError(`blockRetention must be a non-negative integer, got ${retention}`);
    }
    const cacheSize = options.valueCacheSize;
    if (cacheSize !== undefined && (!Number.isSafeInteger(cacheSize) || cacheSize < 0)) {
      throw new RangeError(`valueCacheSize must be a non-negative integer, got ${cacheSize}`);
    }
    const db = await Db.open(path, { create: options.create ?? true });
    try {
      const store = new Store(db, keep, retention, cacheSize);
      await store.load();
      store.checkIntegrity();
      return store;
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  head(): Head | undefined {
    this.assertOpen();
    return this.current;
  }

  /** The committed state at the head, as a flat key space read with getSync. */
  state(): StateReader {
    this.assertOpen();
    return this.world.head;
  }

  /**
   * The state root after applying `changes` to the head's state as version `height`, and the
   * tree writes for commitBlock. Runs against the committed nodes and writes nothing.
   */
  computeStateRoot(changes: readonly Change[], height: bigint): StateCommitment {
    this.assertOpen();
    this.assertNext(height);
    const base = this.current?.height;
    const treeBatch = this.world.computeRoot(base, height, changes);
    this.issued.set(treeBatch, { base, changes: [...changes] });
    return { rootHash: treeBatch.rootHash, treeBatch };
  }

  /**
   * Commits a block at head + 1 (any height for the first block) in one atomic, fsynced batch:
   * the chain records, the state changes and tree writes, pruning of versions older than
   * keepVersions, the node's extra index writes and the new head.
   */
  async commitBlock(input: BlockCommit): Promise<void> {
    this.assertOpen();
    if (this.committing) {
      throw new StoreError("INVALID_COMMIT", `block ${input.height}: another commit is running`);
    }
    this.assertNext(input.height);
    const issued = this.issued.get(input.treeBatch);
    if (
      !issued ||
      issued.base !== this.current?.height ||
      input.treeBatch.version !== input.height
    ) {
      throw new StoreError(
        "INVALID_COMMIT",
        `block ${input.height}: the tree batch was not computed by computeStateRoot for this height on the current head`,
      );
    }
    if (!sameChanges(issued.changes, input.changes)) {
      throw new StoreError(
        "INVALID_COMMIT",
        `block ${input.height}: the state changes differ from those the tree batch was computed from`,
      );
    }
    for (const op of input.extra?.ops ?? []) {
      const prefix = op.key[0];
      if (prefix === undefined || prefix < NODE_PREFIX_MIN || prefix > NODE_PREFIX_MAX) {
        throw new StoreError(
          "INVALID_COMMIT",
          `block ${input.height}: an extra write to key ${toHex(op.key)} is outside the node's buckets`,
        );
      }
    }
    this.committing = true;
    try {
      const batch = new WriteBatch();
      this.chain.write(batch, input);
      this.world.write(batch, input.changes, input.treeBatch);
      const keepFrom = input.height - BigInt(this.keepVersions - 1);
      const pruning = keepFrom > 0n;
      if (pruning) await this.world.prune(batch, keepFrom);
      const earliest = this.pruneBlocks(batch, input.height);
      for (const op of input.extra?.ops ?? []) batch.ops.push(op);
      const head: Head = {
        height: input.height,
        blockHash: input.blockHash.slice(),
        stateRoot: input.treeBatch.rootHash.slice(),
      };
      if (!this.current) this.formats.put(batch, "format", FORMAT);
      this.heads.put(batch, "head", head);
      await this.db.write(batch, { sync: true });
      this.world.committed(input.changes);
      this.current = head;
      if (pruning) this.world.pruned(keepFrom);
      this.earliest = earliest;
    } finally {
      this.committing = false;
    }
  }

  /** The lowest height (above 0) whose block is stored; undefined before the first block. */
  earliestBlockHeight(): bigint | undefined {
    this.assertOpen();
    return this.earliest;
  }

  /**
   * Adds the deletion of bodies that fell out of blockRetention with a commit at `height`;
   * returns the earliest stored height once the batch is written.
   */
  private pruneBlocks(batch: WriteBatch, height: bigint): bigint | undefined {
    // The genesis record (height 0) is no block and is never pruned.
    if (height === 0n) return this.earliest;
    let earliest = this.earliest ?? height;
    if (this.blockRetention === 0) return earliest;
    const keepFrom = height - BigInt(this.blockRetention) + 1n;
    for (let n = 0; earliest < keepFrom && n < MAX_PRUNED_PER_COMMIT; n++) {
      this.chain.deleteBlockBody(batch, earliest);
      earliest++;
    }
    return earliest;
  }

  getBlock(at: bigint | Uint8Array): Uint8Array | undefined {
    this.assertOpen();
    return this.chain.getBlock(at);
  }

  getCommit(height: bigint): Uint8Array | undefined {
    this.assertOpen();
    return this.chain.getCommit(height);
  }

  getReceipt(txId: Uint8Array): Uint8Array | undefined {
    this.assertOpen();
    return this.chain.getReceipt(txId);
  }

  getTxLocation(txId: Uint8Array): TxLocation | undefined {
    this.assertOpen();
    return this.chain.getTxLocation(txId);
  }

  /** A proof of `key` at a kept version; StoreError VERSION_UNAVAILABLE for others. */
  proveState(version: bigint, key: Uint8Array): SmtProof {
    this.assertOpen();
    return this.world.prove(version, key);
  }

  /** The value of `key` at a kept version; the head's from the flat key space. */
  readStateAt(version: bigint, key: Uint8Array): Uint8Array | undefined {
    this.assertOpen();
    if (this.current && version === this.current.height) return this.world.head.get(key);
    return this.world.getAt(version, key);
  }

  /**
   * The cheap check run at open: the stored head record decodes and is the one loaded, the
   * head's block is stored under its hash, and the head's tree root node hashes to the head's
   * state root. Throws StoreError("CORRUPT") with what is wrong.
   */
  checkIntegrity(): void {
    this.assertOpen();
    const stored = this.heads.get("head");
    const head = this.current;
    const where = this.db.path;
    if (!head) {
      if (stored || this.formats.has("format")) {
        throw new StoreError("CORRUPT", `${where}: the head record changed under the open store`);
      }
      return;
    }
    if (
      !stored ||
      stored.height !== head.height ||
      !equalBytes(stored.blockHash, head.blockHash) ||
      !equalBytes(stored.stateRoot, head.stateRoot)
    ) {
      throw new StoreError("CORRUPT", `${where}: the head record changed under the open store`);
    }
    const hash = this.chain.getBlockHash(head.height);
    if (
      !hash ||
      !equalBytes(hash, head.blockHash) ||
      this.chain.getBlock(head.height) === undefined
    ) {
      throw new StoreError(
        "CORRUPT",
        `${where}: the head block ${head.height} (${toHex(head.blockHash)}) is missing or has another hash`,
      );
    }
    this.world.checkRoot(head.height, head.stateRoot);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.world.close();
    await this.db.close();
  }

  /** Reads the format and head records; refuses stores it cannot read. */
  private async load(): Promise<void> {
    const where = this.db.path;
    const format = this.formats.get("format");
    const head = this.heads.get("head");
    if (!format) {
      if (head || !(await this.db.isEmpty())) {
        throw new StoreError(
          "CORRUPT",
          `${where} holds data but is not a Wattcap store (no format record)`,
        );
      }
      return;
    }
    if (format.name !== FORMAT.name || format.version !== FORMAT.version) {
      throw new StoreError(
        "INCOMPATIBLE",
        `${where} is a ${format.name} store of format ${format.version}; this build reads ${FORMAT.name} format ${FORMAT.version}`,
      );
    }
    if (!head) throw new StoreError("CORRUPT", `${where}: the head record is missing`);
    this.current = head;
    this.earliest = await this.chain.firstBlockFrom(1n);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("CLOSED", `store ${this.db.path} is closed`);
  }

  private assertNext(height: bigint): void {
    const head = this.current;
    if (typeof height !== "bigint" || height < 0n || height > U64_MAX) {
      throw new StoreError("INVALID_COMMIT", `height ${String(height)} is not a u64`);
    }
    if (head && height !== head.height + 1n) {
      throw new StoreError(
        "INVALID_COMMIT",
        `height ${height} does not extend the head at ${head.height}`,
      );
    }
  }
}
