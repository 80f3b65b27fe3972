// Relays the transactions submitted to this node (RPC) to its peers until one of them has it.
//
// A transaction is published on gossip once, when the mempool admits it. If that publish reaches
// no peer — the node has just restarted and its links are still opening, or it is cut off — no
// validator ever hears of it, and on a follower (which never proposes) it would wait in the
// mempool until it expired while its sender saw it `pending`. So a publish that reached nobody
// is kept and tried again each tick and whenever a peer connects, for as long as the transaction
// is in the mempool. A publish that reaches nobody must not enter gossipsub's seen cache
// (a repeat within its two minutes would be dropped as a duplicate), so the relay publishes
// with the network's `onlyIfHeard`.
import { toHex } from "../lib/bytes.js";
import type { Logger } from "../lib/log.js";

export interface TxRelayDeps {
  /** Publishes to the peers on the transaction topic; resolves to how many it was sent to. */
  readonly publish: (bytes: Uint8Array) => Promise<number>;
  /** Whether the mempool still holds the transaction (not committed, expired or evicted). */
  readonly pending: (id: Uint8Array) => boolean;
  readonly logger: Logger;
  /** Retry period; default 1 s. */
  readonly intervalMs?: number;
}

interface Unsent {
  readonly id: Uint8Array;
  readonly bytes: Uint8Array;
}

export class TxRelay {
  readonly #deps: TxRelayDeps;
  /** By hex id; at most the mempool's size, since entries leave with the mempool's. */
  readonly #unsent = new Map<string, Unsent>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(deps: TxRelayDeps) {
    this.#deps = deps;
    this.#timer = setInterval(() => void this.retry(), deps.intervalMs ?? 1000);
    this.#timer.unref();
  }

  /** Transactions whose every publish so far reached no peer. */
  get unsent(): number {
    return this.#unsent.size;
  }

  /** Publishes a transaction this node took in; keeps it for retries if it reached nobody. */
  async relay(id: Uint8Array, bytes: Uint8Array): Promise<void> {
    if (!(await this.#send({ id, bytes }))) this.#unsent.set(toHex(id), { id, bytes });
  }

  /** Tries every unsent transaction again (the tick, and a peer connecting, call it). */
  async retry(): Promise<void> {
    if (this.#running || this.#unsent.size === 0) return;
    this.#running = true;
    try {
      for (const [key, tx] of [...this.#unsent]) {
        if (!this.#deps.pending(tx.id) || (await this.#send(tx))) this.#unsent.delete(key);
      }
    } finally {
      this.#running = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsent.clear();
  }

  async #send(tx: Unsent): Promise<boolean> {
    try {
      return (await this.#deps.publish(tx.bytes)) > 0;
    } catch (error) {
      this.#deps.logger.debug({ err: error, tx: toHex(tx.id) }, "publishing a transaction failed");
      return false;
    }
  }
}
