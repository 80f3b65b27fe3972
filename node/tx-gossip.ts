// Transactions travel on gossip in batches: one message carries every transaction a node took in
// over a few milliseconds. Under load a validator's gossip cost was per message, not per byte —
// an encryption, a stream frame and a socket write for each peer, a content id and a seen-cache
// entry for each copy received — and a transaction is ~150 bytes, so one message per
// transaction spent more on the envelope than on the content.
//
// A batch is judged as a whole, since gossipsub forwards or drops whole messages: a batch with a
// transaction no honest node would have admitted (forged, malformed) is rejected and its sender
// scored down; a batch of which this node admitted something is accepted and forwarded; a batch
// of only benign refusals (already known, already on chain, a full pool) is ignored, neither
// forwarded nor blamed — an honest peer sends those whenever a block lands while its batch is
// in flight.
import { bytes, decode, encode, list } from "../lib/codec.js";
import { MAX_TX_BYTES } from "../lib/tx.js";
import type { RejectCode } from "../vm/codes.js";
import type { AddResult } from "./mempool.js";
import { MAX_TX_BATCH_BYTES, MAX_TXS_PER_BATCH, type Verdict } from "./p2p/index.js";

/** msgpack's header sizes: an array of `count` items, a bin of `length` bytes. */
const arrayHeaderBytes = (count: number) => (count < 16 ? 1 : count < 0x10000 ? 3 : 5);
const binHeaderBytes = (length: number) => (length < 0x100 ? 2 : length < 0x10000 ? 3 : 5);

const TxBatchSchema = list(bytes({ max: MAX_TX_BYTES }), MAX_TXS_PER_BATCH);

/** Refusals that prove the sender relayed a transaction no honest node would admit. */
const FORGED_TX_CODES: ReadonlySet<string> = new Set<RejectCode>([
  "TX_MALFORMED",
  "TX_TOO_LARGE",
  "WRONG_CHAIN_ID",
  "BAD_SIGNER_KEY",
  "BAD_SIGNATURE",
  "UNKNOWN_TX_TYPE",
  "PAYLOAD_MALFORMED",
]);

export class TxBatchError extends Error {
  override name = "TxBatchError";
}

/** Encodes one batch; the transactions must fit (see packTxBatches). */
export function encodeTxBatch(txs: readonly Uint8Array[]): Uint8Array {
  if (txs.length === 0) throw new TxBatchError("a batch holds at least one transaction");
  const data = encode(TxBatchSchema, [...txs]);
  if (data.length > MAX_TX_BATCH_BYTES) {
    throw new TxBatchError(`${data.length} bytes is over the batch limit of ${MAX_TX_BATCH_BYTES}`);
  }
  return data;
}

/** Decodes a gossiped batch; throws for anything but 1..MAX_TXS_PER_BATCH transactions. */
export function decodeTxBatch(data: Uint8Array): Uint8Array[] {
  const txs = decode(TxBatchSchema, data, { maxBytes: MAX_TX_BATCH_BYTES });
  if (txs.length === 0) throw new TxBatchError("an empty batch");
  return txs;
}

/**
 * Splits transactions, in order, into the fewest batches within the count and byte limits. A
 * transaction too large for any batch cannot exist (MAX_TX_BYTES is below the batch limit).
 */
export function packTxBatches<T extends { readonly bytes: Uint8Array }>(txs: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  /** The encoded size of current's items, without the array header. */
  let itemBytes = 0;
  for (const tx of txs) {
    const size = binHeaderBytes(tx.bytes.length) + tx.bytes.length;
    const count = current.length + 1;
    if (
      current.length > 0 &&
      (count > MAX_TXS_PER_BATCH || arrayHeaderBytes(count) + itemBytes + size > MAX_TX_BATCH_BYTES)
    ) {
      batches.push(current);
      current = [];
      itemBytes = 0;
    }
    current.push(tx);
    itemBytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Validates a gossiped batch: each transaction goes to `admit` (the mempool), then the batch gets
 * its verdict. Bytes that are no batch throw, which the gossip layer counts as "reject".
 */
export async function admitTxBatch(
  data: Uint8Array,
  admit: (tx: Uint8Array) => Promise<AddResult>,
): Promise<Verdict> {
  return txBatchVerdict(await Promise.all(decodeTxBatch(data).map(admit)));
}

/** The gossip verdict on a batch once each of its transactions went to the mempool. */
export function txBatchVerdict(results: readonly AddResult[]): Verdict {
  let admitted = false;
  for (const result of results) {
    if (result.ok) admitted = true;
    else if (FORGED_TX_CODES.has(result.code)) return "reject";
  }
  return admitted ? "accept" : "ignore";
}
