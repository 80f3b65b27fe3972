// The consensus core's own vocabulary. The host adapts signed wire messages (lib/vote.ts) to
// these inputs after checking their signatures, and turns the effects back into signed
// messages, timers and commits; nothing here knows about keys, bytes on the wire or blocks.
//
// Notation follows Algorithm 1 of "The latest gossip on BFT consensus" (Buchman, Kwon,
// Milosevic, 2018): a round's steps are propose, prevote and precommit; a nil vote is null;
// polRound = -1 is the paper's validRound = -1 ("no proof of lock").

/** A block's 32-byte hash: the only thing consensus knows about a value. */
export type ValueId = Uint8Array;

/** What a vote is for: a value, or nil (null). */
export type VoteValue = ValueId | null;

export type VoteType = "prevote" | "precommit";

export type Step = "propose" | "prevote" | "precommit";

export const VALUE_ID_LENGTH = 32;

/** Rounds are u32 on the wire (lib/vote.ts); larger ones cannot be signed, so never occur. */
export const MAX_ROUND = 0xffffffff;

/**
 * Begins consensus on `height`, by the validator at `selfIndex` of that height's set, or as a
 * follower (selfIndex null) that tracks decisions without voting. The host sends it at start-up
 * and after it has committed the previous height, with that height's validator count.
 */
export interface StartHeightInput {
  readonly kind: "start-height";
  readonly height: bigint;
  readonly validatorCount: number;
  readonly selfIndex: number | null;
}

/**
 * A proposal signed by validator `proposer`, fed once the host holds the whole block and has
 * checked it: `valid` is the paper's valid(v) (the block executes and obeys every rule that does
 * not depend on the local clock); `timely` is the proposer-based-timestamp check against the
 * local clock (DESIGN §5). Only a fresh proposal (polRound = -1) is held to `timely`.
 */
export interface ProposalInput {
  readonly kind: "proposal";
  readonly height: bigint;
  readonly round: number;
  /** The proof-of-lock round, -1 for none; must be below `round`. */
  readonly polRound: number;
  readonly valueId: ValueId;
  readonly proposer: number;
  readonly valid: boolean;
  readonly timely: boolean;
}

/** A prevote or precommit signed by validator `validator` (its index in the height's set). */
export interface VoteInput {
  readonly kind: "vote";
  readonly type: VoteType;
  readonly height: bigint;
  readonly round: number;
  readonly valueId: VoteValue;
  readonly validator: number;
}

/** A timer set by a schedule-timeout effect has run out. */
export interface TimeoutInput {
  readonly kind: "timeout";
  readonly step: Step;
  readonly height: bigint;
  readonly round: number;
}

/** The host's answer to get-value: the id of the block it built for (height, round). */
export interface ProposalValueInput {
  readonly kind: "proposal-value";
  readonly height: bigint;
  readonly round: number;
  readonly valueId: ValueId;
}

export type Input =
  | StartHeightInput
  | ProposalInput
  | VoteInput
  | TimeoutInput
  | ProposalValueInput;

/** Why a round began: the host logs it and uses it in metrics. */
export type RoundCause = "height-start" | "precommit-timeout" | "round-skip";

/**
 * Two different votes by one validator for the same (height, round, type). `values` is in
 * canonical order — nil first, then by value bytes — so that an equivocation has one form
 * whichever vote arrived first (the order lib/evidence.ts uses for voteA and voteB).
 */
export interface DuplicateVote {
  readonly validator: number;
  readonly height: bigint;
  readonly round: number;
  readonly type: VoteType;
  readonly values: readonly [VoteValue, VoteValue];
}

export type Effect =
  /** A round began (Alg.1 L11-13); `proposer` is whose proposal the round waits for. */
  | {
      readonly kind: "new-round";
      readonly height: bigint;
      readonly round: number;
      readonly proposer: number;
      readonly cause: RoundCause;
    }
  /** Build a block for (height, round) and answer with a proposal-value input (Alg.1 L18). */
  | { readonly kind: "get-value"; readonly height: bigint; readonly round: number }
  /** Sign (after the WAL fsync) and gossip this proposal; the core has already counted it. */
  | {
      readonly kind: "broadcast-proposal";
      readonly height: bigint;
      readonly round: number;
      readonly polRound: number;
      readonly valueId: ValueId;
    }
  /** Sign (after the WAL fsync) and gossip this vote; the core has already counted it. */
  | {
      readonly kind: "broadcast-vote";
      readonly type: VoteType;
      readonly height: bigint;
      readonly round: number;
      readonly valueId: VoteValue;
    }
  /** Start a timer; when it runs out, send the matching timeout input. */
  | {
      readonly kind: "schedule-timeout";
      readonly step: Step;
      readonly height: bigint;
      readonly round: number;
      readonly durationMs: bigint;
    }
  /**
   * `valueId` is decided at `height` (Alg.1 L49-51). `commit` lists, ascending, the validators
   * whose precommits for it in `round` were counted: the host's commit certificate is their
   * signed precommits (more may be added while it waits to start the next height).
   */
  | {
      readonly kind: "decide";
      readonly height: bigint;
      readonly round: number;
      readonly valueId: ValueId;
      readonly commit: readonly number[];
    }
  /**
   * f+1 validators voted for `valueId` in `round`, so a correct one saw its proposal, but the
   * core holds no proposal for it (not yet received, or refused while nobody had voted for it:
   * see message-log.ts). Feed it again from the host's cache, or fetch it from peers.
   */
  | {
      readonly kind: "proposal-wanted";
      readonly height: bigint;
      readonly round: number;
      readonly valueId: ValueId;
    }
  /**
   * Votes of (height, round, type) for `valueId` may be missing: a proposal re-proposes it with
   * proof-of-lock round `round` but the prevote quorum L28 needs is not here (lost, or refused
   * while that round was far ahead), or it just got f+1 voters while an equivocator's vote for
   * it was not kept. Ask peers for their votes of (height, round, type): the vote-set exchange.
   */
  | {
      readonly kind: "votes-wanted";
      readonly height: bigint;
      readonly round: number;
      readonly type: VoteType;
      readonly valueId: ValueId;
    }
  /** Gossip evidence made of the two signed votes, then include it in a block. */
  | { readonly kind: "equivocation"; readonly evidence: DuplicateVote };

export type ConsensusInputErrorCode = "BAD_HEIGHT" | "BAD_VALIDATOR_COUNT" | "BAD_SELF_INDEX";

/** A control input that no correct host sends; messages from the network are never errors. */
export class ConsensusInputError extends Error {
  override name = "ConsensusInputError";
  constructor(
    readonly code: ConsensusInputErrorCode,
    message: string,
  ) {
    super(message);
  }
}
