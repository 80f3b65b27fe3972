// A bounded cache of internal nodes, so consecutive updates and proofs skip reading, decoding
// and rehashing the upper levels, which every batch rewrites and every proof walks.
//
// An entry is used only under the hash its parent (or root ref) records for it. A hash fixes a
// node's children and their hashes, and for updates built on the same base tree the children's
// versions too, so a hit is the node the store holds. Competing proposals for one version reuse
// node keys; the tree keeps the premise by caching no update's nodes for a version that has
// updates from two different bases.
import { byteString, equalBytes } from "../../lib/bytes.js";
import { BoundedMap } from "../bounded-map.js";
import type { Internal } from "./internal.js";

interface Entry {
  readonly hash: Uint8Array;
  readonly node: Internal;
}

export class NodeCache {
  // A node's key changes whenever the node does, so an update takes out the entries it
  // replaces: what stays is mostly the nodes of the current tree, and they all fit while the
  // tree has fewer internal nodes than the capacity.
  private readonly entries: BoundedMap<Entry>;

  /** Holds at most `capacity` nodes, and at least half that once full. */
  constructor(capacity: number) {
    this.entries = new BoundedMap(capacity);
  }

  get(key: Uint8Array, hash: Uint8Array): Internal | undefined {
    const entry = this.entries.get(byteString(key));
    return entry !== undefined && equalBytes(entry.hash, hash) ? entry.node : undefined;
  }

  /** Like get, but the node leaves the cache: the caller may change it. */
  take(key: Uint8Array, hash: Uint8Array): Internal | undefined {
    const k = byteString(key);
    const entry = this.entries.get(k);
    if (entry === undefined || !equalBytes(entry.hash, hash)) return undefined;
    this.entries.delete(k);
    return entry.node;
  }

  /** Caches `node` under `key` and `hash`; it must not change until taken out again. */
  put(key: Uint8Array, hash: Uint8Array, node: Internal): void {
    this.entries.set(byteString(key), { hash, node });
  }

  /** Drops the entries of nodes written at `version` (8 bytes). */
  forgetVersion(version: Uint8Array): void {
    const prefix = byteString(version);
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
