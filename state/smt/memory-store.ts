// An in-memory node store for tests and tools; the node keeps its tree in LevelDB instead.
import { toHex } from "../../lib/bytes.js";
import { isPrunable, type StaleEntry } from "./prune.js";
import type { NodeReader, TreeBatch } from "./tree.js";

export class MemoryNodeStore implements NodeReader {
  private readonly nodes = new Map<string, Uint8Array>();
  private readonly roots = new Map<bigint, Uint8Array>();
  private stale: StaleEntry[] = [];

  getNode(nodeKey: Uint8Array): Uint8Array | undefined {
    return this.nodes.get(toHex(nodeKey));
  }

  getRoot(version: bigint): Uint8Array | undefined {
    return this.roots.get(version);
  }

  apply(batch: TreeBatch): void {
    for (const [key, node] of batch.nodes) this.nodes.set(toHex(key), node);
    for (const [version, ref] of batch.roots) this.roots.set(version, ref);
    this.stale.push(...batch.stale);
  }

  /** Keeps versions from `keepFrom` on; returns how many nodes it deleted. */
  prune(keepFrom: bigint): number {
    let deleted = 0;
    const kept: StaleEntry[] = [];
    for (const entry of this.stale) {
      if (!isPrunable(entry[0], keepFrom)) kept.push(entry);
      else if (this.nodes.delete(toHex(entry[1]))) deleted++;
    }
    this.stale = kept;
    for (const version of [...this.roots.keys()]) {
      if (version < keepFrom) this.roots.delete(version);
    }
    return deleted;
  }

  /** The versions with a recorded root, ascending. */
  versions(): bigint[] {
    return [...this.roots.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  get staleCount(): number {
    return this.stale.length;
  }
}
