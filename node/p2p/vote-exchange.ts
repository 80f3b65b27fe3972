// The vote exchange: gossip is not reliable delivery (a message published before a peer joined
// the topic, or dropped from a full queue, is gone), so we tell each connected peer which votes
// we hold for the current (height, round), learn which it holds, and fetch the ones we lack.
// The peer does the same with us, so each side pulls what it misses. A pass runs only for a
// round that has been current for a whole interval: while heights follow one another, gossip is
// evidently delivering, and a pass (a stream and two requests to every peer) would cost more
// than the heights themselves. Fetched votes pass the host's vote validator exactly like
// gossiped ones.
import { countBits, missingBits } from "./bitmap.js";
import type { PeerIdStr } from "./events.js";
import type { GossipValidator } from "./gossip.js";
import type { HaveVotes, VotesRequest } from "./messages.js";
import type { PenaltyReason } from "./peers.js";
import type { RequestOptions, VoteBitmaps } from "./reqresp.js";

export interface ConsensusRound {
  readonly height: bigint;
  readonly round: number;
}

export interface VoteExchangePolicy {
  /** Time between passes; 0 turns the periodic exchange off. */
  readonly intervalMs: number;
  /** Peers asked per pass (validators first). */
  readonly maxPeers: number;
  /** Deadline of each request of a pass, so one slow peer cannot stall the pass for long. */
  readonly requestTimeoutMs: number;
}

export interface VoteExchangeDeps {
  /** Connected peers in order of preference. */
  peers(): PeerIdStr[];
  currentRound(): ConsensusRound | undefined;
  voteBitmaps(height: bigint, round: number): VoteBitmaps | undefined;
  haveVotes(peer: PeerIdStr, mine: HaveVotes, options: RequestOptions): Promise<HaveVotes>;
  votes(peer: PeerIdStr, request: VotesRequest, options: RequestOptions): Promise<Uint8Array[]>;
  validateVote: GossipValidator;
  deliver(data: Uint8Array, from: PeerIdStr): void;
  penalize(peer: PeerIdStr, reason: PenaltyReason): void;
  onError(peer: PeerIdStr, error: unknown): void;
}

export class VoteExchange {
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<number> | undefined;
  /** The round current at the last tick. */
  #seen: ConsensusRound | undefined;
  #stopped = false;

  constructor(
    private readonly policy: VoteExchangePolicy,
    private readonly deps: VoteExchangeDeps,
  ) {}

  start(): void {
    if (this.policy.intervalMs <= 0) return;
    this.#timer = setInterval(() => this.#tick(), this.policy.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** A pass if the current round was already current at the last tick: it may be stalled. */
  #tick(): void {
    const current = this.deps.currentRound();
    const seen = this.#seen;
    this.#seen = current;
    if (current && seen && current.height === seen.height && current.round === seen.round) {
      void this.exchange();
    }
  }

  /** Runs one pass now (or joins the running one); resolves to the votes accepted. */
  exchange(): Promise<number> {
    this.#pass ??= this.#run().finally(() => {
      this.#pass = undefined;
    });
    return this.#pass;
  }

  async #run(): Promise<number> {
    const current = this.deps.currentRound();
    if (current === undefined) return 0;
    let accepted = 0;
    for (const peer of this.deps.peers().slice(0, this.policy.maxPeers)) {
      if (this.#stopped) break;
      try {
        accepted += await this.#withPeer(peer, current);
      } catch (error) {
        this.deps.onError(peer, error);
      }
    }
    return accepted;
  }

  #mine({ height, round }: ConsensusRound): HaveVotes {
    const bitmaps = this.deps.voteBitmaps(height, round);
    return {
      height,
      round,
      prevotes: bitmaps?.prevotes ?? new Uint8Array(0),
      precommits: bitmaps?.precommits ?? new Uint8Array(0),
    };
  }

  async #withPeer(peer: PeerIdStr, current: ConsensusRound): Promise<number> {
    const options = { timeoutMs: this.policy.requestTimeoutMs };
    const theirs = await this.deps.haveVotes(peer, this.#mine(current), options);
    // Our bitmaps again: gossip may have brought votes while the exchange was in flight.
    const mine = this.#mine(current);
    const request: VotesRequest = {
      ...current,
      prevotes: missingBits(theirs.prevotes, mine.prevotes),
      precommits: missingBits(theirs.precommits, mine.precommits),
    };
    if (countBits(request.prevotes) + countBits(request.precommits) === 0) return 0;
    let accepted = 0;
    for (const vote of await this.deps.votes(peer, request, options)) {
      let verdict: string;
      try {
        verdict = await this.deps.validateVote(vote, peer);
      } catch {
        verdict = "reject";
      }
      if (verdict === "accept") {
        accepted++;
        this.deps.deliver(vote, peer);
      } else if (verdict !== "ignore") {
        this.deps.penalize(peer, "invalidResponse");
      }
    }
    return accepted;
  }
}
