// In-memory overlays over the world state. A proposed block executes against an overlay on the
// committed state; its changes give the new root, and the overlay is then committed or dropped.
// Each transaction runs in a child overlay, so a failed one is undone by discarding the child.
// Pure: no I/O beyond the reader it wraps.
import { compareBytes, toHex } from "../lib/bytes.js";

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

export interface StateWriter extends StateReader {
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
}

/** A state with nothing in it: the base of a purely in-memory state (genesis, tests). */
export const emptyState: StateReader = {
  get: () => undefined,
  scan: async () => [],
};

interface Write {
  readonly key: Uint8Array;
  readonly hex: string;
  /** undefined records a delete, which must hide the base's value. Rewritten in place. */
  value: Uint8Array | undefined;
}

function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

function sameValue(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return compareBytes(a, b) === 0;
}

export class StateOverlay implements StateWriter {
  // Keyed by lowercase hex, whose string order is the keys' byte order, so sorting the hex
  // strings sorts the keys the way LevelDB does.
  private readonly writes = new Map<string, Write>();
  // Writes in key order, kept valid as writes arrive: a rewrite changes its entry in place, and
  // new keys wait in `pending` until the next read in order sorts them and merges them in. A
  // block that alternates writes and scans thus pays a linear merge per scan, not a full sort.
  private sorted: Write[] = [];
  private pending: Write[] = [];
  private parent: StateOverlay | undefined;

  constructor(private readonly base: StateReader) {}

  get(key: Uint8Array): Uint8Array | undefined {
    const write = this.writes.get(toHex(key));
    return write ? write.value : this.base.get(key);
  }

  // Copies, so a caller reusing its buffers cannot change what the overlay holds.
  set(key: Uint8Array, value: Uint8Array): void {
    this.record({ key: key.slice(), hex: toHex(key), value: value.slice() });
  }

  delete(key: Uint8Array): void {
    this.record({ key: key.slice(), hex: toHex(key), value: undefined });
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
    for (const write of this.writes.values()) this.parent.record(write);
    this.writes.clear();
    this.sorted = [];
    this.pending = [];
  }

  /**
   * This overlay's effective writes against its base, sorted by key; undefined is a delete.
   * Writes that leave a key as the base has it are left out, so the tree sees only real change.
   */
  changes(): Change[] {
    const out: Change[] = [];
    for (const write of this.sortedWrites()) {
      if (!sameValue(write.value, this.base.get(write.key))) out.push([write.key, write.value]);
    }
    return out;
  }

  private record(write: Write): void {
    const existing = this.writes.get(write.hex);
    if (existing) {
      existing.value = write.value;
      return;
    }
    const entry = { ...write };
    this.writes.set(entry.hex, entry);
    this.pending.push(entry);
  }

  private sortedWrites(): Write[] {
    if (this.pending.length === 0) return this.sorted;
    const byHex = (a: Write, b: Write) => (a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0);
    const fresh = this.pending.sort(byHex);
    const old = this.sorted;
    const merged: Write[] = new Array(old.length + fresh.length);
    let i = 0;
    let j = 0;
    for (let k = 0; k < merged.length; k++) {
      merged[k] =
        j >= fresh.length || (i < old.length && old[i]!.hex < fresh[j]!.hex)
          ? old[i++]!
          : fresh[j++]!;
    }
    this.sorted = merged;
    this.pending = [];
    return merged;
  }

  /** Writes under `prefix` with keys strictly after `after` (or all of them), in key order. */
  private writesFrom(prefix: Uint8Array, after: Uint8Array | undefined): Write[] {
    const sorted = this.sortedWrites();
    const prefixHex = toHex(prefix);
    const afterHex = after === undefined ? undefined : toHex(after);
    const strict = afterHex !== undefined && afterHex >= prefixHex;
    const bound = strict ? afterHex : prefixHex;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const hex = sorted[mid]!.hex;
      if (hex < bound || (strict && hex === bound)) lo = mid + 1;
      else hi = mid;
    }
    const out: Write[] = [];
    for (let i = lo; i < sorted.length; i++) {
      const write = sorted[i]!;
      if (!startsWith(write.key, prefix)) break;
      out.push(write);
    }
    return out;
  }
}
