// The world state on disk, kept twice on purpose: a flat ordered key space holding the head's
// values, which answers point reads with one getSync and prefix queries with one range scan,
// and the Jellyfish tree, which commits to the same key/value set at every kept version and
// proves it. Both are written by the same batch, so they never disagree on disk.
//
// Point reads of the head go through a bounded cache of its values (absences included): blocks
// read the same records again and again (the utility and its policy, the totals, the households
// that trade and are read), and a hit spares a LevelDB read, and gives back the same bytes
// object, which lets the vm's decoded-record memo (vm/context.ts) serve it too. The cache is
// changed only by committed(), with the changes of a batch once it is on disk, so it always
// holds the values the flat key space holds. Whole-prefix scans are cached the same way, and
// kept up to date entry by entry (state/range-cache.ts).
import { byteString, compareBytes, concatBytes, toHex, u64be } from "../lib/bytes.js";
import { BoundedMap } from "./bounded-map.js";
import { buckets } from "./buckets.js";
import type { Db, WriteBatch } from "./db.js";
import { StoreError } from "./errors.js";
import type { Change, KeyedStateReader, ScanOptions } from "./overlay.js";
import { RangeCache } from "./range-cache.js";
import { prefixEnd } from "./repository.js";
import type { SmtProof } from "./smt/proof.js";
import { decodeStaleList, encodeStaleList } from "./smt/prune.js";
import { JellyfishTree, type NodeReader, SmtError, type TreeBatch } from "./smt/tree.js";

const STATE = Uint8Array.of(buckets.state.prefix);
const NODE = Uint8Array.of(buckets.smtNode.prefix);
const ROOT = Uint8Array.of(buckets.smtRoot.prefix);
const STALE = Uint8Array.of(buckets.smtStale.prefix);

/** At most this many versions are pruned by point reads; a larger step scans their ranges. */
const MAX_POINT_PRUNE = 64n;

/** Tree failures as store failures: a missing or undecodable node means a damaged store. */
function storeError(error: unknown, what: string): unknown {
  if (!(error instanceof SmtError)) return error;
  switch (error.code) {
    case "UNKNOWN_VERSION":
      return new StoreError("VERSION_UNAVAILABLE", `${what}: ${error.message}`, { cause: error });
    case "BAD_UPDATE":
      return new StoreError("INVALID_COMMIT", `${what}: ${error.message}`, { cause: error });
    default:
      return new StoreError("CORRUPT", `${what}: ${error.message}`, { cause: error });
  }
}

/** Runs a tree operation, reporting its failures as StoreErrors. */
function guarded<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw storeError(error, what);
  }
}

/**
 * Head values cached by default: some 40 MB at most for records of the usual few hundred bytes,
 * plus the decoded records the vm keeps on the bytes it has read (vm/context.ts).
 */
export const DEFAULT_VALUE_CACHE = 1 << 17;

export interface WorldStateOptions {
  /**
   * How many head values (and absences) to keep in memory, and as many entries of whole-prefix
   * scans; 0 turns both caches off.
   */
  readonly valueCacheSize?: number;
}

export class WorldState {
  private readonly tree: JellyfishTree;
  /** The flat key space at the head. */
  readonly head: KeyedStateReader;
  /** Every version below this is pruned on disk; unknown until the first prune. */
  private prunedBelow: bigint | undefined;
  /** Head values by byteString(key); null records a key the head does not hold. */
  private values: BoundedMap<Uint8Array | null>;
  private ranges: RangeCache;
  /** Counts commits, so a scan that a commit overtook is not cached. */
  private generation = 0;

  constructor(
    private readonly db: Db,
    options: WorldStateOptions = {},
  ) {
    const nodes: NodeReader = {
      getNode: (nodeKey) => db.getSync(concatBytes(NODE, nodeKey)),
      getRoot: (version) => db.getSync(concatBytes(ROOT, u64be(version))),
    };
    this.tree = new JellyfishTree(nodes);
    const cacheSize = options.valueCacheSize ?? DEFAULT_VALUE_CACHE;
    this.values = new BoundedMap(cacheSize);
    this.ranges = new RangeCache(cacheSize);
    this.head = {
      get: (key) => this.get(byteString(key), key),
      getKeyed: (id, key) => this.get(id, key),
      scan: (prefix, options) => this.scan(prefix, options),
    };
  }

  private get(id: string, key: Uint8Array): Uint8Array | undefined {
    const cached = this.values.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const value = this.db.getSync(concatBytes(STATE, key));
    this.values.set(id, value ?? null);
    return value;
  }

  /**
   * Records that a batch with write(batch, changes, …) is on disk. The values are copied: the
   * caller's arrays may be views into larger buffers, or be reused.
   */
  committed(changes: readonly Change[]): void {
    this.generation++;
    for (const [key, value] of changes) {
      const id = byteString(key);
      const own = value?.slice();
      this.values.set(id, own ?? null);
      this.ranges.apply(id, key, own);
    }
  }

  /** Empties the caches for good, so reads after the store closes reach the database. */
  close(): void {
    this.values = new BoundedMap(0);
    this.ranges = new RangeCache(0);
  }

  /** The tree writes that take the state at `base` to `version`; nothing is written. */
  computeRoot(base: bigint | undefined, version: bigint, changes: readonly Change[]): TreeBatch {
    return guarded(`state root of version ${version}`, () =>
      this.tree.update(base, version, changes),
    );
  }

  /** Adds a version's flat changes and tree writes to the batch. */
  write(batch: WriteBatch, changes: readonly Change[], tree: TreeBatch): void {
    for (const [key, value] of changes) {
      const dbKey = concatBytes(STATE, key);
      if (value === undefined) batch.del(dbKey);
      else batch.put(dbKey, value);
    }
    for (const [nodeKey, node] of tree.nodes) batch.put(concatBytes(NODE, nodeKey), node);
    for (const [version, ref] of tree.roots) batch.put(concatBytes(ROOT, u64be(version)), ref);
    // One record per version rather than one per stale node: it halves the batch's entries.
    const staleSince = new Map<bigint, Uint8Array[]>();
    for (const [since, nodeKey] of tree.stale) {
      const list = staleSince.get(since);
      if (list) list.push(nodeKey);
      else staleSince.set(since, [nodeKey]);
    }
    for (const [since, nodeKeys] of staleSince) {
      batch.put(concatBytes(STALE, u64be(since)), encodeStaleList(nodeKeys));
    }
  }

  /**
   * Adds to the batch the deletion of every version below `keepFrom`: their root refs, and the
   * nodes no version from `keepFrom` on uses (see smt/prune.ts). Call pruned(keepFrom) once the
   * batch is written.
   */
  async prune(batch: WriteBatch, keepFrom: bigint): Promise<void> {
    const from = this.prunedBelow;
    if (from !== undefined && keepFrom >= from && keepFrom - from <= MAX_POINT_PRUNE) {
      // Versions below `from` are gone already: delete the few since, by key, with no scan.
      for (let v = from; v < keepFrom; v++) batch.del(concatBytes(ROOT, u64be(v)));
      for (let since = from + 1n; since <= keepFrom; since++) {
        const key = concatBytes(STALE, u64be(since));
        const list = this.db.getSync(key);
        if (list !== undefined) this.pruneList(batch, key, list);
      }
      return;
    }
    const rootsEnd = concatBytes(ROOT, u64be(keepFrom));
    for await (const [key] of this.db.iterate({ gt: ROOT, lt: rootsEnd })) batch.del(key);
    // Nodes that went stale at or before keepFrom are used by no kept version.
    const staleEnd = concatBytes(STALE, u64be(keepFrom + 1n));
    for await (const [key, list] of this.db.iterate({ gt: STALE, lt: staleEnd })) {
      this.pruneList(batch, key, list);
    }
  }

  /** Records that a batch with prune(batch, keepFrom) is written. */
  pruned(keepFrom: bigint): void {
    this.prunedBelow = keepFrom;
  }

  private pruneList(batch: WriteBatch, key: Uint8Array, list: Uint8Array): void {
    const nodeKeys = guarded("stale node list", () => decodeStaleList(list));
    batch.del(key);
    for (const nodeKey of nodeKeys) batch.del(concatBytes(NODE, nodeKey));
  }

  rootHash(version: bigint): Uint8Array {
    return guarded(`state root of version ${version}`, () => this.tree.rootHash(version));
  }

  /** The value of `key` in the tree at `version`. */
  getAt(version: bigint, key: Uint8Array): Uint8Array | undefined {
    return guarded(`state at version ${version}`, () => this.tree.get(version, key));
  }

  prove(version: bigint, key: Uint8Array): SmtProof {
    return guarded(`state proof at version ${version}`, () => this.tree.prove(version, key));
  }

  /**
   * The cheap start-up check: the version's root node hashes to its recorded root, which must
   * be `expected`. Throws StoreError("CORRUPT") otherwise.
   */
  checkRoot(version: bigint, expected: Uint8Array): void {
    const what = `state tree of version ${version}`;
    let recorded: Uint8Array;
    try {
      this.tree.checkRoot(version);
      recorded = this.tree.rootHash(version);
    } catch (error) {
      // Here even a missing version is damage: the head's tree must be there.
      if (!(error instanceof SmtError)) throw error;
      throw new StoreError("CORRUPT", `${what}: ${error.message}`, { cause: error });
    }
    if (compareBytes(recorded, expected) !== 0) {
      throw new StoreError(
        "CORRUPT",
        `${what}: root ${toHex(recorded)} does not match the head's state root ${toHex(expected)}`,
      );
    }
  }

  private async scan(
    prefix: Uint8Array,
    options: ScanOptions = {},
  ): Promise<Array<readonly [Uint8Array, Uint8Array]>> {
    const { after, limit } = options;
    if (limit !== undefined && !(limit > 0)) return [];
    const prefixId = byteString(prefix);
    const whole = after === undefined && (limit === undefined || !Number.isFinite(limit));
    if (limit === undefined || Number.isSafeInteger(limit) || whole) {
      const cached = this.ranges.scan(
        prefixId,
        after === undefined ? undefined : byteString(after),
        limit ?? Number.POSITIVE_INFINITY,
      );
      if (cached !== undefined) return cached;
    }
    const generation = this.generation;
    const from = concatBytes(STATE, prefix);
    const lower =
      after !== undefined && compareBytes(after, prefix) >= 0
        ? { gt: concatBytes(STATE, after) }
        : { gte: from };
    const entries = await this.db.range({
      ...lower,
      lt: prefixEnd(from)!,
      ...(limit === undefined || !Number.isFinite(limit) ? {} : { limit }),
    });
    const out = entries.map(([key, value]) => [key.subarray(1), value] as const);
    // A scan from the prefix's start that came back short of its limit read the whole prefix:
    // the jobs' bounded scans of a mostly empty index (expiries) are then answered from memory.
    const short = limit !== undefined && Number.isSafeInteger(limit) && out.length < limit;
    const reachedEnd = after === undefined && (whole || short);
    if (reachedEnd && generation === this.generation) this.ranges.put(prefixId, out);
    return out;
  }
}
