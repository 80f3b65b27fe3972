// Validators and validator sets. Every validator has equal voting power (DESIGN §5), so a set is
// just its members, kept sorted by address: the sorted order is the canonical encoding, the
// order of signatures in a commit and the proposer rotation.
import { addressOf } from "./address.js";
import { compareBytes, equalBytes, toHex } from "./bytes.js";
import { bytes, decode, encode, type Infer, list, struct, text } from "./codec.js";
import { domainHash } from "./hash.js";
import { isValidPublicKey } from "./keys.js";

/** Upper bound on a set's size; also bounds the signatures in a commit. */
export const MAX_VALIDATORS = 128;

export const ValidatorSchema = struct("Validator", {
  /** addressOf(publicKey): what votes and commits name the validator by. */
  address: bytes({ length: 20 }),
  /** The consensus key, which signs votes and proposals only. */
  publicKey: bytes({ length: 33 }),
  /** The operator account of the validator's utility, which acts in governance. */
  operator: bytes({ length: 20 }),
  /** The utility's id. */
  utility: text(64),
});
export type Validator = Infer<typeof ValidatorSchema>;

export const ValidatorSetSchema = list(ValidatorSchema, MAX_VALIDATORS);
export type ValidatorSet = Validator[];

export function encodeValidatorSet(set: readonly Validator[]): Uint8Array {
  return encode(ValidatorSetSchema, [...set]);
}

/** Decodes a set's encoding; checks the schema only (use checkValidatorSet for the rules). */
export function decodeValidatorSet(data: Uint8Array): ValidatorSet {
  return decode(ValidatorSetSchema, data);
}

/** The hash that headers carry in validatorsHash and nextValidatorsHash. */
export function validatorSetHash(set: readonly Validator[]): Uint8Array {
  return domainHash("validator-set", encodeValidatorSet(set));
}

/** Votes needed for a decision among n equal validators: more than two thirds. */
export function quorum(n: number): number {
  return Math.floor((2 * n) / 3) + 1;
}

/** The position of `address` in a sorted set, or -1; binary search, as sets are sorted. */
export function indexOfValidator(set: readonly Validator[], address: Uint8Array): number {
  let lo = 0;
  let hi = set.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const order = compareBytes(set[mid]!.address, address);
    if (order === 0) return mid;
    if (order < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The proposer of (height, round): set[(height + round) mod n]. Adding the round moves to the
 * next validator when a round fails, and adding the height rotates the first proposer of each
 * height, so with equal power every validator proposes equally often.
 */
export function proposerFor(set: readonly Validator[], height: bigint, round: number): Validator {
  if (set.length === 0) throw new RangeError("proposerFor: the validator set is empty");
  return set[proposerIndex(height, round, set.length)]!;
}

/** The index (height + round) mod n of the proposer in a set of n; consensus/ counts with it too. */
export function proposerIndex(height: bigint, round: number, n: number): number {
  return Number((height + BigInt(round)) % BigInt(n));
}

export type ValidatorSetErrorCode =
  | "EMPTY_SET"
  | "TOO_MANY_VALIDATORS"
  | "NOT_SORTED"
  | "DUPLICATE_VALIDATOR"
  | "BAD_PUBLIC_KEY"
  | "ADDRESS_MISMATCH"
  | "BAD_UTILITY"
  | "OPERATOR_MISMATCH"
  | "UTILITY_CONCENTRATION";

export type ValidatorSetCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: ValidatorSetErrorCode; readonly message: string };

const reject = (code: ValidatorSetErrorCode, message: string): ValidatorSetCheck => ({
  ok: false,
  code,
  message,
});

/**
 * The rules every validator set (genesis or after a change) must keep. Utility concentration
 * (DESIGN §2): no utility may hold 1/3 or more of the set, so none can halt the chain alone or,
 * with the quorum above 2/3, rewrite it. That needs at least 4 validators; below 4 it cannot hold
 * (with 3, any one of them is already 1/3), so:
 * - n = 1: a single-utility devnet, allowed as such;
 * - n = 2 or 3: each validator must belong to a different utility — any one of them can still
 *   halt the chain, but no utility can sign a block alone;
 * - n >= 4: each utility holds fewer than n/3 validators.
 * Utilities and operator accounts correspond one to one, or one operator could run several
 * "utilities" and get around the rule.
 */
export function checkValidatorSet(set: readonly Validator[]): ValidatorSetCheck {
  const n = set.length;
  if (n === 0) return reject("EMPTY_SET", "the validator set is empty");
  if (n > MAX_VALIDATORS) {
    return reject("TOO_MANY_VALIDATORS", `${n} validators is over the limit of ${MAX_VALIDATORS}`);
  }
  const members = new Map<string, { operator: Uint8Array; count: number }>();
  const utilityOfOperator = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const v = set[i]!;
    if (i > 0) {
      const order = compareBytes(set[i - 1]!.address, v.address);
      if (order === 0) return reject("DUPLICATE_VALIDATOR", `validator ${i} repeats an address`);
      if (order > 0) return reject("NOT_SORTED", `validator ${i} is out of address order`);
    }
    if (!isValidPublicKey(v.publicKey)) {
      return reject("BAD_PUBLIC_KEY", `validator ${i} has an invalid public key`);
    }
    if (!equalBytes(addressOf(v.publicKey), v.address)) {
      return reject("ADDRESS_MISMATCH", `validator ${i}'s address is not that of its key`);
    }
    if (v.utility.length === 0) return reject("BAD_UTILITY", `validator ${i} names no utility`);
    const operatorKey = toHex(v.operator);
    const member = members.get(v.utility);
    const utilityOfThisOperator = utilityOfOperator.get(operatorKey);
    if (
      (member && !equalBytes(member.operator, v.operator)) ||
      (utilityOfThisOperator !== undefined && utilityOfThisOperator !== v.utility)
    ) {
      return reject("OPERATOR_MISMATCH", `validator ${i}: utilities and operators must pair 1:1`);
    }
    utilityOfOperator.set(operatorKey, v.utility);
    members.set(v.utility, { operator: v.operator, count: (member?.count ?? 0) + 1 });
  }
  for (const [utility, { count }] of members) {
    const concentrated = n >= 4 ? 3 * count >= n : n > 1 && count > 1;
    if (concentrated) {
      return reject(
        "UTILITY_CONCENTRATION",
        `utility ${JSON.stringify(utility)} holds ${count} of ${n} validators`,
      );
    }
  }
  return { ok: true };
}
