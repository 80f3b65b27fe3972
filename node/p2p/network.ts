// The network layer as the node sees it: typed events out (gossip the host's validators
// accepted, peers coming and going, their status and votes), typed calls in (publish, the
// request methods, peer management). The host plugs in one validator per gossip topic and one
// handler per request method; this layer knows payloads only as bytes with size limits.
import type { IdentifyResult, PeerId } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { type Logger, silentLogger } from "../../lib/log.js";
import { type NetworkEvents, type PeerIdStr, TypedEmitter } from "./events.js";
import {
  asGossipRouter,
  Gossip,
  type GossipRouter,
  type GossipValidators,
  type TopicStats,
} from "./gossip.js";
import {
  createLibp2pHost,
  groupPeerAddresses,
  type Libp2pHost,
  peerIdFromNodeKey,
} from "./host.js";
import { type LinkPolicy, LinkSupervisor, type LinkTarget } from "./links.js";
import { toPeerId } from "./peer-id.js";
import {
  connectionGate,
  DEFAULT_SCORING,
  PeerScores,
  type PenaltyReason,
  type ScoringPolicy,
} from "./peers.js";
import type { QueueLimits } from "./queue.js";
import { ReqResp, type ReqRespHandlers } from "./reqresp.js";
import {
  checkChainId,
  type GossipKind,
  protocolId,
  type TopicTable,
  topicTable,
} from "./topics.js";
import { type ConsensusRound, VoteExchange, type VoteExchangePolicy } from "./vote-exchange.js";

export interface NetworkTuning {
  /** gossipsub heartbeat; the mesh forms and repairs on heartbeats. */
  readonly heartbeatMs: number;
  /** gossipsub also redials missing validator links every this many heartbeats. */
  readonly directConnectTicks: number;
  /** Inbound gossip waiting for, and under, validation per topic. */
  readonly queues: Readonly<Record<GossipKind, QueueLimits>>;
  readonly requestTimeoutMs: number;
  readonly rangeRequestTimeoutMs: number;
  readonly maxInboundRequests: number;
  readonly maxOutboundRequests: number;
  readonly voteExchange: VoteExchangePolicy;
  readonly links: LinkPolicy;
  readonly scoring: ScoringPolicy;
}

export const DEFAULT_TUNING: NetworkTuning = {
  heartbeatMs: 700,
  directConnectTicks: 15,
  queues: {
    // Transaction messages are batches (up to MAX_TX_BATCH_BYTES each). The mempool paces
    // admissions itself (a few per loop iteration), so several batches at once keep its turns
    // full on a validator fed by gossip.
    tx: { capacity: 128, concurrency: 8 },
    proposal: { capacity: 8, concurrency: 1 },
    vote: { capacity: 2048, concurrency: 4 },
    evidence: { capacity: 64, concurrency: 1 },
  },
  requestTimeoutMs: 10_000,
  rangeRequestTimeoutMs: 30_000,
  maxInboundRequests: 64,
  maxOutboundRequests: 64,
  voteExchange: { intervalMs: 1000, maxPeers: 16, requestTimeoutMs: 2000 },
  links: { baseMs: 500, maxMs: 30_000, dialTimeoutMs: 5000 },
  scoring: DEFAULT_SCORING,
};

export interface NetworkOptions {
  /** Goes into every topic and protocol id; 1-64 of [A-Za-z0-9._-]. */
  readonly chainId: string;
  /** 32-byte secp256k1 secret: the node's libp2p identity (not its validator key). */
  readonly nodeKey: Uint8Array;
  /** e.g. ["/ip4/0.0.0.0/tcp/26656"]. */
  readonly listen: readonly string[];
  /** Addresses to tell peers instead of the listen addresses (behind NAT). */
  readonly announce?: readonly string[];
  /** Peers dialed once at start (`…/p2p/<id>`): how a follower finds the network. */
  readonly bootstrap?: readonly string[];
  /**
   * Validator links (`…/p2p/<id>`), kept up forever and sent every gossip message. A validator
   * lists the other validators, and its sentries if it has any. Our own address may be listed.
   */
  readonly validatorPeers?: readonly string[];
  /**
   * Further validators known by peer id only (config p2p.validatorPeerIds): peers that dial us
   * rather than being dialed, e.g. validators reaching a sentry or behind NAT. Like the links of
   * validatorPeers they are accepted in production mode, kept when connections are pruned and
   * asked first for missing votes. Having no address, they are neither dialed nor made gossipsub
   * direct peers (which gossipsub would try to dial); they get gossip through the mesh.
   */
  readonly validatorPeerIds?: readonly string[];
  /**
   * Production validators: refuse inbound connections from peers not in validatorPeers or
   * validatorPeerIds.
   */
  readonly acceptOnlyKnownValidators?: boolean;
  /** Address prefixes exempt from connection rate limits, e.g. ["/ip4/127.0.0.1"] in a devnet. */
  readonly allowList?: readonly string[];
  readonly maxConnections?: number;
  readonly validators: GossipValidators;
  readonly handlers: ReqRespHandlers;
  /** The (height, round) consensus is in; without it the periodic vote exchange is off. */
  readonly consensusRound?: () => ConsensusRound | undefined;
  readonly logger?: Logger;
  readonly tuning?: Partial<NetworkTuning>;
  /** Jitter source of the link backoff. */
  readonly random?: () => number;
  /**
   * Peers refused both ways on top of banned ones, asked at every connection attempt. Only the
   * test harness sets it, to cut links (partitions); the caller hangs up existing connections.
   */
  readonly refuse?: (peer: PeerIdStr) => boolean;
}

export interface NetworkStats {
  readonly gossip: Readonly<Record<GossipKind, TopicStats>>;
  readonly connectedPeers: number;
  readonly bannedPeers: number;
  /** Outbound gossip streams (re)opened by the heartbeat check (gossip.ts). */
  readonly gossipStreamRepairs: number;
}

const VALIDATOR_TAG = "wattcap-validator";

interface GateState {
  acceptOnlyKnown: boolean;
  /**
   * Validator peers: the supervised links and the configured peer ids; the only inbound peers
   * when acceptOnlyKnown.
   */
  readonly known: Set<PeerIdStr>;
  /** The configured peer ids (validatorPeerIds), known whatever the links become. */
  readonly configured: ReadonlySet<PeerIdStr>;
}

export class Network {
  readonly peerId: PeerIdStr;
  readonly chainId: string;
  /** The libp2p node underneath, for diagnostics and tests; the host needs none of it. */
  readonly libp2p: Libp2pHost;
  /** The request methods: status, blocksByRange, votes, proposal, haveVotes. */
  readonly reqresp: ReqResp;

  readonly #events: TypedEmitter<NetworkEvents>;
  readonly #log: Logger;
  readonly #scores: PeerScores;
  readonly #links: LinkSupervisor;
  readonly #router: GossipRouter;
  readonly #gossip: Gossip;
  readonly #exchange: VoteExchange;
  /** Peers announced with "peer:connected": they speak this chain's protocols. */
  readonly #announced = new Set<PeerIdStr>();
  #stopped = false;

  /** Creates and starts the network. */
  static async create(options: NetworkOptions): Promise<Network> {
    const chainId = checkChainId(options.chainId);
    const tuning = { ...DEFAULT_TUNING, ...options.tuning };
    const peerId = peerIdFromNodeKey(options.nodeKey);
    const topics = topicTable(chainId);
    const scores = new PeerScores(tuning.scoring);
    const targets = validatorTargets(options.validatorPeers ?? [], peerId);
    const configured = new Set((options.validatorPeerIds ?? []).filter((p) => p !== peerId));
    // The connection gate exists before the network object does; they share this state.
    const state: GateState = {
      acceptOnlyKnown: options.acceptOnlyKnownValidators ?? false,
      known: new Set([...targets.map((t) => t.peer), ...configured]),
      configured,
    };
    const libp2p = await createLibp2pHost({
      nodeKey: options.nodeKey,
      listen: options.listen,
      announce: options.announce ?? [],
      bootstrap: options.bootstrap ?? [],
      directPeers: targets,
      allowList: options.allowList ?? [],
      maxConnections: options.maxConnections ?? 200,
      heartbeatMs: tuning.heartbeatMs,
      directConnectTicks: tuning.directConnectTicks,
      allowedTopics: Object.values(topics.byKind),
      gate: connectionGate({
        isBanned: (peer) => scores.isBanned(peer) || (options.refuse?.(peer) ?? false),
        acceptOnlyKnown: () => state.acceptOnlyKnown,
        isKnown: (peer) => state.known.has(peer),
      }),
      appScore: (peer) => scores.score(peer),
    });
    const network = new Network(options, tuning, libp2p, peerId, topics, scores, state);
    try {
      await network.#start(targets);
    } catch (error) {
      await network.stop();
      throw error;
    }
    return network;
  }

  private constructor(
    options: NetworkOptions,
    tuning: NetworkTuning,
    libp2p: Libp2pHost,
    peerId: PeerIdStr,
    topics: TopicTable,
    scores: PeerScores,
    private readonly gateState: GateState,
  ) {
    this.peerId = peerId;
    this.chainId = options.chainId;
    this.libp2p = libp2p;
    this.#scores = scores;
    this.#log = (options.logger ?? silentLogger()).child({ module: "p2p" });
    this.#events = new TypedEmitter<NetworkEvents>((event, error) =>
      this.#log.error({ err: error, event }, "network event listener threw"),
    );
    this.#router = asGossipRouter(libp2p.services.pubsub);
    this.#gossip = new Gossip({
      router: this.#router,
      peers: () => [...this.#announced].map(toPeerId),
      connections: (peer) => libp2p.getConnections(peer),
      topics,
      validators: options.validators,
      queues: tuning.queues,
      deliver: (kind, data, from) => this.#events.emit(`gossip:${kind}`, data, from),
      penalize: (peer, reason) => this.penalize(peer, reason),
      onValidatorError: (kind, error) =>
        this.#log.warn({ err: error, kind }, "gossip validator threw; counted as reject"),
    });
    this.reqresp = new ReqResp({
      libp2p,
      chainId: this.chainId,
      handlers: options.handlers,
      limits: tuning,
      log: this.#log,
      isBanned: (peer) => scores.isBanned(peer),
      penalize: (peer, reason) => this.penalize(peer, reason),
      onStatus: (peer, status) => this.#events.emit("peer:status", peer, status),
      onHaveVotes: (peer, have) => this.#events.emit("peer:haveVotes", peer, have),
    });
    this.#links = new LinkSupervisor(tuning.links, {
      dial: async (target, signal) => {
        await libp2p.dial(
          target.addrs.map((a) => multiaddr(a)),
          { signal },
        );
      },
      isConnected: (peer) => this.isConnected(peer),
      random: options.random ?? Math.random,
      onDialError: (peer, attempt, error) =>
        this.#log.debug({ peer, attempt, err: error }, "validator link dial failed"),
    });
    this.#exchange = new VoteExchange(tuning.voteExchange, {
      peers: () => this.#peersByPreference(),
      currentRound: options.consensusRound ?? (() => undefined),
      voteBitmaps: (height, round) => options.handlers.voteBitmaps(height, round),
      haveVotes: (peer, mine, o) => this.reqresp.haveVotes(peer, mine, o),
      votes: (peer, request, o) => this.reqresp.votes(peer, request, o),
      validateVote: options.validators.vote,
      deliver: (data, from) => this.#events.emit("fetched:vote", data, from),
      penalize: (peer, reason) => this.penalize(peer, reason),
      onError: (peer, error) => this.#log.debug({ peer, err: error }, "vote exchange failed"),
    });
  }

  async #start(targets: readonly LinkTarget[]): Promise<void> {
    this.libp2p.addEventListener("peer:connect", this.#onConnect);
    this.libp2p.addEventListener("peer:disconnect", this.#onDisconnect);
    this.libp2p.addEventListener("peer:identify", this.#onIdentify);
    await this.reqresp.register();
    await this.libp2p.start();
    this.#gossip.start();
    this.#links.setTargets(targets);
    await this.#tagValidators([...this.gateState.known], []);
    this.#links.start();
    this.#exchange.start();
  }

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof NetworkEvents>(
    event: K,
    listener: (...args: NetworkEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  off<K extends keyof NetworkEvents>(
    event: K,
    listener: (...args: NetworkEvents[K]) => void,
  ): void {
    this.#events.off(event, listener);
  }

  /** Our listen addresses, each ending in /p2p/<our peer id>. */
  addresses(): string[] {
    return this.libp2p.getMultiaddrs().map((a) => a.toString());
  }

  /** Publishes bytes on a topic (see Gossip.publish); returns the peers it was sent to. */
  publish(
    kind: GossipKind,
    data: Uint8Array,
    options?: { readonly onlyIfHeard?: boolean },
  ): Promise<PeerIdStr[]> {
    return this.#gossip.publish(kind, data, options);
  }

  /** Peers subscribed to a topic, as far as we know. */
  subscribers(kind: GossipKind): PeerIdStr[] {
    return this.#gossip.subscribers(kind);
  }

  /** Peers in our gossipsub mesh for a topic. */
  meshPeers(kind: GossipKind): PeerIdStr[] {
    return this.#gossip.meshPeers(kind);
  }

  connectedPeers(): PeerIdStr[] {
    // Not getPeers(), which parses every peer id string anew.
    return [...new Set(this.libp2p.getConnections().map((c) => c.remotePeer.toString()))];
  }

  isConnected(peer: PeerIdStr): boolean {
    return this.libp2p.getConnections(toPeerId(peer)).length > 0;
  }

  /** Dials a peer address (`…/p2p/<id>`) once. */
  async dial(address: string, signal?: AbortSignal): Promise<void> {
    await this.libp2p.dial(multiaddr(address), { signal });
  }

  async hangUp(peer: PeerIdStr): Promise<void> {
    await this.libp2p.hangUp(toPeerId(peer));
  }

  peerScore(peer: PeerIdStr): number {
    return this.#scores.score(peer);
  }

  isBanned(peer: PeerIdStr): boolean {
    return this.#scores.isBanned(peer);
  }

  /** Charges a peer for a fault; the host calls it for faults it finds (an invalid block). */
  penalize(peer: PeerIdStr, reason: PenaltyReason): void {
    if (this.#stopped) return;
    const outcome = this.#scores.penalize(peer, reason);
    this.#log.debug({ peer, reason, score: outcome.score }, "peer penalized");
    if (outcome.banned) this.#banned(peer, reason);
  }

  /** Bans a peer outright (misbehaviour the host proved, e.g. an equivocating sentry). */
  ban(peer: PeerIdStr, reason: PenaltyReason): void {
    if (this.#stopped) return;
    this.#scores.ban(peer);
    this.#banned(peer, reason);
  }

  /** Replaces the validator links (the validator set changed); our own address is skipped. */
  async setValidatorPeers(addresses: readonly string[]): Promise<void> {
    const targets = validatorTargets(addresses, this.peerId);
    const { known, configured } = this.gateState;
    const removed = [...known].filter(
      (p) => !configured.has(p) && !targets.some((t) => t.peer === p),
    );
    known.clear();
    for (const peer of [...configured, ...targets.map((t) => t.peer)]) known.add(peer);
    for (const peer of removed) this.#router.direct.delete(peer);
    for (const target of targets) this.#router.direct.add(target.peer);
    this.#links.setTargets(targets);
    await this.#tagValidators(
      targets.map((t) => t.peer),
      removed,
    );
  }

  /** Switches production mode: inbound connections only from validator links. */
  setAcceptOnlyKnownValidators(on: boolean): void {
    this.gateState.acceptOnlyKnown = on;
  }

  get acceptOnlyKnownValidators(): boolean {
    return this.gateState.acceptOnlyKnown;
  }

  /** The supervised validator links (validatorPeers; not the configured ids). */
  validatorPeers(): PeerIdStr[] {
    return this.#links.targets();
  }

  /** Whether the peer is a known validator: a validator link or a configured peer id. */
  isKnownValidator(peer: PeerIdStr): boolean {
    return this.gateState.known.has(peer);
  }

  /** One vote-exchange pass now, as the periodic timer would run it; resolves to votes accepted. */
  exchangeVotes(): Promise<number> {
    return this.#exchange.exchange();
  }

  stats(): NetworkStats {
    return {
      gossip: this.#gossip.stats(),
      connectedPeers: this.connectedPeers().length,
      bannedPeers: this.#scores.bannedPeers().length,
      gossipStreamRepairs: this.#gossip.streamRepairs,
    };
  }

  /** Closes every connection, stream and timer; the process can exit after it resolves. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#exchange.stop();
    this.#links.stop();
    this.#gossip.stop();
    this.libp2p.removeEventListener("peer:connect", this.#onConnect);
    this.libp2p.removeEventListener("peer:disconnect", this.#onDisconnect);
    this.libp2p.removeEventListener("peer:identify", this.#onIdentify);
    await this.libp2p.stop();
    this.#events.removeAll();
  }

  #banned(peer: PeerIdStr, reason: PenaltyReason): void {
    this.#log.info({ peer, reason }, "peer banned");
    this.#events.emit("peer:banned", peer, reason);
    this.hangUp(peer).catch((error) => this.#log.debug({ peer, err: error }, "hang up failed"));
  }

  #peersByPreference(): PeerIdStr[] {
    const connected = this.connectedPeers();
    const validators = connected.filter((p) => this.gateState.known.has(p));
    return [...validators, ...connected.filter((p) => !this.gateState.known.has(p))];
  }

  async #tagValidators(added: readonly PeerIdStr[], removed: readonly PeerIdStr[]): Promise<void> {
    // The tag keeps validator links from being pruned when connections run over the limit.
    for (const peer of added) {
      await this.libp2p.peerStore.merge(toPeerId(peer), {
        tags: { [VALIDATOR_TAG]: { value: 100 } },
      });
    }
    for (const peer of removed) {
      await this.libp2p.peerStore.merge(toPeerId(peer), { tags: { [VALIDATOR_TAG]: undefined } });
    }
  }

  readonly #onConnect = (event: CustomEvent<PeerId>): void => {
    this.#links.connected(event.detail.toString());
  };

  readonly #onDisconnect = (event: CustomEvent<PeerId>): void => {
    const peer = event.detail.toString();
    this.#links.disconnected(peer);
    if (this.#announced.delete(peer)) this.#events.emit("peer:disconnected", peer);
  };

  /**
   * After identify we know the peer's protocols. A peer that does not speak our status protocol
   * is not a node of this chain and is dropped; otherwise it is announced to the host, and the
   * dialing side exchanges status.
   */
  readonly #onIdentify = (event: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols, connection } = event.detail;
    const peer = peerId.toString();
    if (!protocols.includes(protocolId(this.chainId, "status"))) {
      this.#log.debug({ peer }, "peer speaks none of this chain's protocols; disconnecting");
      this.hangUp(peer).catch(() => {});
      return;
    }
    if (!this.#announced.has(peer) && this.isConnected(peer)) {
      this.#announced.add(peer);
      this.#events.emit("peer:connected", peer);
    }
    if (connection.direction !== "outbound") return;
    this.reqresp
      .status(peer)
      .catch((error) => this.#log.debug({ peer, err: error }, "status exchange failed"));
  };
}

function validatorTargets(addresses: readonly string[], self: PeerIdStr): LinkTarget[] {
  return groupPeerAddresses(addresses).filter((t) => t.peer !== self);
}
