// A commit: the precommit signatures of more than two thirds of the validators for one block.
// The next block carries it (lastCommit) and sync serves it with each block, so any node — and
// a light client in the browser — can check that a block was decided. Only the signatures are
// kept; each one's vote is rebuilt from the commit, the chain id and the validator's address.
import { equalBytes } from "./bytes.js";
import { bytes, decode, encode, type Infer, list, struct, u32, u64 } from "./codec.js";
import { domainHash } from "./hash.js";
import { verify } from "./signature.js";
import { indexOfValidator, MAX_VALIDATORS, quorum, type Validator } from "./validator.js";
import { type SignedVote, type VerifyFn, type Vote, voteSignBytes } from "./vote.js";

export const CommitSignatureSchema = struct("CommitSignature", {
  validator: bytes({ length: 20 }),
  signature: bytes({ length: 64 }),
});
export type CommitSignature = Infer<typeof CommitSignatureSchema>;

export const CommitSchema = struct("Commit", {
  height: u64,
  round: u32,
  blockHash: bytes({ length: 32 }),
  /** In validator-set (address) order, at most one per validator. */
  signatures: list(CommitSignatureSchema, MAX_VALIDATORS),
});
export type Commit = Infer<typeof CommitSchema>;

/** Above the largest valid commit: MAX_VALIDATORS signatures of 90 bytes each plus the head. */
export const MAX_COMMIT_BYTES = 64 + 96 * MAX_VALIDATORS;

export function encodeCommit(commit: Commit): Uint8Array {
  return encode(CommitSchema, commit);
}

export function decodeCommit(data: Uint8Array): Commit {
  return decode(CommitSchema, data, { maxBytes: MAX_COMMIT_BYTES });
}

/** The hash a header carries in lastCommitHash. */
export function commitHash(commit: Commit): Uint8Array {
  return domainHash("commit", encodeCommit(commit));
}

/** The precommit that `validator`'s signature in the commit signs. */
export function commitVote(commit: Commit, chainId: string, validator: Uint8Array): Vote {
  return {
    type: "precommit",
    chainId,
    height: commit.height,
    round: commit.round,
    blockHash: commit.blockHash,
    validator,
  };
}

/**
 * Builds a commit from precommits for one (height, round, block), in set order. Precommits for
 * anything else, and those of validators outside the set, are left out; the caller counts the
 * quorum (verifyCommit does) before relying on the result.
 */
export function commitFromPrecommits(
  set: readonly Validator[],
  height: bigint,
  round: number,
  blockHash: Uint8Array,
  precommits: readonly SignedVote[],
): Commit {
  const bySetIndex = new Map<number, CommitSignature>();
  for (const { vote, signature } of precommits) {
    const matches =
      vote.type === "precommit" &&
      vote.height === height &&
      vote.round === round &&
      vote.blockHash !== undefined &&
      equalBytes(vote.blockHash, blockHash);
    const index = indexOfValidator(set, vote.validator);
    if (matches && index >= 0 && !bySetIndex.has(index)) {
      bySetIndex.set(index, { validator: vote.validator, signature });
    }
  }
  const order = [...bySetIndex.keys()].sort((a, b) => a - b);
  return { height, round, blockHash, signatures: order.map((i) => bySetIndex.get(i)!) };
}

export type CommitErrorCode =
  | "UNKNOWN_VALIDATOR"
  | "DUPLICATE_SIGNATURE"
  | "SIGNATURES_OUT_OF_ORDER"
  | "NOT_ENOUGH_SIGNATURES"
  | "BAD_SIGNATURE";

export type CommitCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: CommitErrorCode; readonly message: string };

/**
 * Whether the commit decides commit.blockHash at commit.height on `chainId` for `set` (the set
 * that was active at that height). Every signature must be a valid precommit by a distinct
 * member, in set order, and there must be at least quorum(n) of them. An invalid signature
 * rejects the whole commit rather than being skipped: whoever assembled it had to check.
 * The cheap checks run first so a bad commit costs no signature verifications.
 */
export function verifyCommit(
  commit: Commit,
  set: readonly Validator[],
  chainId: string,
  verifyFn: VerifyFn = verify,
): CommitCheck {
  const members: Validator[] = [];
  let previous = -1;
  for (const [i, { validator }] of commit.signatures.entries()) {
    const index = indexOfValidator(set, validator);
    if (index < 0) return fail("UNKNOWN_VALIDATOR", `signature ${i} is not by a member`);
    if (index === previous) return fail("DUPLICATE_SIGNATURE", `signature ${i} repeats a member`);
    if (index < previous) return fail("SIGNATURES_OUT_OF_ORDER", `signature ${i} is out of order`);
    previous = index;
    members.push(set[index]!);
  }
  const needed = quorum(set.length);
  if (members.length < needed) {
    return fail(
      "NOT_ENOUGH_SIGNATURES",
      `${members.length} of ${set.length} signatures; ${needed} are needed`,
    );
  }
  for (const [i, { validator, signature }] of commit.signatures.entries()) {
    const message = voteSignBytes(commitVote(commit, chainId, validator));
    if (!verifyFn(members[i]!.publicKey, message, signature)) {
      return fail("BAD_SIGNATURE", `signature ${i} is not a valid precommit`);
    }
  }
  return { ok: true };
}

function fail(code: CommitErrorCode, message: string): CommitCheck {
  return { ok: false, code, message };
}
