// In-memory overlays over the world state. A proposed block executes against an overlay on the
// committed state; its changes give the new root, and the overlay is then committed or dropped.
// Each transaction runs in a child overlay, so a failed one is undone by discarding the child.
// Pure: no I/O beyond the reader it wraps.
import { byteString, compareBytes } from "../lib/bytes.js";

export type Change = readonly [key: Uint8Array, value: Uint8Array | undefined];

export interface ScanOptions {
  /** Only keys strictly greater than this one: the cursor of the previous page. */
  readonly after?: Uint8Array;
  readonly limit?: number;
}

/** Bytes a reader returns may be shared with it: callers must not mutate them. */
export interface StateReader {
  get(key: Uint8Array): Uint8Array | undefined;
  /** Entries whose keys start with `prefix`, ascending, strictly after `after`, at most `limit`. */
  scan(
    prefix: Uint8Array,
    options?: ScanOptions,
  ): Promise<Array<readonly [Uint8Array, Uint8Array]>>;
}

/**
 * A reader that can also be given the key's byteString, so that a stack of readers (a
 * transaction's overlay on the block's, on the block's read cache, on the store) builds the
 * string key once rather than once per layer.
 */
export interface KeyedStateReader extends StateReader {
  /** get(key), where `id` is byteString(key). */
  getKeyed(id: string, key: Uint8Array): Uint8Array | undefined;
}

/** Whether `reader` takes byteString keys along (KeyedStateReader). */
export function isKeyed(reader: StateReader): reader is KeyedStateReader {
  return typeof (reader as Partial<KeyedStateReader>).getKeyed === "function";
}

export interface StateWriter extends StateReader {
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
}

/** A state with nothing in it: the base of a purely in-memory state (genesis, tests). */
export const emptyState: StateReader = {
  get: () => undefined,
  scan: async () => [],
};

/** One first byte's writes (the empty key has a range of its own, before all others). */
interface Range {
  sorted: Write[];
  pending: Write[];
}

/** The index of the range of the key whose byteString is `id`. */
const rangeOf = (id: string): number => (id.length === 0 ? 0 : id.charCodeAt(0) + 1);

/** What a key read means when the overlay has not read it from its base. */
const NOT_READ = Symbol("not read");

/** The key of an entry that only remembers a read: the caller's key is not kept alive. */
const UNWRITTEN = new Uint8Array(0);

interface Write {
  /** The overlay's own copy once written; UNWRITTEN before that. */
  key: Uint8Array;
  /** byteString(key): orders as the key does. */
  readonly id: string;
  /** undefined records a delete, which must hide the base's value. Rewritten in place. */
  value: Uint8Array | undefined;
  /** False for an entry that only remembers a read of the base (cacheReads). */
  written: boolean;
  /** The base's value of the key, if this overlay has read it (cacheReads). */
  base: Uint8Array | undefined | typeof NOT_READ;
}

export interface OverlayOptions {
  /**
   * Remember what is read from the base, for a base that does not change while the overlay is
   * in use (a block's committed state): a key read again is then one lookup in the overlay's
   * own map, which every read makes anyway, and changes() compares against that value.
   */
  readonly cacheReads?: boolean;
}

function sameValue(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return compareBytes(a, b) === 0;
}

export class StateOverlay implements StateWriter, KeyedStateReader {
  // Keyed by byteString, whose string order is the keys' byte order, so sorting the strings
  // sorts the keys the way LevelDB does. With cacheReads it also holds the base's values read.
  private readonly writes = new Map<string, Write>();
  // Writes in key order, by the key's first byte (every scan stays within one, bar a scan of
  // everything), kept valid as writes arrive: a rewrite changes its entry in place, and new keys
  // wait in their range's `pending` until the next read in order sorts them and merges them in.
  // A block that alternates writes and scans thus pays a linear merge per scan of the ranges
  // it scans, not a full sort, nor anything for the ranges it writes but never scans.
  private ranges: Range[] = [];
  private parent: StateOverlay | undefined;
  private readonly keyedBase: KeyedStateReader | undefined;
  private readonly cacheReads: boolean;

  constructor(
    private readonly base: StateReader,
    options: OverlayOptions = {},
  ) {
    this.keyedBase = isKeyed(base) ? base : undefined;
    this.cacheReads = options.cacheReads ?? false;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.getKeyed(byteString(key), key);
  }

  getKeyed(id: string, key: Uint8Array): Uint8Array | undefined {
    // Most of a transaction's reads go through its overlay while it holds no write yet.
    const entry = this.writes.size === 0 ? undefined : this.writes.get(id);
    if (entry) return entry.written ? entry.value : (entry.base as Uint8Array | undefined);
    const value = this.baseValue(id, key);
    if (this.cacheReads) {
      this.writes.set(id, { key: UNWRITTEN, id, value: undefined, written: false, base: value });
    }
    return value;
  }

  // Copies, so a caller reusing its buffers cannot change what the overlay holds.
  set(key: Uint8Array, value: Uint8Array): void {
    this.setOwned(key.slice(), value.slice());
  }

  delete(key: Uint8Array): void {
    this.deleteOwned(key.slice());
  }

  /** set(), for a caller that hands both arrays over and never touches them again. */
  setOwned(key: Uint8Array, value: Uint8Array): void {
    this.record(key, byteString(key), value);
  }

  /** delete(), for a caller that hands the key over and never touches it again. */
  deleteOwned(key: Uint8Array): void {
    this.record(key, byteString(key), undefined);
  }

  async scan(
    prefix: Uint8Array,
    options: ScanOptions = {},
  ): Promise<Array<readonly [Uint8Array, Uint8Array]>> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const out: Array<readonly [Uint8Array, Uint8Array]> = [];
    if (!(limit > 0)) return out;
    const mine = this.writesFrom(prefix, options.after);
    let next = 0;
    let after = options.after;
    // The base is read in pages of what is still wanted; a page can fall short of the limit
    // only because this overlay deleted some of its keys, and then the next page is read.
    for (;;) {
      const want = limit - out.length;
      const page = await this.base.scan(
        prefix,
        want === Number.POSITIVE_INFINITY ? { after } : { after, limit: want },
      );
      const last = page.length < want ? undefined : page[page.length - 1]?.[0];
      let i = 0;
      while (out.length < limit) {
        const b = page[i];
        const m = mine[next];
        const mInPage = m !== undefined && (last === undefined || compareBytes(m.key, last) <= 0);
        if (!mInPage && b === undefined) break;
        const order = b === undefined ? -1 : mInPage ? compareBytes(m.key, b[0]) : 1;
        if (order <= 0 && m !== undefined) {
          if (order === 0) i++;
          next++;
          if (m.value !== undefined) out.push([m.key, m.value]);
        } else if (b !== undefined) {
          out.push(b);
          i++;
        }
      }
      if (out.length >= limit || last === undefined) return out;
      after = last;
    }
  }

  /** A nested overlay reading through this one: merge it on success, drop it on failure. */
  child(): StateOverlay {
    const child = new StateOverlay(this);
    child.parent = this;
    return child;
  }

  /** Moves this child's writes into its parent; the child is left empty and still usable. */
  mergeIntoParent(): void {
    if (!this.parent) throw new Error("mergeIntoParent: this overlay was not made by child()");
    for (const w of this.writes.values()) if (w.written) this.parent.record(w.key, w.id, w.value);
    this.writes.clear();
    this.ranges = [];
  }

  /**
   * This overlay's effective writes against its base, sorted by key; undefined is a delete.
   * Writes that leave a key as the base has it are left out, so the tree sees only real change.
   */
  changes(): Change[] {
    const out: Change[] = [];
    for (let r = 0; r < this.ranges.length; r++) {
      for (const w of this.sortedRange(r)) {
        const before = w.base === NOT_READ ? this.baseValue(w.id, w.key) : w.base;
        if (!sameValue(w.value, before)) out.push([w.key, w.value]);
      }
    }
    return out;
  }

  private baseValue(id: string, key: Uint8Array): Uint8Array | undefined {
    return this.keyedBase ? this.keyedBase.getKeyed(id, key) : this.base.get(key);
  }

  private record(key: Uint8Array, id: string, value: Uint8Array | undefined): void {
    const existing = this.writes.get(id);
    if (existing) {
      existing.value = value;
      if (!existing.written) {
        existing.written = true;
        existing.key = key;
        this.pend(existing);
      }
      return;
    }
    const entry: Write = { key, id, value, written: true, base: NOT_READ };
    this.writes.set(id, entry);
    this.pend(entry);
  }

  private pend(write: Write): void {
    const r = rangeOf(write.id);
    const range = this.ranges[r];
    if (range) range.pending.push(write);
    else this.ranges[r] = { sorted: [], pending: [write] };
  }

  private sortedRange(r: number): Write[] {
    const range = this.ranges[r];
    if (range === undefined) return [];
    if (range.pending.length === 0) return range.sorted;
    const byId = (a: Write, b: Write) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const fresh = range.pending.sort(byId);
    const old = range.sorted;
    const merged: Write[] = new Array(old.length + fresh.length);
    let i = 0;
    let j = 0;
    for (let k = 0; k < merged.length; k++) {
      merged[k] =
        j >= fresh.length || (i < old.length && old[i]!.id < fresh[j]!.id)
          ? old[i++]!
          : fresh[j++]!;
    }
    range.sorted = merged;
    range.pending = [];
    return merged;
  }

  /** Writes under `prefix` with keys strictly after `after` (or all of them), in key order. */
  private writesFrom(prefix: Uint8Array, after: Uint8Array | undefined): Write[] {
    const sorted =
      prefix.length > 0
        ? this.sortedRange(prefix[0]! + 1)
        : this.ranges.flatMap((_, r) => this.sortedRange(r));
    const prefixId = byteString(prefix);
    const afterId = after === undefined ? undefined : byteString(after);
    const strict = afterId !== undefined && afterId >= prefixId;
    const bound = strict ? afterId : prefixId;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const id = sorted[mid]!.id;
      if (id < bound || (strict && id === bound)) lo = mid + 1;
      else hi = mid;
    }
    const out: Write[] = [];
    for (let i = lo; i < sorted.length; i++) {
      const write = sorted[i]!;
      if (!write.id.startsWith(prefixId)) break;
      out.push(write);
    }
    return out;
  }
}
