// Names and size limits of everything this layer puts on the wire. Every topic and protocol id
// carries the chain id, so nodes of two chains never mix messages even when they meet: a peer of
// another chain speaks none of our protocols and subscribes to none of our topics.
import { MAX_BLOCK_BYTES } from "../../lib/block.js";
import { MAX_COMMIT_BYTES } from "../../lib/commit.js";
import { MAX_EVIDENCE_BYTES } from "../../lib/evidence.js";
import { MAX_TX_BYTES } from "../../lib/tx.js";
import { MAX_PROPOSAL_BYTES, MAX_VOTE_BYTES } from "../../lib/vote.js";

/**
 * The gossip topics. A block travels inside its proposal message (signed proposal + block), so a
 * node never holds a proposal without its block and there is no separate block topic; a
 * committed block is learned from the precommit votes, or fetched with blocksByRange.
 */
export const GOSSIP_KINDS = ["tx", "proposal", "vote", "evidence"] as const;
export type GossipKind = (typeof GOSSIP_KINDS)[number];

/**
 * The transaction topic carries batches (node/tx-gossip.ts): at most this many transactions and
 * this many bytes each, room for two transactions of the largest size. The bound keeps the
 * validation queue's worst case in memory small (queue capacity × this).
 */
export const MAX_TXS_PER_BATCH = 256;
export const MAX_TX_BATCH_BYTES = 2 * MAX_TX_BYTES + 1024;

/** Room for the msgpack framing around the largest fields (array and bin32 headers). */
const FRAMING_BYTES = 64;

/** A proposal message: the signed proposal and the whole encoded block it proposes. */
export const MAX_PROPOSAL_MESSAGE_BYTES = MAX_BLOCK_BYTES + MAX_PROPOSAL_BYTES + FRAMING_BYTES;

/**
 * gossipsub 17 length-prefixes every RPC it sends with it-length-prefixed's default limit of
 * 4 MiB, which no option changes (maxInboundDataLength only raises what it reads). An RPC over it
 * is silently not sent.
 */
export const GOSSIPSUB_MAX_RPC_BYTES = 4 * 1024 * 1024;

/**
 * Room in that RPC for the envelope and the control messages gossipsub piggybacks on it (IHAVE
 * lists up to 5000 message ids per topic).
 */
const RPC_HEADROOM_BYTES = 512 * 1024;

/**
 * The largest payload each topic carries; anything larger is rejected unread. A proposal message
 * with a block near MAX_BLOCK_BYTES does not fit in one gossipsub RPC: such a proposal travels by
 * request/response (the proposal method), whose limit is the whole MAX_PROPOSAL_MESSAGE_BYTES.
 */
export const MAX_GOSSIP_BYTES: Readonly<Record<GossipKind, number>> = {
  tx: MAX_TX_BATCH_BYTES,
  proposal: Math.min(MAX_PROPOSAL_MESSAGE_BYTES, GOSSIPSUB_MAX_RPC_BYTES - RPC_HEADROOM_BYTES),
  vote: MAX_VOTE_BYTES,
  evidence: MAX_EVIDENCE_BYTES,
};

/** One block with its commit, the largest response chunk of blocksByRange. */
export const MAX_BLOCK_WITH_COMMIT_BYTES = MAX_BLOCK_BYTES + MAX_COMMIT_BYTES + FRAMING_BYTES;

/** The largest single frame on any stream of ours: a block with its commit, or a proposal. */
export const MAX_FRAME_BYTES = Math.max(MAX_BLOCK_WITH_COMMIT_BYTES, MAX_PROPOSAL_MESSAGE_BYTES);

/**
 * The largest gossipsub RPC frame we read. No honest peer sends more than GOSSIPSUB_MAX_RPC_BYTES;
 * the default read limit equals it, and is set explicitly so a change of default cannot shrink it.
 */
export const MAX_GOSSIP_RPC_BYTES = GOSSIPSUB_MAX_RPC_BYTES;

const CHAIN_ID = /^[A-Za-z0-9._-]{1,64}$/;

export class ChainIdError extends Error {
  override name = "ChainIdError";
}

/** Chain ids go into topic names and protocol ids, so they are kept to path-safe characters. */
export function checkChainId(chainId: string): string {
  if (!CHAIN_ID.test(chainId)) {
    throw new ChainIdError(`chain id ${JSON.stringify(chainId)} is not 1-64 of [A-Za-z0-9._-]`);
  }
  return chainId;
}

/** Each topic's message format version; the transaction topic's 2 carries batches. */
const TOPIC_VERSIONS: Readonly<Record<GossipKind, number>> = {
  tx: 2,
  proposal: 1,
  vote: 1,
  evidence: 1,
};

export function gossipTopic(chainId: string, kind: GossipKind): string {
  return `/wattcap/${checkChainId(chainId)}/${kind}/${TOPIC_VERSIONS[kind]}`;
}

/** The topic of each kind, and the reverse map used to route inbound messages. */
export interface TopicTable {
  readonly byKind: Readonly<Record<GossipKind, string>>;
  readonly kindOf: ReadonlyMap<string, GossipKind>;
}

export function topicTable(chainId: string): TopicTable {
  const byKind = {} as Record<GossipKind, string>;
  const kindOf = new Map<string, GossipKind>();
  for (const kind of GOSSIP_KINDS) {
    const topic = gossipTopic(chainId, kind);
    byKind[kind] = topic;
    kindOf.set(topic, kind);
  }
  return { byKind, kindOf };
}

export const METHODS = ["status", "blocksByRange", "votes", "proposal", "haveVotes"] as const;
export type MethodName = (typeof METHODS)[number];

export function protocolId(chainId: string, method: MethodName): string {
  return `/wattcap/${checkChainId(chainId)}/req/${method}/1`;
}
