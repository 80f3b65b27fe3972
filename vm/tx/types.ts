// Transaction types: the number each type travels under in the envelope's `type` field (fixed
// forever once released) and the schema of its payload. Every type of DESIGN.md §6 is defined
// here, including those whose handlers a later module adds; until a module registers a handler,
// the chain refuses the type statelessly (UNKNOWN_TX_TYPE), so nothing is silently accepted.
import {
  CodecError,
  decode,
  encode,
  enumeration,
  type Infer,
  i64,
  list,
  optional,
  type Schema,
  struct,
  text,
  u64,
} from "../../lib/codec.js";
import { AddressSchema, BaselinesSchema, HashSchema, intRange } from "../model/common.js";
import { GovernanceActionSchema } from "../model/governance.js";
import { MeterKeySchema } from "../model/household.js";
import { PolicySchema } from "../model/policy.js";
import { ReadingSchema } from "../model/reading.js";

/** External references (invoice or payment ids) are the utility's own text. */
const ReferenceSchema = text(64);

export const SideSchema = enumeration("Side", ["buy", "sell"]);
export type Side = Infer<typeof SideSchema>;

export const CorrectionReasonSchema = enumeration("CorrectionReason", [
  "meter-fault",
  "misread",
  "tamper",
  "billing-error",
  "other",
]);

/** Schema limit on a batch; the chain's own, lower limit is Params.limits.maxReadingsPerBatch. */
export const MAX_BATCH_READINGS = 10_000;

const household = AddressSchema;

const txTypes = {
  // Governance: signed by the operator account of a utility that has validators.
  proposeGovernance: [1, struct("ProposeGovernance", { action: GovernanceActionSchema })],
  approveGovernance: [2, struct("ApproveGovernance", { proposalId: HashSchema })],

  // Utility operator.
  registerHousehold: [
    10,
    struct("RegisterHousehold", {
      household,
      meterIdHash: HashSchema,
      meterKey: optional(MeterKeySchema),
      registers: intRange(1, 2),
      baselines: BaselinesSchema,
    }),
  ],
  updateBaselines: [
    11,
    struct("UpdateBaselines", { household, fromPeriod: u64, baselines: BaselinesSchema }),
  ],
  replaceMeter: [
    12,
    struct("ReplaceMeter", {
      household,
      meterIdHash: HashSchema,
      meterKey: optional(MeterKeySchema),
      /** The old meter's last reading and the new meter's first, at the same instant. */
      oldFinal: ReadingSchema,
      newFirst: ReadingSchema,
    }),
  ],
  requestKeyRotation: [13, struct("RequestKeyRotation", { household, newKey: AddressSchema })],
  completeKeyRotation: [14, struct("CompleteKeyRotation", { household })],
  /** By the utility, or by the household's own key objecting to a rotation it did not want. */
  cancelKeyRotation: [15, struct("CancelKeyRotation", { household })],
  closeHousehold: [16, struct("CloseHousehold", { household, reference: ReferenceSchema })],
  setExplicitCap: [17, struct("SetExplicitCap", { household, period: u64, cap: optional(u64) })],
  registerOracle: [18, struct("RegisterOracle", { oracle: AddressSchema })],
  revokeOracle: [19, struct("RevokeOracle", { oracle: AddressSchema })],
  setPolicy: [20, struct("SetPolicy", { fromPeriod: u64, policy: PolicySchema })],
  recordPayment: [
    21,
    struct("RecordPayment", { household, amount: u64, reference: ReferenceSchema }),
  ],
  recordCharge: [
    22,
    struct("RecordCharge", { household, amount: u64, reference: ReferenceSchema }),
  ],
  reverseBillRecord: [23, struct("ReverseBillRecord", { reference: ReferenceSchema })],
  postCorrection: [
    24,
    struct("PostCorrection", {
      household,
      period: u64,
      reason: CorrectionReasonSchema,
      /** Wh to add to (or, negative, take from) the period's settled consumption. */
      consumptionDelta: i64,
      reference: ReferenceSchema,
    }),
  ],

  // Oracle.
  submitReadings: [
    30,
    struct("SubmitReadings", { readings: list(ReadingSchema, MAX_BATCH_READINGS) }),
  ],

  // Household (standing orders: or its delegated app key).
  placeOrder: [40, struct("PlaceOrder", { side: SideSchema, qty: u64, price: u64, expiry: u64 })],
  cancelOrder: [41, struct("CancelOrder", { orderId: HashSchema })],
  replaceOrder: [
    42,
    struct("ReplaceOrder", { orderId: HashSchema, qty: u64, price: u64, expiry: u64 }),
  ],
  setStandingOrder: [43, struct("SetStandingOrder", { household, side: SideSchema, price: u64 })],
  clearStandingOrder: [44, struct("ClearStandingOrder", { household, side: SideSchema })],
  transferCredits: [45, struct("TransferCredits", { to: AddressSchema, vintage: u64, qty: u64 })],
  delegateAppKey: [46, struct("DelegateAppKey", { appKey: optional(AddressSchema) })],
} as const satisfies Record<string, readonly [number, Schema<unknown>]>;

export type TxTypeName = keyof typeof txTypes;
export type PayloadOf<N extends TxTypeName> = Infer<(typeof txTypes)[N][1]>;
export type TxPayload = { [N in TxTypeName]: { type: N; value: PayloadOf<N> } }[TxTypeName];

export const TX_TYPE_NAMES = Object.keys(txTypes) as TxTypeName[];

const byNumber = new Map<number, TxTypeName>();
for (const name of TX_TYPE_NAMES) {
  const number = txTypes[name][0];
  if (byNumber.has(number)) throw new Error(`tx type number ${number} used twice`);
  byNumber.set(number, name);
}

export function txTypeNumber(name: TxTypeName): number {
  return txTypes[name][0];
}

/** The type's name, or undefined for a number no type uses. */
export function txTypeName(number: number): TxTypeName | undefined {
  return byNumber.get(number);
}

function schemaOf<N extends TxTypeName>(name: N): Schema<PayloadOf<N>> {
  return txTypes[name][1] as unknown as Schema<PayloadOf<N>>;
}

export function encodePayload<N extends TxTypeName>(name: N, value: PayloadOf<N>): Uint8Array {
  return encode(schemaOf(name), value);
}

export type PayloadDecode =
  | { readonly ok: true; readonly payload: TxPayload }
  | { readonly ok: false; readonly code: "UNKNOWN_TX_TYPE" | "PAYLOAD_MALFORMED"; message: string };

/** Decodes and canonically checks a payload; never throws for bad input. */
export function decodePayload(type: number, data: Uint8Array): PayloadDecode {
  const name = txTypeName(type);
  if (name === undefined) {
    return { ok: false, code: "UNKNOWN_TX_TYPE", message: `no transaction type ${type}` };
  }
  try {
    const value = decode(schemaOf(name), data);
    return { ok: true, payload: { type: name, value } as TxPayload };
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    return { ok: false, code: "PAYLOAD_MALFORMED", message: e.message };
  }
}
