// The node's networking layer (DESIGN §5 "Delivery", "Production links"): libp2p with gossipsub
// topics per chain id, request/response methods, peer scoring and validator links. The host
// (consensus, mempool, sync) uses only what is exported here.
export * from "./bitmap.js";
export * from "./events.js";
export type { GossipValidator, GossipValidators, TopicStats, Verdict } from "./gossip.js";
export { GossipError } from "./gossip.js";
export {
  type Libp2pHost,
  NodeKeyError,
  PeerAddressError,
  parsePeerAddress,
  peerIdFromNodeKey,
} from "./host.js";
export { type BackoffPolicy, backoffDelay, type LinkPolicy } from "./links.js";
export * from "./messages.js";
export {
  DEFAULT_TUNING,
  Network,
  type NetworkOptions,
  type NetworkStats,
  type NetworkTuning,
} from "./network.js";
export {
  DEFAULT_SCORING,
  PENALTY_REASONS,
  type PenaltyReason,
  type ScoringPolicy,
} from "./peers.js";
export type { QueueLimits } from "./queue.js";
export {
  type ReqResp,
  type ReqRespHandlers,
  RequestError,
  type RequestErrorCode,
  type RequestOptions,
  type VoteBitmaps,
} from "./reqresp.js";
export {
  ChainIdError,
  GOSSIP_KINDS,
  type GossipKind,
  gossipTopic,
  MAX_GOSSIP_BYTES,
  MAX_PROPOSAL_MESSAGE_BYTES,
  MAX_TX_BATCH_BYTES,
  MAX_TXS_PER_BATCH,
  METHODS,
  type MethodName,
  protocolId,
} from "./topics.js";
export type { ConsensusRound, VoteExchangePolicy } from "./vote-exchange.js";
