// Pruning old versions. A node written at version w and replaced at version s (its
// "stale-since") belongs to the trees of versions w .. s-1 only. Keeping every version from
// `keepFrom` on therefore needs exactly the nodes with s > keepFrom: all others can go, along
// with the root refs of versions below `keepFrom`.
import { concatBytes } from "../../lib/bytes.js";
import { MAX_DEPTH, SmtError } from "./node.js";

export type StaleEntry = readonly [staleSince: bigint, nodeKey: Uint8Array];

/** Whether the node of a stale entry is needed by no version from `keepFrom` on. */
export function isPrunable(staleSince: bigint, keepFrom: bigint): boolean {
  return staleSince <= keepFrom;
}

// The store keeps one stale record per version: its stale node keys side by side. A batch of
// a thousand updates retires a few thousand nodes, and one write in place of thousands roughly
// halves the LevelDB work of committing it.

/** The stale node keys of one version as a single record: node keys are self-delimiting. */
export function encodeStaleList(nodeKeys: readonly Uint8Array[]): Uint8Array {
  return concatBytes(...nodeKeys);
}

export function decodeStaleList(bytes: Uint8Array): Uint8Array[] {
  const keys: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    // A record cut short reads as a node key deeper than any.
    const nibbles = bytes[at + 8] ?? MAX_DEPTH + 1;
    const end = at + 9 + ((nibbles + 1) >> 1);
    if (nibbles > MAX_DEPTH || end > bytes.length) {
      throw new SmtError("CORRUPT_NODE", "stale list is malformed");
    }
    keys.push(bytes.subarray(at, end));
    at = end;
  }
  return keys;
}
