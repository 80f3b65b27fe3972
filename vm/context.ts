// What a handler or an end-of-block job sees: the block being executed, the genesis parameters,
// typed access to the state (through an overlay, so a refused transaction's writes can be
// dropped), the event sink, and the block's effects beyond state (validator-set updates).

import { byteString } from "../lib/bytes.js";
import { decode, decodeOwn, encode, type Schema } from "../lib/codec.js";
import type { Evidence } from "../lib/evidence.js";
import type { Validator } from "../lib/validator.js";
import {
  isKeyed,
  type KeyedStateReader,
  type ScanOptions,
  type StateOverlay,
  type StateReader,
} from "../state/overlay.js";
import { Reject, type RejectCode, reject } from "./codes.js";
import type { Event } from "./event.js";
import type { Params } from "./model/chain.js";
import type { Household } from "./model/household.js";
import type { ValidatorChange } from "./model/validators.js";
import { periodOf, periodStart } from "./period.js";
import type { ReadingResult } from "./receipt.js";
import { type Singleton, type Table, tables } from "./tables.js";

export interface BlockContext {
  readonly chainId: string;
  readonly height: bigint;
  /** Unix ms, the proposer's. */
  readonly time: bigint;
  readonly parentHash: Uint8Array;
  /** The proposer's validator address. */
  readonly proposer: Uint8Array;
}

/** The set that takes effect at `fromHeight` (H+2 for a block at H) and what changed. */
export interface ValidatorUpdate {
  readonly fromHeight: bigint;
  readonly validators: Validator[];
  readonly changes: ValidatorChange[];
}

/** A module's reaction to a household being closed (e.g. cancelling its open orders). */
export type HouseholdCloseHook = (ctx: ExecutionContext, household: Household) => Promise<void>;

/**
 * The signature keys the host has verified (its workers, or its mempool on admission). The vm
 * adds each valid one it had to verify itself, so the host never verifies a signature twice
 * (say, a batch whose proposal came before its gossip); a block's results never depend on it.
 */
export interface VerifiedSignatures {
  has(key: string): boolean;
  add(key: string): void;
}

/** What stays the same for every transaction and job of one block. */
export interface BlockEnv {
  readonly block: BlockContext;
  readonly params: Params;
  /** Evidence included in the block, already verified by the host. */
  readonly evidence: readonly Evidence[];
  readonly householdCloseHooks: readonly HouseholdCloseHook[];
  /** Meter signatures the host already verified (vm/readings/signature.ts meterSignatureKey). */
  readonly verifiedSignatures?: VerifiedSignatures;
  /** Set by the end-of-block validator-set job. */
  validatorUpdate: ValidatorUpdate | undefined;
}

/** The genesis parameters; their absence means the state is not a Wattcap chain's. */
export function readParams(state: StateReader): Params {
  const bytes = state.get(tables.params.key);
  if (bytes === undefined) throw new Error("the state has no genesis parameters");
  return decode(tables.params.schema, bytes);
}

// Records decoded from state, kept on the very bytes object they were decoded from. A block
// reads the same records over and over (the utility, its policy snapshot, a household in its
// authorise check and again in its handler), and the state hands back the same bytes object for
// a key until it is written again (an overlay keeps what was set, the store's value cache what
// was committed), so decoding once is enough: a memo serves only reads that got that bytes
// object, under the same schema. It lives on the bytes, under a symbol and not enumerable, so
// it goes when they go and costs no lookup: a map by state key cost a lookup in a large table on
// every read, and a WeakMap several µs an insertion under a block's allocation rate. The
// values are frozen: a memo shared this way must never change, and handlers build new records
// rather than editing the ones they read. Decoding skips the canonical re-encoding check
// (lib/codec.ts decodeOwn): every value in state was written by encode(), here or on the nodes
// whose blocks this one executed, and a snapshot import checks each value it brings in.
const DECODED = Symbol("decoded record");

interface Memo {
  readonly schema: Schema<unknown>;
  readonly value: unknown;
}

function decodeRecord<V>(schema: Schema<V>, bytes: Uint8Array): V {
  const memo = (bytes as Uint8Array & { [DECODED]?: Memo })[DECODED];
  if (memo !== undefined && memo.schema === schema) return memo.value as V;
  const value = deepFreeze(decodeOwn(schema, bytes));
  Object.defineProperty(bytes, DECODED, {
    value: { schema, value },
    writable: true,
    configurable: true,
  });
  return value;
}

/** Freezes plain objects and arrays all the way down (byte arrays cannot be frozen). */
function deepFreeze<V>(value: V): V {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return value;
  for (const inner of Object.values(value)) deepFreeze(inner);
  return Object.freeze(value);
}

/** Read-only state access: what authorisation checks get, in blocks and in the mempool. */
export class StateView {
  private readonly keyed: KeyedStateReader | undefined;

  constructor(
    protected readonly state: StateReader,
    readonly block: BlockContext,
    readonly params: Params,
  ) {
    this.keyed = isKeyed(state) ? state : undefined;
  }

  get<K, V>(table: Table<K, V>, key: K): V | undefined {
    return this.read(table.schema, table.key(key));
  }

  private read<V>(schema: Schema<V>, key: Uint8Array): V | undefined {
    const id = byteString(key);
    const bytes = this.keyed ? this.keyed.getKeyed(id, key) : this.state.get(key);
    return bytes === undefined ? undefined : decodeRecord(schema, bytes);
  }

  /** The record, or a refusal with `code` if there is none. */
  need<K, V>(table: Table<K, V>, key: K, code: RejectCode): V {
    return this.get(table, key) ?? reject(code);
  }

  /** A singleton genesis wrote; its absence means the state is not a Wattcap chain's. */
  one<V>(singleton: Singleton<V>): V {
    const value = this.read(singleton.schema, singleton.key);
    if (value === undefined) throw new Error(`state has no ${singleton.name} record`);
    return value;
  }

  /** The period the block's time falls in; undefined before the first period starts. */
  currentPeriod(): bigint | undefined {
    return periodOf(this.params.schedule, this.block.time);
  }

  /** Whether period k has started by the block's time. */
  hasStarted(k: bigint): boolean {
    return periodStart(this.params.schedule, k) <= this.block.time;
  }

  periodStart(k: bigint): bigint {
    return periodStart(this.params.schedule, k);
  }
}

export class ExecutionContext extends StateView {
  private readonly emitted: Event[] = [];
  private results: ReadingResult[] | undefined;

  constructor(
    protected override readonly state: StateOverlay,
    readonly env: BlockEnv,
  ) {
    super(state, env.block, env.params);
  }

  /**
   * Runs `work` on a child of this state: its writes and events join this context only if it
   * finishes. A Reject discards them and is returned; any other error is a bug and propagates.
   */
  async attempt(work: (ctx: ExecutionContext) => Promise<void>): Promise<RejectCode | undefined> {
    const child = new ExecutionContext(this.state.child(), this.env);
    try {
      await work(child);
    } catch (e) {
      if (e instanceof Reject) return e.code;
      throw e;
    }
    child.state.mergeIntoParent();
    for (const event of child.events) this.emit(event);
    return undefined;
  }

  // A table's key and encode() are new arrays nobody else holds, so the overlay may keep them.
  put<K, V>(table: Table<K, V>, key: K, value: V): void {
    this.state.setOwned(table.key(key), encode(table.schema, value));
  }

  delete<K, V>(table: Table<K, V>, key: K): void {
    this.state.deleteOwned(table.key(key));
  }

  putOne<V>(singleton: Singleton<V>, value: V): void {
    this.state.set(singleton.key, encode(singleton.schema, value));
  }

  /** Raw ordered scan, for jobs that walk an index with a cursor. */
  scan(
    prefix: Uint8Array,
    options?: ScanOptions,
  ): Promise<Array<readonly [Uint8Array, Uint8Array]>> {
    return this.state.scan(prefix, options);
  }

  emit(event: Event): void {
    this.emitted.push(event);
  }

  get events(): readonly Event[] {
    return this.emitted;
  }

  /** An oracle batch's per-reading results, for its receipt. */
  setReadingResults(results: ReadingResult[]): void {
    this.results = results;
  }

  get readingResults(): ReadingResult[] | undefined {
    return this.results;
  }
}
