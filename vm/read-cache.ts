// A block's range scans of the committed state, remembered for the rest of the block. The state
// under a block does not change while it executes, so a range scanned again gives the same
// answer without another trip to the database: scans are asynchronous page reads on LevelDB,
// the dearest reads the vm makes. Point reads pass straight through: the block's overlay keeps
// what it read (state/overlay.ts cacheReads) in the map every read looks in anyway, so a map
// here only added a lookup and an insertion to each of a block's thousands of reads. Lives for
// one block only.

import { byteString as id } from "../lib/bytes.js";
import {
  isKeyed,
  type KeyedStateReader,
  type ScanOptions,
  type StateReader,
} from "../state/overlay.js";

type Entries = Array<readonly [Uint8Array, Uint8Array]>;

export class BlockReadCache implements KeyedStateReader {
  private readonly scans = new Map<string, Promise<Entries>>();
  private readonly keyedBase: KeyedStateReader | undefined;

  constructor(private readonly base: StateReader) {
    this.keyedBase = isKeyed(base) ? base : undefined;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.base.get(key);
  }

  getKeyed(k: string, key: Uint8Array): Uint8Array | undefined {
    return this.keyedBase ? this.keyedBase.getKeyed(k, key) : this.base.get(key);
  }

  // The promise is kept, so concurrent scans of one range share one read; callers get their
  // own copy of the array, the entries being read-only bytes as StateReader promises.
  async scan(prefix: Uint8Array, options: ScanOptions = {}): Promise<Entries> {
    const { after, limit } = options;
    // U+0100 is no byte's char, so the parts cannot run into each other.
    const range = `${id(prefix)}\u0100${after === undefined ? "" : id(after)}\u0100${limit ?? ""}`;
    let entries = this.scans.get(range);
    if (!entries) {
      entries = this.base.scan(prefix, options);
      this.scans.set(range, entries);
    }
    return [...(await entries)];
  }
}
