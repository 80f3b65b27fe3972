// The message log of one height (the paper's "message log" that L53 empties): for every round
// seen, its proposals, its prevote and precommit tallies, and who sent anything in it. Messages
// for rounds ahead of ours are kept and counted (they decide L49 and skip rounds by L55), so the
// log bounds them: each validator may occupy at most `maxFutureRounds` rounds above ours, its
// newest ones. Honest validators only move forward, so the newest rounds are the informative
// ones; a Byzantine validator can fill only its own quota, and a round skip needs f+1 senders.
import { equalBytes } from "../lib/bytes.js";
import type { ValueId, VoteType, VoteValue } from "./types.js";
import { skipThreshold } from "./validator-set.js";
import {
  emptyTally,
  type RecordOutcome,
  recordVote,
  type VoteTally,
  votesFor,
  withdrawVotes,
} from "./vote-keeper.js";

export interface StoredProposal {
  readonly polRound: number;
  readonly valueId: ValueId;
  readonly valid: boolean;
  readonly timely: boolean;
}

export interface RoundMessages {
  /**
   * From the round's proposer, in arrival order: the first, and any other that at least f+1
   * validators have voted for in the round (so one correct validator saw it). A proposer that
   * equivocates cannot grow this past 1 + 2n/(f+1) (f+1 first votes of each type per value),
   * yet a value the others decide on is kept.
   */
  readonly proposals: readonly StoredProposal[];
  readonly prevotes: VoteTally;
  readonly precommits: VoteTally;
  /** By validator index: whether it sent any message in the round (counted by L55). */
  readonly senders: readonly boolean[];
  readonly senderCount: number;
}

export interface MessageLog {
  readonly validatorCount: number;
  readonly rounds: ReadonlyMap<number, RoundMessages>;
}

export function emptyLog(validatorCount: number): MessageLog {
  return { validatorCount, rounds: new Map() };
}

export function roundMessages(log: MessageLog, round: number): RoundMessages {
  return (
    log.rounds.get(round) ?? {
      proposals: [],
      prevotes: emptyTally(log.validatorCount),
      precommits: emptyTally(log.validatorCount),
      senders: Array.from({ length: log.validatorCount }, () => false),
      senderCount: 0,
    }
  );
}

export function tallyOf(log: MessageLog, round: number, type: VoteType): VoteTally {
  const messages = roundMessages(log, round);
  return type === "prevote" ? messages.prevotes : messages.precommits;
}

/** Every round with messages, ascending: the only order in which the log is walked. */
export function roundsAscending(log: MessageLog): number[] {
  return [...log.rounds.keys()].sort((a, b) => a - b);
}

function withRound(log: MessageLog, round: number, messages: RoundMessages): MessageLog {
  const rounds = new Map(log.rounds);
  if (messages.senderCount === 0 && messages.proposals.length === 0) rounds.delete(round);
  else rounds.set(round, messages);
  return { ...log, rounds };
}

function withSender(messages: RoundMessages, validator: number): RoundMessages {
  if (messages.senders[validator]) return messages;
  const senders = [...messages.senders];
  senders[validator] = true;
  return { ...messages, senders, senderCount: messages.senderCount + 1 };
}

export function addVote(
  log: MessageLog,
  type: VoteType,
  round: number,
  validator: number,
  value: VoteValue,
): { readonly log: MessageLog; readonly outcome: RecordOutcome } {
  const messages = roundMessages(log, round);
  const tally = type === "prevote" ? messages.prevotes : messages.precommits;
  // A conflicting vote is kept for a value that can matter: one with a proposal here, or one
  // that f+1 other validators voted for. That bounds what an equivocator can make us store.
  const keepConflicting = (v: VoteValue): boolean =>
    (v !== null && messages.proposals.some((p) => equalBytes(p.valueId, v))) ||
    votesFor(tally, v) >= skipThreshold(log.validatorCount);
  const outcome = recordVote(tally, validator, value, keepConflicting);
  if (outcome.kind === "ignored") return { log, outcome };
  const updated =
    type === "prevote"
      ? { ...messages, prevotes: outcome.tally }
      : { ...messages, precommits: outcome.tally };
  return { log: withRound(log, round, withSender(updated, validator)), outcome };
}

/** Stores a proposal by `proposer`, the proposer of `round`; returns null if it is not kept. */
export function addProposal(
  log: MessageLog,
  round: number,
  proposer: number,
  proposal: StoredProposal,
): MessageLog | null {
  const messages = roundMessages(log, round);
  if (messages.proposals.some((p) => equalBytes(p.valueId, proposal.valueId))) return null;
  if (messages.proposals.length > 0) {
    const support = Math.max(
      votesFor(messages.prevotes, proposal.valueId),
      votesFor(messages.precommits, proposal.valueId),
    );
    if (support < skipThreshold(log.validatorCount)) return null;
  }
  const updated = { ...messages, proposals: [...messages.proposals, proposal] };
  return withRound(log, round, withSender(updated, proposer));
}

/**
 * Lets `validator` send in `round`: true when the round is not above `currentRound`, when the
 * validator already occupies it, or when it has a free future round. Otherwise the log gives up
 * the validator's lowest future round if `round` is higher, and refuses (null) if not.
 */
export function makeRoom(
  log: MessageLog,
  validator: number,
  round: number,
  currentRound: number,
  maxFutureRounds: number,
  proposerOf: (round: number) => number,
): MessageLog | null {
  if (round <= currentRound || roundMessages(log, round).senders[validator]) return log;
  const occupied = roundsAscending(log).filter(
    (r) => r > currentRound && log.rounds.get(r)!.senders[validator],
  );
  if (occupied.length < maxFutureRounds) return log;
  const lowest = occupied[0]!;
  if (round < lowest) return null;
  return forgetSender(log, validator, lowest, proposerOf(lowest) === validator);
}

function forgetSender(
  log: MessageLog,
  validator: number,
  round: number,
  isProposer: boolean,
): MessageLog {
  const messages = roundMessages(log, round);
  const senders = [...messages.senders];
  senders[validator] = false;
  return withRound(log, round, {
    proposals: isProposer ? [] : messages.proposals,
    prevotes: withdrawVotes(messages.prevotes, validator),
    precommits: withdrawVotes(messages.precommits, validator),
    senders,
    senderCount: messages.senderCount - 1,
  });
}

/** The highest round above `above` with at least f+1 senders (Alg.1 L55), or null. */
export function highestSkipRound(log: MessageLog, above: number): number | null {
  const threshold = skipThreshold(log.validatorCount);
  const rounds = roundsAscending(log).reverse();
  return rounds.find((r) => r > above && log.rounds.get(r)!.senderCount >= threshold) ?? null;
}
