// Evidence of misbehaviour, gossiped and then included in a block (DESIGN §5). The only kind so
// far is a duplicate vote: two signed votes by one validator for the same step with different
// blocks. Evidence is a tagged union so that other kinds can be added under new tags.
import { compareBytes, equalBytes } from "./bytes.js";
import { decode, encode, struct, type UnionOf, union } from "./codec.js";
import { domainHash } from "./hash.js";
import { verify } from "./signature.js";
import { indexOfValidator, type Validator } from "./validator.js";
import {
  BlockHashOrNil,
  MAX_VOTE_BYTES,
  type SignedVote,
  SignedVoteSchema,
  type VerifyFn,
  verifyVote,
} from "./vote.js";

export const DuplicateVoteEvidenceSchema = struct("DuplicateVoteEvidence", {
  voteA: SignedVoteSchema,
  voteB: SignedVoteSchema,
});

const evidenceVariants = { duplicateVote: [0, DuplicateVoteEvidenceSchema] } as const;
export const EvidenceSchema = union("Evidence", evidenceVariants);
export type Evidence = UnionOf<typeof evidenceVariants>;
export type DuplicateVoteEvidence = Extract<Evidence, { kind: "duplicateVote" }>["value"];

export const MAX_EVIDENCE_BYTES = 2 * MAX_VOTE_BYTES + 16;

export function encodeEvidence(evidence: Evidence): Uint8Array {
  return encode(EvidenceSchema, evidence);
}

export function decodeEvidence(data: Uint8Array): Evidence {
  return decode(EvidenceSchema, data, { maxBytes: MAX_EVIDENCE_BYTES });
}

export function evidenceHash(evidence: Evidence): Uint8Array {
  return domainHash("evidence", encodeEvidence(evidence));
}

function blockHashOrder(a: SignedVote, b: SignedVote): number {
  return compareBytes(
    encode(BlockHashOrNil, a.vote.blockHash),
    encode(BlockHashOrNil, b.vote.blockHash),
  );
}

/**
 * Evidence from two conflicting votes, in canonical order (voteA's blockHash encoding sorts
 * first, so a nil vote comes before any block), so that one equivocation has one encoding and
 * one hash however the two votes arrived.
 */
export function duplicateVoteEvidence(a: SignedVote, b: SignedVote): Evidence {
  const [voteA, voteB] = blockHashOrder(a, b) <= 0 ? [a, b] : [b, a];
  return { kind: "duplicateVote", value: { voteA, voteB } };
}

export type EvidenceErrorCode =
  | "WRONG_CHAIN_ID"
  | "DIFFERENT_VALIDATOR"
  | "DIFFERENT_STEP"
  | "SAME_BLOCK_HASH"
  | "NOT_CANONICAL_ORDER"
  | "UNKNOWN_VALIDATOR"
  | "BAD_SIGNATURE";

export type EvidenceCheck =
  | { readonly ok: true; readonly offender: Validator }
  | { readonly ok: false; readonly code: EvidenceErrorCode; readonly message: string };

/**
 * Whether the evidence proves misbehaviour by a member of `set`, which must be the set active at
 * the evidence's height. How old evidence may be is the caller's rule, not this check's.
 */
export function checkEvidence(
  evidence: Evidence,
  set: readonly Validator[],
  chainId: string,
  verifyFn: VerifyFn = verify,
): EvidenceCheck {
  switch (evidence.kind) {
    case "duplicateVote":
      return checkDuplicateVote(evidence.value, set, chainId, verifyFn);
  }
}

function checkDuplicateVote(
  { voteA, voteB }: DuplicateVoteEvidence,
  set: readonly Validator[],
  chainId: string,
  verifyFn: VerifyFn,
): EvidenceCheck {
  const a = voteA.vote;
  const b = voteB.vote;
  if (a.chainId !== chainId || b.chainId !== chainId) {
    return fail("WRONG_CHAIN_ID", "a vote is for another chain");
  }
  if (!equalBytes(a.validator, b.validator)) {
    return fail("DIFFERENT_VALIDATOR", "the votes are by different validators");
  }
  if (a.height !== b.height || a.round !== b.round || a.type !== b.type) {
    return fail("DIFFERENT_STEP", "the votes are for different heights, rounds or types");
  }
  const order = blockHashOrder(voteA, voteB);
  if (order === 0) return fail("SAME_BLOCK_HASH", "the votes are for the same block");
  if (order > 0) return fail("NOT_CANONICAL_ORDER", "voteA's block hash must sort first");
  const index = indexOfValidator(set, a.validator);
  if (index < 0) return fail("UNKNOWN_VALIDATOR", "the validator is not in the set");
  const offender = set[index]!;
  if (
    !verifyVote(voteA, offender.publicKey, verifyFn) ||
    !verifyVote(voteB, offender.publicKey, verifyFn)
  ) {
    return fail("BAD_SIGNATURE", "a vote's signature is not valid");
  }
  return { ok: true, offender };
}

function fail(code: EvidenceErrorCode, message: string): EvidenceCheck {
  return { ok: false, code, message };
}
