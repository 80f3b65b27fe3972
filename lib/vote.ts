// Votes and proposals, the messages a validator signs in consensus (DESIGN §5). They carry no
// timestamp: time is the proposer's, in the header. A validator signs
// domainPrefix(domain) || canonical encoding, so a vote can never be replayed as a proposal or a
// transaction, and the chain id inside keeps it from being replayed on another chain.
import { concatBytes } from "./bytes.js";
import {
  bytes,
  decode,
  encode,
  enumeration,
  type Infer,
  optional,
  struct,
  text,
  u32,
  u64,
} from "./codec.js";
import { domainPrefix } from "./hash.js";
import { sign, verify } from "./signature.js";

/** Checks one signature; the node may pass a cached or pooled verifier with these semantics. */
export type VerifyFn = typeof verify;

export const VoteType = enumeration("VoteType", ["prevote", "precommit"]);
export type VoteType = Infer<typeof VoteType>;

/** A block hash, or nothing for a nil vote. */
export const BlockHashOrNil = optional(bytes({ length: 32 }));

export const VoteSchema = struct("Vote", {
  type: VoteType,
  chainId: text(64),
  height: u64,
  round: u32,
  blockHash: BlockHashOrNil,
  validator: bytes({ length: 20 }),
});
export type Vote = Infer<typeof VoteSchema>;

export const SignedVoteSchema = struct("SignedVote", {
  vote: VoteSchema,
  signature: bytes({ length: 64 }),
});
export type SignedVote = Infer<typeof SignedVoteSchema>;

export const ProposalSchema = struct("Proposal", {
  chainId: text(64),
  height: u64,
  round: u32,
  /** The proof-of-lock round; absent where the Tendermint paper writes validRound = -1. */
  polRound: optional(u32),
  blockHash: bytes({ length: 32 }),
  proposer: bytes({ length: 20 }),
});
export type Proposal = Infer<typeof ProposalSchema>;

export const SignedProposalSchema = struct("SignedProposal", {
  proposal: ProposalSchema,
  signature: bytes({ length: 64 }),
});
export type SignedProposal = Infer<typeof SignedProposalSchema>;

/** Upper bounds on the encodings, well above the largest valid one (about 200 bytes). */
export const MAX_VOTE_BYTES = 512;
export const MAX_PROPOSAL_BYTES = 512;

export function voteSignBytes(vote: Vote): Uint8Array {
  return concatBytes(domainPrefix("vote"), encode(VoteSchema, vote));
}

export function signVote(vote: Vote, secretKey: Uint8Array): SignedVote {
  return { vote, signature: sign(secretKey, voteSignBytes(vote)) };
}

/**
 * Whether the vote is signed by `publicKey`, which the caller takes from the validator set entry
 * for vote.validator (checkValidatorSet ties each address to its key). Never throws.
 */
export function verifyVote(
  signed: SignedVote,
  publicKey: Uint8Array,
  verifyFn: VerifyFn = verify,
): boolean {
  let message: Uint8Array;
  try {
    message = voteSignBytes(signed.vote);
  } catch {
    return false;
  }
  return verifyFn(publicKey, message, signed.signature);
}

export function encodeSignedVote(signed: SignedVote): Uint8Array {
  return encode(SignedVoteSchema, signed);
}

export function decodeSignedVote(data: Uint8Array): SignedVote {
  return decode(SignedVoteSchema, data, { maxBytes: MAX_VOTE_BYTES });
}

export function proposalSignBytes(proposal: Proposal): Uint8Array {
  return concatBytes(domainPrefix("proposal"), encode(ProposalSchema, proposal));
}

export function signProposal(proposal: Proposal, secretKey: Uint8Array): SignedProposal {
  return { proposal, signature: sign(secretKey, proposalSignBytes(proposal)) };
}

/** Whether the proposal is signed by `publicKey` (the proposer's, from the set). Never throws. */
export function verifyProposal(
  signed: SignedProposal,
  publicKey: Uint8Array,
  verifyFn: VerifyFn = verify,
): boolean {
  let message: Uint8Array;
  try {
    message = proposalSignBytes(signed.proposal);
  } catch {
    return false;
  }
  return verifyFn(publicKey, message, signed.signature);
}

export function encodeSignedProposal(signed: SignedProposal): Uint8Array {
  return encode(SignedProposalSchema, signed);
}

export function decodeSignedProposal(data: Uint8Array): SignedProposal {
  return decode(SignedProposalSchema, data, { maxBytes: MAX_PROPOSAL_BYTES });
}
