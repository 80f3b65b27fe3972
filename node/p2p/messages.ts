// The request/response messages, in the canonical codec. Blocks, commits, votes and proposals
// travel as their own canonical encodings (opaque bytes here): the host decodes and verifies
// them, and the bytes stay exactly those that were signed and hashed.
import { MAX_BLOCK_BYTES } from "../../lib/block.js";
import {
  bytes,
  enumeration,
  type Infer,
  type Schema,
  struct,
  text,
  type UnionOf,
  u32,
  u64,
  uint,
  union,
} from "../../lib/codec.js";
import { MAX_COMMIT_BYTES } from "../../lib/commit.js";
import { MAX_VOTE_BYTES } from "../../lib/vote.js";
import { MAX_BITMAP_BYTES } from "./bitmap.js";
import { MAX_PROPOSAL_MESSAGE_BYTES } from "./topics.js";

const hash32 = bytes({ length: 32 });
const bitmap = bytes({ max: MAX_BITMAP_BYTES });

export const StatusSchema = struct("Status", {
  /** The newest committed height we hold; 0 before the first block. */
  latestHeight: u64,
  /** That block's hash; 32 zero bytes before the first block. */
  latestHash: hash32,
  /** The lowest height we still serve (blocks below it were pruned or came from a snapshot). */
  earliestHeight: u64,
});
export type Status = Infer<typeof StatusSchema>;

/** The most blocks one blocksByRange request may ask for. */
export const MAX_BLOCKS_PER_REQUEST = 32;
/**
 * A responder stops sending blocks before its response would pass this many bytes (it always
 * sends at least one); the requester asks again from where the response ended.
 */
export const MAX_RANGE_RESPONSE_BYTES = 16 * 1024 * 1024;

export const BlocksByRangeRequestSchema = struct("BlocksByRangeRequest", {
  startHeight: u64,
  count: uint(MAX_BLOCKS_PER_REQUEST),
});
export type BlocksByRangeRequest = Infer<typeof BlocksByRangeRequestSchema>;

export const BlockWithCommitSchema = struct("BlockWithCommit", {
  /** The block's canonical encoding (lib/block.ts encodeBlock). */
  block: bytes({ max: MAX_BLOCK_BYTES }),
  /** The encoding of the commit that decided it (lib/commit.ts encodeCommit). */
  commit: bytes({ max: MAX_COMMIT_BYTES }),
});
export type BlockWithCommit = Infer<typeof BlockWithCommitSchema>;

const voteBitsFields = {
  height: u64,
  round: u32,
  /** Prevotes, by validator index (bitmap.ts). */
  prevotes: bitmap,
  /** Precommits, by validator index. */
  precommits: bitmap,
};

/** The votes we hold for one (height, round); the vote exchange sends it both ways. */
export const HaveVotesSchema = struct("HaveVotes", voteBitsFields);
export type HaveVotes = Infer<typeof HaveVotesSchema>;

/** Asks for the votes of one (height, round) whose bits are set. */
export const VotesRequestSchema = struct("VotesRequest", voteBitsFields);
export type VotesRequest = Infer<typeof VotesRequestSchema>;

/** A signed vote's encoding (lib/vote.ts encodeSignedVote). */
export const EncodedVoteSchema = bytes({ max: MAX_VOTE_BYTES });

export const ProposalRequestSchema = struct("ProposalRequest", { blockHash: hash32 });
export type ProposalRequest = Infer<typeof ProposalRequestSchema>;

/** The same bytes as a gossiped proposal message: the signed proposal and its block. */
export const ProposalMessageSchema = bytes({ max: MAX_PROPOSAL_MESSAGE_BYTES });

export const RESPONSE_STATUSES = ["ok", "invalidRequest", "serverError", "busy"] as const;
export type ResponseStatus = (typeof RESPONSE_STATUSES)[number];

export const ResponseEndSchema = struct("ResponseEnd", {
  status: enumeration("ResponseStatus", RESPONSE_STATUSES),
  /** Empty when ok; otherwise a short reason for the requester's logs. */
  message: text(256),
});
export type ResponseEnd = Infer<typeof ResponseEndSchema>;

/**
 * One frame of a response. A response is zero or more items and then exactly one end frame
 * with its status, so a truncated response (the stream closed early) is never mistaken for a
 * short one.
 */
export function responseChunkSchema<T>(name: string, item: Schema<T>) {
  return union(`${name}Chunk`, {
    item: [0, item],
    end: [1, ResponseEndSchema],
  } as const);
}
export type ResponseChunk<T> = UnionOf<{
  item: readonly [0, Schema<T>];
  end: readonly [1, typeof ResponseEndSchema];
}>;
