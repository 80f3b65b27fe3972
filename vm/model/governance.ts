// Governance proposals (DESIGN.md §6 "Governance"). Approvals are counted per utility: the
// operator account signs for its utility, and a utility's approval weighs as many validators
// as it has in the set in force when the deciding approval executes.
import { type Infer, list, struct, text, type UnionOf, u32, u64, union } from "../../lib/codec.js";
import { ValidatorSchema } from "../../lib/validator.js";
import { AddressSchema, HashSchema, PublicKeySchema, UtilityIdSchema } from "./common.js";
import { PolicySchema } from "./policy.js";

const actionVariants = {
  addValidator: [0, struct("AddValidatorAction", { validator: ValidatorSchema })],
  removeValidator: [1, struct("RemoveValidatorAction", { address: AddressSchema })],
  rotateValidatorKey: [
    2,
    struct("RotateValidatorKeyAction", { address: AddressSchema, publicKey: PublicKeySchema }),
  ],
  addUtility: [
    3,
    struct("AddUtilityAction", {
      id: UtilityIdSchema,
      name: text(128),
      operator: AddressSchema,
      policy: PolicySchema,
    }),
  ],
  removeUtility: [4, struct("RemoveUtilityAction", { id: UtilityIdSchema })],
  scheduleUpgrade: [5, struct("ScheduleUpgradeAction", { version: u32, height: u64 })],
  rotateOperatorKey: [
    6,
    struct("RotateOperatorKeyAction", { utility: UtilityIdSchema, operator: AddressSchema }),
  ],
} as const;
export const GovernanceActionSchema = union("GovernanceAction", actionVariants);
export type GovernanceAction = UnionOf<typeof actionVariants>;

export const ProposalSchema = struct("Proposal", {
  /** The id of the transaction that made it. */
  id: HashSchema,
  action: GovernanceActionSchema,
  /** Utility ids, sorted. */
  approvals: list(UtilityIdSchema, 128),
  createdHeight: u64,
  /** The last height at which it can still be approved. */
  expiresHeight: u64,
});
export type Proposal = Infer<typeof ProposalSchema>;
