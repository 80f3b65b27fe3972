// The validator sets by the height they take effect, and the governance changes waiting for a
// height of their own (DESIGN.md §5: changes apply at H+2, one per height).
import { type Infer, list, struct, text, type UnionOf, u64, union } from "../../lib/codec.js";
import { ValidatorSchema, ValidatorSetSchema } from "../../lib/validator.js";
import { AddressSchema, PublicKeySchema } from "./common.js";

const changeVariants = {
  add: [0, struct("AddValidator", { validator: ValidatorSchema })],
  remove: [1, struct("RemoveValidator", { address: AddressSchema })],
  /** A new consensus key, hence a new address, for the same seat. */
  rotateKey: [
    2,
    struct("RotateValidatorKey", { address: AddressSchema, publicKey: PublicKeySchema }),
  ],
  /** A utility's new operator account, written into each of its validators' entries. */
  rotateOperator: [3, struct("RotateOperator", { utility: text(64), operator: AddressSchema })],
} as const;
export const ValidatorChangeSchema = union("ValidatorChange", changeVariants);
export type ValidatorChange = UnionOf<typeof changeVariants>;

/** Queued changes beyond this are refused: each needs a height of its own. */
export const MAX_QUEUED_CHANGES = 32;

export const ScheduledSetSchema = struct("ScheduledSet", {
  fromHeight: u64,
  validators: ValidatorSetSchema,
});
export type ScheduledSet = Infer<typeof ScheduledSetSchema>;

export const ValidatorScheduleSchema = struct("ValidatorSchedule", {
  /** Ascending by fromHeight; the first is in force at the current height. */
  sets: list(ScheduledSetSchema, 4),
  queue: list(ValidatorChangeSchema, MAX_QUEUED_CHANGES),
});
export type ValidatorSchedule = Infer<typeof ValidatorScheduleSchema>;
