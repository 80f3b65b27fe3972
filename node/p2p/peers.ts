// Peer scores and bans. Every peer starts at 0; each fault costs points, and the score decays back
// toward 0 with a half-life so an honest peer's rare timeout is forgotten. A peer that falls to
// the ban threshold is disconnected and refused, both ways, until its ban ends. The score also
// feeds gossipsub's application score, so a peer with faults is served less gossip before the ban.
import type { ConnectionGater, PeerId } from "@libp2p/interface";
import type { PeerIdStr } from "./events.js";

export const PENALTY_REASONS = [
  /** A gossip message its topic's validator rejected, or one over the topic's size limit. */
  "invalidGossip",
  /** A request that did not decode, or was over its size limit. */
  "invalidRequest",
  /** A response that did not decode, was too large or broke the method's rules. */
  "invalidResponse",
  /**
   * A request that timed out, or a response stream that ended before its end frame; never a
   * ban on its own (see PeerScores.penalize).
   */
  "unresponsive",
] as const;
export type PenaltyReason = (typeof PENALTY_REASONS)[number];

export interface ScoringPolicy {
  /** Points each fault costs (positive). */
  readonly penalties: Readonly<Record<PenaltyReason, number>>;
  /** A score at or below this (negative) bans the peer. */
  readonly banThreshold: number;
  readonly halfLifeMs: number;
  readonly banMs: number;
  /** Peers whose score is remembered; beyond it the longest-tracked are forgotten. */
  readonly maxTracked: number;
}

export const DEFAULT_SCORING: ScoringPolicy = {
  penalties: { invalidGossip: 10, invalidRequest: 10, invalidResponse: 10, unresponsive: 1 },
  banThreshold: -50,
  halfLifeMs: 5 * 60_000,
  banMs: 10 * 60_000,
  maxTracked: 4096,
};

export interface PenaltyOutcome {
  readonly score: number;
  /** True when this penalty started a ban. */
  readonly banned: boolean;
}

interface Entry {
  value: number;
  at: number;
}

export class PeerScores {
  readonly #scores = new Map<PeerIdStr, Entry>();
  /** Peer -> the time its ban ends. */
  readonly #bans = new Map<PeerIdStr, number>();

  constructor(
    readonly policy: ScoringPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  score(peer: PeerIdStr): number {
    const entry = this.#scores.get(peer);
    return entry ? this.#decayed(entry, this.now()) : 0;
  }

  penalize(peer: PeerIdStr, reason: PenaltyReason): PenaltyOutcome {
    if (this.isBanned(peer)) return { score: this.policy.banThreshold, banned: false };
    const now = this.now();
    const entry = this.#scores.get(peer);
    let value = (entry ? this.#decayed(entry, now) : 0) - this.policy.penalties[reason];
    // Timeouts alone never ban: a peer that is slow or restarting (a validator catching up after
    // a crash, a loaded machine) is honest, and banning it for banMs could leave a node with no
    // peer to sync from. They still lower its score, so gossipsub serves it less, down to just
    // above the threshold, where one proven fault bans it.
    if (reason === "unresponsive" && value <= this.policy.banThreshold) {
      value = Math.min(entry ? this.#decayed(entry, now) : 0, this.policy.banThreshold + 1);
    }
    if (value <= this.policy.banThreshold) {
      this.#scores.delete(peer);
      this.ban(peer);
      return { score: value, banned: true };
    }
    // Re-inserting keeps the map in last-penalized order, so eviction drops the stalest entry.
    this.#scores.delete(peer);
    this.#scores.set(peer, { value, at: now });
    this.#evict(this.#scores);
    return { score: value, banned: false };
  }

  /** Bans a peer for the policy's ban time (the host may ban a peer it caught misbehaving). */
  ban(peer: PeerIdStr): void {
    this.#bans.delete(peer);
    this.#bans.set(peer, this.now() + this.policy.banMs);
    this.#evict(this.#bans);
  }

  isBanned(peer: PeerIdStr): boolean {
    const until = this.#bans.get(peer);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.#bans.delete(peer);
    return false;
  }

  bannedPeers(): PeerIdStr[] {
    return [...this.#bans.keys()].filter((peer) => this.isBanned(peer));
  }

  #decayed(entry: Entry, now: number): number {
    const elapsed = Math.max(0, now - entry.at);
    return entry.value * 0.5 ** (elapsed / this.policy.halfLifeMs);
  }

  #evict(map: Map<PeerIdStr, unknown>): void {
    for (const key of map.keys()) {
      if (map.size <= this.policy.maxTracked) break;
      map.delete(key);
    }
  }
}

export interface GateRules {
  isBanned(peer: PeerIdStr): boolean;
  /** Whether inbound connections are limited to known peers (production validators). */
  acceptOnlyKnown(): boolean;
  isKnown(peer: PeerIdStr): boolean;
}

/**
 * The libp2p connection gater: banned peers are refused both ways, and with acceptOnlyKnown an
 * inbound connection is refused once the handshake has revealed an unknown peer id.
 */
export function connectionGate(rules: GateRules): ConnectionGater {
  const banned = (peerId: PeerId) => rules.isBanned(peerId.toString());
  return {
    denyDialPeer: banned,
    denyOutboundEncryptedConnection: banned,
    denyInboundEncryptedConnection: (peerId) => {
      const peer = peerId.toString();
      return rules.isBanned(peer) || (rules.acceptOnlyKnown() && !rules.isKnown(peer));
    },
  };
}
