// One pass over a London CSV for every meter that reads it. A file of the London dataset holds
// many households (LCLid) one after another; reading it once per configured meter costs the
// whole file per meter, which for a file of many meters is the oracle's largest cost. Here the
// meters that start reading a file together share one reader, which hands each row to the
// queue of its LCLid and waits whenever a meter that is reading has fallen a bounded number of
// intervals behind, so memory stays bounded however large the file.
import { createReadStream } from "node:fs";
import type { IntervalReading } from "../interval.js";
import { readLondonCsv } from "../london-csv.js";

/** Intervals one meter may have waiting before the shared reader stops for it. */
const QUEUE_BOUND = 4096;

interface Queue {
  items: IntervalReading[];
  /** Its meter has asked for an interval: only then does the bound hold up the reader. */
  reading: boolean;
  open: boolean;
  wake: (() => void) | undefined;
}

class SharedFile {
  readonly #path: string;
  readonly #queues = new Map<string, Queue[]>();
  #started = false;
  /** Rows handed out so far: a meter may join until the first. */
  #rows = 0;
  #done = false;
  #error: unknown;
  #space: (() => void) | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  /** Whether a meter subscribing now would still see every row. */
  get joinable(): boolean {
    return this.#rows === 0 && !this.#done;
  }

  subscribe(lclid: string): AsyncGenerator<IntervalReading> {
    const queue: Queue = { items: [], reading: false, open: true, wake: undefined };
    this.#queues.set(lclid, [...(this.#queues.get(lclid) ?? []), queue]);
    return this.#drain(queue);
  }

  async *#drain(queue: Queue): AsyncGenerator<IntervalReading> {
    queue.reading = true;
    if (!this.#started) {
      this.#started = true;
      void this.#read();
    }
    try {
      for (;;) {
        if (queue.items.length > 0) {
          const batch = queue.items;
          queue.items = [];
          this.#makeSpace();
          yield* batch;
          continue;
        }
        if (this.#done) {
          if (this.#error !== undefined) throw this.#error;
          return;
        }
        await new Promise<void>((resolve) => {
          queue.wake = resolve;
        });
      }
    } finally {
      queue.open = false;
      queue.items = [];
      this.#makeSpace();
    }
  }

  #makeSpace(): void {
    const space = this.#space;
    this.#space = undefined;
    space?.();
  }

  #full(): boolean {
    for (const queues of this.#queues.values()) {
      for (const q of queues) if (q.open && q.reading && q.items.length >= QUEUE_BOUND) return true;
    }
    return false;
  }

  async #read(): Promise<void> {
    try {
      for await (const event of readLondonCsv(createReadStream(this.#path))) {
        if (event.kind !== "interval") continue;
        this.#rows++;
        for (const queue of this.#queues.get(event.lclid) ?? []) {
          if (!queue.open) continue;
          queue.items.push(event.interval);
          queue.wake?.();
          queue.wake = undefined;
        }
        while (this.#full()) {
          await new Promise<void>((resolve) => {
            this.#space = resolve;
          });
        }
      }
    } catch (error) {
      this.#error = error;
    } finally {
      this.#done = true;
      for (const queues of this.#queues.values()) {
        for (const queue of queues) {
          queue.wake?.();
          queue.wake = undefined;
        }
      }
    }
  }
}

/** The London files of one run of the service; the meters that start together share a pass. */
export class LondonFiles {
  readonly #files = new Map<string, SharedFile>();
  #passes = 0;

  /** How many passes over files have been set up (one per file, unless a meter came late). */
  get passes(): number {
    return this.#passes;
  }

  /** One meter's intervals from `path`: the rows of `lclid`, in file order. */
  intervals(path: string, lclid: string): AsyncGenerator<IntervalReading> {
    let file = this.#files.get(path);
    // A meter that comes after the pass began would miss rows: it gets a pass of its own.
    if (!file?.joinable) {
      file = new SharedFile(path);
      this.#files.set(path, file);
      this.#passes++;
    }
    return file.subscribe(lclid);
  }
}
