// The node's own indexes (issue 5): transactions by address, readings by meter, validator
// liveness and evidence, policy history, trades and auctions by utility, oracle statistics.
// They live in the node's buckets (state/buckets.ts, 0x40-0x7f), outside consensus: the commit
// hook writes a block's entries in the same atomic batch as the block, and rebuildIndexes
// replays stored blocks and receipts into empty buckets.
//
// Lists are keyed so that a reverse scan of one prefix meets the newest first; a page's cursor
// is the last key it returned.
import { type Block, decodeBlock } from "../../lib/block.js";
import { concatBytes, readU32be, readU64be, toHex, u32be, u64be, utf8 } from "../../lib/bytes.js";
import { txId as txIdOf } from "../../lib/tx.js";
import type { Validator } from "../../lib/validator.js";
import type {
  AuctionRecord,
  IndexPage,
  IndexReader,
  Liveness,
  OracleStats,
  PageRequest,
  PolicyChange,
  ReadingRecord,
  TradeRecord,
  TxRef,
} from "../../rpc/backend.js";
import { buckets } from "../../state/buckets.js";
import type { Db, WriteBatch } from "../../state/db.js";
import { WriteBatch as Batch } from "../../state/db.js";
import { prefixEnd } from "../../state/repository.js";
import type { Store } from "../../state/store.js";
import { tables } from "../../vm/tables.js";
import { EndEventsSchema, type ExecutedBlock, type IndexHook } from "../chain.js";
import { type BlockRecords, extractBlock, type IndexInput } from "./extract.js";
import { decodeRecord, encodeRecord, schemas } from "./records.js";

export interface IndexOptions {
  /** The set at a height, for counting missed signatures; undefined where it is not known. */
  readonly validatorSetAt?: (height: bigint) => readonly Validator[] | undefined;
  /**
   * Told when indexing a block failed. The block still commits, without its index entries: an
   * index is the node's convenience and must never stop the chain (rebuildIndexes repairs it).
   */
  readonly onError?: (error: unknown, height: bigint) => void;
}

const ROLE_SIGNER = 0;
const ROLE_PARTY = 1;

function sized(text: string): Uint8Array {
  const bytes = utf8(text);
  return concatBytes(Uint8Array.of(bytes.length), bytes);
}

const prefix = (bucket: number, ...parts: Uint8Array[]) =>
  concatBytes(Uint8Array.of(bucket), ...parts);

function startsWith(key: Uint8Array, start: Uint8Array): boolean {
  if (key.length < start.length) return false;
  for (let i = 0; i < start.length; i++) if (key[i] !== start[i]) return false;
  return true;
}

export class NodeIndexes implements IndexReader {
  readonly #db: Db;
  readonly #store: Store;
  readonly #validatorSetAt: (height: bigint) => readonly Validator[] | undefined;
  readonly #onError: (error: unknown, height: bigint) => void;
  /** The records written for each block still referenced (the latest ones). */
  readonly #written = new WeakMap<Block, BlockRecords>();

  constructor(store: Store, options: IndexOptions = {}) {
    this.#store = store;
    this.#db = store.db;
    this.#validatorSetAt = options.validatorSetAt ?? (() => undefined);
    this.#onError = options.onError ?? (() => {});
  }

  /** The Chain index hook: adds an executed block's entries to its commit batch. */
  readonly hook: IndexHook = (executed: ExecutedBlock, batch: WriteBatch) => {
    // Collected apart first, so a failure leaves no half-written entries in the commit.
    const own = new Batch();
    try {
      this.write(
        {
          height: executed.height,
          time: executed.block.header.time,
          block: executed.block,
          txIds: executed.txIds,
          txs: executed.txs,
          receipts: executed.receipts,
          endEvents: executed.events,
        },
        own,
      );
    } catch (error) {
      this.#onError(error, executed.height);
      return;
    }
    for (const op of own.ops) batch.ops.push(op);
  };

  /**
   * Derives a block's records with the head state's households. The RPC subscriptions ask for
   * the records of each block the hook just wrote: those are kept, by block, and handed out again.
   */
  records(input: IndexInput): BlockRecords {
    const written = this.#written.get(input.block);
    if (written) return written;
    const state = this.#store.state();
    return extractBlock(input, (household) => {
      const bytes = state.get(tables.household.key(household));
      return bytes === undefined ? undefined : decodeHousehold(bytes);
    });
  }

  write(input: IndexInput, batch: WriteBatch): BlockRecords {
    const records = this.records(input);
    this.#written.set(input.block, records);
    const { height } = input;
    for (const ref of records.addressRefs) {
      batch.put(
        prefix(buckets.idxTxByAddress.prefix, ref.address, u64be(height), u32be(ref.index)),
        concatBytes(Uint8Array.of(ref.role === "signer" ? ROLE_SIGNER : ROLE_PARTY), ref.txId),
      );
    }
    const txIndex = new Map<string, number>();
    for (const [i, id] of input.txIds.entries()) txIndex.set(toHex(id), i);
    for (const r of records.readings) {
      batch.put(
        prefix(
          buckets.idxReadingByMeter.prefix,
          r.meterIdHash,
          u64be(height),
          u32be(txIndex.get(toHex(r.txId)) ?? 0),
          u32be(r.index),
        ),
        encodeRecord(schemas.reading, {
          oracle: r.oracle,
          txId: r.txId,
          time: r.time,
          registers: [...r.registers],
          result: r.result,
          reject: r.reject,
        }),
      );
    }
    records.policyChanges.forEach((p, n) => {
      batch.put(
        prefix(buckets.idxPolicyHistory.prefix, sized(p.utility), u64be(height), u32be(n)),
        encodeRecord(schemas.policy, { time: p.time, fromPeriod: p.fromPeriod, txId: p.txId }),
      );
    });
    records.trades.forEach((t, n) => {
      batch.put(
        prefix(buckets.idxTrades.prefix, sized(t.utility), u64be(height), u32be(n)),
        encodeRecord(schemas.trade, {
          time: t.time,
          order: t.order,
          household: t.household,
          side: t.side,
          qty: t.qty,
          price: t.price,
        }),
      );
    });
    records.auctions.forEach((a, n) => {
      batch.put(
        prefix(buckets.idxAuctions.prefix, sized(a.utility), u64be(height), u32be(n)),
        encodeRecord(schemas.auction, {
          time: a.time,
          period: a.period,
          price: a.price,
          volume: a.volume,
          demand: a.demand.map((p) => ({ ...p })),
          supply: a.supply.map((p) => ({ ...p })),
        }),
      );
    });
    records.evidence.forEach((e, n) => {
      batch.put(
        prefix(buckets.idxEvidence.prefix, e.validator, u64be(height), u32be(n)),
        u64be(e.evidenceHeight),
      );
    });
    this.#writeLiveness(records, batch);
    this.#writeOracleStats(records, batch);
    return records;
  }

  #writeLiveness(records: BlockRecords, batch: WriteBatch): void {
    const commit = records.lastCommit;
    if (!commit) return;
    const signed = new Set(commit.signers.map(toHex));
    const set = this.#validatorSetAt(commit.height);
    // Without the set (pruned, in a rebuild) only signatures can be counted, not absences.
    const members = set ? set.map((v) => v.address) : commit.signers;
    for (const address of members) {
      const key = prefix(buckets.idxLiveness.prefix, address);
      const current = this.#readLiveness(key);
      const didSign = signed.has(toHex(address));
      batch.put(
        key,
        encodeRecord(schemas.liveness, {
          signed: current.signed + (didSign ? 1n : 0n),
          missed: current.missed + (didSign ? 0n : 1n),
          lastSigned: didSign ? commit.height : current.lastSigned,
        }),
      );
    }
  }

  #readLiveness(key: Uint8Array): { signed: bigint; missed: bigint; lastSigned?: bigint } {
    const bytes = this.#db.getSync(key);
    if (bytes === undefined) return { signed: 0n, missed: 0n };
    return decodeRecord(schemas.liveness, bytes);
  }

  #writeOracleStats(records: BlockRecords, batch: WriteBatch): void {
    const byOracle = new Map<string, { oracle: Uint8Array; stats: MutableStats }>();
    for (const b of records.oracleBatches) {
      const hex = toHex(b.oracle);
      let entry = byOracle.get(hex);
      if (!entry) {
        entry = { oracle: b.oracle, stats: toMutable(this.oracleStats(b.oracle)) };
        byOracle.set(hex, entry);
      }
      entry.stats.batches += 1n;
      entry.stats.readings += BigInt(b.readings);
      for (const [code, count] of b.rejections) {
        entry.stats.rejections.set(code, (entry.stats.rejections.get(code) ?? 0n) + BigInt(count));
      }
    }
    for (const { oracle, stats } of byOracle.values()) {
      const rejections = [...stats.rejections.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([code, count]) => ({ code, count }));
      batch.put(
        prefix(buckets.idxOracleStats.prefix, oracle),
        encodeRecord(schemas.oracleStats, {
          batches: stats.batches,
          readings: stats.readings,
          rejections,
        }),
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reads.

  async #page<T>(
    start: Uint8Array,
    page: PageRequest,
    decode: (key: Uint8Array, value: Uint8Array) => T,
  ): Promise<IndexPage<T>> {
    if (page.after !== undefined && !startsWith(page.after, start)) {
      throw new RangeError("the cursor is not one of this list's");
    }
    const end = prefixEnd(start);
    const entries = await this.#db.range({
      gte: start,
      ...(page.after ? { lt: page.after } : end ? { lt: end } : {}),
      limit: page.limit + 1,
      reverse: true,
    });
    const items = entries.slice(0, page.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(([key, value]) => decode(key, value)),
      next: entries.length > page.limit && last ? last[0] : undefined,
    };
  }

  txsByAddress(address: Uint8Array, page: PageRequest): Promise<IndexPage<TxRef>> {
    const start = prefix(buckets.idxTxByAddress.prefix, address);
    return this.#page(start, page, (key, value) => ({
      txId: value.slice(1),
      height: readU64be(key, start.length),
      index: readU32be(key, start.length + 8),
      role: value[0] === ROLE_SIGNER ? "signer" : "party",
    }));
  }

  readingsByMeter(meterIdHash: Uint8Array, page: PageRequest): Promise<IndexPage<ReadingRecord>> {
    const start = prefix(buckets.idxReadingByMeter.prefix, meterIdHash);
    return this.#page(start, page, (key, value) => {
      const r = decodeRecord(schemas.reading, value);
      return {
        meterIdHash,
        oracle: r.oracle,
        height: readU64be(key, start.length),
        txId: r.txId,
        index: readU32be(key, start.length + 12),
        time: r.time,
        registers: r.registers,
        result: r.result,
        reject: r.reject,
      };
    });
  }

  trades(utility: string, page: PageRequest): Promise<IndexPage<TradeRecord>> {
    const start = prefix(buckets.idxTrades.prefix, sized(utility));
    return this.#page(start, page, (key, value) => ({
      utility,
      height: readU64be(key, start.length),
      ...decodeRecord(schemas.trade, value),
    }));
  }

  auctions(utility: string, page: PageRequest): Promise<IndexPage<AuctionRecord>> {
    const start = prefix(buckets.idxAuctions.prefix, sized(utility));
    return this.#page(start, page, (key, value) => ({
      utility,
      height: readU64be(key, start.length),
      ...decodeRecord(schemas.auction, value),
    }));
  }

  policyHistory(utility: string, page: PageRequest): Promise<IndexPage<PolicyChange>> {
    const start = prefix(buckets.idxPolicyHistory.prefix, sized(utility));
    return this.#page(start, page, (key, value) => {
      const p = decodeRecord(schemas.policy, value);
      return {
        utility,
        height: readU64be(key, start.length),
        time: p.time,
        fromPeriod: p.fromPeriod,
        txId: p.txId,
      };
    });
  }

  async liveness(validator: Uint8Array): Promise<Liveness> {
    const counts = this.#readLiveness(prefix(buckets.idxLiveness.prefix, validator));
    const start = prefix(buckets.idxEvidence.prefix, validator);
    const end = prefixEnd(start);
    const entries = await this.#db.range({ gte: start, ...(end ? { lt: end } : {}), limit: 100 });
    return {
      signed: counts.signed,
      missed: counts.missed,
      lastSigned: counts.lastSigned,
      evidence: entries.map(([key, value]) => ({
        height: readU64be(key, start.length),
        evidenceHeight: readU64be(value),
      })),
    };
  }

  oracleStats(oracle: Uint8Array): OracleStats {
    const bytes = this.#db.getSync(prefix(buckets.idxOracleStats.prefix, oracle));
    if (bytes === undefined) return { batches: 0n, readings: 0n, rejections: [] };
    return decodeRecord(schemas.oracleStats, bytes);
  }
}

interface MutableStats {
  batches: bigint;
  readings: bigint;
  rejections: Map<string, bigint>;
}

function toMutable(stats: OracleStats): MutableStats {
  return {
    batches: stats.batches,
    readings: stats.readings,
    rejections: new Map(stats.rejections.map((r) => [r.code, r.count])),
  };
}

function decodeHousehold(bytes: Uint8Array): string | undefined {
  try {
    return decodeRecord(tables.household.schema, bytes).utility;
  } catch {
    return undefined;
  }
}

const INDEX_BUCKETS = [
  buckets.idxTxByAddress,
  buckets.idxReadingByMeter,
  buckets.idxLiveness,
  buckets.idxEvidence,
  buckets.idxPolicyHistory,
  buckets.idxTrades,
  buckets.idxAuctions,
  buckets.idxOracleStats,
];

/** Deletes per write while emptying a bucket, so a large index never builds one huge batch. */
const CLEAR_CHUNK = 10_000;

export interface RebuildResult {
  readonly blocks: number;
}

/**
 * Empties the index buckets and replays every stored block with its receipts and end-of-block
 * events (batch auctions and their fills come only from the latter), one atomic write per block.
 */
export async function rebuildIndexes(
  store: Store,
  options: IndexOptions = {},
): Promise<RebuildResult> {
  const db = store.db;
  for (const bucket of INDEX_BUCKETS) {
    let clear = new Batch();
    for await (const [key] of db.iterate({
      gte: Uint8Array.of(bucket.prefix),
      lt: Uint8Array.of(bucket.prefix + 1),
    })) {
      clear.del(key);
      if (clear.length >= CLEAR_CHUNK) {
        await db.write(clear, { sync: false });
        clear = new Batch();
      }
    }
    await db.write(clear, { sync: false });
  }
  const indexes = new NodeIndexes(store, options);
  const head = store.head()?.height ?? 0n;
  let blocks = 0;
  for (let height = 1n; height <= head; height++) {
    const bytes = store.getBlock(height);
    if (!bytes) continue;
    const block: Block = decodeBlock(bytes);
    const receipts = (await store.chain.getReceipts(height)).map((r) =>
      decodeRecord(schemas.receipt, r),
    );
    const endEvents = store.chain.getEndEvents(height);
    const batch = new Batch();
    indexes.write(
      {
        height,
        time: block.header.time,
        block,
        txIds: block.txs.map(txIdOf),
        receipts,
        endEvents: endEvents ? decodeRecord(EndEventsSchema, endEvents) : [],
      },
      batch,
    );
    await db.write(batch, { sync: false });
    blocks++;
  }
  return { blocks };
}
