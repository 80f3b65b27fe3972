// Parsing a peer id's string form decompresses its secp256k1 key (a modular square root in JS),
// and the periodic jobs — vote exchange, sync, gossip stream repair — turned the same few peers
// from strings back into ids on every tick. Parsed ids are kept.
import type { PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { LruCache } from "../../lib/keys.js";
import type { PeerIdStr } from "./events.js";

const parsed = new LruCache<PeerId>(1024);

/** The peer id of a string libp2p printed; throws for one that is not a peer id. */
export function toPeerId(peer: PeerIdStr): PeerId {
  const cached = parsed.get(peer);
  if (cached) return cached;
  const id = peerIdFromString(peer);
  parsed.set(peer, id);
  return id;
}
