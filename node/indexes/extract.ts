// What the node's indexes and the RPC subscriptions take from one block: pure functions from a
// block, its receipts and its end-of-block events to records. The commit hook, the rebuild and
// the subscriptions all derive from here, so an index rebuilt from blocks holds what the live
// hook wrote.
import { addressOf } from "../../lib/address.js";
import type { Block } from "../../lib/block.js";
import { equalBytes, toHex } from "../../lib/bytes.js";
import { decodeTx } from "../../lib/tx.js";
import type {
  AuctionRecord,
  LocatedEvent,
  PolicyChange,
  ReadingRecord,
  TradeRecord,
} from "../../rpc/backend.js";
import type { Event } from "../../vm/event.js";
import type { Receipt } from "../../vm/receipt.js";
import type { Tx } from "../../vm/tx/registry.js";
import { decodePayload, type PayloadOf } from "../../vm/tx/types.js";

export interface IndexInput {
  readonly height: bigint;
  readonly time: bigint;
  readonly block: Block;
  readonly txIds: readonly Uint8Array[];
  /** The block's transactions already decoded (by execution); decoded from the block if absent. */
  readonly txs?: readonly Tx[];
  readonly receipts: readonly Receipt[];
  /** End-of-block events; each transaction's are in its receipt. */
  readonly endEvents: readonly Event[];
}

export interface AddressRef {
  readonly address: Uint8Array;
  readonly txId: Uint8Array;
  readonly index: number;
  readonly role: "signer" | "party";
}

export interface OracleBatch {
  readonly oracle: Uint8Array;
  readonly readings: number;
  readonly rejections: ReadonlyMap<string, number>;
}

export interface BlockRecords {
  readonly events: readonly LocatedEvent[];
  readonly addressRefs: readonly AddressRef[];
  readonly readings: readonly ReadingRecord[];
  readonly oracleBatches: readonly OracleBatch[];
  readonly trades: readonly TradeRecord[];
  readonly auctions: readonly AuctionRecord[];
  readonly policyChanges: readonly PolicyChange[];
  /** The validators whose signatures the block's last commit (of height - 1) carries. */
  readonly lastCommit:
    | { readonly height: bigint; readonly signers: readonly Uint8Array[] }
    | undefined;
  readonly evidence: readonly { readonly validator: Uint8Array; readonly evidenceHeight: bigint }[];
}

/** Which utility a household belongs to; fills name the household, not the market. */
export type UtilityOf = (household: Uint8Array) => string | undefined;

const ADDRESS_BYTES = 20;

/** Every 20-byte value in a decoded record: the addresses it names (see rpc/json.ts). */
function addressesIn(value: unknown, out: Uint8Array[]): void {
  if (value instanceof Uint8Array) {
    if (value.length === ADDRESS_BYTES) out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) addressesIn(item, out);
  } else if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) addressesIn(item, out);
  }
}

function uniqueAddresses(list: readonly Uint8Array[], except: Uint8Array): Uint8Array[] {
  const seen = new Set<string>([toHex(except)]);
  const out: Uint8Array[] = [];
  for (const a of list) {
    const hex = toHex(a);
    if (seen.has(hex)) continue;
    seen.add(hex);
    out.push(a);
  }
  return out;
}

/** What the indexes read of a transaction: its signer, and its payload when that decodes. */
type TxView = Pick<Tx, "signer"> & Partial<Pick<Tx, "type" | "payload">>;

function decodeBlockTx(bytes: Uint8Array): TxView {
  const { body } = decodeTx(bytes);
  const decoded = decodePayload(body.type, body.payload);
  return {
    signer: addressOf(body.signer),
    ...(decoded.ok ? { type: decoded.payload.type, payload: decoded.payload.value } : {}),
  };
}

export function extractBlock(input: IndexInput, utilityOf: UtilityOf): BlockRecords {
  const { height, time, block } = input;
  const events: LocatedEvent[] = [];
  const addressRefs: AddressRef[] = [];
  const readings: ReadingRecord[] = [];
  const oracleBatches: OracleBatch[] = [];
  // Households registered in this block are not in the state the hook reads yet.
  const registered = new Map<string, string>();
  const utilityOfHousehold = (household: Uint8Array): string | undefined =>
    registered.get(toHex(household)) ?? utilityOf(household);

  block.txs.forEach((bytes, index) => {
    const txId = input.txIds[index];
    const receipt = input.receipts[index];
    if (!txId || !receipt) return;
    const tx = input.txs?.[index] ?? decodeBlockTx(bytes);
    const { signer, payload } = tx;
    addressRefs.push({ address: signer, txId, index, role: "signer" });
    const named: Uint8Array[] = [];
    if (payload !== undefined) addressesIn(payload, named);
    for (const event of receipt.events) {
      addressesIn(event.value, named);
      events.push({ event, txId });
      if (event.kind === "householdRegistered") {
        registered.set(toHex(event.value.household), event.value.utility);
      }
    }
    for (const party of uniqueAddresses(named, signer)) {
      addressRefs.push({ address: party, txId, index, role: "party" });
    }
    const batch =
      tx.type === "submitReadings" ? (payload as PayloadOf<"submitReadings">) : undefined;
    if (batch && receipt.readingResults) {
      const rejections = new Map<string, number>();
      batch.readings.forEach((reading, i) => {
        const outcome = receipt.readingResults?.[i];
        if (!outcome) return;
        const reject = outcome.kind === "rejected" ? outcome.value : undefined;
        if (reject) rejections.set(reject, (rejections.get(reject) ?? 0) + 1);
        readings.push({
          meterIdHash: reading.meterIdHash,
          oracle: signer,
          height,
          txId,
          index: i,
          time: reading.time,
          registers: reading.registers,
          result: outcome.kind,
          reject,
        });
      });
      oracleBatches.push({
        oracle: signer,
        readings: batch.readings.length,
        rejections,
      });
    }
  });
  for (const event of input.endEvents) events.push({ event, txId: undefined });

  const trades: TradeRecord[] = [];
  const auctions: AuctionRecord[] = [];
  const policyChanges: PolicyChange[] = [];
  for (const { event, txId } of events) {
    if (event.kind === "orderFilled") {
      const utility = utilityOfHousehold(event.value.household);
      if (utility === undefined) continue;
      trades.push({ utility, height, time, ...event.value });
    } else if (event.kind === "auction") {
      auctions.push({ height, time, ...event.value });
    } else if (event.kind === "policyScheduled") {
      policyChanges.push({ ...event.value, height, time, txId });
    }
  }

  const lastCommit = block.lastCommit
    ? {
        height: block.lastCommit.height,
        signers: block.lastCommit.signatures.map((s) => s.validator),
      }
    : undefined;
  const evidence = block.evidence.map((e) => ({
    validator: e.value.voteA.vote.validator,
    evidenceHeight: e.value.voteA.vote.height,
  }));
  return {
    events,
    addressRefs,
    readings,
    oracleBatches,
    trades,
    auctions,
    policyChanges,
    lastCommit,
    evidence,
  };
}

/** Whether an event concerns `address`: it names it anywhere in its value. */
export function eventNames(event: Event, address: Uint8Array): boolean {
  const named: Uint8Array[] = [];
  addressesIn(event.value, named);
  return named.some((a) => equalBytes(a, address));
}
