// Typed tables over the key layout (vm/keys.ts) and the record schemas (vm/model): a table turns
// a domain key into state key bytes and gives the schema of the value stored there. Handlers
// read and write state only through tables, so every value in state has exactly one schema.
import { type Schema, struct, text, u64 } from "../lib/codec.js";
import { keys } from "./keys.js";
import { type Account, AccountSchema } from "./model/account.js";
import { type BillRecord, BillRecordSchema } from "./model/bill.js";
import {
  type Params,
  ParamsSchema,
  type Totals,
  TotalsSchema,
  type Upgrades,
  UpgradesSchema,
} from "./model/chain.js";
import { AddressSchema } from "./model/common.js";
import { type Proposal, ProposalSchema } from "./model/governance.js";
import { type Household, HouseholdSchema } from "./model/household.js";
import { type Oracle, OracleSchema } from "./model/oracle.js";
import { type Utility, UtilitySchema } from "./model/utility.js";
import { type ValidatorSchedule, ValidatorScheduleSchema } from "./model/validators.js";

export interface Table<K, V> {
  readonly name: string;
  readonly schema: Schema<V>;
  /** A new array at every call (ExecutionContext hands it to its overlay to keep). */
  key(key: K): Uint8Array;
}

/** A table with exactly one record. */
export interface Singleton<V> {
  readonly name: string;
  readonly schema: Schema<V>;
  readonly key: Uint8Array;
}

/** Later modules define their tables (credits, orders, periods...) with this, in their own files. */
export function table<K, V>(
  name: string,
  key: (k: K) => Uint8Array,
  schema: Schema<V>,
): Table<K, V> {
  return { name, key, schema };
}

export function singleton<V>(name: string, key: Uint8Array, schema: Schema<V>): Singleton<V> {
  return { name, key, schema };
}

const Empty = struct("Empty", {});
type Empty = Record<string, never>;

export const tables = {
  params: singleton<Params>("params", keys.params(), ParamsSchema),
  upgrades: singleton<Upgrades>("upgrades", keys.upgrades(), UpgradesSchema),
  totals: singleton<Totals>("totals", keys.totals(), TotalsSchema),
  validators: singleton<ValidatorSchedule>(
    "validators",
    keys.validators(),
    ValidatorScheduleSchema,
  ),
  proposal: table<Uint8Array, Proposal>("proposal", keys.proposal, ProposalSchema),
  proposalExpiry: table<readonly [height: bigint, id: Uint8Array], Empty>(
    "proposalExpiry",
    ([height, id]) => keys.proposalExpiry(height, id),
    Empty,
  ),

  account: table<Uint8Array, Account>("account", keys.account, AccountSchema),
  /** Signing key → household address. */
  householdKey: table<Uint8Array, Uint8Array>("householdKey", keys.householdKey, AddressSchema),
  /** Operator address → utility id. */
  operator: table<Uint8Array, string>("operator", keys.operator, text(64)),

  utility: table<string, Utility>("utility", keys.utility, UtilitySchema),
  household: table<Uint8Array, Household>("household", keys.household, HouseholdSchema),
  householdIndex: table<readonly [utility: string, index: number], Uint8Array>(
    "householdIndex",
    ([utility, index]) => keys.householdIndex(utility, index),
    AddressSchema,
  ),
  /** Meter id hash → household address. */
  meter: table<Uint8Array, Uint8Array>("meter", keys.meter, AddressSchema),
  oracle: table<Uint8Array, Oracle>("oracle", keys.oracle, OracleSchema),
  explicitCap: table<readonly [household: Uint8Array, period: bigint], bigint>(
    "explicitCap",
    ([household, period]) => keys.explicitCap(household, period),
    u64,
  ),
  billRecord: table<readonly [utility: string, reference: string], BillRecord>(
    "billRecord",
    ([utility, reference]) => keys.billRecord(utility, reference),
    BillRecordSchema,
  ),
};
