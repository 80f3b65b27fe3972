// The validator-link supervisor: keeps a link to every known validator (and sentry), redialing
// forever. libp2p's own keep-alive gives up after a few retries and tries a peer that was down
// at our start only once; a validator set must find each other again however long an outage
// lasts, so each missing link is redialed with capped exponential backoff and jitter.
import type { PeerIdStr } from "./events.js";

export interface BackoffPolicy {
  /** The delay ceiling of the first retry. */
  readonly baseMs: number;
  /** The largest delay ceiling, however many attempts failed. */
  readonly maxMs: number;
}

/**
 * The delay before retry number `attempt` (0 = first): a ceiling doubling from baseMs up to maxMs,
 * half of it fixed and half random ("equal jitter") so that delays still grow but validators
 * that lost each other at the same moment do not redial in lockstep.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

export interface LinkTarget {
  readonly peer: PeerIdStr;
  /** Full multiaddrs of the peer, each ending in /p2p/<peer>. */
  readonly addrs: readonly string[];
}

export interface LinkDeps {
  dial(target: LinkTarget, signal: AbortSignal): Promise<void>;
  isConnected(peer: PeerIdStr): boolean;
  random(): number;
  onDialError(peer: PeerIdStr, attempt: number, error: unknown): void;
}

export interface LinkPolicy extends BackoffPolicy {
  readonly dialTimeoutMs: number;
}

interface LinkState {
  target: LinkTarget;
  /** Consecutive failed dials. */
  failures: number;
  timer: NodeJS.Timeout | undefined;
  dialing: boolean;
}

export class LinkSupervisor {
  readonly #links = new Map<PeerIdStr, LinkState>();
  #running = false;

  constructor(
    private readonly policy: LinkPolicy,
    private readonly deps: LinkDeps,
  ) {}

  start(): void {
    this.#running = true;
    for (const link of this.#links.values()) this.#schedule(link, 0);
  }

  stop(): void {
    this.#running = false;
    for (const link of this.#links.values()) this.#cancel(link);
  }

  /** Replaces the set of supervised peers (the validator set changed). */
  setTargets(targets: readonly LinkTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.peer, t]));
    for (const [peer, link] of this.#links) {
      if (!wanted.has(peer)) {
        this.#cancel(link);
        this.#links.delete(peer);
      }
    }
    for (const target of wanted.values()) {
      const link = this.#links.get(target.peer);
      if (link) {
        link.target = target;
        continue;
      }
      const fresh: LinkState = { target, failures: 0, timer: undefined, dialing: false };
      this.#links.set(target.peer, fresh);
      if (this.#running) this.#schedule(fresh, 0);
    }
  }

  isTarget(peer: PeerIdStr): boolean {
    return this.#links.has(peer);
  }

  targets(): PeerIdStr[] {
    return [...this.#links.keys()];
  }

  connected(peer: PeerIdStr): void {
    const link = this.#links.get(peer);
    if (!link) return;
    link.failures = 0;
    this.#cancel(link);
  }

  disconnected(peer: PeerIdStr): void {
    const link = this.#links.get(peer);
    if (link && this.#running) {
      this.#schedule(link, backoffDelay(link.failures, this.policy, this.deps.random));
    }
  }

  #schedule(link: LinkState, delayMs: number): void {
    if (link.timer !== undefined || link.dialing) return;
    link.timer = setTimeout(() => {
      link.timer = undefined;
      void this.#attempt(link);
    }, delayMs);
    link.timer.unref();
  }

  #cancel(link: LinkState): void {
    if (link.timer !== undefined) clearTimeout(link.timer);
    link.timer = undefined;
  }

  #current(link: LinkState): boolean {
    return this.#running && this.#links.get(link.target.peer) === link;
  }

  async #attempt(link: LinkState): Promise<void> {
    if (!this.#current(link) || this.deps.isConnected(link.target.peer)) return;
    link.dialing = true;
    try {
      await this.deps.dial(link.target, AbortSignal.timeout(this.policy.dialTimeoutMs));
      link.failures = 0;
    } catch (error) {
      link.failures++;
      this.deps.onDialError(link.target.peer, link.failures, error);
    } finally {
      link.dialing = false;
    }
    if (this.#current(link) && !this.deps.isConnected(link.target.peer)) {
      this.#schedule(link, backoffDelay(link.failures, this.policy, this.deps.random));
    }
  }
}
