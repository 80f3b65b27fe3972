// The values the index buckets hold, in the canonical codec: they are the node's own records
// (not consensus data), but a stable binary form lets a newer node read an older index or
// decide to rebuild it.
import {
  bytes,
  decode,
  encode,
  enumeration,
  list,
  optional,
  type Schema,
  struct,
  text,
  u64,
} from "../../lib/codec.js";
import { ReceiptSchema } from "../../vm/receipt.js";

const address = bytes({ length: 20 });
const hash = bytes({ length: 32 });
const PricePoint = struct("IdxPricePoint", { price: u64, qty: u64 });

export const schemas = {
  reading: struct("IdxReading", {
    oracle: address,
    txId: hash,
    time: u64,
    registers: list(u64, 2),
    result: enumeration("IdxReadingResult", ["accepted", "duplicate", "rejected"]),
    reject: optional(text(64)),
  }),
  policy: struct("IdxPolicyChange", { time: u64, fromPeriod: u64, txId: optional(hash) }),
  trade: struct("IdxTrade", {
    time: u64,
    order: hash,
    household: address,
    side: enumeration("IdxSide", ["buy", "sell"]),
    qty: u64,
    price: u64,
  }),
  auction: struct("IdxAuction", {
    time: u64,
    period: u64,
    price: optional(u64),
    volume: u64,
    demand: list(PricePoint, 1 << 20),
    supply: list(PricePoint, 1 << 20),
  }),
  liveness: struct("IdxLiveness", { signed: u64, missed: u64, lastSigned: optional(u64) }),
  oracleStats: struct("IdxOracleStats", {
    batches: u64,
    readings: u64,
    rejections: list(struct("IdxRejection", { code: text(64), count: u64 }), 1024),
  }),
  receipt: ReceiptSchema,
};

export function encodeRecord<T>(schema: Schema<T>, value: T): Uint8Array {
  return encode(schema, value);
}

export function decodeRecord<T>(schema: Schema<T>, data: Uint8Array): T {
  return decode(schema, data);
}
