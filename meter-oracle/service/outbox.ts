// The durable outbox (docs/oracle.md "The outbox"): every reading the oracle has read, in LevelDB,
// with its state: queued → submitted (in transaction t) → confirmed (accepted or duplicate) or
// rejected (with the chain's code). Every state change is one atomic, fsynced batch, so a crash
// (SIGKILL, power loss) leaves each reading in exactly one state, and a transaction is written
// here, bytes and all, BEFORE it is sent: after a restart the oracle resends the same bytes, or
// finds them on chain, and never signs a second transaction for the same readings.
//
// Keys (meter = the 32-byte meter id hash, time = u64be chain ms, nonce = u64be):
//   R meter time → the reading and its state      Q meter time → "" while queued (the backlog)
//   T nonce      → a submitted transaction         J meter time → a rejection, for reports
//   M meter      → the meter's summary             C            → counters over all meters
import { compareBytes, concatBytes, fromHex, readU64be, toHex, u64be } from "../../lib/bytes.js";
import { Db, WriteBatch } from "../../state/db.js";

export interface OutboxReading {
  readonly meterIdHash: Uint8Array;
  /** Chain time, unix ms. */
  readonly time: bigint;
  readonly registers: readonly bigint[];
  /** The meter's signature; undefined in oracle-only mode. */
  readonly signature: Uint8Array | undefined;
}

export type ReadingOutcome =
  | { readonly kind: "accepted" }
  /** The chain already had exactly this reading: confirmed, never a rejection. */
  | { readonly kind: "duplicate" }
  | { readonly kind: "rejected"; readonly code: string };

export type ReadingState =
  | { readonly state: "queued" }
  | { readonly state: "submitted"; readonly tx: string }
  | {
      readonly state: "confirmed";
      readonly tx: string;
      readonly height: string;
      readonly result: "accepted" | "duplicate";
    }
  | {
      readonly state: "rejected";
      readonly tx: string;
      readonly height: string;
      readonly code: string;
    };

export interface StoredReading extends OutboxReading {
  readonly status: ReadingState;
}

/** A signed submitReadings transaction the oracle has sent or is about to send. */
export interface PendingTx {
  /** 0x-hex transaction id. */
  readonly id: string;
  readonly nonce: bigint;
  readonly bytes: Uint8Array;
  /** Its readings, in transaction order. */
  readonly readings: readonly { readonly meterIdHash: Uint8Array; readonly time: bigint }[];
}

export interface MeterSummary {
  readonly meterId: string;
  readonly meterIdHash: string;
  /** The newest chain time queued: a source re-read after a restart skips up to here. */
  readonly queuedThrough: string | null;
  readonly lastSubmitted: { readonly time: string; readonly tx: string } | null;
  readonly lastConfirmed: string | null;
  readonly queued: number;
  readonly submitted: number;
  readonly confirmed: number;
  readonly duplicates: number;
  readonly rejected: number;
}

export interface OutboxCounters {
  readonly read: number;
  readonly submitted: number;
  readonly confirmed: number;
  readonly duplicates: number;
  /** Rejected readings by reject code, codes sorted. */
  readonly rejected: Readonly<Record<string, number>>;
}

export interface Rejection {
  readonly meterIdHash: string;
  readonly time: string;
  readonly code: string;
  readonly tx: string;
  readonly height: string;
}

const R = 0x52;
const Q = 0x51;
const T = 0x54;
const J = 0x4a;
const M = 0x4d;
const C = Uint8Array.of(0x43);

const readingKey = (prefix: number, meter: Uint8Array, time: bigint) =>
  concatBytes(Uint8Array.of(prefix), meter, u64be(time));

const text = new TextEncoder();
const untext = new TextDecoder();
const json = (value: unknown) => text.encode(JSON.stringify(value));
const parse = <T>(bytes: Uint8Array): T => JSON.parse(untext.decode(bytes)) as T;

interface ReadingRecord {
  registers: string[];
  signature: string | null;
  status: ReadingState;
}

interface TxRecord {
  id: string;
  bytes: string;
  readings: [string, string][];
}

type MutableSummary = { -readonly [K in keyof MeterSummary]: MeterSummary[K] };
type MutableCounters = {
  read: number;
  submitted: number;
  confirmed: number;
  duplicates: number;
  rejected: Record<string, number>;
};

export class Outbox {
  readonly #db: Db;
  readonly #meters = new Map<string, MutableSummary>();
  #counters: MutableCounters;
  // Every write is a read-modify-write of the summaries: one at a time.
  #queue: Promise<unknown> = Promise.resolve();
  /** Chunks waiting for the next group write (enqueue). */
  readonly #enqueues: {
    readonly meterId: string;
    readonly readings: readonly OutboxReading[];
    readonly resolve: (added: number) => void;
    readonly reject: (error: unknown) => void;
  }[] = [];

  private constructor(db: Db, counters: MutableCounters) {
    this.#db = db;
    this.#counters = counters;
  }

  /** Opens (or creates) the outbox; StoreError LOCKED when another process holds it. */
  static async open(dir: string, options: { create?: boolean } = {}): Promise<Outbox> {
    const db = await Db.open(dir, { create: options.create ?? true });
    const c = db.getSync(C);
    const outbox = new Outbox(
      db,
      c
        ? parse<MutableCounters>(c)
        : { read: 0, submitted: 0, confirmed: 0, duplicates: 0, rejected: {} },
    );
    for await (const [, value] of db.iterate({ gte: Uint8Array.of(M), lt: Uint8Array.of(M + 1) })) {
      const summary = parse<MutableSummary>(value);
      outbox.#meters.set(summary.meterIdHash, summary);
    }
    return outbox;
  }

  close(): Promise<void> {
    return this.#serial(() => this.#db.close());
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #summary(meterIdHash: Uint8Array, meterId?: string): MutableSummary {
    const key = toHex(meterIdHash);
    let summary = this.#meters.get(key);
    if (!summary) {
      summary = {
        meterId: meterId ?? key,
        meterIdHash: key,
        queuedThrough: null,
        lastSubmitted: null,
        lastConfirmed: null,
        queued: 0,
        submitted: 0,
        confirmed: 0,
        duplicates: 0,
        rejected: 0,
      };
    }
    return summary;
  }

  // Summaries are copied, changed and written in the batch, and become current only once the
  // batch is on disk: a failed write leaves memory as the disk is.
  async #commit(
    batch: WriteBatch,
    summaries: Map<string, MutableSummary>,
    counters: MutableCounters,
  ): Promise<void> {
    for (const [key, s] of summaries)
      batch.put(concatBytes(Uint8Array.of(M), fromHex(key, 32)), json(s));
    batch.put(C, json(counters));
    await this.#db.write(batch, { sync: true });
    for (const [key, s] of summaries) this.#meters.set(key, s);
    this.#counters = counters;
  }

  #copies() {
    const summaries = new Map<string, MutableSummary>();
    const counters: MutableCounters = {
      ...this.#counters,
      rejected: { ...this.#counters.rejected },
    };
    const get = (meter: Uint8Array, meterId?: string): MutableSummary => {
      const key = toHex(meter);
      let s = summaries.get(key);
      if (!s) {
        s = { ...this.#summary(meter, meterId) };
        summaries.set(key, s);
      }
      return s;
    };
    return { summaries, counters, get };
  }

  /** The newest chain time queued for a meter, or undefined before its first reading. */
  queuedThrough(meterIdHash: Uint8Array): bigint | undefined {
    const through = this.#meters.get(toHex(meterIdHash))?.queuedThrough;
    return through === null || through === undefined ? undefined : BigInt(through);
  }

  /**
   * Queues a meter's readings (in time order). Those at or before the meter's queuedThrough are
   * skipped, so re-reading a source after a restart queues nothing twice. Returns how many were
   * queued.
   */
  enqueue(meterId: string, readings: readonly OutboxReading[]): Promise<number> {
    const first = readings[0];
    if (first === undefined) return Promise.resolve(0);
    if (readings.some((r) => compareBytes(r.meterIdHash, first.meterIdHash) !== 0)) {
      return Promise.reject(new Error("enqueue: readings of one meter at a time"));
    }
    return new Promise((resolve, reject) => {
      // Group commit: the chunks of every meter that arrive while the outbox is busy go in one
      // write, so many meters feeding at once do not queue a write each ahead of the submitter.
      this.#enqueues.push({ meterId, readings, resolve, reject });
      if (this.#enqueues.length === 1) void this.#serial(() => this.#writeEnqueued());
    });
  }

  async #writeEnqueued(): Promise<void> {
    const chunks = this.#enqueues.splice(0);
    try {
      const { summaries, counters, get } = this.#copies();
      const batch = new WriteBatch();
      const added = chunks.map(({ meterId, readings }) => {
        const summary = get(readings[0]!.meterIdHash, meterId);
        let through = summary.queuedThrough === null ? undefined : BigInt(summary.queuedThrough);
        let count = 0;
        for (const r of readings) {
          if (through !== undefined && r.time <= through) continue;
          const record: ReadingRecord = {
            registers: r.registers.map(String),
            signature: r.signature ? toHex(r.signature) : null,
            status: { state: "queued" },
          };
          batch.put(readingKey(R, r.meterIdHash, r.time), json(record));
          batch.put(readingKey(Q, r.meterIdHash, r.time), new Uint8Array());
          through = r.time;
          count += 1;
        }
        if (count > 0) {
          summary.queuedThrough = String(through);
          summary.queued += count;
          counters.read += count;
        }
        return count;
      });
      if (added.some((count) => count > 0)) await this.#commit(batch, summaries, counters);
      for (const [i, { resolve }] of chunks.entries()) resolve(added[i]!);
    } catch (error) {
      for (const { reject } of chunks) reject(error);
    }
  }

  /**
   * Queued readings in (meter, time) order, at most `limit`, only those with time ≤ `dueBy` (the
   * chain refuses readings too far ahead of its clock); a meter's later readings wait behind its
   * first one not yet due, so each meter's readings go on chain in order.
   */
  async due(limit: number, dueBy: bigint): Promise<StoredReading[]> {
    const out: StoredReading[] = [];
    let from: Uint8Array = Uint8Array.of(Q);
    const end = Uint8Array.of(Q + 1);
    while (out.length < limit) {
      let skipTo: Uint8Array | undefined;
      let seen = false;
      for await (const [key] of this.#db.iterate({
        gte: from,
        lt: end,
        limit: limit - out.length,
      })) {
        seen = true;
        const meter = key.subarray(1, 33);
        const time = readU64be(key, 33);
        if (time > dueBy) {
          // Past every time of this meter: the next meter's first key.
          skipTo = concatBytes(Uint8Array.of(Q), meter, new Uint8Array(8).fill(0xff));
          break;
        }
        const stored = this.get(meter, time);
        if (stored) out.push(stored);
        from = concatBytes(key, Uint8Array.of(0));
      }
      if (skipTo) from = concatBytes(skipTo, Uint8Array.of(0));
      else if (!seen || out.length >= limit) break;
    }
    return out;
  }

  get(meterIdHash: Uint8Array, time: bigint): StoredReading | undefined {
    const value = this.#db.getSync(readingKey(R, meterIdHash, time));
    if (!value) return undefined;
    const record = parse<ReadingRecord>(value);
    return {
      meterIdHash,
      time,
      registers: record.registers.map(BigInt),
      signature: record.signature === null ? undefined : fromHex(record.signature),
      status: record.status,
    };
  }

  /** Records a transaction and moves its readings from queued to submitted, before it is sent. */
  submit(tx: PendingTx): Promise<void> {
    return this.#serial(async () => {
      const { summaries, counters, get } = this.#copies();
      const batch = new WriteBatch();
      for (const { meterIdHash, time } of tx.readings) {
        const stored = this.get(meterIdHash, time);
        if (stored?.status.state !== "queued") {
          throw new Error(`submit: reading ${toHex(meterIdHash)}@${time} is not queued`);
        }
        this.#putStatus(batch, stored, { state: "submitted", tx: tx.id });
        batch.del(readingKey(Q, meterIdHash, time));
        const s = get(meterIdHash);
        s.queued -= 1;
        s.submitted += 1;
        s.lastSubmitted = { time: String(time), tx: tx.id };
      }
      counters.submitted += tx.readings.length;
      const record: TxRecord = {
        id: tx.id,
        bytes: toHex(tx.bytes),
        readings: tx.readings.map((r) => [toHex(r.meterIdHash), String(r.time)]),
      };
      batch.put(concatBytes(Uint8Array.of(T), u64be(tx.nonce)), json(record));
      await this.#commit(batch, summaries, counters);
    });
  }

  /** Submitted transactions not yet settled, in nonce order. */
  async pending(): Promise<PendingTx[]> {
    const out: PendingTx[] = [];
    for await (const [key, value] of this.#db.iterate({
      gte: Uint8Array.of(T),
      lt: Uint8Array.of(T + 1),
    })) {
      const record = parse<TxRecord>(value);
      out.push({
        id: record.id,
        nonce: readU64be(key, 1),
        bytes: fromHex(record.bytes),
        readings: record.readings.map(([m, t]) => ({
          meterIdHash: fromHex(m, 32),
          time: BigInt(t),
        })),
      });
    }
    return out;
  }

  /**
   * The chain's verdict on a transaction: one outcome per reading, in transaction order. A
   * duplicate is confirmed (the chain has exactly this reading), never counted as a rejection.
   */
  settle(tx: PendingTx, height: bigint, outcomes: readonly ReadingOutcome[]): Promise<void> {
    return this.#serial(async () => {
      if (outcomes.length !== tx.readings.length) {
        throw new Error(`settle: ${outcomes.length} outcomes for ${tx.readings.length} readings`);
      }
      const { summaries, counters, get } = this.#copies();
      const batch = new WriteBatch();
      tx.readings.forEach(({ meterIdHash, time }, i) => {
        const stored = this.get(meterIdHash, time);
        const outcome = outcomes[i];
        if (stored?.status.state !== "submitted" || outcome === undefined) return;
        const s = get(meterIdHash);
        s.submitted -= 1;
        const h = String(height);
        if (outcome.kind === "rejected") {
          this.#putStatus(batch, stored, {
            state: "rejected",
            tx: tx.id,
            height: h,
            code: outcome.code,
          });
          const rejection: Rejection = {
            meterIdHash: toHex(meterIdHash),
            time: String(time),
            code: outcome.code,
            tx: tx.id,
            height: h,
          };
          batch.put(readingKey(J, meterIdHash, time), json(rejection));
          s.rejected += 1;
          counters.rejected[outcome.code] = (counters.rejected[outcome.code] ?? 0) + 1;
        } else {
          this.#putStatus(batch, stored, {
            state: "confirmed",
            tx: tx.id,
            height: h,
            result: outcome.kind,
          });
          s.confirmed += 1;
          counters.confirmed += 1;
          if (outcome.kind === "duplicate") {
            s.duplicates += 1;
            counters.duplicates += 1;
          }
          if (s.lastConfirmed === null || BigInt(s.lastConfirmed) < time)
            s.lastConfirmed = String(time);
        }
      });
      counters.rejected = sortedCounts(counters.rejected);
      batch.del(concatBytes(Uint8Array.of(T), u64be(tx.nonce)));
      await this.#commit(batch, summaries, counters);
    });
  }

  /**
   * Transactions that never reached the chain, or were rejected whole: their readings are
   * queued again and they are dropped, all in one write, so a crash never leaves a later nonce
   * pending behind a dropped one.
   */
  requeue(txs: readonly PendingTx[]): Promise<void> {
    return this.#serial(async () => {
      const { summaries, counters, get } = this.#copies();
      const batch = new WriteBatch();
      for (const tx of txs) {
        for (const { meterIdHash, time } of tx.readings) {
          const stored = this.get(meterIdHash, time);
          if (stored?.status.state !== "submitted") continue;
          this.#putStatus(batch, stored, { state: "queued" });
          batch.put(readingKey(Q, meterIdHash, time), new Uint8Array());
          const s = get(meterIdHash);
          s.submitted -= 1;
          s.queued += 1;
        }
        counters.submitted -= tx.readings.length;
        batch.del(concatBytes(Uint8Array.of(T), u64be(tx.nonce)));
      }
      await this.#commit(batch, summaries, counters);
    });
  }

  #putStatus(batch: WriteBatch, stored: StoredReading, status: ReadingState): void {
    const record: ReadingRecord = {
      registers: stored.registers.map(String),
      signature: stored.signature ? toHex(stored.signature) : null,
      status,
    };
    batch.put(readingKey(R, stored.meterIdHash, stored.time), json(record));
  }

  /** Per-meter summaries, ordered by meter id hash. */
  meters(): MeterSummary[] {
    return [...this.#meters.values()]
      .sort((a, b) => (a.meterIdHash < b.meterIdHash ? -1 : 1))
      .map((s) => ({ ...s }));
  }

  counters(): OutboxCounters {
    return { ...this.#counters, rejected: { ...this.#counters.rejected } };
  }

  /** Readings queued or submitted but not yet settled. */
  backlog(): number {
    let n = 0;
    for (const s of this.#meters.values()) n += s.queued + s.submitted;
    return n;
  }

  /** Rejected readings in (meter, time) order, at most `limit`. */
  async rejections(limit: number): Promise<Rejection[]> {
    const out: Rejection[] = [];
    for await (const [, value] of this.#db.iterate({
      gte: Uint8Array.of(J),
      lt: Uint8Array.of(J + 1),
      limit,
    })) {
      out.push(parse<Rejection>(value));
    }
    return out;
  }
}

function sortedCounts(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const code of Object.keys(counts).sort()) out[code] = counts[code] ?? 0;
  return out;
}
