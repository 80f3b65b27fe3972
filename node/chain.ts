// The chain pipeline (DESIGN §4, §5): from "a block arrived" or "we must propose" to "it is
// committed". A block is checked cheapest first (structure, links, validator hashes, proposer,
// last commit, evidence, transaction signatures in one batch), then executed in an overlay on
// the committed head; its state and receipts roots must match the header. The result is kept by
// block hash, so a proposal executed during a round is not executed again at commit, and
// written only by commitBlock, in the store's one atomic batch.
//
// Rounds: a header does not carry its round (the proposal message does), so validateBlock
// checks the proposer against proposerFor(set, height, round) only when the caller passes the
// round; without one (sync, where the commit certifies the block) it checks only that the
// proposer is a member of the set.
//
// Time (DESIGN §5): a header's time must be after its parent's, always. The clock rule (within
// ±drift of the local clock) applies to fresh proposals only, and it is not a validity verdict:
// validateBlock returns `timely` and the consensus core decides what an untimely block gets.

import {
  type Block,
  type BlockStructureErrorCode,
  blockHash,
  checkBlockStructure,
  decodeBlock,
  encodeBlock,
  type Header,
  headerHash,
} from "../lib/block.js";
import { equalBytes, toHex } from "../lib/bytes.js";
import { CodecError, decode, encode, list } from "../lib/codec.js";
import { type Commit, decodeCommit, encodeCommit, verifyCommit } from "../lib/commit.js";
import { checkEvidence, type Evidence } from "../lib/evidence.js";
import { domainHash } from "../lib/hash.js";
import { LruCache } from "../lib/keys.js";
import { merkleRoot } from "../lib/merkle.js";
import { rememberingVerify } from "../lib/signature.js";
import type { TxBody } from "../lib/tx.js";
import {
  indexOfValidator,
  proposerFor,
  type Validator,
  validatorSetHash,
} from "../lib/validator.js";
import { type VerifyJob, type VerifyPool, verifyJob } from "../lib/verify-pool.js";
import { WriteBatch } from "../state/db.js";
import { StoreError } from "../state/errors.js";
import type { Change, StateReader } from "../state/overlay.js";
import type { TreeBatch } from "../state/smt/tree.js";
import type { Store } from "../state/store.js";
import { applyBlock, type BlockTx } from "../vm/apply.js";
import { checkTxStateless as vmCheckTxStateless } from "../vm/check.js";
import type { RejectCode } from "../vm/codes.js";
import type { BlockContext, ValidatorUpdate, VerifiedSignatures } from "../vm/context.js";
import { type Event, EventSchema } from "../vm/event.js";
import { setAt } from "../vm/governance/validator-set.js";
import { rulesVersionAt } from "../vm/model/chain.js";
import { readingSignBytes } from "../vm/model/reading.js";
import type { ValidatorSchedule } from "../vm/model/validators.js";
import { meterSignatureKey } from "../vm/readings/signature.js";
import { encodeReceipt, type Receipt } from "../vm/receipt.js";
import { tables } from "../vm/tables.js";
import type { HandlerRegistry, Tx } from "../vm/tx/registry.js";
import { type Clock, systemClock } from "./clock.js";
import { type ChainGenesis, encodeGenesisBlock } from "./genesis.js";
import { TypedEmitter } from "./p2p/events.js";

/** Evidence older than this many heights is refused (its set may be pruned from the store). */
export const MAX_EVIDENCE_AGE = 100n;
/** Default ±drift of the time rule, as consensus.clockDriftMs defaults. */
export const DEFAULT_CLOCK_DRIFT_MS = 1000n;
const DEFAULT_SIGNATURE_CACHE = 100_000;
/** Above a full mempool (10,000) and the blocks being validated meanwhile. */
const DEFAULT_CHECKED_TX_CACHE = 20_000;
/** Votes of a few heights of the largest sets (MAX_VALIDATORS), and their proposals. */
const CONSENSUS_SIGNATURE_CACHE = 4096;
const EXECUTED_CACHE_SIZE = 16;

/**
 * How a block's end-of-block events are stored beside its receipts (state/chain-store.ts): no
 * receipt carries them, and the indexes rebuilt from the store need them (auctions, for one).
 * The bound is far above what maxJobWorkPerBlock lets one block emit.
 */
export const EndEventsSchema = list(EventSchema, 1 << 22);
const VALIDATOR_SET_CACHE_SIZE = 1024;

// ---------------------------------------------------------------------------------------------
// Stateless transaction checks, shared with the mempool.

/**
 * Ids of transactions whose signature verified. A transaction's id hashes its signed encoding,
 * signature included, so an id that verified once verifies forever: the mempool and block
 * validation share one cache and a gossiped transaction is verified once, not again in its
 * block. Only successes are remembered.
 */
export class SignatureCache {
  readonly #ids: LruCache<true>;

  constructor(capacity = DEFAULT_SIGNATURE_CACHE) {
    this.#ids = new LruCache(capacity);
  }

  has(id: Uint8Array): boolean {
    return this.#ids.get(toHex(id)) === true;
  }

  add(id: Uint8Array): void {
    this.#ids.set(toHex(id), true);
  }

  get size(): number {
    return this.#ids.size;
  }
}

/**
 * Meter signatures (vm/readings/signature.ts meterSignatureKey) found valid before their block
 * came: the mempool verifies an oracle batch's readings as the batch arrives, so executing the
 * block, which every validator does on the consensus path, need not. Only valid signatures are
 * kept, under a key that names the meter key too, so a miss (or a rotated key) is simply
 * verified again inline and a block's results never depend on what is here.
 */
export class MeterSignatureCache implements VerifiedSignatures {
  readonly #keys: LruCache<true>;

  constructor(capacity = DEFAULT_SIGNATURE_CACHE) {
    this.#keys = new LruCache(capacity);
  }

  has(key: string): boolean {
    return this.#keys.get(key) === true;
  }

  add(key: string): void {
    this.#keys.set(key, true);
  }
}

/** Readings verified between yields to the event loop, so timers and votes are not held up. */
const PREVERIFY_CHUNK = 128;

/** A transaction that passed every stateless check: what the mempool holds and a block runs. */
export interface CheckedTx {
  readonly bytes: Uint8Array;
  readonly id: Uint8Array;
  readonly body: TxBody;
  readonly tx: Tx;
}

export type TxStatelessResult =
  | ({ readonly ok: true } & CheckedTx)
  | { readonly ok: false; readonly code: RejectCode; readonly message: string };

/**
 * Transactions that passed the stateless checks, decoded, by id: a block's transactions were
 * almost all checked when the mempool admitted them, and the same bytes (one id) always pass
 * the same way, so validating the block need not decode and check them again.
 */
export class CheckedTxCache {
  readonly #txs: LruCache<CheckedTx>;

  constructor(capacity = DEFAULT_CHECKED_TX_CACHE) {
    this.#txs = new LruCache(capacity);
  }

  get(id: Uint8Array): CheckedTx | undefined {
    return this.#txs.get(toHex(id));
  }

  add(tx: CheckedTx): void {
    this.#txs.set(toHex(tx.id), tx);
  }
}

export interface StatelessCheckOptions {
  /** Verifies the uncached signatures in one batch; inline without it. */
  readonly pool?: VerifyPool | undefined;
  readonly cache?: SignatureCache | undefined;
  /** Where the transactions that pass are remembered. */
  readonly checked?: CheckedTxCache | undefined;
  readonly registry?: HandlerRegistry | undefined;
}

/**
 * vm/check.ts's stateless checks on many transactions, with the signatures not in the cache
 * verified together (on the pool's workers when there is one) before the checks run.
 */
export async function checkTxsStateless(
  txs: readonly Uint8Array[],
  chainId: string,
  options: StatelessCheckOptions = {},
): Promise<TxStatelessResult[]> {
  const { pool, cache, checked, registry } = options;
  // First every check but the signature's, which is recorded rather than verified. A check that
  // failed after the signature step still waits for it: a bad signature is reported first, as
  // the single-transaction check would.
  const jobs: VerifyJob[] = [];
  const pending: { readonly check: ReturnType<typeof vmCheckTxStateless>; job: number }[] = [];
  for (const bytes of txs) {
    let signed: VerifyJob | undefined;
    const check = vmCheckTxStateless(bytes, chainId, {
      verify: (publicKey, message, signature) => {
        signed = { scheme: "secp256k1", publicKey, message, signature };
        return true;
      },
      ...(registry ? { registry } : {}),
    });
    const cached = check.ok && cache?.has(check.tx.id) === true;
    pending.push({ check, job: signed && !cached ? jobs.push(signed) - 1 : -1 });
  }
  const results = pool ? await pool.verifyBatch(jobs) : jobs.map(verifyJob);
  return pending.map(({ check, job }, i): TxStatelessResult => {
    if (job >= 0 && !results[job]) {
      return {
        ok: false,
        code: "BAD_SIGNATURE",
        message: "the signature does not match the signer",
      };
    }
    if (!check.ok) return check;
    if (job >= 0) cache?.add(check.tx.id);
    const tx: CheckedTx = { bytes: txs[i]!, id: check.tx.id, body: check.body, tx: check.tx };
    checked?.add(tx);
    return { ok: true, ...tx };
  });
}

// ---------------------------------------------------------------------------------------------
// Receipts.

export function receiptHash(encodedReceipt: Uint8Array): Uint8Array {
  return domainHash("receipt", encodedReceipt);
}

/** The header's receiptsRoot: a Merkle root over the receipts' hashes, in block order. */
export function computeReceiptsRoot(encodedReceipts: readonly Uint8Array[]): Uint8Array {
  return merkleRoot("receipts-root", encodedReceipts.map(receiptHash));
}

// ---------------------------------------------------------------------------------------------
// The chain.

export type ChainErrorCode =
  | "GENESIS_MISMATCH" // the store holds another chain
  | "UNKNOWN_HEIGHT" // a validator set or version for a height not known (yet, or any more)
  | "NOT_NEXT" // an executed block that does not extend the current head
  | "COMMIT_MISMATCH" // a commit for another height or block
  | "BAD_COMMIT" // a commit whose signatures do not decide the block
  | "NOT_PROPOSER"; // asked to build a proposal for a (height, round) that is not ours

export class ChainError extends Error {
  override name = "ChainError";
  constructor(
    readonly code: ChainErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Why a block is invalid. Structure codes come from lib/block.ts checkBlockStructure. */
export type BlockErrorCode =
  | "MALFORMED_BLOCK"
  | BlockStructureErrorCode
  | "WRONG_HEIGHT"
  | "WRONG_PARENT"
  | "WRONG_VERSION"
  | "TIME_NOT_AFTER_PARENT"
  | "WRONG_VALIDATORS_HASH"
  | "WRONG_NEXT_VALIDATORS_HASH"
  | "UNKNOWN_PROPOSER"
  | "WRONG_PROPOSER"
  | "BAD_LAST_COMMIT"
  | "BAD_EVIDENCE"
  | "INVALID_TX"
  | "EXECUTION_FAILED"
  | "WRONG_STATE_ROOT"
  | "WRONG_RECEIPTS_ROOT";

export interface BlockInvalid {
  readonly ok: false;
  readonly code: BlockErrorCode;
  readonly message: string;
  /** INVALID_TX: the offending transaction's index. */
  readonly txIndex?: number;
  /** The inner code: the tx's reject code, the commit's or the evidence's error code. */
  readonly reason?: string;
}

/** A block that was executed on the head and whose header matched: ready to commit. */
export interface ExecutedBlock {
  readonly block: Block;
  readonly bytes: Uint8Array;
  readonly hash: Uint8Array;
  readonly height: bigint;
  /** The head height it was executed on; it can be committed only while that is the head. */
  readonly baseHeight: bigint;
  readonly txIds: readonly Uint8Array[];
  /** The transactions as execution decoded them, so the index hooks need not decode again. */
  readonly txs: readonly Tx[];
  readonly receipts: readonly Receipt[];
  readonly encodedReceipts: readonly Uint8Array[];
  /** End-of-block events; each transaction's are in its receipt. */
  readonly events: readonly Event[];
  readonly changes: readonly Change[];
  readonly treeBatch: TreeBatch;
  readonly stateRoot: Uint8Array;
  readonly receiptsRoot: Uint8Array;
  readonly validatorUpdate: ValidatorUpdate | undefined;
}

export type BlockVerdict =
  | {
      readonly ok: true;
      readonly executed: ExecutedBlock;
      /** False only for a fresh proposal whose time is beyond ±drift of the local clock. */
      readonly timely: boolean;
    }
  | BlockInvalid;

export interface ValidateOptions {
  /** The proposal's round: the header's proposer must be proposerFor(set, height, round). */
  readonly round?: number;
  /** A fresh proposal (no proof-of-lock): the clock rule applies and sets `timely`. */
  readonly fresh?: boolean;
  /**
   * When the proposal arrived, by the local clock; the clock rule compares the header's time
   * with it. Default: now, when validation starts.
   */
  readonly receivedAt?: bigint;
}

export interface ChainHead {
  readonly height: bigint;
  readonly hash: Uint8Array;
  readonly header: Header;
  readonly stateRoot: Uint8Array;
}

/** What "committed" listeners get: enough for RPC subscriptions and indexers. */
export interface CommittedBlock {
  readonly height: bigint;
  readonly hash: Uint8Array;
  readonly header: Header;
  readonly block: Block;
  readonly commit: Commit;
  readonly txIds: readonly Uint8Array[];
  /** The block's transactions as execution decoded them, in block order. */
  readonly txs: readonly Tx[];
  readonly receipts: readonly Receipt[];
  readonly events: readonly Event[];
  readonly validatorUpdate: ValidatorUpdate | undefined;
}

export interface ChainEvents {
  committed: [block: CommittedBlock];
}

/** Adds a node index's writes for a block to its commit batch (keys in the node's buckets). */
export type IndexHook = (executed: ExecutedBlock, batch: WriteBatch) => void;

export interface ChainOptions {
  /** Signature verification workers; inline without one. */
  readonly pool?: VerifyPool;
  /** Shared with the mempool. */
  readonly signatureCache?: SignatureCache;
  readonly clock?: Clock;
  readonly clockDriftMs?: bigint;
  /** The rules to run (the chain's current modules by default). */
  readonly registry?: HandlerRegistry;
  readonly indexHooks?: readonly IndexHook[];
  /** Told about a "committed" listener that threw. */
  readonly onListenerError?: (error: unknown) => void;
}

/** A block's transactions after the stateless checks, or the first one that failed. */
type TxsCheck =
  | { readonly ok: true; readonly txs: readonly CheckedTx[] }
  | { readonly ok: false; readonly invalid: BlockInvalid };

/** The outcome of executing a block whose header roots are not yet known or checked. */
type Execution =
  | {
      readonly ok: true;
      readonly receipts: Receipt[];
      readonly encodedReceipts: Uint8Array[];
      readonly events: Event[];
      readonly changes: Change[];
      readonly treeBatch: TreeBatch;
      readonly stateRoot: Uint8Array;
      readonly receiptsRoot: Uint8Array;
      readonly validatorUpdate: ValidatorUpdate | undefined;
    }
  | BlockInvalid;

function invalid(
  code: BlockErrorCode,
  message: string,
  extra: { txIndex?: number; reason?: string } = {},
): BlockInvalid {
  return { ok: false, code, message, ...extra };
}

function absDiff(a: bigint, b: bigint): bigint {
  return a > b ? a - b : b - a;
}

export class Chain {
  readonly store: Store;
  readonly genesis: ChainGenesis;
  readonly chainId: string;
  readonly signatureCache: SignatureCache;
  /** Shared with the mempool, which fills it as it admits. */
  readonly checkedTxs = new CheckedTxCache();
  readonly meterSignatures = new MeterSignatureCache();
  /** Verifies votes and proposals, remembering those that verified (the driver and signer share it). */
  readonly consensusVerify = rememberingVerify(CONSENSUS_SIGNATURE_CACHE);
  readonly clock: Clock;
  readonly clockDriftMs: bigint;
  readonly #pool: VerifyPool | undefined;
  readonly #registry: HandlerRegistry | undefined;
  readonly #indexHooks: readonly IndexHook[];
  readonly #emitter: TypedEmitter<ChainEvents>;
  // By block hash, oldest first; every entry was executed on the current head.
  readonly #executed = new Map<string, ExecutedBlock>();
  readonly #sets = new Map<bigint, readonly Validator[]>();
  #head: ChainHead;
  // validateBlock, executeProposal and commitBlock read the head state across awaits; running
  // them one at a time keeps a commit from changing that state under an execution.
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(store: Store, genesis: ChainGenesis, head: ChainHead, options: ChainOptions) {
    this.store = store;
    this.genesis = genesis;
    this.chainId = genesis.chainId;
    this.signatureCache = options.signatureCache ?? new SignatureCache();
    this.clock = options.clock ?? systemClock;
    this.clockDriftMs = options.clockDriftMs ?? DEFAULT_CLOCK_DRIFT_MS;
    this.#pool = options.pool;
    this.#registry = options.registry;
    this.#indexHooks = options.indexHooks ?? [];
    const onError = options.onListenerError ?? (() => {});
    this.#emitter = new TypedEmitter<ChainEvents>((_event, error) => onError(error));
    this.#head = head;
    this.#warmSets();
  }

  /**
   * Opens the chain over a store: commits the genesis record (height 0) into an empty store,
   * or checks that the store's height-0 record is this genesis (ChainError GENESIS_MISMATCH).
   */
  static async open(
    store: Store,
    genesis: ChainGenesis,
    options: ChainOptions = {},
  ): Promise<Chain> {
    if (store.head() === undefined) {
      const { treeBatch, rootHash } = store.computeStateRoot(genesis.changes, 0n);
      if (!equalBytes(rootHash, genesis.stateRoot)) {
        throw new Error("the store computed another genesis state root than the in-memory tree");
      }
      await store.commitBlock({
        height: 0n,
        blockHash: genesis.hash,
        block: encodeGenesisBlock(genesis),
        commit: new Uint8Array(0),
        txIds: [],
        receipts: [],
        changes: genesis.changes,
        treeBatch,
      });
    }
    const stored = store.chain.getBlockHash(0n);
    if (!stored || !equalBytes(stored, genesis.hash)) {
      throw new ChainError(
        "GENESIS_MISMATCH",
        `the store's genesis is ${stored ? toHex(stored) : "missing"}, this chain's is ${toHex(genesis.hash)}`,
      );
    }
    return new Chain(store, genesis, Chain.#readHead(store), options);
  }

  static #readHead(store: Store): ChainHead {
    const head = store.head();
    const bytes = head && store.getBlock(head.height);
    if (!head || !bytes) throw new Error("the store has no head block");
    // The store's open check covers the head's hash record, not the block bytes: a damaged
    // block must stop the node with the store's CORRUPT, not crash it or be served.
    let header: Header;
    try {
      header = decodeBlock(bytes).header;
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      throw new StoreError(
        "CORRUPT",
        `${store.db.path}: the head block ${head.height} does not decode: ${error.message}`,
      );
    }
    if (head.height > 0n && !equalBytes(headerHash(header), head.blockHash)) {
      throw new StoreError(
        "CORRUPT",
        `${store.db.path}: the head block ${head.height} does not hash to its recorded hash`,
      );
    }
    return { height: head.height, hash: head.blockHash, header, stateRoot: head.stateRoot };
  }

  head(): ChainHead {
    return this.#head;
  }

  /** The committed state at the head. */
  state(): StateReader {
    return this.store.state();
  }

  /**
   * Verifies the meter signatures of an oracle batch against the meters' keys at the head (on
   * the pool's workers when there is one) and remembers the valid ones, so that executing a
   * block that carries the batch does not verify them again. Any other transaction has nothing
   * to verify: undefined, at once, so a plain transaction's admission allocates no promise.
   */
  preverifyMeterSignatures(tx: Tx): Promise<void> | undefined {
    return tx.type === "submitReadings"
      ? this.#preverifyReadings(tx as Tx<"submitReadings">)
      : undefined;
  }

  async #preverifyReadings(tx: Tx<"submitReadings">): Promise<void> {
    const state = this.state();
    const keyOf = (meterIdHash: Uint8Array) => {
      const address = state.get(tables.meter.key(meterIdHash));
      if (address === undefined) return undefined;
      const household = state.get(
        tables.household.key(decode(tables.meter.schema, address) as Uint8Array),
      );
      return household === undefined
        ? undefined
        : decode(tables.household.schema, household).meterKey;
    };
    const jobs: { readonly job: VerifyJob; readonly key: string }[] = [];
    for (const reading of tx.payload.readings) {
      const meterKey = reading.signature ? keyOf(reading.meterIdHash) : undefined;
      if (!meterKey || !reading.signature) continue;
      const job: VerifyJob = {
        scheme: meterKey.type,
        publicKey: meterKey.publicKey,
        message: readingSignBytes(this.chainId, reading),
        signature: reading.signature,
      };
      jobs.push({
        job,
        key: meterSignatureKey(job.scheme, job.publicKey, job.message, job.signature),
      });
    }
    for (let i = 0; i < jobs.length; i += PREVERIFY_CHUNK) {
      // What the cache holds is skipped, looked up chunk by chunk: between chunks a block
      // carrying the batch may have been executed, verifying its readings inline.
      const chunk = jobs
        .slice(i, i + PREVERIFY_CHUNK)
        .filter(({ key }) => !this.meterSignatures.has(key));
      const batch = chunk.map(({ job }) => job);
      const results = this.#pool ? await this.#pool.verifyBatch(batch) : batch.map(verifyJob);
      results.forEach((ok, j) => {
        if (ok) this.meterSignatures.add(chunk[j]!.key);
      });
      if (!this.#pool) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  on<K extends keyof ChainEvents>(
    event: K,
    listener: (...args: ChainEvents[K]) => void,
  ): () => void {
    return this.#emitter.on(event, listener);
  }

  /** The encoded commit stored for `height`, decoded; undefined for genesis or unknown heights. */
  commitAt(height: bigint): Commit | undefined {
    if (height < 1n) return undefined;
    const bytes = this.store.getCommit(height);
    return bytes === undefined ? undefined : decodeCommit(bytes);
  }

  /**
   * The validator set in force at `height`, for heights 1 to head + 2 whose state is still kept.
   * The set at h is scheduled by the state after block h - 1 (changes decided at H apply at
   * H + 2), so the head's state already knows the sets of head + 1 and head + 2.
   */
  validatorSetAt(height: bigint): readonly Validator[] {
    const h = height < 1n ? 1n : height;
    const cached = this.#sets.get(h);
    if (cached) return cached;
    const head = this.#head.height;
    if (h > head + 2n) {
      throw new ChainError("UNKNOWN_HEIGHT", `the set of height ${h} is not known at head ${head}`);
    }
    const set = setAt(this.#scheduleFor(h), h);
    const oldest = this.#sets.keys().next();
    if (this.#sets.size >= VALIDATOR_SET_CACHE_SIZE && !oldest.done)
      this.#sets.delete(oldest.value);
    this.#sets.set(h, set);
    return set;
  }

  /**
   * The schedule that knows the set of height h: the state after block h − 1 wrote it. A store
   * restored from a snapshot has no state before its head; there the head's schedule serves
   * every height its first entry covers, as schedules only ever drop entries from the front.
   */
  #scheduleFor(h: bigint): ValidatorSchedule {
    const head = this.#head.height;
    const read = (version: bigint) => {
      try {
        const bytes = this.store.readStateAt(version, tables.validators.key);
        return bytes === undefined ? undefined : decode(tables.validators.schema, bytes);
      } catch (e) {
        if (e instanceof StoreError && e.code === "VERSION_UNAVAILABLE") return undefined;
        throw new ChainError("UNKNOWN_HEIGHT", `the set of height ${h}: ${(e as Error).message}`);
      }
    };
    const schedule = read(h - 1n < head ? h - 1n : head);
    if (schedule) return schedule;
    const atHead = h <= head ? read(head) : undefined;
    if (atHead && (atHead.sets[0]?.fromHeight ?? h + 1n) <= h) return atHead;
    throw new ChainError("UNKNOWN_HEIGHT", `the set of height ${h} is no longer kept`);
  }

  /**
   * Reads the sets of head, head + 1 and head + 2 while the states that schedule them are kept:
   * with few kept versions, the set of the head (which the next block's last commit is checked
   * against) may otherwise be pruned before it is needed.
   */
  #warmSets(): void {
    const head = this.#head.height;
    for (const h of [head, head + 1n, head + 2n]) {
      try {
        this.validatorSetAt(h);
      } catch (e) {
        if (!(e instanceof ChainError)) throw e;
      }
    }
  }

  /** The rules version of a block at `height` (head + 1 or below, as scheduled at the head). */
  versionAt(height: bigint): number {
    const bytes = this.state().get(tables.upgrades.key);
    if (bytes === undefined) throw new Error("the head state has no upgrades record");
    return rulesVersionAt(decode(tables.upgrades.schema, bytes), height);
  }

  /**
   * Whether evidence may go in a block at `height`: about an earlier height no older than
   * MAX_EVIDENCE_AGE, and proving misbehaviour by a member of the set of that height.
   */
  checkEvidence(evidence: Evidence, height: bigint): BlockInvalid | undefined {
    const at = evidence.value.voteA.vote.height;
    if (at < 1n || at >= height || height - at > MAX_EVIDENCE_AGE) {
      return invalid("BAD_EVIDENCE", `evidence of height ${at} in a block at ${height}`, {
        reason: "EVIDENCE_AGE",
      });
    }
    let set: readonly Validator[];
    try {
      set = this.validatorSetAt(at);
    } catch (e) {
      if (!(e instanceof ChainError)) throw e;
      return invalid("BAD_EVIDENCE", e.message, { reason: "EVIDENCE_AGE" });
    }
    const check = checkEvidence(evidence, set, this.chainId);
    return check.ok ? undefined : invalid("BAD_EVIDENCE", check.message, { reason: check.code });
  }

  /**
   * Checks and executes a block for head + 1. Never throws on bad input: every invalidity is a
   * BlockInvalid with its code, and nothing is written. A valid block's ExecutedBlock is kept
   * for commitBlock.
   */
  validateBlock(data: Uint8Array, options: ValidateOptions = {}): Promise<BlockVerdict> {
    return this.#exclusive(() => this.#validate(data, options));
  }

  async #validate(data: Uint8Array, options: ValidateOptions): Promise<BlockVerdict> {
    let block: Block;
    try {
      block = decodeBlock(data);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      return invalid("MALFORMED_BLOCK", e.message, { reason: e.code });
    }
    const structure = checkBlockStructure(block, this.chainId);
    if (!structure.ok) return invalid(structure.code, structure.message);
    const header = block.header;
    const headerProblem = this.#checkHeader(header, options.round);
    if (headerProblem) return headerProblem;
    const timely =
      options.fresh !== true ||
      absDiff(header.time, options.receivedAt ?? this.clock.now()) <= this.clockDriftMs;

    const hash = blockHash(block);
    const known = this.executedOnHead(hash);
    if (known) return { ok: true, executed: known, timely };

    if (block.lastCommit) {
      const check = verifyCommit(
        block.lastCommit,
        this.validatorSetAt(header.height - 1n),
        this.chainId,
        this.consensusVerify,
      );
      if (!check.ok) return invalid("BAD_LAST_COMMIT", check.message, { reason: check.code });
    }
    for (const evidence of block.evidence) {
      const problem = this.checkEvidence(evidence, header.height);
      if (problem) return problem;
    }
    const txs = await this.#checkTxs(block.txs, structure.txIds);
    if (!txs.ok) return txs.invalid;
    const execution = await this.#execute(block, txs.txs);
    if (!execution.ok) return execution;
    if (!equalBytes(execution.stateRoot, header.stateRoot)) {
      return invalid(
        "WRONG_STATE_ROOT",
        `the state root after the block is ${toHex(execution.stateRoot)}`,
      );
    }
    if (!equalBytes(execution.receiptsRoot, header.receiptsRoot)) {
      return invalid(
        "WRONG_RECEIPTS_ROOT",
        `the receipts root is ${toHex(execution.receiptsRoot)}`,
      );
    }
    const executed = this.#remember(block, data, hash, txs.txs, execution);
    return { ok: true, executed, timely };
  }

  /** The header's links to the head and the schedule; the body's were checked by structure. */
  #checkHeader(header: Header, round: number | undefined): BlockInvalid | undefined {
    const head = this.#head;
    const height = header.height;
    if (height !== head.height + 1n) {
      return invalid("WRONG_HEIGHT", `block ${height} does not follow the head at ${head.height}`);
    }
    if (height > 1n && !equalBytes(header.parentHash, head.hash)) {
      return invalid("WRONG_PARENT", "the parent hash is not the head's hash");
    }
    const version = this.versionAt(height);
    if (header.version !== version) {
      return invalid(
        "WRONG_VERSION",
        `version ${header.version}, the rules at ${height} are ${version}`,
      );
    }
    if (header.time <= head.header.time) {
      return invalid(
        "TIME_NOT_AFTER_PARENT",
        `time ${header.time} is not after ${head.header.time}`,
      );
    }
    const set = this.validatorSetAt(height);
    if (!equalBytes(header.validatorsHash, validatorSetHash(set))) {
      return invalid("WRONG_VALIDATORS_HASH", `validatorsHash is not that of the set at ${height}`);
    }
    if (
      !equalBytes(header.nextValidatorsHash, validatorSetHash(this.validatorSetAt(height + 1n)))
    ) {
      return invalid(
        "WRONG_NEXT_VALIDATORS_HASH",
        `nextValidatorsHash is not that of the set at ${height + 1n}`,
      );
    }
    if (indexOfValidator(set, header.proposer) < 0) {
      return invalid("UNKNOWN_PROPOSER", "the proposer is not in the validator set");
    }
    if (
      round !== undefined &&
      !equalBytes(proposerFor(set, height, round).address, header.proposer)
    ) {
      return invalid("WRONG_PROPOSER", `the proposer is not the one of round ${round}`);
    }
    return undefined;
  }

  async #checkTxs(txBytes: readonly Uint8Array[], txIds: readonly Uint8Array[]): Promise<TxsCheck> {
    const known = txIds.map((id) => this.checkedTxs.get(id));
    const unknown = known.flatMap((tx, i) => (tx ? [] : [i]));
    const results = await checkTxsStateless(
      unknown.map((i) => txBytes[i]!),
      this.chainId,
      {
        pool: this.#pool,
        cache: this.signatureCache,
        checked: this.checkedTxs,
        registry: this.#registry,
      },
    );
    const txs = [...known];
    for (const [j, result] of results.entries()) {
      const i = unknown[j]!;
      if (!result.ok) {
        return {
          ok: false,
          invalid: invalid("INVALID_TX", `transaction ${i}: ${result.message}`, {
            txIndex: i,
            reason: result.code,
          }),
        };
      }
      txs[i] = result;
    }
    return { ok: true, txs: txs as CheckedTx[] };
  }

  /** Runs the block on an overlay of the head state and computes its roots; writes nothing. */
  async #execute(block: Block, txs: readonly CheckedTx[]): Promise<Execution> {
    const { header } = block;
    const context: BlockContext = {
      chainId: header.chainId,
      height: header.height,
      time: header.time,
      parentHash: header.parentHash,
      proposer: header.proposer,
    };
    const blockTxs: BlockTx[] = txs.map(({ id, body }) => ({ id, body }));
    let applied: Awaited<ReturnType<typeof applyBlock>>;
    try {
      applied = await applyBlock({
        state: this.state(),
        block: context,
        txs: blockTxs,
        evidence: block.evidence,
        verifiedSignatures: this.meterSignatures,
        ...(this.#registry ? { registry: this.#registry } : {}),
      });
    } catch (e) {
      // A handler that throws anything but a Reject is a bug; the block cannot be executed.
      return invalid("EXECUTION_FAILED", (e as Error).message ?? String(e));
    }
    if (!applied.ok) {
      return applied.txIndex === undefined
        ? invalid("EXECUTION_FAILED", applied.message, { reason: applied.code })
        : invalid("INVALID_TX", `transaction ${applied.txIndex}: ${applied.message}`, {
            txIndex: applied.txIndex,
            reason: applied.code,
          });
    }
    const { rootHash, treeBatch } = this.store.computeStateRoot(applied.changes, header.height);
    const encodedReceipts = applied.receipts.map(encodeReceipt);
    return {
      ok: true,
      receipts: applied.receipts,
      encodedReceipts,
      events: applied.events,
      changes: applied.changes,
      treeBatch,
      stateRoot: rootHash,
      receiptsRoot: computeReceiptsRoot(encodedReceipts),
      validatorUpdate: applied.validatorUpdate,
    };
  }

  #remember(
    block: Block,
    bytes: Uint8Array,
    hash: Uint8Array,
    txs: readonly CheckedTx[],
    execution: Extract<Execution, { ok: true }>,
  ): ExecutedBlock {
    const executed: ExecutedBlock = {
      block,
      bytes,
      hash,
      height: block.header.height,
      baseHeight: this.#head.height,
      txIds: txs.map((tx) => tx.id),
      txs: txs.map((tx) => tx.tx),
      receipts: execution.receipts,
      encodedReceipts: execution.encodedReceipts,
      events: execution.events,
      changes: execution.changes,
      treeBatch: execution.treeBatch,
      stateRoot: execution.stateRoot,
      receiptsRoot: execution.receiptsRoot,
      validatorUpdate: execution.validatorUpdate,
    };
    const oldest = this.#executed.keys().next();
    if (this.#executed.size >= EXECUTED_CACHE_SIZE && !oldest.done) {
      this.#executed.delete(oldest.value);
    }
    this.#executed.set(toHex(hash), executed);
    return executed;
  }

  /**
   * The execution of a block validated or proposed on the current head, by the block's hash.
   * A decided block was executed when its proposal came: looking it up spares decoding and
   * checking the whole block again. commitBlock still refuses it if the head moves meanwhile.
   */
  executedOnHead(hash: Uint8Array): ExecutedBlock | undefined {
    const known = this.#executed.get(toHex(hash));
    return known?.baseHeight === this.#head.height ? known : undefined;
  }

  /**
   * For the producer: executes a block whose header is complete but for stateRoot and
   * receiptsRoot (their values are ignored), from transactions that passed the stateless
   * checks, fills those roots in and returns the finished block, kept like a validated one.
   * An INVALID_TX result names the transaction that broke the block (e.g. a stale nonce).
   */
  executeProposal(
    template: Block,
    txs: readonly CheckedTx[],
  ): Promise<{ readonly ok: true; readonly executed: ExecutedBlock } | BlockInvalid> {
    return this.#exclusive(async () => {
      const execution = await this.#execute(template, txs);
      if (!execution.ok) return execution;
      const block: Block = {
        ...template,
        header: {
          ...template.header,
          stateRoot: execution.stateRoot,
          receiptsRoot: execution.receiptsRoot,
        },
      };
      const executed = this.#remember(block, encodeBlock(block), blockHash(block), txs, execution);
      return { ok: true, executed };
    });
  }

  /**
   * Commits an executed block with the commit that decided it, in one atomic batch with the
   * index hooks' writes, then emits "committed". Throws ChainError NOT_NEXT, COMMIT_MISMATCH
   * or BAD_COMMIT (nothing is written then).
   */
  commitBlock(executed: ExecutedBlock, commit: Commit): Promise<CommittedBlock> {
    return this.#exclusive(async () => {
      const head = this.#head;
      if (executed.baseHeight !== head.height || executed.height !== head.height + 1n) {
        throw new ChainError(
          "NOT_NEXT",
          `block ${executed.height} was executed on ${executed.baseHeight}; the head is ${head.height}`,
        );
      }
      if (commit.height !== executed.height || !equalBytes(commit.blockHash, executed.hash)) {
        throw new ChainError("COMMIT_MISMATCH", "the commit is for another block");
      }
      const check = verifyCommit(
        commit,
        this.validatorSetAt(executed.height),
        this.chainId,
        this.consensusVerify,
      );
      if (!check.ok) throw new ChainError("BAD_COMMIT", `${check.code}: ${check.message}`);

      const extra = new WriteBatch();
      for (const hook of this.#indexHooks) hook(executed, extra);
      await this.store.commitBlock({
        height: executed.height,
        blockHash: executed.hash,
        block: executed.bytes,
        commit: encodeCommit(commit),
        txIds: executed.txIds,
        receipts: executed.encodedReceipts,
        ...(executed.events.length > 0
          ? { endEvents: encode(EndEventsSchema, executed.events) }
          : {}),
        changes: executed.changes,
        treeBatch: executed.treeBatch,
        ...(extra.length > 0 ? { extra } : {}),
      });
      this.#head = {
        height: executed.height,
        hash: executed.hash,
        header: executed.block.header,
        stateRoot: executed.stateRoot,
      };
      // Every kept execution was on the old head; none can be committed now.
      this.#executed.clear();
      this.#warmSets();
      const committed: CommittedBlock = {
        height: executed.height,
        hash: executed.hash,
        header: executed.block.header,
        block: executed.block,
        commit,
        txIds: executed.txIds,
        txs: executed.txs,
        receipts: executed.receipts,
        events: executed.events,
        validatorUpdate: executed.validatorUpdate,
      };
      this.#emitter.emit("committed", committed);
      return committed;
    });
  }

  #exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
