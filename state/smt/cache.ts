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
  // Two generations: entries go into `young`, which becomes `old` when full, and the previous
  // `old` is dropped whole. Nodes are rewritten under new keys as they change, so the oldest
  // entries are the ones least likely to be asked for again; evicting by generation costs
  // nothing per entry (evicting a Map's first entries one by one makes its iterator slow).
  private young = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  private readonly generation: number;

  /** Holds at least `capacity / 2` and at most `capacity` nodes. */
  constructor(capacity: number) {
    this.generation = Math.floor(capacity / 2);
  }

  get(key: Uint8Array, hash: Uint8Array): Internal | undefined {
    const k = keyString(key);
    const entry = this.young.get(k) ?? this.old.get(k);
    return entry !== undefined && equalBytes(entry.hash, hash) ? entry.node : undefined;
  }

  /** Like get, but the node leaves the cache: the caller may change it. */
  take(key: Uint8Array, hash: Uint8Array): Internal | undefined {
    const k = keyString(key);
    const map = this.young.has(k) ? this.young : this.old;
    const entry = map.get(k);
    if (entry === undefined || !equalBytes(entry.hash, hash)) return undefined;
    map.delete(k);
    return entry.node;
  }

  /** Caches `node` under `key` and `hash`; it must not change until taken out again. */
  put(key: Uint8Array, hash: Uint8Array, node: Internal): void {
    if (this.generation <= 0) return;
    this.young.set(keyString(key), { hash, node });
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  /** Drops the entries of nodes written at `version` (8 bytes). */
  forgetVersion(version: Uint8Array): void {
    const prefix = keyString(version);
    for (const map of [this.young, this.old]) {
      for (const k of map.keys()) if (k.startsWith(prefix)) map.delete(k);
    }
  }
}
