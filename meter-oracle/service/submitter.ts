// Moves readings from the outbox onto the chain as a pipeline of transactions (docs/oracle.md
// "Submission"): take the due readings, pack a batch, sign it with the next nonce, write it to
// the outbox, send it; up to maxInFlight of them outstanding at once, each settled from its
// receipt once it is in a block.
//
// Idempotency comes from the order of those steps. A transaction is in the outbox before it
// is sent, so after any crash the oracle holds the exact bytes it may have sent: it looks them
// up (tx_get) and either settles from the receipt or sends the same bytes again, in nonce order,
// which the node either admits, already holds, or refuses as NONCE_TOO_LOW because they are on
// chain. No second transaction is ever signed for a reading while its first may still land, so
// no reading can land twice; and a reading the chain reports as the idempotent duplicate of its
// last one is CONFIRMED, not rejected.
//
// Order: each batch takes the next due readings in (meter, time) order, so a later nonce never
// carries a meter's reading earlier than one in an earlier nonce. Readings queued again (a
// refusal, a whole rejection) are older than anything still in flight for their meters, so
// nothing new is signed until the pipeline has emptied; they then go first. A full batch joins
// a non-empty pipeline; a partial one (the backlog is caught up) only if no other partial one
// is in flight, so a live oracle still gathers what comes due during a round trip into one
// transaction, and only behind batches no larger than one the chain has executed since the
// last refusal, so that it cannot land ahead of the readings of a batch the chain rejects as
// too large (BATCH_TOO_LARGE).
//
// Nonces: a refused transaction n strands n+1.. (the chain takes each account's nonces in
// sequence). Its same bytes are sent again after the backoff, and n+1.. are left alone; once
// the node holds none of n+1.. (they were never admitted, or have left its mempool), n and all
// of them are queued again in one write and re-signed from the chain's account nonce.

import { addressOf, toChecksumAddress } from "../../lib/address.js";
import { to0x } from "../../lib/bytes.js";
import { publicKeyOf } from "../../lib/keys.js";
import { buildSubmitReadings, packBatch } from "./batcher.js";
import type { OracleChain, TxLookup } from "./chain.js";
import type { Outbox, PendingTx, ReadingOutcome } from "./outbox.js";

export interface SubmitterOptions {
  readonly chainId: string;
  readonly oracleSecretKey: Uint8Array;
  /** Readings per transaction, at most the chain's maxReadingsPerBatch. */
  readonly maxReadings: number;
  /** Transactions outstanding at once (consecutive nonces). */
  readonly maxInFlight: number;
  /** Capped exponential backoff after a fault: initial, doubling, up to max. */
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  /** Between polls of the transactions in flight. */
  readonly pollMs?: number;
  /** Between looks for due readings when there are none. */
  readonly idleMs?: number;
  readonly events?: SubmitterEvents;
}

export interface SubmitterEvents {
  submitted?(tx: PendingTx): void;
  settled?(tx: PendingTx, height: bigint, outcomes: readonly ReadingOutcome[]): void;
  /**
   * A transaction refused at send or rejected whole on chain. `requeued` are the transactions
   * whose readings were queued again (it and those it stranded), or none when its same bytes
   * will be sent again.
   */
  txRefused?(tx: PendingTx, code: string, message: string, requeued: readonly PendingTx[]): void;
  fault?(error: unknown, retryInMs: number): void;
}

/** What one step did: nothing due, sent or settled something, or waits for a block. */
export type StepResult = "idle" | "progress" | "waiting";

/** Tx-level codes after which the same readings, in a smaller batch, may still land. */
const SHRINK = new Set(["BATCH_TOO_LARGE", "TX_TOO_LARGE", "TX_TOO_LARGE_FOR_POOL"]);

type Included = Extract<TxLookup, { status: "included" }>;

export class Submitter {
  readonly address: string;
  readonly #outbox: Outbox;
  readonly #chain: OracleChain;
  readonly #options: SubmitterOptions;
  #maxReadings: number;
  /** The outbox's pending transactions in nonce order; read from it on the first step. */
  #inFlight: PendingTx[] | undefined;
  /** Past the highest nonce settled (the next when nothing is in flight); undefined: ask the chain. */
  #nonce: bigint | undefined;
  /** Nothing new is signed until the pipeline empties: after a restart or a requeue. */
  #hold = true;
  /** The batches in flight that were not full. */
  readonly #partial = new WeakSet<PendingTx>();
  /** The largest batch the chain has executed since the start or the last requeue. */
  #proven = 0;
  #lastFault: string | undefined;

  constructor(outbox: Outbox, chain: OracleChain, options: SubmitterOptions) {
    this.#outbox = outbox;
    this.#chain = chain;
    this.#options = options;
    this.#maxReadings = options.maxReadings;
    this.address = toChecksumAddress(addressOf(publicKeyOf(options.oracleSecretKey)));
  }

  /** The last fault or refusal, for status; cleared by the next success. */
  get lastFault(): string | undefined {
    return this.#lastFault;
  }

  /** Transactions sent (or about to be) and not yet settled, as of the last step. */
  get inFlight(): number {
    return this.#inFlight?.length ?? 0;
  }

  /** One round: settle or chase the transactions in flight, then send batches while there is room. */
  async step(): Promise<StepResult> {
    this.#inFlight ??= await this.#outbox.pending();
    const changed = this.#inFlight.length > 0 && (await this.#chase(this.#inFlight));
    const sent = await this.#fill(this.#inFlight);
    if (changed || sent) return "progress";
    return this.#inFlight.length > 0 ? "waiting" : "idle";
  }

  /** Settles what is in a block, sends again what the node lost; true if anything settled. */
  async #chase(inFlight: PendingTx[]): Promise<boolean> {
    const lookups = await Promise.all(inFlight.map((tx) => this.#chain.lookup(tx.id)));
    const found = new Map<PendingTx, TxLookup>(inFlight.map((tx, i) => [tx, lookups[i]!]));
    let changed = false;
    for (const [tx, lookup] of found) {
      if (lookup.status === "included") {
        await this.#settle(tx, lookup);
        changed = true;
      }
    }
    // In nonce order, so the node sees no gap it need not; a refusal stops the round, leaving
    // the later ones unsent so that they leave the node's mempool (see #refused).
    for (const tx of [...inFlight]) {
      if (found.get(tx)?.status !== "unknown" || !inFlight.includes(tx)) continue;
      const later = inFlight.slice(inFlight.indexOf(tx) + 1);
      const gone = later.every((l) => found.get(l)?.status === "unknown");
      if (!(await this.#send(tx, gone ? later : undefined))) changed = true;
    }
    return changed;
  }

  /** Signs and sends the next batches while the pipeline has room; true if any was sent. */
  async #fill(inFlight: PendingTx[]): Promise<boolean> {
    if (inFlight.length === 0) this.#hold = false;
    if (this.#hold) return false;
    let sent = false;
    let dueBy: bigint | undefined;
    while (inFlight.length < this.#options.maxInFlight) {
      if (dueBy === undefined) {
        const head = await this.#chain.head();
        if (head.chainId !== this.#options.chainId) {
          throw new Error(`the node serves chain ${head.chainId}, not ${this.#options.chainId}`);
        }
        dueBy = head.time;
      }
      const due = await this.#outbox.due(this.#maxReadings, dueBy);
      const batch = packBatch(due, { maxReadings: this.#maxReadings });
      if (batch.length === 0) break;
      const full = batch.length === this.#maxReadings || batch.length < due.length;
      if (!full && !this.#partialMayJoin(inFlight)) break;
      const nonce = await this.#nextNonce(inFlight);
      const built = buildSubmitReadings(
        this.#options.chainId,
        nonce,
        this.#options.oracleSecretKey,
        batch,
      );
      const tx: PendingTx = {
        id: to0x(built.id),
        nonce,
        bytes: built.bytes,
        readings: batch.map(({ meterIdHash, time }) => ({ meterIdHash, time })),
      };
      await this.#outbox.submit(tx);
      inFlight.push(tx);
      if (!full) this.#partial.add(tx);
      this.#options.events?.submitted?.(tx);
      sent = true;
      // The newest: a refusal strands nothing, so its readings go back at once.
      if (!(await this.#send(tx, []))) break;
    }
    return sent;
  }

  #partialMayJoin(inFlight: readonly PendingTx[]): boolean {
    return inFlight.every((tx) => !this.#partial.has(tx) && tx.readings.length <= this.#proven);
  }

  async #nextNonce(inFlight: readonly PendingTx[]): Promise<bigint> {
    const last = inFlight.at(-1);
    if (last === undefined) {
      this.#nonce ??= await this.#chain.nonce(this.address);
      return this.#nonce;
    }
    // Later nonces may have settled while an earlier one still looked pending.
    const next = last.nonce + 1n;
    return this.#nonce !== undefined && this.#nonce > next ? this.#nonce : next;
  }

  /**
   * Sends; true if the node has the transaction, false if it was settled or requeued. On a
   * refusal, `stranded` are the later transactions to queue again with it; undefined when some
   * of them may still land, and the same bytes are to be sent again after the backoff.
   */
  async #send(tx: PendingTx, stranded: readonly PendingTx[] | undefined): Promise<boolean> {
    const result = await this.#chain.send(tx.bytes);
    if (result.kind !== "refused") {
      this.#lastFault = undefined;
      return true;
    }
    if (result.code === "NONCE_TOO_LOW") {
      // Our nonce is used: by these very bytes if they are on chain (a resend after a crash).
      const found = await this.#chain.lookup(tx.id);
      if (found.status === "included") {
        await this.#settle(tx, found);
        return false;
      }
    }
    await this.#refused(tx, result.code, result.message, stranded);
    return false;
  }

  async #settle(tx: PendingTx, found: Included): Promise<void> {
    if (found.reject !== undefined || found.readings === undefined) {
      // The nonce is used, so no later one is stranded: only this transaction goes back.
      await this.#refused(tx, found.reject ?? "NO_READING_RESULTS", "rejected whole on chain", []);
      return;
    }
    await this.#outbox.settle(tx, found.height, found.readings);
    this.#drop([tx]);
    if (this.#nonce === undefined || this.#nonce <= tx.nonce) this.#nonce = tx.nonce + 1n;
    this.#proven = Math.max(this.#proven, tx.readings.length);
    this.#lastFault = undefined;
    this.#options.events?.settled?.(tx, found.height, found.readings);
  }

  // Nothing of the transaction applied, so its readings can go again: in a smaller batch if
  // size was the fault; otherwise after the backoff, once the operator fixed the cause (an
  // oracle not yet registered, say). With `stranded` undefined it stays in flight instead.
  async #refused(
    tx: PendingTx,
    code: string,
    message: string,
    stranded: readonly PendingTx[] | undefined,
  ): Promise<void> {
    const requeued = stranded === undefined ? [] : [tx, ...stranded];
    if (requeued.length > 0) {
      await this.#outbox.requeue(requeued);
      this.#drop(requeued);
      this.#hold = true;
      this.#nonce = undefined;
      this.#proven = 0;
    }
    this.#lastFault = `${code}: ${message}`;
    this.#options.events?.txRefused?.(tx, code, message, requeued);
    if (requeued.length > 0 && SHRINK.has(code)) {
      this.#maxReadings = Math.max(1, Math.floor(tx.readings.length / 2));
    } else {
      throw new TxRefusedError(code, message);
    }
  }

  #drop(txs: readonly PendingTx[]): void {
    const inFlight = this.#inFlight ?? [];
    for (const tx of txs) {
      const i = inFlight.indexOf(tx);
      if (i >= 0) inFlight.splice(i, 1);
    }
  }

  /**
   * Steps until `signal` aborts (or, with `untilDrained`, until the outbox is empty once
   * `sourcesEnded` says nothing more will be queued; by default nothing more is), sleeping
   * between rounds and backing off after faults: initialMs, doubled per consecutive fault, up to
   * maxMs.
   */
  async run(
    signal: AbortSignal,
    options: { untilDrained?: boolean; sourcesEnded?: () => boolean } = {},
  ): Promise<void> {
    const ended = options.sourcesEnded ?? (() => true);
    const { retry } = this.#options;
    let faults = 0;
    while (!signal.aborted) {
      let pause: number;
      try {
        const result = await this.step();
        faults = 0;
        if (options.untilDrained && result === "idle" && ended() && this.#outbox.backlog() === 0) {
          return;
        }
        pause =
          result === "progress"
            ? 0
            : result === "waiting"
              ? (this.#options.pollMs ?? 100)
              : (this.#options.idleMs ?? 1000);
      } catch (error) {
        if (signal.aborted) return;
        pause = Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(faults, 30));
        faults += 1;
        if (!(error instanceof TxRefusedError)) this.#lastFault = (error as Error).message;
        this.#options.events?.fault?.(error, pause);
      }
      if (pause > 0) await sleep(pause, signal);
    }
  }
}

/** A transaction the node refused, or the chain rejected whole; its readings are queued again. */
export class TxRefusedError extends Error {
  override name = "TxRefusedError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
