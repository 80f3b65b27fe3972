// The libp2p host: TCP, noise, yamux, identify (gossipsub needs it), ping and gossipsub, with a
// secp256k1 identity from the node's 32-byte key. Gossip messages are unsigned (transactions,
// votes and proposals carry the chain's own signatures) and identified by the sha256 of their
// bytes, so the same payload from two peers is one message. Every size limit on the way in is
// raised from libp2p's 4 MiB defaults to fit a whole block, and no further.
import "../../lib/polyfill.js";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { bootstrap } from "@libp2p/bootstrap";
import { privateKeyFromRaw } from "@libp2p/crypto/keys";
import { type GossipSub, gossipsub } from "@libp2p/gossipsub";
import { type Identify, identify } from "@libp2p/identify";
import type { ConnectionGater, Libp2p, PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey, peerIdFromString } from "@libp2p/peer-id";
import { type Ping, ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p } from "libp2p";
import { sha256 } from "../../lib/hash.js";
import { isValidSecretKey } from "../../lib/keys.js";
import type { PeerIdStr } from "./events.js";
import type { LinkTarget } from "./links.js";
import { MAX_FRAME_BYTES, MAX_GOSSIP_RPC_BYTES } from "./topics.js";

export interface Libp2pServices extends Record<string, unknown> {
  identify: Identify;
  ping: Ping;
  pubsub: GossipSub;
}
export type Libp2pHost = Libp2p<Libp2pServices>;

export class NodeKeyError extends Error {
  override name = "NodeKeyError";
}

/** The libp2p identity of a 32-byte secp256k1 node key. */
export function nodePrivateKey(nodeKey: Uint8Array): PrivateKey {
  if (nodeKey.length !== 32 || !isValidSecretKey(nodeKey)) {
    throw new NodeKeyError("a node key is a valid 32-byte secp256k1 secret key");
  }
  return privateKeyFromRaw(nodeKey);
}

/** The peer id (16Uiu2…) a node key gives, for validator lists and configs. */
export function peerIdFromNodeKey(nodeKey: Uint8Array): PeerIdStr {
  return peerIdFromPrivateKey(nodePrivateKey(nodeKey)).toString();
}

export class PeerAddressError extends Error {
  override name = "PeerAddressError";
}

/** Parses `/ip4/…/tcp/…/p2p/<peer id>`; a peer address must name its peer. */
export function parsePeerAddress(address: string): LinkTarget {
  let peer: string | undefined;
  try {
    peer = multiaddr(address)
      .getComponents()
      .findLast((c) => c.name === "p2p")?.value;
    if (peer !== undefined) peerIdFromString(peer);
  } catch (error) {
    throw new PeerAddressError(`${address}: ${(error as Error).message}`);
  }
  if (peer === undefined) throw new PeerAddressError(`${address} has no /p2p/<peer id>`);
  return { peer, addrs: [address] };
}

/** Joins addresses of the same peer into one target each, keeping first-seen order. */
export function groupPeerAddresses(addresses: readonly string[]): LinkTarget[] {
  const byPeer = new Map<PeerIdStr, string[]>();
  for (const address of addresses) {
    const { peer } = parsePeerAddress(address);
    const list = byPeer.get(peer) ?? [];
    if (!list.includes(address)) list.push(address);
    byPeer.set(peer, list);
  }
  return [...byPeer].map(([peer, addrs]) => ({ peer, addrs }));
}

export interface HostConfig {
  readonly nodeKey: Uint8Array;
  readonly listen: readonly string[];
  readonly announce: readonly string[];
  readonly bootstrap: readonly string[];
  /** Validator links: gossipsub sends them every message, outside the mesh. */
  readonly directPeers: readonly LinkTarget[];
  /** Address prefixes exempt from connection rate limits (e.g. /ip4/127.0.0.1 in a devnet). */
  readonly allowList: readonly string[];
  readonly maxConnections: number;
  readonly heartbeatMs: number;
  readonly directConnectTicks: number;
  readonly allowedTopics: readonly string[];
  readonly gate: ConnectionGater;
  /** Our score of a peer, added to gossipsub's own peer score. */
  readonly appScore: (peer: PeerIdStr) => number;
}

/** Creates the libp2p host, not yet started, so protocol handlers can be registered first. */
export async function createLibp2pHost(config: HostConfig): Promise<Libp2pHost> {
  const streamLimit = MAX_GOSSIP_RPC_BYTES + MAX_FRAME_BYTES;
  const loopback = config.allowList.flatMap((prefix) => {
    const ip = prefix.split("/")[2];
    return ip === undefined ? [] : [ip];
  });
  return createLibp2p<Libp2pServices>({
    start: false,
    privateKey: nodePrivateKey(config.nodeKey),
    addresses: { listen: [...config.listen], announce: [...config.announce] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [
      yamux({
        streamOptions: { maxReadBufferLength: streamLimit, maxWriteBufferLength: streamLimit },
      }),
    ],
    connectionManager: { allow: [...config.allowList], maxConnections: config.maxConnections },
    connectionGater: config.gate,
    peerDiscovery:
      config.bootstrap.length > 0 ? [bootstrap({ list: [...config.bootstrap], timeout: 0 })] : [],
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        globalSignaturePolicy: "StrictNoSign",
        msgIdFn: (msg) => sha256(msg.data),
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        asyncValidation: true,
        heartbeatInterval: config.heartbeatMs,
        directPeers: config.directPeers.map((t) => ({
          id: peerIdFromString(t.peer),
          addrs: t.addrs.map((a) => multiaddr(a)),
        })),
        directConnectTicks: config.directConnectTicks,
        allowedTopics: [...config.allowedTopics],
        maxInboundDataLength: MAX_GOSSIP_RPC_BYTES,
        maxOutboundBufferSize: 4 * MAX_GOSSIP_RPC_BYTES,
        scoreParams: {
          appSpecificScore: config.appScore,
          appSpecificWeight: 1,
          // Devnet nodes share one IP; without this, gossipsub penalises more than 10 of them.
          IPColocationFactorWhitelist: new Set(loopback),
        },
      }),
    },
  });
}
