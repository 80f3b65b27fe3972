// Relays the transactions submitted to this node (RPC) to its peers until one of them has it.
//
// Transactions admitted within a few milliseconds of each other are published together, as one
// gossip batch (node/tx-gossip.ts): under load a message per transaction cost more than the
// transactions did. If a publish reaches no peer — the node has just restarted and its links are
// still opening, or it is cut off — no validator ever hears of those transactions, and on a
// follower (which never proposes) they would wait in the mempool until they expired while their
// senders saw them `pending`. So a batch that reached nobody is kept and its transactions tried
// again each tick and whenever a peer connects, for as long as the mempool holds them. A publish
// that reaches nobody must not enter gossipsub's seen cache (a repeat within its two minutes
// would be dropped as a duplicate), so the relay publishes with the network's `onlyIfHeard`.
import { toHex } from "../lib/bytes.js";
import type { Logger } from "../lib/log.js";
import { packTxBatches } from "./tx-gossip.js";

export interface TxRelayDeps {
  /** Publishes one batch to the peers on the transaction topic; resolves to how many it reached. */
  readonly publish: (txs: readonly Uint8Array[]) => Promise<number>;
  /** Whether the mempool still holds the transaction (not committed, expired or evicted). */
  readonly pending: (id: Uint8Array) => boolean;
  readonly logger: Logger;
  /** Retry period; default 1 s. */
  readonly intervalMs?: number;
  /** How long a transaction waits for others to share its batch; default 50 ms. */
  readonly batchDelayMs?: number;
}

interface Outgoing {
  /** The id in hex, the key of the unsent map. */
  readonly key: string;
  readonly id: Uint8Array;
  readonly bytes: Uint8Array;
}

export class TxRelay {
  readonly #deps: TxRelayDeps;
  readonly #batchDelayMs: number;
  /** Waiting for the next batch, in admission order. */
  #queued: Outgoing[] = [];
  /** Settles once the batch now gathering was published. */
  #flushed: Promise<void> | undefined;
  /** Published to nobody so far; at most the mempool's size, since entries leave with it. */
  readonly #unsent = new Map<string, Outgoing>();
  #retryTimer: NodeJS.Timeout | undefined;
  #retrying = false;
  #stopped = false;

  constructor(deps: TxRelayDeps) {
    this.#deps = deps;
    this.#batchDelayMs = deps.batchDelayMs ?? 50;
    this.#retryTimer = setInterval(() => void this.retry(), deps.intervalMs ?? 1000);
    this.#retryTimer.unref();
  }

  /** Transactions whose every publish so far reached no peer. */
  get unsent(): number {
    return this.#unsent.size;
  }

  /**
   * Queues a transaction this node took in for the next batch; resolves once that batch was
   * published (the transaction is then kept for retries if it reached nobody).
   */
  relay(id: Uint8Array, bytes: Uint8Array): Promise<void> {
    this.#queued.push({ key: toHex(id), id, bytes });
    this.#flushed ??= new Promise((resolve) => setTimeout(resolve, this.#batchDelayMs)).then(() =>
      this.#flush(),
    );
    return this.#flushed;
  }

  /** Tries every unsent transaction again (the tick, and a peer connecting, call it). */
  async retry(): Promise<void> {
    if (this.#retrying || this.#unsent.size === 0) return;
    this.#retrying = true;
    try {
      const due: Outgoing[] = [];
      for (const tx of this.#unsent.values()) {
        if (this.#deps.pending(tx.id)) due.push(tx);
        else this.#unsent.delete(tx.key);
      }
      for (const batch of packTxBatches(due)) {
        // Whoever missed this batch would miss the next one too.
        if (!(await this.#send(batch))) break;
        for (const tx of batch) this.#unsent.delete(tx.key);
      }
    } finally {
      this.#retrying = false;
    }
  }

  /** Stops retrying; a batch still gathering is dropped unsent. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#queued = [];
    this.#unsent.clear();
  }

  async #flush(): Promise<void> {
    const txs = this.#queued;
    this.#queued = [];
    this.#flushed = undefined;
    if (this.#stopped) return;
    for (const batch of packTxBatches(txs)) {
      if (!(await this.#send(batch))) for (const tx of batch) this.#unsent.set(tx.key, tx);
    }
  }

  async #send(batch: readonly Outgoing[]): Promise<boolean> {
    try {
      return (await this.#deps.publish(batch.map((tx) => tx.bytes))) > 0;
    } catch (error) {
      this.#deps.logger.debug(
        { err: error, txs: batch.length },
        "publishing a batch of transactions failed",
      );
      return false;
    }
  }
}
