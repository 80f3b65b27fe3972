// The mempool (DESIGN §4): transactions waiting for a block. There are no fees, so spam is
// bounded by quotas rather than priced: a transaction is admitted only after every stateless
// check (its signature verified once and remembered by id) and a stateful pre-check against the
// head (its nonce unused, its signer holding the role its type needs), and only within
// per-account and global bounds. Only admitted transactions are announced for gossip.
//
// Each sender has a queue ordered by nonce. The run of consecutive nonces from the account's
// nonce is executable; a later nonce is held behind a gap (at most maxTxsPerAccount ahead)
// until the gap fills. Eviction when the pool is full, in this order:
//   0. a newcomer that would itself be held behind a gap is refused (MEMPOOL_FULL);
//   1. the highest-nonce held transaction of the sender holding the most of them,
//   2. else the highest-nonce transaction of the sender with the most transactions, if that
//      sender holds more than the newcomer's sender would after admission,
//   3. else the newcomer is refused (MEMPOOL_FULL).
// Evicting from the top of a queue never opens a gap, and preferring the largest queue keeps one
// busy sender from crowding out the others. Transactions older than ttlMs expire.
import { toHex } from "../lib/bytes.js";
import { decode } from "../lib/codec.js";
import type { VerifyPool } from "../lib/verify-pool.js";
import { statefulChecker, type TxCheck } from "../vm/check.js";
import type { RejectCode } from "../vm/codes.js";
import { NEW_ACCOUNT } from "../vm/model/account.js";
import { tables } from "../vm/tables.js";
import type { HandlerRegistry, Tx } from "../vm/tx/registry.js";
import type { Chain, CheckedTx, CommittedBlock, TxStatelessResult } from "./chain.js";
import { checkTxsStateless } from "./chain.js";
import { TypedEmitter } from "./p2p/events.js";

/** What a transaction adds to a block's encoding beyond its own bytes (its msgpack bin header). */
export const TX_LIST_OVERHEAD = 5;

export interface MempoolOptions {
  /** Global bound on transactions (config mempool.maxTxs). */
  readonly maxTxs?: number;
  /** Global bound on the transactions' bytes (config mempool.maxBytes). */
  readonly maxBytes?: number;
  /** Per-sender bound, also how far past the account's nonce a held nonce may be. */
  readonly maxTxsPerAccount?: number;
  /** Age after which a transaction expires. */
  readonly ttlMs?: bigint;
  readonly pool?: VerifyPool;
  readonly registry?: HandlerRegistry;
  readonly onListenerError?: (error: unknown) => void;
  /** Verifying an oracle batch's meter signatures on admission failed (its block verifies them). */
  readonly onPreverifyError?: (error: unknown) => void;
}

export const MEMPOOL_DEFAULTS = {
  maxTxs: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxTxsPerAccount: 64,
  ttlMs: 600_000n,
} as const;

/** Codes of the mempool's own refusals; the others are the vm's reject codes. */
export type MempoolCode =
  | "ALREADY_KNOWN"
  | "NONCE_TAKEN"
  | "NONCE_TOO_FAR"
  | "ACCOUNT_FULL"
  | "MEMPOOL_FULL"
  | "TX_TOO_LARGE_FOR_POOL";

export type AddResult =
  | { readonly ok: true; readonly id: Uint8Array }
  | { readonly ok: false; readonly code: MempoolCode | RejectCode; readonly message: string };

/** Where a transaction came from: submitted to this node, or relayed by a peer. */
export type TxOrigin = "rpc" | "gossip";

export interface MempoolTx extends CheckedTx {
  readonly origin: TxOrigin;
  readonly sender: string;
  readonly nonce: bigint;
  readonly addedAt: bigint;
  /** Arrival order, for the fair, deterministic reaping order. */
  readonly seq: number;
}

export type RemovalReason = "included" | "stale" | "expired" | "evicted" | "invalid";

export interface MempoolEvents {
  /** A transaction entered the pool: gossip it. */
  admitted: [tx: MempoolTx];
  removed: [tx: MempoolTx, reason: RemovalReason];
}

/**
 * Admissions per turn: with a worker pool the batch is verified off the loop, so it only bounds
 * how long the stateful checks hold it; inline, verification holds the loop (~0.3 ms each).
 */
const POOL_TURN = 256;
/** Turns verifying on the pool at once. */
const POOL_TURNS_IN_FLIGHT = 4;
export const INLINE_TURN = 8;

interface Waiting {
  readonly bytes: Uint8Array;
  readonly origin: TxOrigin;
  readonly resolve: (result: AddResult) => void;
  readonly reject: (error: unknown) => void;
}

interface SenderQueue {
  readonly sender: string;
  /** The account's nonce at the head, as last read. */
  accountNonce: bigint;
  readonly txs: Map<bigint, MempoolTx>;
}

export class Mempool {
  readonly #chain: Chain;
  readonly #maxTxs: number;
  readonly #maxBytes: number;
  readonly #perAccount: number;
  readonly #ttl: bigint;
  readonly #pool: VerifyPool | undefined;
  readonly #registry: HandlerRegistry | undefined;
  readonly #emitter: TypedEmitter<MempoolEvents>;
  readonly #byId = new Map<string, MempoolTx>();
  /**
   * Oracle batches whose meter signatures are still being verified on admission. A proposal
   * leaves them (and their senders' later nonces) for a later block: every validator verifies
   * the batch as it arrives, so a block carrying it before then would be verified inline by all
   * of them while validating it, which with a few large batches outlasts the round's timeouts.
   */
  readonly #verifying = new Map<MempoolTx, Promise<void>>();
  readonly #onPreverifyError: (error: unknown) => void;
  readonly #senders = new Map<string, SenderQueue>();
  #bytes = 0;
  #seq = 0;
  /** Admissions not yet started, in arrival order (see #scheduleTurn). */
  readonly #waiting: Waiting[] = [];
  /** Turns started and not finished, and whether one is about to start. */
  #turns = 0;
  #turnScheduled = false;
  /** Settles when the latest turn has admitted its transactions. */
  #lastTurn: Promise<void> = Promise.resolve();
  #checker: { readonly head: object; readonly check: (tx: Tx) => TxCheck<object> } | undefined;

  constructor(chain: Chain, options: MempoolOptions = {}) {
    this.#chain = chain;
    this.#maxTxs = options.maxTxs ?? MEMPOOL_DEFAULTS.maxTxs;
    this.#maxBytes = options.maxBytes ?? MEMPOOL_DEFAULTS.maxBytes;
    this.#perAccount = options.maxTxsPerAccount ?? MEMPOOL_DEFAULTS.maxTxsPerAccount;
    this.#ttl = options.ttlMs ?? MEMPOOL_DEFAULTS.ttlMs;
    this.#pool = options.pool;
    this.#registry = options.registry;
    this.#onPreverifyError = options.onPreverifyError ?? (() => {});
    const onError = options.onListenerError ?? (() => {});
    this.#emitter = new TypedEmitter<MempoolEvents>((_event, error) => onError(error));
  }

  get size(): number {
    return this.#byId.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  has(id: Uint8Array): boolean {
    return this.#byId.has(toHex(id));
  }

  get(id: Uint8Array): MempoolTx | undefined {
    return this.#byId.get(toHex(id));
  }

  on<K extends keyof MempoolEvents>(
    event: K,
    listener: (...args: MempoolEvents[K]) => void,
  ): () => void {
    return this.#emitter.on(event, listener);
  }

  /**
   * Resolves once the oracle batches admitted so far have their meter signatures verified; a
   * block built before then leaves them out.
   */
  async preverified(): Promise<void> {
    await Promise.all(this.#verifying.values());
  }

  /** How many admitted oracle batches are still having their meter signatures verified. */
  get verifying(): number {
    return this.#verifying.size;
  }

  /** Checks and admits a transaction's bytes (from RPC or gossip). */
  add(bytes: Uint8Array, origin: TxOrigin = "rpc"): Promise<AddResult> {
    return new Promise<AddResult>((resolve, reject) => {
      this.#waiting.push({ bytes, origin, resolve, reject });
      this.#scheduleTurn();
    });
  }

  /**
   * Admissions run in turns, one turn per event-loop iteration. Verifying a signature is
   * synchronous, so a burst (an RPC client sending thousands at once, a gossip flood) admitted
   * straight away held the loop for the whole burst, and the consensus messages and timers
   * queued behind it came seconds late: under load, rounds failed and only empty blocks
   * committed. Between two turns the loop polls for I/O and runs its timers. A turn takes what
   * arrived meanwhile, up to a bound, and verifies it as one batch: on the worker pool when there
   * is one (the loop stays free however large the batch), else inline and few at a time.
   * With a pool, the next turns verify while one waits for its results (the loop would
   * otherwise sit idle while the workers verify, and the workers while it admits); the turns
   * still admit one after another, in arrival order.
   */
  #scheduleTurn(): void {
    const inFlight = this.#pool ? POOL_TURNS_IN_FLIGHT : 1;
    if (this.#turnScheduled || this.#waiting.length === 0 || this.#turns >= inFlight) return;
    this.#turnScheduled = true;
    setImmediate(() => {
      this.#turnScheduled = false;
      void this.#admitTurn();
    });
  }

  async #admitTurn(): Promise<void> {
    const batch = this.#waiting.splice(0, this.#pool ? POOL_TURN : INLINE_TURN);
    if (batch.length === 0) return;
    this.#turns++;
    const previous = this.#lastTurn;
    let done = () => {};
    this.#lastTurn = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      this.expire();
      const sized = batch.filter(({ bytes, resolve }) => {
        if (bytes.length <= this.#maxBytes) return true;
        resolve(refuse("TX_TOO_LARGE_FOR_POOL", `${bytes.length} bytes exceed the pool's bound`));
        return false;
      });
      const checking = checkTxsStateless(
        sized.map(({ bytes }) => bytes),
        this.#chain.chainId,
        {
          pool: this.#pool,
          cache: this.#chain.signatureCache,
          checked: this.#chain.checkedTxs,
          registry: this.#registry,
        },
      );
      this.#scheduleTurn();
      const checks = await checking;
      await previous;
      // Each turn checks against the clock as it is now.
      this.#checker = undefined;
      for (const [i, { origin, resolve, reject }] of sized.entries()) {
        const check = checks[i];
        try {
          if (!check) throw new Error("checkTxsStateless returned no result");
          resolve(this.#admit(check, origin));
        } catch (error) {
          reject(error);
        }
      }
    } catch (error) {
      // Settling an already settled admission does nothing: this reaches the rest.
      for (const { reject } of batch) reject(error);
    } finally {
      done();
      this.#turns--;
      this.#scheduleTurn();
    }
  }

  /** The stateful part of an admission, once the stateless checks passed or failed. */
  #admit(check: TxStatelessResult, origin: TxOrigin): AddResult {
    if (!check.ok) return check;
    const { bytes } = check;
    // The same bytes may have arrived twice, in one batch or while it was verified.
    const key = toHex(check.id);
    if (this.#byId.has(key)) return refuse("ALREADY_KNOWN", "already in the pool");

    const stateful = this.#statefulCheck()(check.tx);
    if (!stateful.ok) return stateful;

    const sender = toHex(check.tx.signer);
    const accountNonce = this.#accountNonce(check.tx.signer);
    const queue = this.#senders.get(sender) ?? { sender, accountNonce, txs: new Map() };
    queue.accountNonce = accountNonce;
    const nonce = check.tx.nonce;
    if (queue.txs.has(nonce)) return refuse("NONCE_TAKEN", `nonce ${nonce} is already pending`);
    if (nonce - accountNonce >= BigInt(this.#perAccount)) {
      return refuse(
        "NONCE_TOO_FAR",
        `nonce ${nonce} is too far past the account's ${accountNonce}`,
      );
    }
    if (queue.txs.size >= this.#perAccount) {
      return refuse("ACCOUNT_FULL", `the sender has ${queue.txs.size} pending transactions`);
    }
    while (this.#byId.size + 1 > this.#maxTxs || this.#bytes + bytes.length > this.#maxBytes) {
      // A newcomer that would itself wait behind a gap never displaces anything. (Only asked
      // of a full pool: it walks the sender's queue.)
      const executable = nonce === accountNonce + BigInt(this.#executableRun(queue).length);
      if (!executable || !this.#evictFor(queue.txs.size + 1)) {
        return refuse("MEMPOOL_FULL", "the pool is full");
      }
    }

    const entry: MempoolTx = {
      ...check,
      origin,
      sender,
      nonce,
      addedAt: this.#chain.clock.now(),
      seq: this.#seq++,
    };
    this.#senders.set(sender, queue);
    queue.txs.set(nonce, entry);
    this.#byId.set(key, entry);
    this.#bytes += bytes.length;
    this.#emitter.emit("admitted", entry);
    // After the gossip (the "admitted" listeners), so every validator verifies at once; not
    // awaited, so neither the sender's answer nor the admissions behind it wait for a batch of
    // thousands of signatures.
    const verifying = this.#chain
      .preverifyMeterSignatures(entry.tx)
      ?.catch(this.#onPreverifyError)
      .finally(() => this.#verifying.delete(entry));
    if (verifying) this.#verifying.set(entry, verifying);
    return { ok: true, id: entry.id };
  }

  /**
   * Executable transactions for a block: senders take turns, one transaction each per turn, in
   * the order their oldest executable transaction arrived, and each sender's go in nonce
   * order. `maxBytes` counts each transaction as its bytes plus TX_LIST_OVERHEAD. A sender
   * whose next transaction does not fit is skipped from then on (its later nonces need it), as
   * is one whose next transaction is an oracle batch still verifying.
   */
  reap(maxTxs: number, maxBytes: number): MempoolTx[] {
    // Nonces are read afresh, so a reap right after a commit never offers a used nonce even
    // before update() has run.
    const runs = [...this.#senders.values()]
      .map((queue) => {
        const first = queue.txs.values().next();
        if (!first.done) queue.accountNonce = this.#accountNonce(first.value.tx.signer);
        const run = this.#executableRun(queue);
        const verifying = run.findIndex((entry) => this.#verifying.has(entry));
        return verifying < 0 ? run : run.slice(0, verifying);
      })
      .filter((run) => run.length > 0)
      .sort((a, b) => a[0]!.seq - b[0]!.seq);
    const out: MempoolTx[] = [];
    let bytes = 0;
    const positions = runs.map(() => 0);
    let active = runs.length;
    while (active > 0 && out.length < maxTxs) {
      active = 0;
      for (const [r, run] of runs.entries()) {
        const next = run[positions[r]!];
        if (next === undefined || out.length >= maxTxs) continue;
        const size = next.bytes.length + TX_LIST_OVERHEAD;
        if (bytes + size > maxBytes) {
          positions[r] = run.length;
          continue;
        }
        out.push(next);
        bytes += size;
        positions[r]! += 1;
        if (positions[r]! < run.length) active++;
      }
    }
    return out;
  }

  /**
   * After a commit: drops the block's transactions and every one whose nonce is now used, then
   * re-checks the rest against the new head (a role may have been revoked) and expires old ones.
   */
  update(committed: Pick<CommittedBlock, "txIds">): void {
    for (const id of committed.txIds) {
      const entry = this.#byId.get(toHex(id));
      if (entry) this.#remove(entry, "included");
    }
    const check = this.#statefulCheck();
    for (const queue of [...this.#senders.values()]) {
      const first = queue.txs.values().next();
      if (first.done) continue;
      queue.accountNonce = this.#accountNonce(first.value.tx.signer);
      for (const entry of [...queue.txs.values()]) {
        if (entry.nonce < queue.accountNonce) {
          this.#remove(entry, "stale");
          continue;
        }
        if (!check(entry.tx).ok) this.#remove(entry, "stale");
      }
    }
    this.expire();
  }

  /**
   * Removes transactions older than ttlMs; returns how many. The pool is kept in admission
   * order, so this stops at the first young one (a clock stepping back only delays expiry).
   */
  expire(): number {
    const cutoff = this.#chain.clock.now() - this.#ttl;
    let removed = 0;
    // Deleting the entry being visited is safe while iterating a Map.
    for (const entry of this.#byId.values()) {
      if (entry.addedAt > cutoff) break;
      this.#remove(entry, "expired");
      removed++;
    }
    return removed;
  }

  /**
   * Drops transactions that broke a proposal. The same senders' later nonces stay, held behind
   * the gap, until a replacement fills it or they expire.
   */
  reject(ids: readonly Uint8Array[]): void {
    for (const id of ids) {
      const entry = this.#byId.get(toHex(id));
      if (entry) this.#remove(entry, "invalid");
    }
  }

  #executableRun(queue: SenderQueue): MempoolTx[] {
    const run: MempoolTx[] = [];
    for (let n = queue.accountNonce; ; n++) {
      const entry = queue.txs.get(n);
      if (!entry) return run;
      run.push(entry);
    }
  }

  /** Evicts one transaction to make room for a sender that would then hold `newcomerCount`. */
  #evictFor(newcomerCount: number): boolean {
    let largest: SenderQueue | undefined;
    let largestHeld: SenderQueue | undefined;
    let largestHeldCount = 0;
    for (const queue of this.#senders.values()) {
      if (!largest || queue.txs.size > largest.txs.size) largest = queue;
      const held = queue.txs.size - this.#executableRun(queue).length;
      if (held > largestHeldCount) {
        largestHeld = queue;
        largestHeldCount = held;
      }
    }
    const victimQueue =
      largestHeld ?? (largest && largest.txs.size > newcomerCount ? largest : undefined);
    if (!victimQueue) return false;
    let victim: MempoolTx | undefined;
    for (const entry of victimQueue.txs.values()) {
      if (!victim || entry.nonce > victim.nonce) victim = entry;
    }
    if (!victim) return false;
    this.#remove(victim, "evicted");
    return true;
  }

  #remove(entry: MempoolTx, reason: RemovalReason): void {
    const key = toHex(entry.id);
    if (!this.#byId.delete(key)) return;
    this.#bytes -= entry.bytes.length;
    const queue = this.#senders.get(entry.sender);
    queue?.txs.delete(entry.nonce);
    if (queue && queue.txs.size === 0) this.#senders.delete(entry.sender);
    this.#emitter.emit("removed", entry, reason);
  }

  #accountNonce(address: Uint8Array): bigint {
    const bytes = this.#chain.state().get(tables.account.key(address));
    return bytes === undefined ? NEW_ACCOUNT.nonce : decodeAccountNonce(bytes);
  }

  /**
   * The stateful pre-check against the head state as the next block would see it. It is kept
   * while the head stays (the chain's parameters are decoded once for many checks) and built
   * afresh after a commit and at each admission turn.
   */
  #statefulCheck(): (tx: Tx) => TxCheck<object> {
    const head = this.#chain.head();
    if (this.#checker?.head === head) return this.#checker.check;
    const check = statefulChecker(
      this.#chain.state(),
      {
        chainId: this.#chain.chainId,
        height: head.height + 1n,
        time: this.#chain.clock.now(),
        parentHash: head.hash,
        proposer: new Uint8Array(20),
      },
      this.#registry,
    );
    this.#checker = { head, check };
    return check;
  }
}

function decodeAccountNonce(bytes: Uint8Array): bigint {
  return decode(tables.account.schema, bytes).nonce;
}

function refuse(code: MempoolCode, message: string): AddResult {
  return { ok: false, code, message };
}
