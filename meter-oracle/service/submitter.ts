// Moves readings from the outbox onto the chain, one transaction at a time (docs/oracle.md
// "Submission"): take the due readings, pack a batch, sign it, write it to the outbox, send it,
// wait until it is in a block, and record each reading's result from the receipt.
//
// Idempotency comes from the order of those steps. A transaction is in the outbox before it
// is sent, so after any crash the oracle holds the exact bytes it may have sent: it looks them
// up (tx_get) and either settles from the receipt or sends the same bytes again, which the node
// either admits, already holds, or refuses as NONCE_TOO_LOW because they are on chain. No
// second transaction is ever signed for a reading, so no reading can land twice; and a reading
// the chain reports as the idempotent duplicate of its last one is CONFIRMED, not rejected.
//
// One transaction in flight: every reading of a meter must land after its predecessors, and
// with a single outstanding nonce a refused transaction can never strand a later one.

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
  /** Capped exponential backoff after a fault: initial, doubling, up to max. */
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  /** Between polls of a transaction in flight. */
  readonly pollMs?: number;
  /** Between looks for due readings when there are none. */
  readonly idleMs?: number;
  readonly events?: SubmitterEvents;
}

export interface SubmitterEvents {
  submitted?(tx: PendingTx): void;
  settled?(tx: PendingTx, height: bigint, outcomes: readonly ReadingOutcome[]): void;
  /** A transaction refused at send or rejected whole on chain: its readings are queued again. */
  txRefused?(tx: PendingTx, code: string, message: string): void;
  fault?(error: unknown, retryInMs: number): void;
}

/** What one step did: nothing due, sent or settled something, or waits for a block. */
export type StepResult = "idle" | "progress" | "waiting";

/** Tx-level codes after which the same readings, in a smaller batch, may still land. */
const SHRINK = new Set(["BATCH_TOO_LARGE", "TX_TOO_LARGE", "TX_TOO_LARGE_FOR_POOL"]);

export class Submitter {
  readonly address: string;
  readonly #outbox: Outbox;
  readonly #chain: OracleChain;
  readonly #options: SubmitterOptions;
  #maxReadings: number;
  #nonce: bigint | undefined;
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

  /** One round: settle or chase the transaction in flight, else send the next batch. */
  async step(): Promise<StepResult> {
    const [inFlight] = await this.#outbox.pending();
    if (inFlight) return this.#chase(inFlight);
    const head = await this.#chain.head();
    if (head.chainId !== this.#options.chainId) {
      throw new Error(`the node serves chain ${head.chainId}, not ${this.#options.chainId}`);
    }
    const due = await this.#outbox.due(this.#maxReadings, head.time);
    const batch = packBatch(due, { maxReadings: this.#maxReadings });
    if (batch.length === 0) return "idle";
    this.#nonce ??= await this.#chain.nonce(this.address);
    const built = buildSubmitReadings(
      this.#options.chainId,
      this.#nonce,
      this.#options.oracleSecretKey,
      batch,
    );
    const tx: PendingTx = {
      id: to0x(built.id),
      nonce: this.#nonce,
      bytes: built.bytes,
      readings: batch.map(({ meterIdHash, time }) => ({ meterIdHash, time })),
    };
    await this.#outbox.submit(tx);
    this.#options.events?.submitted?.(tx);
    await this.#send(tx);
    return "progress";
  }

  async #chase(tx: PendingTx): Promise<StepResult> {
    const found = await this.#chain.lookup(tx.id);
    if (found.status === "included") return this.#settle(tx, found);
    if (found.status === "pending") return "waiting";
    // Unknown to the node (never arrived, or lost with a restart): the same bytes again.
    return (await this.#send(tx)) ? "waiting" : "progress";
  }

  /** Sends; true if the node has the transaction, false if it was settled or requeued. */
  async #send(tx: PendingTx): Promise<boolean> {
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
    await this.#refuse(tx, result.code, result.message);
    return false;
  }

  async #settle(
    tx: PendingTx,
    found: Extract<TxLookup, { status: "included" }>,
  ): Promise<StepResult> {
    this.#nonce = tx.nonce + 1n;
    if (found.reject !== undefined || found.readings === undefined) {
      await this.#refuse(tx, found.reject ?? "NO_READING_RESULTS", "rejected whole on chain");
      return "progress";
    }
    await this.#outbox.settle(tx, found.height, found.readings);
    this.#lastFault = undefined;
    this.#options.events?.settled?.(tx, found.height, found.readings);
    return "progress";
  }

  // Nothing of the transaction applied, so its readings can go again: in a smaller batch if
  // size was the fault; otherwise after the backoff, once the operator fixed the cause (an
  // oracle not yet registered, say).
  async #refuse(tx: PendingTx, code: string, message: string): Promise<void> {
    await this.#outbox.requeue(tx);
    this.#nonce = undefined;
    this.#lastFault = `${code}: ${message}`;
    this.#options.events?.txRefused?.(tx, code, message);
    if (SHRINK.has(code)) {
      this.#maxReadings = Math.max(1, Math.floor(tx.readings.length / 2));
    } else {
      throw new TxRefusedError(code, message);
    }
  }

  /**
   * Steps until `signal` aborts (or, with `untilDrained`, until the outbox is empty), sleeping
   * between rounds and backing off after faults: initialMs, doubled per consecutive fault, up to
   * maxMs.
   */
  async run(signal: AbortSignal, options: { untilDrained?: boolean } = {}): Promise<void> {
    const { retry } = this.#options;
    let faults = 0;
    while (!signal.aborted) {
      let pause: number;
      try {
        const result = await this.step();
        faults = 0;
        if (options.untilDrained && result === "idle" && this.#outbox.backlog() === 0) return;
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
