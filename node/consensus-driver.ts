// The host side of consensus (DESIGN §5): it turns verified network messages into inputs of the
// pure core (consensus/step.ts) and carries out the core's effects — timers, block building,
// signing (WAL fsync before anything is sent), gossip, commits and requests to peers.
//
// Everything that touches the core runs one task at a time on a promise queue, so the core's
// state and the effects of one input are never interleaved with another's. Network work that
// waits on peers (fetching a proposal or votes) is never awaited inside the queue: its results
// come back as new tasks.
//
// Heights: the driver decides head + 1. Messages for the next height are buffered (bounded) until
// it starts; older or farther ones are ignored (sync catches a lagging node up). Whoever commits
// a block — this driver after a decision, or sync — the chain's "committed" event moves the
// driver to the next height once the target block time has passed since the head's time.
//
// Followers run the same driver without a signer: the core tracks decisions with selfIndex
// null, and the commit is assembled from the precommits they saw.

import type { ConsensusState } from "../consensus/state.js";
import { createConsensus } from "../consensus/state.js";
import { step as coreStep } from "../consensus/step.js";
import { defaultTimeouts, type TimeoutConfig } from "../consensus/timeout.js";
import type { DuplicateVote, Effect, Input, Step, ValueId, VoteType } from "../consensus/types.js";
import { blockHash, decodeBlock, MAX_BLOCK_BYTES } from "../lib/block.js";
import { equalBytes, toHex } from "../lib/bytes.js";
import { bytes, CodecError, decode, encode, type Infer, struct } from "../lib/codec.js";
import { commitFromPrecommits } from "../lib/commit.js";
import { decodeEvidence, duplicateVoteEvidence, encodeEvidence } from "../lib/evidence.js";
import { type Logger, silentLogger } from "../lib/log.js";
import { indexOfValidator, proposerFor, proposerIndex, type Validator } from "../lib/validator.js";
import {
  decodeSignedVote,
  encodeSignedVote,
  type SignedProposal,
  SignedProposalSchema,
  type SignedVote,
  verifyProposal,
  verifyVote,
} from "../lib/vote.js";
import { type Chain, ChainError, type CommittedBlock } from "./chain.js";
import type { EvidencePool } from "./evidence-pool.js";
import type { Mempool } from "./mempool.js";
import type { NodeMetrics } from "./metrics.js";
import {
  type BlocksByRangeRequest,
  type BlockWithCommit,
  bitIndexes,
  emptyBitmap,
  type GossipKind,
  hasBit,
  MAX_PROPOSAL_MESSAGE_BYTES,
  type PeerIdStr,
  type PenaltyReason,
  type ProposalRequest,
  type Status,
  setBit,
  type Verdict,
  type VoteBitmaps,
  type VotesRequest,
} from "./p2p/index.js";
import type { Producer } from "./producer.js";
import { DoubleSignError, type GuardedSigner } from "./signer.js";

/**
 * What the driver and sync need of the network. node/p2p's Network satisfies it; tests use an
 * in-memory double. Inbound traffic reaches the driver through its validators and handlers.
 */
export interface PeerNetwork {
  publish(kind: GossipKind, data: Uint8Array): Promise<unknown>;
  penalize(peer: PeerIdStr, reason: PenaltyReason): void;
  connectedPeers(): PeerIdStr[];
  readonly reqresp: {
    status(peer: PeerIdStr): Promise<Status>;
    blocksByRange(peer: PeerIdStr, request: BlocksByRangeRequest): Promise<BlockWithCommit[]>;
    votes(peer: PeerIdStr, request: VotesRequest): Promise<Uint8Array[]>;
    proposal(peer: PeerIdStr, blockHash: Uint8Array): Promise<Uint8Array | undefined>;
  };
}

/** The gossiped proposal message: the signed proposal and the whole block it proposes. */
export const ProposalEnvelopeSchema = struct("ProposalEnvelope", {
  proposal: SignedProposalSchema,
  block: bytes({ max: MAX_BLOCK_BYTES }),
});
export type ProposalEnvelope = Infer<typeof ProposalEnvelopeSchema>;

export function encodeProposalEnvelope(envelope: ProposalEnvelope): Uint8Array {
  return encode(ProposalEnvelopeSchema, envelope);
}

export function decodeProposalEnvelope(data: Uint8Array): ProposalEnvelope {
  return decode(ProposalEnvelopeSchema, data, { maxBytes: MAX_PROPOSAL_MESSAGE_BYTES });
}

export interface ConsensusDriverOptions {
  readonly chain: Chain;
  readonly network: PeerNetwork;
  readonly evidencePool: EvidencePool;
  /** Updated after every commit. */
  readonly mempool?: Mempool;
  /** A validator's block builder and signer; a follower has neither. */
  readonly producer?: Producer;
  readonly signer?: GuardedSigner;
  readonly timeouts?: TimeoutConfig;
  /** The pause after the head's time before the next height starts (consensus.targetBlockTimeMs). */
  readonly targetBlockTimeMs?: bigint;
  readonly logger?: Logger;
  readonly metrics?: NodeMetrics;
  /** Messages for the next height kept until it starts. */
  readonly maxBuffered?: number;
}

const DEFAULT_MAX_BUFFERED = 2048;
/** Votes and proposals this many rounds past ours are not kept: the core would refuse them. */
const MAX_ROUNDS_AHEAD = 16;
/** Proposals kept to serve, re-feed and commit; a few per round of the current height. */
const MAX_PROPOSALS = 64;
/** The signing WAL keeps this many committed heights (for forensics), compacted this often. */
const WAL_KEEP_HEIGHTS = 100n;
const WAL_COMPACT_EVERY = 100n;
/** Peers asked for a missing proposal or missing votes. */
const FETCH_PEERS = 3;

interface KeptVote {
  readonly signed: SignedVote;
  readonly bytes: Uint8Array;
}

/** The signed votes of one (height, round), by type and validator index; at most two each. */
interface RoundVotes {
  readonly prevote: (KeptVote[] | undefined)[];
  readonly precommit: (KeptVote[] | undefined)[];
}

/** Verified votes of the current and previous heights: for commits, evidence and peers. */
class VoteBook {
  readonly #rounds = new Map<string, RoundVotes>();

  static key(height: bigint, round: number): string {
    return `${height}:${round}`;
  }

  /** Whether the vote is new (a second, different vote by one validator is kept too). */
  add(height: bigint, round: number, index: number, kept: KeptVote): boolean {
    const key = VoteBook.key(height, round);
    let votes = this.#rounds.get(key);
    if (!votes) {
      votes = { prevote: [], precommit: [] };
      this.#rounds.set(key, votes);
    }
    const list = votes[kept.signed.vote.type];
    const existing = list[index] ?? [];
    if (existing.some((v) => equalBytes(v.bytes, kept.bytes)) || existing.length >= 2) return false;
    list[index] = [...existing, kept];
    return true;
  }

  get(height: bigint, round: number, type: VoteType, index: number): readonly KeptVote[] {
    return this.#rounds.get(VoteBook.key(height, round))?.[type][index] ?? [];
  }

  round(height: bigint, round: number): RoundVotes | undefined {
    return this.#rounds.get(VoteBook.key(height, round));
  }

  /** Forgets heights below `height`. */
  prune(height: bigint): void {
    for (const key of [...this.#rounds.keys()]) {
      if (BigInt(key.split(":")[0]!) < height) this.#rounds.delete(key);
    }
  }
}

/** A proposal we hold with its block, as gossiped; `valid` once the block was checked. */
interface KeptProposal {
  readonly height: bigint;
  readonly round: number;
  readonly polRound: number;
  readonly hash: Uint8Array;
  readonly envelope: Uint8Array;
  readonly block: Uint8Array;
  readonly valid: boolean;
  readonly timely: boolean;
}

type Buffered =
  | {
      readonly kind: "proposal";
      readonly height: bigint;
      readonly data: Uint8Array;
      readonly receivedAt: bigint;
    }
  | {
      readonly kind: "vote";
      readonly height: bigint;
      readonly index: number;
      readonly kept: KeptVote;
    };

type StartCause = "startup" | "committed";

class DriverStopped extends Error {
  override name = "DriverStopped";
}

export class ConsensusDriver {
  readonly #chain: Chain;
  readonly #network: PeerNetwork;
  readonly #evidence: EvidencePool;
  readonly #mempool: Mempool | undefined;
  readonly #producer: Producer | undefined;
  readonly #signer: GuardedSigner | undefined;
  readonly #log: Logger;
  readonly #metrics: NodeMetrics | undefined;
  readonly #targetBlockTimeMs: bigint;
  /** How long a round-0 proposer waits for oracle batches still verifying (see #getValue). */
  readonly #verifyWaitMs: number;
  readonly #maxBuffered: number;
  readonly #votes = new VoteBook();
  readonly #proposals: KeptProposal[] = [];
  /** Blocks we built, by hash, until their height is over. */
  readonly #built = new Map<string, Uint8Array>();
  #buffer: Buffered[] = [];
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #startTimer: NodeJS.Timeout | undefined;
  #core: ConsensusState;
  /** Effects waiting to be carried out, in the order the core emitted them. */
  readonly #pending: Effect[] = [];
  #height: bigint;
  #set: readonly Validator[] = [];
  #selfIndex: number | null = null;
  #round = 0;
  #step: Step = "propose";
  #started = false;
  #stopped = false;
  #queue: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;

  constructor(options: ConsensusDriverOptions) {
    this.#chain = options.chain;
    this.#network = options.network;
    this.#evidence = options.evidencePool;
    this.#mempool = options.mempool;
    this.#producer = options.producer;
    this.#signer = options.signer;
    this.#log = options.logger ?? silentLogger();
    this.#metrics = options.metrics;
    this.#targetBlockTimeMs =
      options.targetBlockTimeMs ?? options.producer?.targetBlockTimeMs ?? 1000n;
    this.#maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    // Within the target pace, and well inside the others' propose timeout, so that waiting
    // never costs the round.
    const proposeMs = (options.timeouts ?? defaultTimeouts).propose.baseMs;
    const halfPropose = proposeMs / 2n;
    this.#verifyWaitMs = Number(
      this.#targetBlockTimeMs < halfPropose ? this.#targetBlockTimeMs : halfPropose,
    );
    this.#core = createConsensus(options.timeouts ? { timeouts: options.timeouts } : {});
    this.#height = this.#chain.head().height + 1n;
  }

  /** The height being decided, its round and step. */
  get height(): bigint {
    return this.#height;
  }

  get round(): number {
    return this.#round;
  }

  get step(): Step {
    return this.#step;
  }

  /** Whether this node signs at the current height. */
  get validating(): boolean {
    return this.#selfIndex !== null;
  }

  /** Starts consensus at head + 1, replaying what the WAL says we signed there. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#unsubscribe = this.#chain.on("committed", (block) => this.#onCommitted(block));
    this.#post(() => this.#startHeight(this.#chain.head().height + 1n, "startup"));
  }

  /** Clears every timer and waits for the task in progress; nothing runs afterwards. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#clearTimers();
    if (this.#startTimer) clearTimeout(this.#startTimer);
    this.#startTimer = undefined;
    await this.#queue;
  }

  /** Resolves once every task queued so far has run (tests). */
  idle(): Promise<void> {
    return this.#queue.then(() => undefined);
  }

  // -------------------------------------------------------------------------------------------
  // Inbound: gossip validators and request handlers. None of them throws on peer input.

  /** The proposal topic's validator: checks, then feeds or buffers the proposal. */
  onProposal = async (data: Uint8Array, from: PeerIdStr): Promise<Verdict> => {
    // The clock rule judges the proposer's clock against ours when its proposal arrived: time
    // the proposal then waits here (queued behind other blocks, on a busy machine) is ours.
    const receivedAt = this.#chain.clock.now();
    try {
      const checked = this.#checkProposal(data);
      if (checked !== "ok") return checked.verdict;
      const { height } = decodeProposalEnvelope(data).proposal.proposal;
      // Before start() (the network may deliver first) the height has not begun either.
      if (height > this.#height || !this.#started) {
        return this.#bufferMessage({ kind: "proposal", height, data, receivedAt });
      }
      return await this.#enqueue(() => this.#acceptProposal(data, from, receivedAt));
    } catch (error) {
      if (error instanceof DriverStopped) return "ignore";
      this.#log.warn({ err: error, peer: from }, "proposal handling failed");
      return "ignore";
    }
  };

  /** The vote topic's validator (also run on votes fetched from peers). */
  onVote = (data: Uint8Array, from: PeerIdStr): Verdict => {
    try {
      return this.#receiveVote(data);
    } catch (error) {
      this.#log.warn({ err: error, peer: from }, "vote handling failed");
      return "ignore";
    }
  };

  /** The evidence topic's validator: valid evidence goes to the pool and is forwarded. */
  onEvidence = (data: Uint8Array, from: PeerIdStr): Verdict => {
    try {
      const evidence = decodeEvidence(data);
      const result = this.#evidence.add(evidence);
      if (!result.ok) return result.code === "EVIDENCE_AGE" ? "ignore" : "reject";
      return result.added ? "accept" : "ignore";
    } catch (error) {
      if (error instanceof CodecError) return "reject";
      this.#log.warn({ err: error, peer: from }, "evidence handling failed");
      return "ignore";
    }
  };

  /** The (height, round) in progress, for the periodic vote exchange. */
  currentRound = (): { height: bigint; round: number } | undefined =>
    this.#started && !this.#stopped ? { height: this.#height, round: this.#round } : undefined;

  /** Which votes we hold for (height, round). */
  voteBitmaps = (height: bigint, round: number): VoteBitmaps | undefined => {
    const votes = this.#votes.round(height, round);
    if (!votes) return undefined;
    const n = this.#setSize(height);
    if (n === undefined) return undefined;
    const bits = (list: RoundVotes["prevote"]) => {
      const bitmap = emptyBitmap(n);
      list.forEach((kept, i) => {
        if (kept !== undefined && kept.length > 0 && i < n) setBit(bitmap, i);
      });
      return bitmap;
    };
    return { prevotes: bits(votes.prevote), precommits: bits(votes.precommit) };
  };

  /** The encoded votes a peer asked for by bitmap. */
  votes = (request: VotesRequest): Uint8Array[] => {
    const out: Uint8Array[] = [];
    const votes = this.#votes.round(request.height, request.round);
    if (!votes) return out;
    for (const [type, bitmap] of [
      ["prevote", request.prevotes],
      ["precommit", request.precommits],
    ] as const) {
      for (const i of bitIndexes(bitmap)) {
        const kept = votes[type][i]?.[0];
        if (kept) out.push(kept.bytes);
      }
    }
    return out;
  };

  /** The proposal message for a block hash, if we hold it. */
  proposal = (request: ProposalRequest): Uint8Array | undefined =>
    this.#proposals.find((p) => equalBytes(p.hash, request.blockHash))?.envelope;

  // -------------------------------------------------------------------------------------------
  // Checking messages.

  #setSize(height: bigint): number | undefined {
    try {
      return this.#chain.validatorSetAt(height).length;
    } catch {
      return undefined;
    }
  }

  #setAt(height: bigint): readonly Validator[] | undefined {
    try {
      return this.#chain.validatorSetAt(height);
    } catch (error) {
      if (error instanceof ChainError) return undefined;
      throw error;
    }
  }

  /** The checks that need no block execution: encoding, height window, proposer, signature. */
  #checkProposal(data: Uint8Array): "ok" | { verdict: Verdict } {
    let envelope: ProposalEnvelope;
    try {
      envelope = decodeProposalEnvelope(data);
    } catch (error) {
      if (error instanceof CodecError) return { verdict: "reject" };
      throw error;
    }
    const p = envelope.proposal.proposal;
    if (p.chainId !== this.#chain.chainId) return { verdict: "reject" };
    if (p.polRound !== undefined && p.polRound >= p.round) return { verdict: "reject" };
    if (p.height < this.#height || p.height > this.#height + 1n) return { verdict: "ignore" };
    // Each costs a block execution: rounds far ahead are not worth one yet.
    const base = p.height === this.#height ? this.#round : 0;
    if (p.round > base + MAX_ROUNDS_AHEAD) return { verdict: "ignore" };
    const set = this.#setAt(p.height);
    if (!set) return { verdict: "ignore" };
    const proposer = proposerFor(set, p.height, p.round);
    if (!equalBytes(proposer.address, p.proposer)) return { verdict: "reject" };
    if (!verifyProposal(envelope.proposal, proposer.publicKey, this.#chain.consensusVerify)) {
      return { verdict: "reject" };
    }
    let hash: Uint8Array;
    try {
      hash = blockHash(decodeBlock(envelope.block));
    } catch (error) {
      if (error instanceof CodecError) return { verdict: "reject" };
      throw error;
    }
    if (!equalBytes(hash, p.blockHash)) return { verdict: "reject" };
    return "ok";
  }

  /** In the queue: executes the block and feeds the proposal at the current height. */
  async #acceptProposal(
    data: Uint8Array,
    from: PeerIdStr | null,
    receivedAt: bigint,
  ): Promise<Verdict> {
    const envelope = decodeProposalEnvelope(data);
    const signed = envelope.proposal;
    const p = signed.proposal;
    if (p.height !== this.#height || this.#chain.head().height + 1n !== p.height) {
      return p.height > this.#height
        ? this.#bufferMessage({ kind: "proposal", height: p.height, data, receivedAt })
        : "ignore";
    }
    const existing = this.#proposals.find(
      (k) => k.height === p.height && k.round === p.round && equalBytes(k.hash, p.blockHash),
    );
    if (existing) {
      this.#feedProposal(existing);
      return "ignore";
    }
    const polRound = p.polRound ?? -1;
    const verdict = await this.#chain.validateBlock(
      envelope.block,
      polRound === -1 ? { round: p.round, fresh: true, receivedAt } : {},
    );
    if (!verdict.ok && (verdict.code === "WRONG_HEIGHT" || verdict.code === "WRONG_PARENT")) {
      return "ignore"; // the head moved while this waited
    }
    const kept = this.#keepProposal(
      signed,
      envelope.block,
      data,
      verdict.ok,
      verdict.ok && verdict.timely,
    );
    if (!verdict.ok) {
      this.#log.warn(
        {
          height: p.height,
          round: p.round,
          code: verdict.code,
          reason: verdict.message,
          peer: from,
        },
        "invalid proposal",
      );
    }
    this.#feedProposal(kept);
    return verdict.ok ? "accept" : "reject";
  }

  #keepProposal(
    signed: SignedProposal,
    block: Uint8Array,
    envelope: Uint8Array,
    valid: boolean,
    timely: boolean,
  ): KeptProposal {
    const p = signed.proposal;
    const kept: KeptProposal = {
      height: p.height,
      round: p.round,
      polRound: p.polRound ?? -1,
      hash: p.blockHash,
      envelope,
      block,
      valid,
      timely,
    };
    if (this.#proposals.length >= MAX_PROPOSALS) this.#proposals.shift();
    this.#proposals.push(kept);
    return kept;
  }

  #feedProposal(kept: KeptProposal): void {
    this.#run({
      kind: "proposal",
      height: kept.height,
      round: kept.round,
      polRound: kept.polRound,
      valueId: kept.hash,
      proposer: proposerIndex(kept.height, kept.round, this.#set.length),
      valid: kept.valid,
      timely: kept.timely,
    });
  }

  #receiveVote(data: Uint8Array): Verdict {
    let signed: SignedVote;
    try {
      signed = decodeSignedVote(data);
    } catch (error) {
      if (error instanceof CodecError) return "reject";
      throw error;
    }
    const v = signed.vote;
    if (v.chainId !== this.#chain.chainId) return "reject";
    if (v.height + 1n < this.#height || v.height > this.#height + 1n) return "ignore";
    const base = v.height === this.#height ? this.#round : 0;
    if (v.round > base + MAX_ROUNDS_AHEAD) return "ignore";
    const set = this.#setAt(v.height);
    if (!set) return "ignore";
    const index = indexOfValidator(set, v.validator);
    if (index < 0) return "reject";
    if (!verifyVote(signed, set[index]!.publicKey, this.#chain.consensusVerify)) return "reject";
    const kept: KeptVote = { signed, bytes: data };
    // A vote kept in the book is never fed twice, so one for a height not begun (the next, or
    // ours before start()) is kept only if the buffer has room to feed it later.
    const later = v.height > this.#height || (v.height === this.#height && !this.#started);
    if (later && this.#buffer.length >= this.#maxBuffered) return "ignore";
    if (!this.#votes.add(v.height, v.round, index, kept)) return "ignore";
    if (later) return this.#bufferMessage({ kind: "vote", height: v.height, index, kept });
    if (v.height === this.#height) this.#post(() => this.#feedVote(v.height, index, kept));
    return "accept";
  }

  #feedVote(height: bigint, index: number, kept: KeptVote): void {
    const v = kept.signed.vote;
    this.#run({
      kind: "vote",
      type: v.type,
      height,
      round: v.round,
      valueId: v.blockHash ?? null,
      validator: index,
    });
  }

  #bufferMessage(item: Buffered): Verdict {
    if (this.#buffer.length >= this.#maxBuffered) return "ignore";
    this.#buffer.push(item);
    return "accept";
  }

  // -------------------------------------------------------------------------------------------
  // The queue and the core.

  /** Runs a task in the queue, then carries out the effects it caused. */
  #enqueue<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.#queue.then(async () => {
      if (this.#stopped) throw new DriverStopped();
      const value = await task();
      await this.#drain();
      return value;
    });
    this.#queue = result.catch((error: unknown) => {
      if (!(error instanceof DriverStopped)) {
        this.#log.error({ err: error }, "consensus task failed");
      }
    });
    return result;
  }

  /** #enqueue for callers that do not wait: failures are logged by the queue. */
  #post(task: () => Promise<void> | void): void {
    this.#enqueue(task).catch(() => undefined);
  }

  /**
   * Steps the core. Its effects wait in #pending, which every queue task drains before the
   * next task runs, one effect at a time: a proposal is signed (WAL fsync) and sent before the
   * prevote that follows it, and a block is built before it is proposed.
   */
  #run(input: Input): void {
    if (this.#stopped) return;
    const { state, effects } = coreStep(this.#core, input);
    this.#core = state;
    const current = state.current;
    if (current) {
      this.#round = current.round;
      this.#step = current.step;
    }
    for (const effect of effects) this.#pending.push(effect);
  }

  /** Carries out pending effects, including those their own inputs add. */
  async #drain(): Promise<void> {
    while (this.#pending.length > 0 && !this.#stopped) {
      const effect = this.#pending.shift()!;
      try {
        await this.#effect(effect);
      } catch (error) {
        this.#log.error({ err: error, effect: effect.kind }, "consensus effect failed");
      }
    }
  }

  async #effect(effect: Effect): Promise<void> {
    switch (effect.kind) {
      case "new-round":
        this.#metrics?.round.set(effect.round);
        this.#log.debug(
          {
            height: effect.height,
            round: effect.round,
            proposer: effect.proposer,
            cause: effect.cause,
          },
          "new round",
        );
        return;
      case "schedule-timeout":
        this.#schedule(effect.step, effect.height, effect.round, effect.durationMs);
        return;
      case "get-value":
        await this.#getValue(effect.height, effect.round);
        return;
      case "broadcast-proposal":
        await this.#broadcastProposal(effect.height, effect.round, effect.polRound, effect.valueId);
        return;
      case "broadcast-vote":
        await this.#broadcastVote(effect.type, effect.height, effect.round, effect.valueId);
        return;
      case "decide":
        await this.#decide(effect.height, effect.round, effect.valueId, effect.commit);
        return;
      case "proposal-wanted":
        this.#proposalWanted(effect.height, effect.round, effect.valueId);
        return;
      case "votes-wanted":
        this.#votesWanted(effect.height, effect.round, effect.type);
        return;
      case "equivocation":
        this.#equivocation(effect.evidence);
        return;
    }
  }

  #schedule(step: Step, height: bigint, round: number, durationMs: bigint): void {
    const key = `${height}:${round}:${step}`;
    if (this.#timers.has(key) || this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.#post(() => this.#run({ kind: "timeout", step, height, round }));
    }, Number(durationMs));
    timer.unref();
    this.#timers.set(key, timer);
  }

  #clearTimers(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  async #getValue(height: bigint, round: number): Promise<void> {
    const producer = this.#producer;
    const signer = this.#signer;
    if (!producer || !signer) return;
    // A proposal signed before a restart binds this round: never build another. Its block is
    // not in the WAL; peers that received it can give it back, and then it is sent again.
    const signedBefore = signer.wal.get({ height, round, step: "propose" });
    if (signedBefore) {
      if (signedBefore.kind !== "proposal") return;
      const hash = signedBefore.signed.proposal.blockHash;
      const known = this.#proposals.find((p) => equalBytes(p.hash, hash));
      if (known) {
        this.#publish("proposal", known.envelope);
      } else {
        this.#log.warn({ height, round }, "proposed before the restart; asking peers for it");
        void this.#fetchProposal(hash).then((envelope) => {
          if (envelope) this.#publish("proposal", envelope);
        });
      }
      return;
    }
    // A batch of thousands of readings arriving just before our turn would be left out while
    // it verifies, and wait a whole height for the next proposer while this one commits an
    // empty block: every height costs each validator its votes, messages and commit. A short
    // wait in round 0 fills the block instead; the queue holds meanwhile, as it does while
    // the block is built.
    if (round === 0) await this.#settleVerifying();
    if (this.#stopped || height !== this.#height) return;
    const head = this.#chain.head().header.time;
    const now = this.#chain.clock.now();
    const time = now > head ? now : head + 1n;
    const built = await producer.buildProposal(height, round, time);
    if (this.#stopped || height !== this.#height) return;
    this.#built.set(toHex(built.executed.hash), built.bytes);
    this.#run({ kind: "proposal-value", height, round, valueId: built.executed.hash });
  }

  /** Until the oracle batches now verifying are verified, or at most #verifyWaitMs. */
  async #settleVerifying(): Promise<void> {
    const mempool = this.#mempool;
    if (!mempool || mempool.verifying === 0 || this.#verifyWaitMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#verifyWaitMs);
    });
    await Promise.race([mempool.preverified(), elapsed]);
    clearTimeout(timer);
  }

  async #broadcastProposal(
    height: bigint,
    round: number,
    polRound: number,
    valueId: ValueId,
  ): Promise<void> {
    const signer = this.#signer;
    if (!signer) return;
    const block =
      this.#built.get(toHex(valueId)) ??
      this.#proposals.find((p) => equalBytes(p.hash, valueId))?.block;
    if (!block) {
      this.#log.error({ height, round }, "no block for our proposal");
      return;
    }
    let signed: SignedProposal;
    try {
      signed = await signer.signProposal({
        chainId: this.#chain.chainId,
        height,
        round,
        polRound: polRound < 0 ? undefined : polRound,
        blockHash: valueId,
        proposer: signer.address,
      });
    } catch (error) {
      this.#signFailed(error, "proposal");
      return;
    }
    const envelope = encodeProposalEnvelope({ proposal: signed, block });
    this.#keepProposal(signed, block, envelope, true, true);
    this.#log.info({ height, round, polRound, hash: valueId }, "proposing");
    this.#publish("proposal", envelope);
  }

  async #broadcastVote(
    type: VoteType,
    height: bigint,
    round: number,
    valueId: ValueId | null,
  ): Promise<void> {
    const signer = this.#signer;
    if (!signer || this.#selfIndex === null) return;
    let signed: SignedVote;
    try {
      signed = await signer.signVote({
        type,
        chainId: this.#chain.chainId,
        height,
        round,
        blockHash: valueId ?? undefined,
        validator: signer.address,
      });
    } catch (error) {
      this.#signFailed(error, type);
      return;
    }
    const bytes = encodeSignedVote(signed);
    this.#votes.add(height, round, this.#selfIndex, { signed, bytes });
    this.#publish("vote", bytes);
  }

  #signFailed(error: unknown, what: string): void {
    // The guard refusing a second value is the WAL doing its job after a restart, not a fault.
    if (error instanceof DoubleSignError) this.#log.warn({ err: error }, `${what} not signed`);
    else this.#log.error({ err: error }, `signing a ${what} failed`);
  }

  #publish(kind: GossipKind, data: Uint8Array): void {
    this.#network
      .publish(kind, data)
      .catch((error: unknown) => this.#log.debug({ err: error, kind }, "publish failed"));
  }

  async #decide(
    height: bigint,
    round: number,
    valueId: ValueId,
    signers: readonly number[],
  ): Promise<void> {
    const block =
      this.#built.get(toHex(valueId)) ??
      this.#proposals.find((p) => p.height === height && equalBytes(p.hash, valueId))?.block;
    if (!block) {
      this.#log.error({ height, round, hash: valueId }, "decided a block we do not hold");
      return;
    }
    const precommits = signers.flatMap((i) =>
      this.#votes.get(height, round, "precommit", i).map((k) => k.signed),
    );
    const commit = commitFromPrecommits(this.#set, height, round, valueId, precommits);
    let executed = this.#chain.executedOnHead(valueId);
    if (!executed) {
      const verdict = await this.#chain.validateBlock(block);
      if (!verdict.ok) {
        if (this.#chain.head().height >= height) return; // sync committed it first
        this.#log.error({ height, code: verdict.code }, "the decided block does not execute");
        return;
      }
      executed = verdict.executed;
    }
    try {
      await this.#chain.commitBlock(executed, commit);
    } catch (error) {
      if (error instanceof ChainError && error.code === "NOT_NEXT") return;
      throw error;
    }
  }

  #proposalWanted(height: bigint, round: number, valueId: ValueId): void {
    const known = this.#proposals.find(
      (p) => p.height === height && p.round === round && equalBytes(p.hash, valueId),
    );
    if (known) {
      this.#feedProposal(known);
      return;
    }
    void this.#fetchProposal(valueId);
  }

  /** Asks peers for a proposal message by block hash; resolves to the one accepted, if any. */
  async #fetchProposal(valueId: ValueId): Promise<Uint8Array | undefined> {
    for (const peer of this.#network.connectedPeers().slice(0, FETCH_PEERS)) {
      if (this.#stopped) return undefined;
      try {
        const envelope = await this.#network.reqresp.proposal(peer, valueId);
        if (envelope === undefined) continue;
        const verdict = await this.onProposal(envelope, peer);
        if (verdict === "reject") this.#network.penalize(peer, "invalidResponse");
        else if (verdict === "accept") return envelope;
      } catch (error) {
        this.#log.debug({ err: error, peer }, "fetching a proposal failed");
      }
    }
    return undefined;
  }

  #votesWanted(height: bigint, round: number, type: VoteType): void {
    const n = this.#setSize(height);
    if (n === undefined) return;
    const missing = emptyBitmap(n);
    const mine = this.voteBitmaps(height, round);
    const have = type === "prevote" ? mine?.prevotes : mine?.precommits;
    for (let i = 0; i < n; i++) if (!have || !hasBit(have, i)) setBit(missing, i);
    const empty = emptyBitmap(n);
    const request: VotesRequest = {
      height,
      round,
      prevotes: type === "prevote" ? missing : empty,
      precommits: type === "precommit" ? missing : empty,
    };
    void this.#fetchVotes(request);
  }

  async #fetchVotes(request: VotesRequest): Promise<void> {
    for (const peer of this.#network.connectedPeers().slice(0, FETCH_PEERS)) {
      if (this.#stopped) return;
      try {
        for (const vote of await this.#network.reqresp.votes(peer, request)) {
          if (this.onVote(vote, peer) === "reject") this.#network.penalize(peer, "invalidResponse");
        }
      } catch (error) {
        this.#log.debug({ err: error, peer }, "fetching votes failed");
      }
    }
  }

  #equivocation(d: DuplicateVote): void {
    const votes = this.#votes.get(d.height, d.round, d.type, d.validator);
    const pick = (value: ValueId | null) =>
      votes.find((k) => {
        const hash = k.signed.vote.blockHash;
        return value === null ? hash === undefined : hash !== undefined && equalBytes(hash, value);
      });
    const a = pick(d.values[0]);
    const b = pick(d.values[1]);
    if (!a || !b) return;
    const evidence = duplicateVoteEvidence(a.signed, b.signed);
    const added = this.#evidence.add(evidence);
    this.#log.warn({ height: d.height, round: d.round, validator: d.validator }, "equivocation");
    if (added.ok && added.added) this.#publish("evidence", encodeEvidence(evidence));
  }

  // -------------------------------------------------------------------------------------------
  // Heights.

  #onCommitted(block: CommittedBlock): void {
    this.#evidence.update(block);
    this.#mempool?.update(block);
    this.#compactWal(block.height);
    if (block.height < this.#height || this.#stopped) return;
    // The height is over, whoever committed it: nothing more to time or sign for it.
    this.#clearTimers();
    if (this.#startTimer) clearTimeout(this.#startTimer);
    const due = block.header.time + this.#targetBlockTimeMs;
    const wait = due - this.#chain.clock.now();
    const next = block.height + 1n;
    this.#startTimer = setTimeout(
      () => {
        this.#startTimer = undefined;
        this.#post(() => this.#startHeight(next, "committed"));
      },
      wait > 0n ? Number(wait) : 0,
    );
    this.#startTimer.unref();
  }

  /**
   * Every WAL_COMPACT_EVERY heights, drops the signing records of heights committed long ago:
   * nothing is ever signed for a committed height again, and the file would grow forever.
   */
  #compactWal(height: bigint): void {
    const wal = this.#signer?.wal;
    if (!wal || height % WAL_COMPACT_EVERY !== 0n || height <= WAL_KEEP_HEIGHTS) return;
    wal.compact(height - WAL_KEEP_HEIGHTS).catch((error: unknown) => {
      this.#log.error({ err: error }, "compacting the signing WAL failed");
    });
  }

  async #startHeight(height: bigint, cause: StartCause): Promise<void> {
    // A later commit (sync) superseded this start; its own timer starts the right height.
    if (height !== this.#chain.head().height + 1n) return;
    const set = this.#chain.validatorSetAt(height);
    const signer = this.#signer;
    const index = signer ? indexOfValidator(set, signer.address) : -1;
    this.#height = height;
    this.#set = set;
    this.#selfIndex = index < 0 ? null : index;
    this.#round = 0;
    this.#step = "propose";
    this.#clearTimers();
    this.#votes.prune(height - 1n);
    for (const hash of [...this.#built.keys()]) this.#built.delete(hash);
    for (let i = this.#proposals.length - 1; i >= 0; i--) {
      if (this.#proposals[i]!.height < height) this.#proposals.splice(i, 1);
    }
    this.#log.info(
      { height, validators: set.length, selfIndex: this.#selfIndex, cause },
      "starting height",
    );
    this.#run({
      kind: "start-height",
      height,
      validatorCount: set.length,
      selfIndex: this.#selfIndex,
    });
    this.#replayWal(height);
    const buffered = this.#buffer.filter((b) => b.height === height);
    this.#buffer = this.#buffer.filter((b) => b.height > height);
    for (const item of buffered) {
      if (item.kind === "vote") this.#feedVote(height, item.index, item.kept);
    }
    await this.#drain();
    for (const item of buffered) {
      if (item.kind === "proposal") await this.#acceptProposal(item.data, null, item.receivedAt);
    }
    await this.#drain();
  }

  /**
   * After a restart: the votes we signed at this height go back into the core (so it signs
   * nothing else for their steps) and out to peers again, byte for byte.
   */
  #replayWal(height: bigint): void {
    const signer = this.#signer;
    if (!signer || this.#selfIndex === null) return;
    for (const entry of signer.wal.records(height)) {
      if (entry.kind !== "vote" || entry.signed.vote.height !== height) continue;
      const bytes = encodeSignedVote(entry.signed);
      const kept: KeptVote = { signed: entry.signed, bytes };
      this.#votes.add(height, entry.signed.vote.round, this.#selfIndex, kept);
      this.#feedVote(height, this.#selfIndex, kept);
      this.#log.info(
        { height, round: entry.signed.vote.round, type: entry.signed.vote.type },
        "re-sending a vote from the WAL",
      );
      this.#publish("vote", bytes);
    }
  }
}
