// Gossip on the chain's topics. gossipsub runs with asyncValidation: it dedupes a message by its
// content id and hands it to us unforwarded; we put it in its topic's bounded queue, run the
// host's validator, and report the verdict back. Only "accept" forwards the message and delivers
// it to the host; "reject" also costs the sender score. A full queue means "ignore": the message
// is dropped and counted, and gossipsub forgets it without blaming anyone.
import { type GossipSub, type GossipsubMessage, TopicValidatorResult } from "@libp2p/gossipsub";
import type { Connection, PeerId } from "@libp2p/interface";
import type { PeerIdStr } from "./events.js";
import type { PenaltyReason } from "./peers.js";
import { BoundedQueue, type QueueLimits } from "./queue.js";
import { GOSSIP_KINDS, type GossipKind, MAX_GOSSIP_BYTES, type TopicTable } from "./topics.js";

export type Verdict = "accept" | "ignore" | "reject";

/**
 * Decides a gossiped message's fate: typically decode, check the chain id, verify signatures and
 * check against the host's state. A validator that throws counts as "reject": the bytes made it
 * fail. It should be quick; slow work belongs after "accept", in the event listener.
 */
export type GossipValidator = (data: Uint8Array, from: PeerIdStr) => Verdict | Promise<Verdict>;
export type GossipValidators = Readonly<Record<GossipKind, GossipValidator>>;

/**
 * The part of gossipsub 17 we drive. Its factory is typed with a narrower interface that omits
 * reportMessageValidationResult and getMeshPeers; asGossipRouter checks they exist at run time.
 */
export interface GossipRouter extends GossipSub {
  reportMessageValidationResult(
    msgId: string,
    propagationSource: string,
    acceptance: TopicValidatorResult,
  ): void;
  getMeshPeers(topic: string): string[];
  /** The implementation takes publish options the narrow interface leaves out. */
  publish(
    topic: string,
    data: Uint8Array,
    opts?: { readonly allowPublishToZeroTopicPeers?: boolean },
  ): ReturnType<GossipSub["publish"]>;
  /** Peers that always get every message, outside the mesh (validator links). */
  readonly direct: Set<string>;
  /** The stream gossipsub sends to each peer on. */
  readonly streamsOutbound: Map<string, unknown>;
  /** Private in the typings: adds the peer and queues the opening of its outbound stream. */
  onPeerConnected(peerId: PeerId, connection: Connection): void;
}

export function asGossipRouter(pubsub: GossipSub): GossipRouter {
  const router = pubsub as Partial<GossipRouter>;
  if (
    typeof router.reportMessageValidationResult !== "function" ||
    typeof router.getMeshPeers !== "function" ||
    typeof router.onPeerConnected !== "function" ||
    !(router.direct instanceof Set) ||
    !(router.streamsOutbound instanceof Map)
  ) {
    throw new Error("gossipsub 17 internals this layer relies on are missing");
  }
  return pubsub as GossipRouter;
}

const ACCEPTANCE: Readonly<Record<Verdict, TopicValidatorResult>> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
};

export interface TopicStats {
  /** Messages that reached us (first copies only; gossipsub drops repeats). */
  readonly received: number;
  readonly accepted: number;
  readonly ignored: number;
  /** Rejected by the validator, or over the topic's size limit. */
  readonly rejected: number;
  /** Refused because the topic's queue was full. */
  readonly dropped: number;
  readonly queued: number;
  readonly validating: number;
}

export class GossipError extends Error {
  override name = "GossipError";
  constructor(
    readonly code: "TOO_LARGE",
    message: string,
  ) {
    super(message);
  }
}

interface Job {
  readonly msgId: string;
  readonly from: PeerIdStr;
  readonly data: Uint8Array;
}

interface Counters {
  received: number;
  accepted: number;
  ignored: number;
  rejected: number;
}

export interface GossipDeps {
  readonly router: GossipRouter;
  /** The peers we should gossip with: connected, and speaking this chain's protocols. */
  peers(): PeerId[];
  /** The connections to a peer. */
  connections(peer: PeerId): Connection[];
  readonly topics: TopicTable;
  readonly validators: GossipValidators;
  readonly queues: Readonly<Record<GossipKind, QueueLimits>>;
  deliver(kind: GossipKind, data: Uint8Array, from: PeerIdStr): void;
  penalize(peer: PeerIdStr, reason: PenaltyReason): void;
  onValidatorError(kind: GossipKind, error: unknown): void;
}

export class Gossip {
  readonly #queues: Record<GossipKind, BoundedQueue<Job>>;
  readonly #counters: Record<GossipKind, Counters>;
  #streamRepairs = 0;

  constructor(private readonly deps: GossipDeps) {
    const queues = {} as Record<GossipKind, BoundedQueue<Job>>;
    const counters = {} as Record<GossipKind, Counters>;
    for (const kind of GOSSIP_KINDS) {
      queues[kind] = new BoundedQueue<Job>(
        deps.queues[kind],
        (job) => this.#validate(kind, job),
        (error) => deps.onValidatorError(kind, error),
      );
      counters[kind] = { received: 0, accepted: 0, ignored: 0, rejected: 0 };
    }
    this.#queues = queues;
    this.#counters = counters;
  }

  /** Subscribes to every topic; call once libp2p has started. */
  start(): void {
    this.deps.router.addEventListener("gossipsub:message", this.#onMessage);
    this.deps.router.addEventListener("gossipsub:heartbeat", this.#repairOutboundStreams);
    for (const kind of GOSSIP_KINDS) this.deps.router.subscribe(this.deps.topics.byKind[kind]);
  }

  stop(): void {
    this.deps.router.removeEventListener("gossipsub:message", this.#onMessage);
    this.deps.router.removeEventListener("gossipsub:heartbeat", this.#repairOutboundStreams);
    for (const queue of Object.values(this.#queues)) queue.close();
  }

  /**
   * Publishes to every peer subscribed to the topic (and every direct peer); returns who got it.
   * A publish with no subscribers, or of bytes already seen, succeeds and reaches nobody: the
   * vote exchange and blocksByRange catch up what gossip loses. With `onlyIfHeard`, a publish
   * that would reach nobody is not made at all, so the bytes stay out of gossipsub's seen cache
   * and a later publish of them is not dropped as a repeat (the transaction relay's retries).
   */
  async publish(
    kind: GossipKind,
    data: Uint8Array,
    options: { readonly onlyIfHeard?: boolean } = {},
  ): Promise<PeerIdStr[]> {
    const max = MAX_GOSSIP_BYTES[kind];
    if (data.length > max) {
      throw new GossipError("TOO_LARGE", `${kind}: ${data.length} bytes is over ${max}`);
    }
    const topic = this.deps.topics.byKind[kind];
    // gossipsub hashes and encodes a message before it finds nobody to send it to.
    if (options.onlyIfHeard === true && this.deps.router.getSubscribers(topic).length === 0) {
      return [];
    }
    try {
      const result = await this.deps.router.publish(topic, data, {
        allowPublishToZeroTopicPeers: options.onlyIfHeard !== true,
      });
      return result.recipients.map((peer) => peer.toString());
    } catch (error) {
      if ((error as Error).message === "PublishError.NoPeersSubscribedToTopic") return [];
      throw error;
    }
  }

  subscribers(kind: GossipKind): PeerIdStr[] {
    return this.deps.router
      .getSubscribers(this.deps.topics.byKind[kind])
      .map((peer) => peer.toString());
  }

  meshPeers(kind: GossipKind): PeerIdStr[] {
    return this.deps.router.getMeshPeers(this.deps.topics.byKind[kind]);
  }

  stats(): Record<GossipKind, TopicStats> {
    const out = {} as Record<GossipKind, TopicStats>;
    for (const kind of GOSSIP_KINDS) {
      const queue = this.#queues[kind].stats();
      out[kind] = {
        ...this.#counters[kind],
        dropped: queue.dropped,
        queued: queue.queued,
        validating: queue.running,
      };
    }
    return out;
  }

  /** Outbound gossip streams (re)opened by the heartbeat check below. */
  get streamRepairs(): number {
    return this.#streamRepairs;
  }

  /**
   * gossipsub 17 keeps one outbound stream per peer and never reopens it on its own: if opening
   * fails, if the connection drops while it opens (it then keeps the dead stream and skips every
   * later connection, since it "has" one; seen when a validator restarts moments after
   * connecting), or if a stream error makes it drop the peer while the connection stays up, we
   * stop gossiping with that peer for good. On each heartbeat, every peer of ours with an open
   * connection but no live outbound gossip stream gets one reopened (the peer then learns our
   * subscriptions again on it).
   */
  readonly #repairOutboundStreams = (): void => {
    const { router } = this.deps;
    for (const peerId of this.deps.peers()) {
      const open = this.deps.connections(peerId).filter((c) => c.status === "open");
      const outbound = open
        .flatMap((c) => c.streams)
        .filter((s) => s.direction === "outbound" && s.status === "open");
      if (open.length === 0 || outbound.some((s) => router.protocols.includes(s.protocol))) {
        continue;
      }
      // No entry and a stream still negotiating its protocol: probably gossipsub's own, in flight.
      const stale = router.streamsOutbound.delete(peerId.toString());
      if (!stale && outbound.some((s) => s.protocol === "")) continue;
      router.onPeerConnected(peerId, open[0]!);
      this.#streamRepairs++;
    }
  };

  readonly #onMessage = (event: CustomEvent<GossipsubMessage>): void => {
    const { propagationSource, msgId, msg } = event.detail;
    const from = propagationSource.toString();
    const kind = this.deps.topics.kindOf.get(msg.topic);
    if (kind === undefined) {
      this.#report(msgId, from, "ignore");
      return;
    }
    const counters = this.#counters[kind];
    counters.received++;
    if (msg.data.length > MAX_GOSSIP_BYTES[kind]) {
      counters.rejected++;
      this.#report(msgId, from, "reject");
      this.deps.penalize(from, "invalidGossip");
      return;
    }
    if (!this.#queues[kind].push({ msgId, from, data: msg.data })) {
      this.#report(msgId, from, "ignore");
    }
  };

  async #validate(kind: GossipKind, job: Job): Promise<void> {
    let verdict: Verdict;
    try {
      verdict = await this.deps.validators[kind](job.data, job.from);
    } catch (error) {
      this.deps.onValidatorError(kind, error);
      verdict = "reject";
    }
    if (!Object.hasOwn(ACCEPTANCE, verdict)) verdict = "reject";
    this.#report(job.msgId, job.from, verdict);
    const counters = this.#counters[kind];
    if (verdict === "accept") {
      counters.accepted++;
      this.deps.deliver(kind, job.data, job.from);
    } else if (verdict === "reject") {
      counters.rejected++;
      this.deps.penalize(job.from, "invalidGossip");
    } else {
      counters.ignored++;
    }
  }

  #report(msgId: string, from: PeerIdStr, verdict: Verdict): void {
    this.deps.router.reportMessageValidationResult(msgId, from, ACCEPTANCE[verdict]);
  }
}
