// Events: what a transaction or the end-of-block work did, for wallets, the explorer and the
// node's indexes. A tagged union whose tags are fixed forever once released; a module that
// adds kinds of events adds variants under new tags.
import {
  bool,
  decode,
  encode,
  enumeration,
  i64,
  list,
  optional,
  struct,
  text,
  type UnionOf,
  u32,
  u64,
  union,
} from "../lib/codec.js";
import { BillKindSchema } from "./model/bill.js";
import { AddressSchema, HashSchema, UtilityIdSchema } from "./model/common.js";
import { GovernanceActionSchema } from "./model/governance.js";
import { ValidatorChangeSchema } from "./model/validators.js";

const ProposalRef = struct("ProposalRef", { id: HashSchema });
const UtilityRef = struct("UtilityRef", { utility: UtilityIdSchema });
const HouseholdRef = struct("HouseholdRef", { household: AddressSchema });
const OracleRef = struct("OracleRef", { oracle: AddressSchema, utility: UtilityIdSchema });
const BillEvent = struct("BillEvent", {
  household: AddressSchema,
  utility: UtilityIdSchema,
  kind: BillKindSchema,
  amount: u64,
  reference: text(64),
  /** The household's balance afterwards. */
  balance: i64,
});

const MarketSideSchema = enumeration("MarketSide", ["buy", "sell"]);
export const OrderCloseReasonSchema = enumeration("OrderCloseReason", [
  "cancelled",
  "replaced",
  "expired",
  "compliance",
  "vintage-expiry",
  "household-closed",
  "paper-served",
]);
const PricePointSchema = struct("PricePoint", { price: u64, qty: u64 });
/** Distinct order prices one auction event can carry per curve. */
export const MAX_CURVE_POINTS = 1 << 20;

const eventVariants = {
  // Governance and the validator set.
  proposalCreated: [
    0,
    struct("ProposalCreated", {
      id: HashSchema,
      utility: UtilityIdSchema,
      action: GovernanceActionSchema,
      expiresHeight: u64,
    }),
  ],
  proposalApproved: [
    1,
    struct("ProposalApproved", {
      id: HashSchema,
      utility: UtilityIdSchema,
      /** Validators in force whose utilities approved, of `setSize`. */
      weight: u32,
      setSize: u32,
    }),
  ],
  proposalPassed: [2, ProposalRef],
  proposalExpired: [3, ProposalRef],
  validatorChangeQueued: [4, struct("ValidatorChangeQueued", { change: ValidatorChangeSchema })],
  validatorSetScheduled: [
    5,
    struct("ValidatorSetScheduled", { fromHeight: u64, size: u32, change: ValidatorChangeSchema }),
  ],
  /** A queued change that no longer keeps the set's rules when its height comes. */
  validatorChangeDropped: [6, struct("ValidatorChangeDropped", { change: ValidatorChangeSchema })],
  equivocatorRemoved: [
    7,
    struct("EquivocatorRemoved", { validator: AddressSchema, fromHeight: u64 }),
  ],
  upgradeScheduled: [8, struct("UpgradeScheduled", { version: u32, height: u64 })],
  utilityAdded: [9, UtilityRef],
  utilityRemoved: [10, UtilityRef],
  operatorRotated: [
    11,
    struct("OperatorRotated", { utility: UtilityIdSchema, operator: AddressSchema }),
  ],

  // Utility administration.
  householdRegistered: [
    20,
    struct("HouseholdRegistered", {
      household: AddressSchema,
      utility: UtilityIdSchema,
      index: u32,
    }),
  ],
  baselinesUpdated: [21, struct("BaselinesUpdated", { household: AddressSchema, fromPeriod: u64 })],
  explicitCapSet: [
    22,
    struct("ExplicitCapSet", { household: AddressSchema, period: u64, cap: optional(u64) }),
  ],
  oracleRegistered: [23, OracleRef],
  oracleRevoked: [24, OracleRef],
  policyScheduled: [25, struct("PolicyScheduled", { utility: UtilityIdSchema, fromPeriod: u64 })],
  keyRotationRequested: [
    26,
    struct("KeyRotationRequested", {
      household: AddressSchema,
      newKey: AddressSchema,
      notBefore: u64,
    }),
  ],
  keyRotated: [
    27,
    struct("KeyRotated", {
      household: AddressSchema,
      oldKey: AddressSchema,
      newKey: AddressSchema,
    }),
  ],
  keyRotationCancelled: [28, HouseholdRef],
  householdClosed: [
    29,
    struct("HouseholdClosed", {
      household: AddressSchema,
      /** The balance settled off chain: > 0 refunded to the household, < 0 collected from it. */
      settled: i64,
    }),
  ],
  appKeySet: [
    30,
    struct("AppKeySet", { household: AddressSchema, appKey: optional(AddressSchema) }),
  ],

  // Money.
  billRecorded: [40, BillEvent],
  billReversed: [41, BillEvent],

  // Markets and credits (vm/trading).
  orderPlaced: [
    60,
    struct("OrderPlaced", {
      order: HashSchema,
      household: AddressSchema,
      utility: UtilityIdSchema,
      side: MarketSideSchema,
      qty: u64,
      price: u64,
      /** The trading window's period: the band, the expiry cap and the statement it books to. */
      period: u64,
      expiry: u64,
      standing: bool,
    }),
  ],
  orderClosed: [
    61,
    struct("OrderClosed", {
      order: HashSchema,
      household: AddressSchema,
      reason: OrderCloseReasonSchema,
      /** The unfilled Wh whose lock was released. */
      remaining: u64,
    }),
  ],
  orderFilled: [
    62,
    struct("OrderFilled", {
      order: HashSchema,
      household: AddressSchema,
      side: MarketSideSchema,
      qty: u64,
      price: u64,
    }),
  ],
  auction: [
    63,
    struct("Auction", {
      utility: UtilityIdSchema,
      period: u64,
      /** Absent when no price crossed and nothing traded. */
      price: optional(u64),
      volume: u64,
      /** D(p) and S(p) at each distinct order price, ascending (vm/market/batch-auction.ts). */
      demand: list(PricePointSchema, MAX_CURVE_POINTS),
      supply: list(PricePointSchema, MAX_CURVE_POINTS),
    }),
  ],
  creditsTransferred: [
    64,
    struct("CreditsTransferred", {
      from: AddressSchema,
      to: AddressSchema,
      vintage: u64,
      qty: u64,
    }),
  ],
  standingOrderSet: [
    65,
    struct("StandingOrderSet", {
      household: AddressSchema,
      side: MarketSideSchema,
      /** Absent: cleared. */
      price: optional(u64),
    }),
  ],
  standingOrderSkipped: [
    66,
    struct("StandingOrderSkipped", {
      household: AddressSchema,
      period: u64,
      side: MarketSideSchema,
      /** The reject code the placement met, or NOTHING_TO_TRADE. */
      reason: text(64),
    }),
  ],
  complianceSettled: [
    67,
    struct("ComplianceSettled", {
      household: AddressSchema,
      period: u64,
      obligation: u64,
      surrendered: u64,
      uncovered: u64,
      penalty: u64,
    }),
  ],
  creditsRebated: [
    68,
    struct("CreditsRebated", { household: AddressSchema, period: u64, qty: u64, value: u64 }),
  ],
  creditsExpired: [
    69,
    struct("CreditsExpired", {
      household: AddressSchema,
      vintage: u64,
      qty: u64,
      /** What the utility paid for them at the vintage's buybackPrice (0: they just expired). */
      buyback: u64,
    }),
  ],
  // A period stage's step that met a bound of the rules (a balance beyond the 64-bit range):
  // its writes were discarded and the stage went on (vm/settlement/scheduler.ts).
  settlementStepSkipped: [
    70,
    struct("SettlementStepSkipped", {
      utility: UtilityIdSchema,
      stage: text(32),
      period: u64,
      /** The household whose step it was; absent for a stage's utility-wide start. */
      household: optional(AddressSchema),
      /** The reject code the step met. */
      reason: text(64),
    }),
  ],
  // One utility's batch auction that met such a bound: none of its trades happened; the orders
  // rest and the next change to the book runs it again (vm/trading/auction.ts).
  auctionSkipped: [71, struct("AuctionSkipped", { utility: UtilityIdSchema, reason: text(64) })],
} as const;

export const EventSchema = union("Event", eventVariants);
export type Event = UnionOf<typeof eventVariants>;
export type EventKind = Event["kind"];
export type EventOf<K extends EventKind> = Extract<Event, { kind: K }>["value"];

export function encodeEvent(event: Event): Uint8Array {
  return encode(EventSchema, event);
}

export function decodeEvent(data: Uint8Array): Event {
  return decode(EventSchema, data);
}
