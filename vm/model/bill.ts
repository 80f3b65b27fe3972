// A bill payment or charge a utility recorded, keyed by its external reference (the utility's
// invoice or payment id) so that recording it twice is refused and it can be reversed once.
import { bool, enumeration, type Infer, struct, u64 } from "../../lib/codec.js";
import { AddressSchema } from "./common.js";

export const BillKindSchema = enumeration("BillKind", ["payment", "charge"]);
export type BillKind = Infer<typeof BillKindSchema>;

export const BillRecordSchema = struct("BillRecord", {
  kind: BillKindSchema,
  household: AddressSchema,
  amount: u64,
  height: u64,
  reversed: bool,
});
export type BillRecord = Infer<typeof BillRecordSchema>;
