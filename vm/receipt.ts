// Receipts: one per transaction, in block order; the node commits to them in receiptsRoot.
// A rejected transaction's receipt carries its code and no events (its writes were dropped).
import {
  CodecError,
  decode,
  encode,
  type Infer,
  list,
  optional,
  struct,
  text,
  type UnionOf,
  union,
} from "../lib/codec.js";
import { isRejectCode, type RejectCode } from "./codes.js";
import { EventSchema } from "./event.js";
import { HashSchema, mapped } from "./model/common.js";
import { MAX_BATCH_READINGS } from "./tx/types.js";

/** A reject code, written as its name so codes can be added without renumbering. */
function checkedCode(name: string, path: string): RejectCode {
  if (!isRejectCode(name)) throw new CodecError("SCHEMA", `${path}: unknown reject code ${name}`);
  return name;
}

export const RejectCodeSchema = mapped("RejectCode", text(64), checkedCode, checkedCode);

const empty = struct("Empty", {});

const outcomeVariants = {
  ok: [0, empty],
  rejected: [1, RejectCodeSchema],
} as const;
export const OutcomeSchema = union("Outcome", outcomeVariants);
export type Outcome = UnionOf<typeof outcomeVariants>;

const readingResultVariants = {
  accepted: [0, empty],
  /** An exact repeat of the meter's last reading: an idempotent no-op. */
  duplicate: [1, empty],
  rejected: [2, RejectCodeSchema],
} as const;
export const ReadingResultSchema = union("ReadingResult", readingResultVariants);
export type ReadingResult = UnionOf<typeof readingResultVariants>;

export const ReceiptSchema = struct("Receipt", {
  txId: HashSchema,
  outcome: OutcomeSchema,
  events: list(EventSchema, 1 << 16),
  /** One per reading of an oracle batch, in batch order; absent for other transactions. */
  readingResults: optional(list(ReadingResultSchema, MAX_BATCH_READINGS)),
});
export type Receipt = Infer<typeof ReceiptSchema>;

export const OK: Outcome = { kind: "ok", value: {} };

export function rejected(code: RejectCode): Outcome {
  return { kind: "rejected", value: code };
}

export function encodeReceipt(receipt: Receipt): Uint8Array {
  return encode(ReceiptSchema, receipt);
}

export function decodeReceipt(data: Uint8Array): Receipt {
  return decode(ReceiptSchema, data);
}
