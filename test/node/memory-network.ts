// An in-memory stand-in for node/p2p's Network, for running several nodes in one process: a
// full mesh where a publish reaches every other live node's gossip validator (on a later turn of
// the event loop, as a real network would) and a request calls the peer's handler directly.
import type { PeerNetwork } from "../../node/consensus-driver.js";
import type {
  BlocksByRangeRequest,
  BlockWithCommit,
  GossipKind,
  PeerIdStr,
  PenaltyReason,
  ProposalRequest,
  Status,
  Verdict,
  VotesRequest,
} from "../../node/p2p/index.js";

export interface Endpoint {
  gossip(kind: GossipKind, data: Uint8Array, from: PeerIdStr): Verdict | Promise<Verdict>;
  status(): Status;
  blocksByRange(request: BlocksByRangeRequest): Iterable<BlockWithCommit>;
  votes(request: VotesRequest): Uint8Array[];
  proposal(request: ProposalRequest): Uint8Array | undefined;
}

export interface Published {
  readonly from: PeerIdStr;
  readonly kind: GossipKind;
  readonly data: Uint8Array;
}

export class MemoryHub {
  readonly #endpoints = new Map<PeerIdStr, Endpoint>();
  readonly #down = new Set<PeerIdStr>();
  readonly published: Published[] = [];

  join(id: PeerIdStr, endpoint: Endpoint): MemoryNetwork {
    this.#endpoints.set(id, endpoint);
    this.#down.delete(id);
    return new MemoryNetwork(this, id);
  }

  /** Takes a node off the network: it neither sends nor receives until it joins again. */
  leave(id: PeerIdStr): void {
    this.#down.add(id);
  }

  live(id: PeerIdStr): boolean {
    return this.#endpoints.has(id) && !this.#down.has(id);
  }

  peersOf(id: PeerIdStr): PeerIdStr[] {
    return [...this.#endpoints.keys()].filter((p) => p !== id && this.live(p));
  }

  endpoint(peer: PeerIdStr): Endpoint {
    const endpoint = this.#endpoints.get(peer);
    if (!endpoint || !this.live(peer)) throw new Error(`peer ${peer} is not reachable`);
    return endpoint;
  }
}

export class MemoryNetwork implements PeerNetwork {
  readonly penalties: { peer: PeerIdStr; reason: PenaltyReason }[] = [];

  constructor(
    readonly hub: MemoryHub,
    readonly id: PeerIdStr,
  ) {}

  async publish(kind: GossipKind, data: Uint8Array): Promise<PeerIdStr[]> {
    if (!this.hub.live(this.id)) return [];
    this.hub.published.push({ from: this.id, kind, data });
    const peers = this.hub.peersOf(this.id);
    for (const peer of peers) {
      setImmediate(() => {
        if (!this.hub.live(peer) || !this.hub.live(this.id)) return;
        Promise.resolve(this.hub.endpoint(peer).gossip(kind, data, this.id)).catch(() => {});
      });
    }
    return peers;
  }

  penalize(peer: PeerIdStr, reason: PenaltyReason): void {
    this.penalties.push({ peer, reason });
  }

  connectedPeers(): PeerIdStr[] {
    return this.hub.live(this.id) ? this.hub.peersOf(this.id) : [];
  }

  readonly reqresp = {
    status: async (peer: PeerIdStr): Promise<Status> => this.hub.endpoint(peer).status(),
    blocksByRange: async (
      peer: PeerIdStr,
      request: BlocksByRangeRequest,
    ): Promise<BlockWithCommit[]> => [...this.hub.endpoint(peer).blocksByRange(request)],
    votes: async (peer: PeerIdStr, request: VotesRequest): Promise<Uint8Array[]> =>
      this.hub.endpoint(peer).votes(request),
    proposal: async (peer: PeerIdStr, blockHash: Uint8Array): Promise<Uint8Array | undefined> =>
      this.hub.endpoint(peer).proposal({ blockHash }),
  };
}
