// The one table of key prefixes. Every key in the database starts with exactly one bucket's
// prefix byte, and all prefixes are single distinct bytes, so no bucket's key space can overlap
// another's, and a range scan of one bucket never sees another's keys. Adding a bucket means
// adding a row here; test/state/buckets.test.ts rejects duplicates.
//
// Owners say who writes the bucket: "store" and "chain" and "state" are written only by
// state/store.ts inside the commit batch; "node" buckets hold indexes the node can rebuild from
// blocks, passed to commitBlock as `extra` ops (prefixes 0x40-0x7f are kept for them).

export type BucketOwner = "store" | "chain" | "state" | "node";

export interface Bucket {
  readonly name: string;
  readonly prefix: number;
  readonly owner: BucketOwner;
}

function bucket(name: string, prefix: number, owner: BucketOwner): Bucket {
  return { name, prefix, owner };
}

export const buckets = {
  /** Store records: the format marker and the head pointer. Key: a record name in UTF-8. */
  meta: bucket("meta", 0x01, "store"),

  /** height (u64be) -> encoded block, opaque here. */
  block: bucket("block", 0x10, "chain"),
  /** height (u64be) -> block hash, so the hash is known without decoding the block. */
  blockHash: bucket("blockHash", 0x11, "chain"),
  /** block hash -> height. */
  blockHeight: bucket("blockHeight", 0x12, "chain"),
  /** height (u64be) -> encoded commit certifying the block at that height. */
  commit: bucket("commit", 0x13, "chain"),
  /** height (u64be) || index (u32be) -> encoded receipt; a block's receipts are one range. */
  receipt: bucket("receipt", 0x14, "chain"),
  /** tx id -> (height, index) of the transaction. */
  txLocation: bucket("txLocation", 0x15, "chain"),
  /** height (u64be) -> encoded end-of-block events, opaque here; absent when there were none. */
  blockEvents: bucket("blockEvents", 0x16, "chain"),

  /** Flat world state at the head: state key -> value, ordered for prefix scans. */
  state: bucket("state", 0x20, "state"),
  /** Jellyfish tree node key -> encoded node. */
  smtNode: bucket("smtNode", 0x21, "state"),
  /** version (u64be) -> encoded root reference of that version's tree. */
  smtRoot: bucket("smtRoot", 0x22, "state"),
  /** staleSince (u64be) -> the node keys no version >= staleSince uses (smt/prune.ts list). */
  smtStale: bucket("smtStale", 0x23, "state"),

  // The node's indexes (node/indexes), rebuildable from stored blocks and receipts.
  /** address(20) ‖ height(u64) ‖ tx index(u32) → role: transactions by signer and party. */
  idxTxByAddress: bucket("idxTxByAddress", 0x40, "node"),
  /** meterIdHash(32) ‖ height ‖ tx index(u32) ‖ reading index(u32) → the reading and result. */
  idxReadingByMeter: bucket("idxReadingByMeter", 0x41, "node"),
  /** validator address(20) → signed and missed counts, last height signed. */
  idxLiveness: bucket("idxLiveness", 0x42, "node"),
  /** validator address(20) ‖ height ‖ i(u32) → the double vote's height: evidence against it. */
  idxEvidence: bucket("idxEvidence", 0x43, "node"),
  /** utility id(sized) ‖ height ‖ n(u32) → a policy change as it landed. */
  idxPolicyHistory: bucket("idxPolicyHistory", 0x44, "node"),
  /** utility id(sized) ‖ height ‖ n(u32) → a fill. */
  idxTrades: bucket("idxTrades", 0x45, "node"),
  /** utility id(sized) ‖ height ‖ n(u32) → a call auction with its curves. */
  idxAuctions: bucket("idxAuctions", 0x46, "node"),
  /** oracle address(20) → batches, readings and rejections by code. */
  idxOracleStats: bucket("idxOracleStats", 0x47, "node"),
} as const satisfies Record<string, Bucket>;

/** All buckets, for the uniqueness check and for tools that walk the whole database. */
export const allBuckets: readonly Bucket[] = Object.values(buckets);

/** The lowest and highest prefixes reserved for the node's rebuildable indexes. */
export const NODE_PREFIX_MIN = 0x40;
export const NODE_PREFIX_MAX = 0x7f;
