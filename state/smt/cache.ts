// A bounded cache of internal nodes, so consecutive updates and proofs skip reading, decoding
// and rehashing the upper levels, which every batch rewrites and every proof walks.
//
// An entry is used only under the hash its parent (or root ref) records for it. A hash fixes a
// node's children and their hashes, and for updates built on the same base tree the children's
// versions too, so a hit is the node the store holds. Competing proposals for one version reuse
// node keys; the tree keeps the premise by caching no update's nodes for a version that has
// updates from two different bases.
import { equalBytes } from "../../lib/bytes.js";
import type { Internal } from "./internal.js";

interface Entry {
  readonly hash: Uint8Array;
  readonly node: Internal;
}

/** Node keys as strings of their bytes: the cheapest Map key for 9 to 41 bytes. */
function keyString(key: Uint8Array): string {
  return String.fromCharCode.apply(null, key as unknown as number[]);
}

export class NodeCache {
  // One Map in insertion order, and a node's key changes whenever the node does, so an update
  // takes out the entries it replaces: what stays is mostly the nodes of the current tree, and
  // they all fit while the tree has fewer internal nodes than the capacity. When the Map does
  // fill up, it is rebuilt from its newer half, the entries least likely to be asked for again
  // being the ones inserted longest ago. (Dropping a fixed older generation instead lost live
  // nodes every few blocks however large the capacity; deleting a Map's first entries one by
  // one makes its iterator slow.)
  private entries = new Map<string, Entry>();

  /** Holds at most `capacity` nodes, and at least half that once full. */
  constructor(private readonly capacity: number) {}

  get(key: Uint8Array, hash: Uint8Array): Internal | undefined {
    const entry = this.entries.get(keyString(key));
    return entry !== undefined && equalBytes(entry.hash, hash) ? entry.node : undefined;
  }

  /** Like get, but the node leaves the cache: the caller may change it. */
  take(key: Uint8Array, hash: Uint8Array): Internal | undefined {
    const k = keyString(key);
    const entry = this.entries.get(k);
    if (entry === undefined || !equalBytes(entry.hash, hash)) return undefined;
    this.entries.delete(k);
    return entry.node;
  }

  /** Caches `node` under `key` and `hash`; it must not change until taken out again. */
  put(key: Uint8Array, hash: Uint8Array, node: Internal): void {
    if (this.capacity < 2) return;
    if (this.entries.size >= this.capacity) {
      const kept = new Map<string, Entry>();
      let skip = this.entries.size - (this.capacity >> 1);
      for (const [k, entry] of this.entries) if (skip-- <= 0) kept.set(k, entry);
      this.entries = kept;
    }
    this.entries.set(keyString(key), { hash, node });
  }

  /** Drops the entries of nodes written at `version` (8 bytes). */
  forgetVersion(version: Uint8Array): void {
    const prefix = keyString(version);
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
