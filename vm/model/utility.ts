// A utility: its operator account, its policy (in force and scheduled), its household count,
// and its own balance, which penalties credit and buy-backs debit. Utilities are never deleted,
// only marked removed, so an id is never reused and old records keep their meaning.
import { enumeration, type Infer, i64, struct, text, u32 } from "../../lib/codec.js";
import { AddressSchema, UtilityIdSchema } from "./common.js";
import { type Policy, PolicySchema } from "./policy.js";
import { pendingSchema, valueForPeriod } from "./scheduled.js";

export const UtilityStatusSchema = enumeration("UtilityStatus", ["active", "removed"]);

export const UtilitySchema = struct("Utility", {
  id: UtilityIdSchema,
  name: text(128),
  operator: AddressSchema,
  status: UtilityStatusSchema,
  /** The policy in force. */
  policy: PolicySchema,
  /** Changes for future periods, sorted by period. */
  pendingPolicies: pendingSchema("PendingPolicy", PolicySchema),
  /** Households ever registered: the next household's index. */
  householdCount: u32,
  /** Households not closed. */
  activeHouseholds: u32,
  /** Micro-units; utility accounts are unbounded and may go below zero. */
  balance: i64,
});
export type Utility = Infer<typeof UtilitySchema>;

/** A utility as it joins the chain (in genesis, or by governance): no households, no balance. */
export function newUtility(
  id: string,
  name: string,
  operator: Uint8Array,
  policy: Policy,
): Utility {
  return {
    id,
    name,
    operator,
    status: "active",
    policy,
    pendingPolicies: [],
    householdCount: 0,
    activeHouseholds: 0,
    balance: 0n,
  };
}

/** The policy period k uses (read at start_k, when the period takes its snapshot). */
export function policyForPeriod(utility: Utility, k: bigint): Policy {
  return valueForPeriod(utility.policy, utility.pendingPolicies, k);
}
