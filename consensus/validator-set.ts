// Counting rules for n equal-weight validators, and how the set changes between heights.
//
// Thresholds, for any n >= 1:
//   quorum(n)        = floor(2n/3) + 1   the paper's "2f+1": the least count above two thirds
//   maxFaulty(n)     = floor((n-1)/3)    f, the most faulty validators that safety tolerates
//   skipThreshold(n) = f + 1             enough senders that one of them is correct
// Two quorums overlap in 2*quorum(n) - n > f validators, so in at least one correct one, and
// the n - f correct validators always make a quorum. For n = 3f+1 these are exactly the paper's
// 2f+1 and f+1; for n = 1, 4, 7: quorum 1, 3, 5 and skip threshold 1, 2, 3.
import { compareBytes } from "../lib/bytes.js";
import { proposerIndex as proposerOf, quorum as quorumOf } from "../lib/validator.js";

function checkCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`bad validator count ${n}`);
}

// The formulas live in lib/validator.ts, shared with commit verification and block validation;
// here they are guarded, as the core must never count with a nonsensical n.
export function quorum(n: number): number {
  checkCount(n);
  return quorumOf(n);
}

export function maxFaulty(n: number): number {
  checkCount(n);
  return Math.floor((n - 1) / 3);
}

export function skipThreshold(n: number): number {
  return maxFaulty(n) + 1;
}

/**
 * proposer(h, r) of the paper: index (height + round) mod n of the height's set, which is sorted
 * by identity. The round moves a failed round to the next validator; the height rotates who
 * opens each height, so equal validators propose equally often. Block validation checks a
 * header's proposer with the same rule.
 */
export function proposerIndex(height: bigint, round: number, n: number): number {
  checkCount(n);
  return proposerOf(height, round, n);
}

export type CommitQuorumErrorCode = "SIGNER_OUT_OF_RANGE" | "DUPLICATE_SIGNER" | "NO_QUORUM";

export type CommitQuorumCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: CommitQuorumErrorCode; readonly message: string };

/**
 * Whether the signers of a commit certificate (indices into the validator set of the commit's
 * height, whose precommit signatures the caller has verified) decide it: distinct members, at
 * least quorum(n) of them. A syncing node and a light client both apply it, with the set that
 * the previous header's nextValidatorsHash named.
 */
export function checkCommitQuorum(signers: readonly number[], n: number): CommitQuorumCheck {
  const needed = quorum(n);
  const seen = new Uint8Array(n);
  for (const signer of signers) {
    if (!Number.isInteger(signer) || signer < 0 || signer >= n) {
      return { ok: false, code: "SIGNER_OUT_OF_RANGE", message: `signer ${signer} of ${n}` };
    }
    if (seen[signer] === 1) {
      return { ok: false, code: "DUPLICATE_SIGNER", message: `signer ${signer} appears twice` };
    }
    seen[signer] = 1;
  }
  if (signers.length < needed) {
    return {
      ok: false,
      code: "NO_QUORUM",
      message: `${signers.length} of ${n} signers; ${needed} are needed`,
    };
  }
  return { ok: true };
}

// Validator-set changes. The block at height H is the last one whose execution can change
// anything for the set of H+1: that set is already named by H's header (nextValidatorsHash), so
// light clients can follow it one header at a time. Hence a change decided in block H applies
// at H+2:  set(H+2) = nextValidatorSet(set(H+1), updates of block H).

/** The height from which updates decided in block `height` apply. */
export function activationHeight(height: bigint): bigint {
  return height + 2n;
}

/** One governance change; a block carries at most one (DESIGN §5: one per height). */
export type GovernanceChange<V> =
  | { readonly kind: "add"; readonly validator: V }
  | { readonly kind: "remove"; readonly id: Uint8Array }
  /** A key rotation: one change, so the set never passes through a smaller or larger n. */
  | { readonly kind: "replace"; readonly id: Uint8Array; readonly validator: V };

export interface BlockValidatorUpdates<V> {
  readonly governance: GovernanceChange<V> | null;
  /** Ids of validators whose equivocation evidence the block includes. */
  readonly equivocators: readonly Uint8Array[];
}

export interface ValidatorSetRules<V> {
  /** The identity a set is sorted by (lib/validator.ts: the address). */
  readonly idOf: (validator: V) => Uint8Array;
  /** Genesis minimum: governance may not remove below it; evidence may. */
  readonly minimum: number;
}

export type ValidatorUpdateErrorCode =
  | "NOT_CANONICAL"
  | "ALREADY_MEMBER"
  | "NOT_MEMBER"
  | "BELOW_MINIMUM"
  | "EMPTY_SET";

export type ValidatorUpdateResult<V> =
  | { readonly ok: true; readonly set: readonly V[] }
  | { readonly ok: false; readonly code: ValidatorUpdateErrorCode; readonly message: string };

function indexOfId<V>(set: readonly V[], id: Uint8Array, idOf: (v: V) => Uint8Array): number {
  return set.findIndex((v) => compareBytes(idOf(v), id) === 0);
}

/**
 * set(H+2) from set(H+1) and block H's updates. Equivocators leave first, even below the
 * genesis minimum (keeping a validator that signed two votes is worse than a small set), and a
 * governance change that names one of them is judged against the set without it; the vm should
 * reject, with a receipt, a governance change this reports an error for. Ids that are not
 * members (an equivocator already removed by earlier evidence) change nothing. The result stays
 * sorted by id, the order that votes index and proposers rotate by.
 */
export function nextValidatorSet<V>(
  current: readonly V[],
  updates: BlockValidatorUpdates<V>,
  rules: ValidatorSetRules<V>,
): ValidatorUpdateResult<V> {
  const { idOf, minimum } = rules;
  for (let i = 1; i < current.length; i++) {
    if (compareBytes(idOf(current[i - 1]!), idOf(current[i]!)) >= 0) {
      return { ok: false, code: "NOT_CANONICAL", message: `member ${i} is out of id order` };
    }
  }
  let set = current.filter(
    (v) => !updates.equivocators.some((id) => compareBytes(idOf(v), id) === 0),
  );
  const change = updates.governance;
  if (change !== null) {
    const applied = applyGovernance(set, change, idOf, minimum);
    if (!applied.ok) return applied;
    set = [...applied.set];
  }
  if (set.length === 0) {
    return { ok: false, code: "EMPTY_SET", message: "the updates remove every validator" };
  }
  return { ok: true, set };
}

function applyGovernance<V>(
  set: readonly V[],
  change: GovernanceChange<V>,
  idOf: (v: V) => Uint8Array,
  minimum: number,
): ValidatorUpdateResult<V> {
  const without = (id: Uint8Array): ValidatorUpdateResult<V> => {
    const at = indexOfId(set, id, idOf);
    if (at < 0) return { ok: false, code: "NOT_MEMBER", message: "no member has that id" };
    return { ok: true, set: set.filter((_, i) => i !== at) };
  };
  const withAdded = (base: readonly V[], validator: V): ValidatorUpdateResult<V> => {
    const id = idOf(validator);
    if (indexOfId(base, id, idOf) >= 0) {
      return { ok: false, code: "ALREADY_MEMBER", message: "a member already has that id" };
    }
    const at = base.findIndex((v) => compareBytes(idOf(v), id) > 0);
    const next = [...base];
    next.splice(at < 0 ? base.length : at, 0, validator);
    return { ok: true, set: next };
  };
  switch (change.kind) {
    case "add":
      return withAdded(set, change.validator);
    case "remove": {
      const removed = without(change.id);
      if (removed.ok && removed.set.length < minimum) {
        return {
          ok: false,
          code: "BELOW_MINIMUM",
          message: `removal would leave ${removed.set.length} validators; the minimum is ${minimum}`,
        };
      }
      return removed;
    }
    case "replace": {
      const removed = without(change.id);
      return removed.ok ? withAdded(removed.set, change.validator) : removed;
    }
  }
}
