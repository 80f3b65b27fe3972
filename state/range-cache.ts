// Whole-prefix scans of the head's flat state, kept in memory and kept up to date. Some prefixes
// are read in full every block (each utility's order book, by the end-of-block auction), and a
// LevelDB range read is an asynchronous page read: the block waits for the thread pool, then
// copies every entry again. A cached range is changed in place by each committed change under
// its prefix, so it always equals what a scan of the database would return. Bounded by the
// number of entries held; the ranges cached longest ago go first.
import { byteString } from "../lib/bytes.js";

type Entry = readonly [key: Uint8Array, value: Uint8Array];

interface Range {
  /** Sorted by key; ids[i] is byteString(entries[i][0]), for ordering. */
  readonly entries: Entry[];
  readonly ids: string[];
}

/** The first index whose id is not below `id` (or above it, if `strict`). */
function lowerBound(ids: readonly string[], id: string, strict: boolean): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = ids[mid]!;
    if (at < id || (strict && at === id)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class RangeCache {
  /** By byteString(prefix), in the order they were cached. */
  private readonly ranges = new Map<string, Range>();
  private held = 0;

  /** Holds at most `capacity` entries in all; a range over a quarter of that is never held. */
  constructor(private readonly capacity: number) {}

  /**
   * The entries under the prefix with id `prefixId`, strictly after `after` (if given, and not
   * below the prefix) and at most `limit` of them, or undefined when the range is not cached.
   * The entries are shared: read them, never write to them.
   */
  scan(prefixId: string, after: string | undefined, limit: number): Entry[] | undefined {
    const range = this.ranges.get(prefixId);
    if (range === undefined) return undefined;
    const from = after !== undefined && after >= prefixId ? lowerBound(range.ids, after, true) : 0;
    return range.entries.slice(from, Math.min(range.entries.length, from + limit));
  }

  /** Caches the full scan of a prefix, sorted as the database returned it. */
  put(prefixId: string, entries: readonly Entry[]): void {
    if (entries.length > this.capacity >> 2) return;
    this.drop(prefixId);
    this.ranges.set(prefixId, { entries: [...entries], ids: entries.map(([k]) => byteString(k)) });
    this.held += entries.length;
    for (const [oldest, range] of this.ranges) {
      if (this.held <= this.capacity) break;
      this.ranges.delete(oldest);
      this.held -= range.entries.length;
    }
  }

  /**
   * Applies one committed change (value undefined: a delete) to the ranges it falls in. The
   * key is copied if kept; the value is kept as it is: the caller hands it over.
   */
  apply(id: string, key: Uint8Array, value: Uint8Array | undefined): void {
    for (const [prefixId, range] of this.ranges) {
      if (!id.startsWith(prefixId)) continue;
      const at = lowerBound(range.ids, id, false);
      const found = range.ids[at] === id;
      if (value === undefined) {
        if (!found) continue;
        range.entries.splice(at, 1);
        range.ids.splice(at, 1);
        this.held--;
      } else if (found) {
        range.entries[at] = [range.entries[at]![0], value];
      } else {
        range.entries.splice(at, 0, [key.slice(), value]);
        range.ids.splice(at, 0, id);
        this.held++;
      }
    }
  }

  clear(): void {
    this.ranges.clear();
    this.held = 0;
  }

  private drop(prefixId: string): void {
    const range = this.ranges.get(prefixId);
    if (range === undefined) return;
    this.ranges.delete(prefixId);
    this.held -= range.entries.length;
  }
}
