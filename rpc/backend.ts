// What the RPC handlers read from: the node's chain, store, mempool and indexes, behind one
// interface so the handlers stay plain functions over data and tests can serve from a real
// node (node/rpc-backend.ts) or from anything else that fills it in. Values are the chain's own
// (bigints, bytes, decoded records); the handlers turn them into rpc/json.ts forms.
import type { Block, Header } from "../lib/block.js";
import type { Commit } from "../lib/commit.js";
import type { Validator } from "../lib/validator.js";
import type { StateReader } from "../state/overlay.js";
import type { SmtProof } from "../state/smt/proof.js";
import type { Event } from "../vm/event.js";
import type { Receipt } from "../vm/receipt.js";
import type { Tx } from "../vm/tx/registry.js";

export interface BackendHead {
  readonly height: bigint;
  readonly hash: Uint8Array;
  readonly header: Header;
}

export interface StoredBlock {
  readonly height: bigint;
  readonly hash: Uint8Array;
  readonly block: Block;
  /**
   * The transactions as execution decoded them (with their ids), in block order, where the
   * node still holds them (its latest blocks); without them a reader decodes block.txs.
   */
  readonly decoded?: readonly Tx[];
}

export type SubmitResult =
  | { readonly ok: true; readonly id: Uint8Array }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** One page of an index, newest first; `next` resumes after the last item. */
export interface IndexPage<T> {
  readonly items: readonly T[];
  readonly next: Uint8Array | undefined;
}

export interface PageRequest {
  /** The `next` of the previous page. */
  readonly after?: Uint8Array;
  readonly limit: number;
}

export interface TxRef {
  readonly txId: Uint8Array;
  readonly height: bigint;
  readonly index: number;
  readonly role: "signer" | "party";
}

export interface ReadingRecord {
  readonly meterIdHash: Uint8Array;
  readonly oracle: Uint8Array;
  readonly height: bigint;
  readonly txId: Uint8Array;
  /** The reading's position in its batch. */
  readonly index: number;
  readonly time: bigint;
  readonly registers: readonly bigint[];
  readonly result: "accepted" | "duplicate" | "rejected";
  readonly reject: string | undefined;
}

export interface TradeRecord {
  readonly utility: string;
  readonly height: bigint;
  readonly time: bigint;
  readonly order: Uint8Array;
  readonly household: Uint8Array;
  readonly side: "buy" | "sell";
  readonly qty: bigint;
  readonly price: bigint;
}

export interface AuctionRecord {
  readonly utility: string;
  readonly height: bigint;
  readonly time: bigint;
  readonly period: bigint;
  readonly price: bigint | undefined;
  readonly volume: bigint;
  readonly demand: readonly { readonly price: bigint; readonly qty: bigint }[];
  readonly supply: readonly { readonly price: bigint; readonly qty: bigint }[];
}

export interface PolicyChange {
  readonly utility: string;
  readonly height: bigint;
  readonly time: bigint;
  readonly fromPeriod: bigint;
  readonly txId: Uint8Array | undefined;
}

export interface Liveness {
  /** Commits (of blocks the index has seen) this validator signed, and missed while in the set. */
  readonly signed: bigint;
  readonly missed: bigint;
  readonly lastSigned: bigint | undefined;
  /** Evidence against it: the block that carried it and the height of the double vote. */
  readonly evidence: readonly { readonly height: bigint; readonly evidenceHeight: bigint }[];
}

export interface OracleStats {
  readonly batches: bigint;
  readonly readings: bigint;
  /** Reject code → readings refused with it, sorted by code. */
  readonly rejections: readonly { readonly code: string; readonly count: bigint }[];
}

/** The node's rebuildable indexes (node/indexes), read side. */
export interface IndexReader {
  txsByAddress(address: Uint8Array, page: PageRequest): Promise<IndexPage<TxRef>>;
  readingsByMeter(meterIdHash: Uint8Array, page: PageRequest): Promise<IndexPage<ReadingRecord>>;
  trades(utility: string, page: PageRequest): Promise<IndexPage<TradeRecord>>;
  auctions(utility: string, page: PageRequest): Promise<IndexPage<AuctionRecord>>;
  policyHistory(utility: string, page: PageRequest): Promise<IndexPage<PolicyChange>>;
  liveness(validator: Uint8Array): Promise<Liveness>;
  oracleStats(oracle: Uint8Array): OracleStats;
}

/** An event with the transaction that caused it (none for end-of-block work). */
export interface LocatedEvent {
  readonly event: Event;
  readonly txId: Uint8Array | undefined;
}

/** What subscriptions get for each committed block, derived once per block. */
export interface CommittedDigest {
  readonly height: bigint;
  readonly hash: Uint8Array;
  readonly header: Header;
  readonly txCount: number;
  readonly events: readonly LocatedEvent[];
  readonly trades: readonly TradeRecord[];
  readonly auctions: readonly AuctionRecord[];
  readonly readings: readonly ReadingRecord[];
}

export interface RpcBackend {
  readonly chainId: string;
  readonly genesisHash: Uint8Array;
  head(): BackendHead;
  /** True while the node is catching up with its peers. */
  syncing(): boolean;
  /** The committed state at the head. */
  state(): StateReader;
  block(at: bigint | Uint8Array): StoredBlock | undefined;
  /** The commit that decided the block at `height`; undefined for genesis or unknown heights. */
  commit(height: bigint): Commit | undefined;
  /** The validator set in force at `height`, or undefined where it is no longer (or not) known. */
  validatorSet(height: bigint): readonly Validator[] | undefined;
  txLocation(txId: Uint8Array): { readonly height: bigint; readonly index: number } | undefined;
  receipt(txId: Uint8Array): Receipt | undefined;
  isPending(txId: Uint8Array): boolean;
  submitTx(bytes: Uint8Array): Promise<SubmitResult>;
  /** A proof of `key` at version `height`, or undefined when that version is not kept. */
  prove(
    height: bigint,
    key: Uint8Array,
  ): { readonly value: Uint8Array | undefined; readonly proof: SmtProof } | undefined;
  readonly indexes: IndexReader;
  onCommitted(listener: (digest: CommittedDigest) => void): () => void;
}
