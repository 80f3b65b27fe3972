// The events the network hands to the node. Listeners are the node's business: one that throws
// is reported and skipped, so a bug in the mempool never stops votes from reaching consensus.
import type { HaveVotes, Status } from "./messages.js";
import type { PenaltyReason } from "./peers.js";

/** A peer id in its string form (base58btc), as libp2p prints it. */
export type PeerIdStr = string;

/** Event name -> listener arguments. */
export interface NetworkEvents {
  /**
   * A gossiped message the host's validator accepted; gossipsub forwards it to the mesh. `from` is
   * the peer that delivered this copy: its author, or a peer that relayed it.
   */
  "gossip:tx": [data: Uint8Array, from: PeerIdStr];
  "gossip:proposal": [data: Uint8Array, from: PeerIdStr];
  "gossip:vote": [data: Uint8Array, from: PeerIdStr];
  "gossip:evidence": [data: Uint8Array, from: PeerIdStr];
  /** A vote fetched by the vote exchange (not gossip) that the host's vote validator accepted. */
  "fetched:vote": [data: Uint8Array, from: PeerIdStr];
  /** A peer connected and identify showed it speaks this chain's protocols. */
  "peer:connected": [peer: PeerIdStr];
  /** A peer announced by "peer:connected" lost its last connection. */
  "peer:disconnected": [peer: PeerIdStr];
  /** A peer's chain status, from a status request in either direction. */
  "peer:status": [peer: PeerIdStr, status: Status];
  /** Which votes a peer has for one (height, round), from the vote exchange in either direction. */
  "peer:haveVotes": [peer: PeerIdStr, have: HaveVotes];
  /** A peer fell below the ban threshold: it was disconnected and is refused until the ban ends. */
  "peer:banned": [peer: PeerIdStr, reason: PenaltyReason];
}

type Listener<A extends unknown[]> = (...args: A) => void;

export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  // Listeners of different events have different argument types; emit restores each one's.
  readonly #listeners = new Map<keyof E, Set<unknown>>();

  /** @param onListenerError told about a listener that threw; the other listeners still run. */
  constructor(private readonly onListenerError: (event: keyof E, error: unknown) => void) {}

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E[K]>)(...args);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
  }

  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  removeAll(): void {
    this.#listeners.clear();
  }
}
