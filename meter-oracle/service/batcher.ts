// Packs due readings into one submitReadings transaction (DESIGN.md §6 "Readings"): at most the
// chain's maxReadingsPerBatch (a larger batch is refused whole, BATCH_TOO_LARGE) and under the
// transaction size limit (a larger one never enters the mempool), ordered by (meter, time) so
// each meter's readings apply in time order within the batch. Pure: no I/O, no clock.
import { compareBytes } from "../../lib/bytes.js";
import { encode } from "../../lib/codec.js";
import { MAX_TX_BYTES } from "../../lib/tx.js";
import { type BuiltTx, buildSignedTx } from "../../rpc/client/tx-builder.js";
import { type Reading, ReadingSchema } from "../../vm/model/reading.js";
import type { OutboxReading } from "./outbox.js";

/**
 * Room left in a transaction for everything but the readings: the envelope (chain id ≤ 64
 * bytes, nonce, type, signer, signature) and the msgpack headers of the payload and its list.
 */
export const ENVELOPE_BYTES = 512;

export interface BatchLimits {
  /** The chain's maxReadingsPerBatch (or less). */
  readonly maxReadings: number;
  /** The signed transaction's limit; MAX_TX_BYTES by default. */
  readonly maxTxBytes?: number;
}

export function toChainReading(r: OutboxReading): Reading {
  return {
    meterIdHash: r.meterIdHash,
    time: r.time,
    registers: [...r.registers],
    signature: r.signature,
  };
}

/** Orders readings by (meter id hash, time), the order a batch carries them in. */
export function byMeterAndTime(a: OutboxReading, b: OutboxReading): number {
  return (
    compareBytes(a.meterIdHash, b.meterIdHash) || (a.time < b.time ? -1 : a.time > b.time ? 1 : 0)
  );
}

/**
 * The longest prefix of `readings` (sorted by (meter, time) first) that fits one transaction.
 * Empty only for empty input: a single reading always fits.
 */
export function packBatch<R extends OutboxReading>(
  readings: readonly R[],
  limits: BatchLimits,
): R[] {
  const budget = (limits.maxTxBytes ?? MAX_TX_BYTES) - ENVELOPE_BYTES;
  const sorted = [...readings].sort(byMeterAndTime);
  const out: R[] = [];
  let bytes = 0;
  for (const r of sorted) {
    if (out.length >= limits.maxReadings) break;
    const size = encode(ReadingSchema, toChainReading(r)).length;
    if (out.length > 0 && bytes + size > budget) break;
    out.push(r);
    bytes += size;
  }
  return out;
}

/** Signs a submitReadings transaction with the oracle's key, through the SDK's builder. */
export function buildSubmitReadings(
  chainId: string,
  nonce: bigint,
  oracleSecretKey: Uint8Array,
  readings: readonly OutboxReading[],
): BuiltTx {
  return buildSignedTx(oracleSecretKey, chainId, nonce, "submitReadings", {
    readings: readings.map(toChainReading),
  });
}
