// An oracle key, registered by a utility to relay its households' readings. A revoked oracle
// keeps its record so its past batches remain attributable and it cannot move to another utility.
import { bool, type Infer, struct, text, u64 } from "../../lib/codec.js";
import { AddressSchema } from "./common.js";

export const OracleSchema = struct("Oracle", {
  address: AddressSchema,
  utility: text(64),
  active: bool,
  registeredHeight: u64,
});
export type Oracle = Infer<typeof OracleSchema>;
