// The votes of one type in one round: who voted for what, tallies per value and the detection
// of equivocation. Tallies are immutable; each change returns a new one that shares nothing
// mutable with the old, so a state the host kept stays as it was.
//
// The paper counts messages from distinct senders: "2f+1 PREVOTE(h, r, id(v))" are prevotes for
// v by 2f+1 validators, whatever else some of them also sent. So an equivocator's second vote
// is reported and may also count for its own value; refusing it could leave correct validators
// unable ever to see a polka that another correct validator saw (it received the two votes in
// the other order), which would stall the round after the one that locked. Counting a
// conflicting vote is safe, as quorum intersection only counts correct validators, but it must
// be bounded: the caller says which conflicting votes are worth keeping (message-log.ts keeps
// those for a value that has a proposal or f+1 other voters in the round).
import { equalBytes, toHex } from "../lib/bytes.js";
import type { VoteValue } from "./types.js";

export interface VoteTally {
  /** By validator index: its first vote, or undefined for none yet. */
  readonly first: readonly (VoteValue | undefined)[];
  /** Every counted (validator, value) pair, in arrival order; a pair appears once. */
  readonly counted: readonly { readonly validator: number; readonly value: VoteValue }[];
  /** Distinct validators per value, keyed by the value's hex or "nil". */
  readonly byValue: ReadonlyMap<string, number>;
  /** Distinct validators with any vote here: the paper's "2f+1 PREVOTE(h, r, *)". */
  readonly total: number;
  /** Validators reported for a conflicting vote here (each is reported once). */
  readonly equivocators: readonly number[];
}

export type RecordOutcome =
  | { readonly kind: "counted"; readonly tally: VoteTally }
  /** The validator's first conflicting vote: report it. It was counted if the caller wanted. */
  | { readonly kind: "equivocation"; readonly tally: VoteTally; readonly first: VoteValue }
  /** A further conflicting vote, counted because the caller wanted it. */
  | { readonly kind: "conflict-counted"; readonly tally: VoteTally }
  /** Already counted, or a further conflicting vote not worth keeping. */
  | { readonly kind: "ignored" };

export function emptyTally(validatorCount: number): VoteTally {
  return {
    first: Array.from({ length: validatorCount }, () => undefined),
    counted: [],
    byValue: new Map(),
    total: 0,
    equivocators: [],
  };
}

const keyOf = (value: VoteValue): string => (value === null ? "nil" : toHex(value));

function sameVote(a: VoteValue, b: VoteValue): boolean {
  if (a === null || b === null) return a === b;
  return equalBytes(a, b);
}

/**
 * Records `validator`'s vote (the caller has checked the index). A conflicting vote is counted
 * only if `keepConflicting(value)` says so.
 */
export function recordVote(
  tally: VoteTally,
  validator: number,
  value: VoteValue,
  keepConflicting: (value: VoteValue) => boolean,
): RecordOutcome {
  const first = tally.first[validator];
  if (first === undefined) {
    const firsts = [...tally.first];
    firsts[validator] = value;
    const added = withCounted(
      { ...tally, first: firsts, total: tally.total + 1 },
      validator,
      value,
    );
    return { kind: "counted", tally: added };
  }
  const already = tally.counted.some((c) => c.validator === validator && sameVote(c.value, value));
  if (already) return { kind: "ignored" };
  const keep = keepConflicting(value);
  if (!tally.equivocators.includes(validator)) {
    const reported = { ...tally, equivocators: [...tally.equivocators, validator] };
    return {
      kind: "equivocation",
      tally: keep ? withCounted(reported, validator, value) : reported,
      first,
    };
  }
  return keep
    ? { kind: "conflict-counted", tally: withCounted(tally, validator, value) }
    : { kind: "ignored" };
}

function withCounted(tally: VoteTally, validator: number, value: VoteValue): VoteTally {
  const key = keyOf(value);
  const byValue = new Map(tally.byValue);
  byValue.set(key, (byValue.get(key) ?? 0) + 1);
  return { ...tally, counted: [...tally.counted, { validator, value }], byValue };
}

/** Forgets every vote of `validator` (the message log makes room for newer rounds with it). */
export function withdrawVotes(tally: VoteTally, validator: number): VoteTally {
  if (tally.first[validator] === undefined) return tally;
  const first = [...tally.first];
  first[validator] = undefined;
  const byValue = new Map(tally.byValue);
  for (const c of tally.counted) {
    if (c.validator !== validator) continue;
    const key = keyOf(c.value);
    const count = byValue.get(key)! - 1;
    if (count === 0) byValue.delete(key);
    else byValue.set(key, count);
  }
  const counted = tally.counted.filter((c) => c.validator !== validator);
  return { ...tally, first, counted, byValue, total: tally.total - 1 };
}

/** Distinct validators with a counted vote for `value` (nil when null). */
export function votesFor(tally: VoteTally, value: VoteValue): number {
  return tally.byValue.get(keyOf(value)) ?? 0;
}

/** The validators with a counted vote for `value`, ascending. */
export function votersFor(tally: VoteTally, value: VoteValue): number[] {
  return tally.counted
    .filter((c) => sameVote(c.value, value))
    .map((c) => c.validator)
    .sort((a, b) => a - b);
}
