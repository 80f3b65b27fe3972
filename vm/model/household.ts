// A household, keyed by the address it was registered with. That address is its identity for
// ever (credits, orders and statements are keyed by it); the key that signs for it can be
// rotated, which is why `key` is a separate field.
import { enumeration, type Infer, optional, struct, text, u32, u64 } from "../../lib/codec.js";
import { AddressSchema, BaselinesSchema, HashSchema, intRange, PublicKeySchema } from "./common.js";
import { pendingSchema, valueForPeriod } from "./scheduled.js";

export const MeterKeyTypeSchema = enumeration("MeterKeyType", ["secp256k1", "p256"]);

export const MeterKeySchema = struct("MeterKey", {
  type: MeterKeyTypeSchema,
  publicKey: PublicKeySchema,
});
export type MeterKey = Infer<typeof MeterKeySchema>;

export const KeyRotationSchema = struct("KeyRotation", {
  newKey: AddressSchema,
  requestedAt: u64,
  /** The rotation can complete in a block whose time is at or after this. */
  notBefore: u64,
});
export type KeyRotation = Infer<typeof KeyRotationSchema>;

export const HouseholdStatusSchema = enumeration("HouseholdStatus", ["active", "closed"]);

export const HouseholdSchema = struct("Household", {
  address: AddressSchema,
  utility: text(64),
  /** Position in its utility's household index. */
  index: u32,
  /** The address whose signatures act for the household. */
  key: AddressSchema,
  meterIdHash: HashSchema,
  /** Absent when the utility's meters do not sign their readings. */
  meterKey: optional(MeterKeySchema),
  /** 1, or 2 (off-peak, peak) with time-of-use weighting; fixed at registration. */
  registers: intRange(1, 2),
  /** Monthly baselines in force, in (weighted) Wh, January first. */
  baselines: BaselinesSchema,
  pendingBaselines: pendingSchema("PendingBaselines", BaselinesSchema),
  status: HouseholdStatusSchema,
  registeredAt: u64,
  closedAt: optional(u64),
  /** May sign standing-order transactions for the household. */
  appKey: optional(AddressSchema),
  pendingKeyRotation: optional(KeyRotationSchema),
  /** The time of the meter's first accepted reading (readings module). */
  firstReadingTime: optional(u64),
});
export type Household = Infer<typeof HouseholdSchema>;

/** The baselines period k uses (read at start_k, when the period takes its snapshot). */
export function baselinesForPeriod(household: Household, k: bigint): bigint[] {
  return valueForPeriod(household.baselines, household.pendingBaselines, k);
}
