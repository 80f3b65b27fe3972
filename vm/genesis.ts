// The genesis file: its JSON form, checked field by field with errors that name the path
// (`utilities[1].policy.floorPrice: ...`), and the initial state it writes. Integers that can
// pass 2^53 (times, prices, limits) may be written as JSON numbers or as decimal strings.
import { AddressError, addressOf, parseAddress } from "../lib/address.js";
import { compareBytes, equalBytes, fromHex, HexError } from "../lib/bytes.js";
import { encode } from "../lib/codec.js";
import { checkValidatorSet, type Validator } from "../lib/validator.js";
import { type Change, emptyState, StateOverlay } from "../state/overlay.js";
import { MARKET_MODES, type MarketMode, type Params, ZERO_TOTALS } from "./model/chain.js";
import { isUtilityId } from "./model/common.js";
import { MAX_PEAK_WINDOWS, type Policy, policyProblem } from "./model/policy.js";
import { newUtility } from "./model/utility.js";
import { calendarSchedule, fixedSchedule, PeriodError, type PeriodSchedule } from "./period.js";
import { type Singleton, type Table, tables } from "./tables.js";
import { MAX_BATCH_READINGS } from "./tx/types.js";

export interface GenesisUtility {
  readonly id: string;
  readonly name: string;
  readonly operator: Uint8Array;
  readonly policy: Policy;
}

export interface Genesis {
  readonly params: Params;
  /** The rules version of the first block. */
  readonly version: number;
  readonly utilities: readonly GenesisUtility[];
  /** Sorted by address, as every validator set is. */
  readonly validators: readonly Validator[];
}

export class GenesisError extends Error {
  override name = "GenesisError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path || "genesis"}: ${message}`);
  }
}

/** What the optional fields default to. */
export const GENESIS_DEFAULTS = {
  version: 1,
  marketMode: "batch" as MarketMode,
  proposalTtlBlocks: 10_000n,
  maxReadingsPerBatch: 1_000,
  maxJobWorkPerBlock: 500,
  /** A week: time for a household that did not ask for a new key to object. */
  keyRotationDelayMs: 604_800_000n,
};

const U64_MAX = (1n << 64n) - 1n;

/** A JSON value and where it is in the file. */
class At {
  constructor(
    readonly value: unknown,
    readonly path: string,
  ) {}

  fail(message: string): never {
    throw new GenesisError(this.path, message);
  }

  /** An object with exactly these fields, of which only `optional` ones may be missing. */
  object<const F extends string>(fields: readonly F[], optional: readonly F[] = []) {
    const v = this.value;
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail("expected an object");
    const record = v as Record<string, unknown>;
    for (const name of Object.keys(record)) {
      if (!(fields as readonly string[]).includes(name)) {
        new At(record[name], this.sub(name)).fail("unknown field");
      }
    }
    for (const name of fields) {
      if (!Object.hasOwn(record, name) && !optional.includes(name)) {
        new At(undefined, this.sub(name)).fail("missing");
      }
    }
    return {
      get: (name: F) =>
        new At(Object.hasOwn(record, name) ? record[name] : undefined, this.sub(name)),
      has: (name: F) => Object.hasOwn(record, name),
    };
  }

  /** One field of an object, before knowing which fields the object should have. */
  peek(name: string): At {
    const v = this.value;
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail("expected an object");
    const record = v as Record<string, unknown>;
    return new At(Object.hasOwn(record, name) ? record[name] : undefined, this.sub(name));
  }

  private sub(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  array(max: number): At[] {
    if (!Array.isArray(this.value)) this.fail("expected an array");
    if (this.value.length > max) this.fail(`at most ${max} items`);
    return this.value.map((item, i) => new At(item, `${this.path}[${i}]`));
  }

  text(max: number, pattern?: RegExp, what = "text"): string {
    const v = this.value;
    if (typeof v !== "string" || v.length === 0) this.fail(`expected non-empty ${what}`);
    if (new TextEncoder().encode(v).length > max) this.fail(`at most ${max} bytes`);
    if (pattern && !pattern.test(v)) this.fail(`not a valid ${what}`);
    return v;
  }

  /** A non-negative integer as a JSON number (safe) or a decimal string, up to `max`. */
  integer(max: bigint = U64_MAX): bigint {
    const v = this.value;
    let n: bigint | undefined;
    if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
    if (typeof v === "string" && /^(0|[1-9][0-9]*)$/.test(v)) n = BigInt(v);
    if (n === undefined) this.fail("expected a non-negative integer (number or decimal string)");
    if (n < 0n || n > max) this.fail(`must be at most ${max}`);
    return n;
  }

  small(min: number, max: number): number {
    const v = this.value;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.fail(`expected an integer in [${min}, ${max}]`);
    }
    return v;
  }

  address(): Uint8Array {
    try {
      return parseAddress(this.value as string);
    } catch (e) {
      if (e instanceof AddressError) this.fail(e.message);
      throw e;
    }
  }

  hex(length: number): Uint8Array {
    if (typeof this.value !== "string") this.fail("expected hex");
    try {
      return fromHex(this.value, length);
    } catch (e) {
      if (e instanceof HexError) this.fail(e.message);
      throw e;
    }
  }

  oneOf<const T extends readonly string[]>(values: T): T[number] {
    if (!values.includes(this.value as string)) this.fail(`expected one of ${values.join(", ")}`);
    return this.value as T[number];
  }
}

function parseSchedule(at: At): PeriodSchedule {
  const kind = at.peek("kind").oneOf(["fixed", "calendar"] as const);
  const make = (f: () => PeriodSchedule): PeriodSchedule => {
    try {
      return f();
    } catch (e) {
      if (e instanceof PeriodError) at.fail(e.message);
      throw e;
    }
  };
  if (kind === "fixed") {
    const o = at.object(["kind", "startMs", "lengthMs", "genesisMonth"]);
    const start = o.get("startMs").integer();
    const length = o.get("lengthMs").integer();
    const month = o.get("genesisMonth").small(0, 11);
    return make(() => fixedSchedule(start, length, month));
  }
  const o = at.object(["kind", "genesisYear", "genesisMonth", "offsetMinutes"]);
  const year = o.get("genesisYear").small(1970, 9999);
  const month = o.get("genesisMonth").small(0, 11);
  const offset = o.get("offsetMinutes").small(-720, 840);
  return make(() => calendarSchedule(year, month, offset));
}

const POLICY_FIELDS = [
  "reductionBps",
  "penaltyPrice",
  "floorPrice",
  "buybackPrice",
  "rebatePrice",
  "creditLifetime",
  "holdingLimit",
  "creditLimit",
  "readingGrace",
  "tradingWindow",
  "noticePeriod",
  "peakWindows",
  "peakWeightBps",
  "readingInterval",
  "maxReadingDrift",
] as const;

function parsePolicy(at: At): Policy {
  const o = at.object(POLICY_FIELDS);
  const policy: Policy = {
    reductionBps: o.get("reductionBps").small(0, 10_000),
    penaltyPrice: o.get("penaltyPrice").integer(),
    floorPrice: o.get("floorPrice").integer(),
    buybackPrice: o.get("buybackPrice").integer(),
    rebatePrice: o.get("rebatePrice").integer(),
    creditLifetime: o.get("creditLifetime").small(1, 1200),
    holdingLimit: o.get("holdingLimit").integer(),
    creditLimit: o.get("creditLimit").integer(),
    readingGrace: o.get("readingGrace").integer(),
    tradingWindow: o.get("tradingWindow").integer(),
    noticePeriod: o.get("noticePeriod").integer(),
    peakWindows: o
      .get("peakWindows")
      .array(MAX_PEAK_WINDOWS)
      .map((w) => {
        const window = w.object(["startMinute", "endMinute"]);
        return {
          startMinute: window.get("startMinute").small(0, 1439),
          endMinute: window.get("endMinute").small(1, 1440),
        };
      }),
    peakWeightBps: o.get("peakWeightBps").small(0, 0xffffffff),
    readingInterval: o.get("readingInterval").integer(),
    maxReadingDrift: o.get("maxReadingDrift").integer(),
  };
  const problem = policyProblem(policy);
  if (problem) at.fail(problem);
  return policy;
}

/** A policy in the genesis file's JSON form, e.g. for a setPolicy transaction built by a tool. */
export function parsePolicyJson(json: unknown, path = "policy"): Policy {
  return parsePolicy(new At(json, path));
}

const CHAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const GENESIS_FIELDS = [
  "chainId",
  "genesisTime",
  "version",
  "periods",
  "marketMode",
  "utilities",
  "validators",
  "governance",
  "limits",
] as const;

function parseUtilities(at: At): GenesisUtility[] {
  const utilities: GenesisUtility[] = [];
  const items = at.array(1024);
  if (items.length === 0) at.fail("at least one utility");
  for (const item of items) {
    const o = item.object(["id", "name", "operator", "policy"]);
    const id = o.get("id").text(32, undefined, "utility id");
    if (!isUtilityId(id)) o.get("id").fail("a utility id is a-z, 0-9 and '-', starting a-z or 0-9");
    if (utilities.some((u) => u.id === id)) o.get("id").fail(`utility ${id} appears twice`);
    const operator = o.get("operator").address();
    if (utilities.some((u) => equalBytes(u.operator, operator))) {
      o.get("operator").fail("operates another utility already");
    }
    const name = o.get("name").text(128);
    utilities.push({ id, name, operator, policy: parsePolicy(o.get("policy")) });
  }
  return utilities;
}

function parseValidators(at: At, utilities: readonly GenesisUtility[]): Validator[] {
  const validators: Validator[] = [];
  for (const item of at.array(128)) {
    const o = item.object(["address", "publicKey", "operator", "utility"]);
    const address = o.get("address").address();
    const publicKey = o.get("publicKey").hex(33);
    let derived: Uint8Array;
    try {
      derived = addressOf(publicKey);
    } catch (e) {
      if (e instanceof AddressError)
        o.get("publicKey").fail("not a valid compressed secp256k1 key");
      throw e;
    }
    if (!equalBytes(derived, address)) o.get("address").fail("is not the address of publicKey");
    const utilityId = o.get("utility").text(32, undefined, "utility id");
    const utility =
      utilities.find((u) => u.id === utilityId) ??
      o.get("utility").fail(`no utility ${utilityId} in genesis`);
    const operator = o.get("operator").address();
    if (!equalBytes(operator, utility.operator)) {
      o.get("operator").fail(`is not the operator of utility ${utilityId}`);
    }
    validators.push({ address, publicKey, operator, utility: utilityId });
  }
  validators.sort((a, b) => compareBytes(a.address, b.address));
  const check = checkValidatorSet(validators);
  if (!check.ok) at.fail(`${check.code}: ${check.message}`);
  return validators;
}

/** Checks a genesis file's JSON; throws GenesisError naming the first bad field. */
export function parseGenesis(json: unknown): Genesis {
  const root = new At(json, "");
  const o = root.object(GENESIS_FIELDS, ["version", "marketMode", "governance", "limits"]);
  const chainId = o.get("chainId").text(64, CHAIN_ID, "chain id");
  const genesisTime = o.get("genesisTime").integer();
  const version = o.has("version")
    ? o.get("version").small(0, 0xffffffff)
    : GENESIS_DEFAULTS.version;
  const schedule = parseSchedule(o.get("periods"));
  const marketMode = o.has("marketMode")
    ? o.get("marketMode").oneOf(MARKET_MODES)
    : GENESIS_DEFAULTS.marketMode;
  const utilities = parseUtilities(o.get("utilities"));
  const validators = parseValidators(o.get("validators"), utilities);

  let proposalTtlBlocks = GENESIS_DEFAULTS.proposalTtlBlocks;
  if (o.has("governance")) {
    const g = o.get("governance").object(["proposalTtlBlocks"]);
    proposalTtlBlocks = g.get("proposalTtlBlocks").integer();
    if (proposalTtlBlocks === 0n) g.get("proposalTtlBlocks").fail("must be positive");
  }
  let { maxReadingsPerBatch, maxJobWorkPerBlock, keyRotationDelayMs } = GENESIS_DEFAULTS;
  if (o.has("limits")) {
    const fields = ["maxReadingsPerBatch", "maxJobWorkPerBlock", "keyRotationDelayMs"] as const;
    const l = o.get("limits").object(fields, fields);
    if (l.has("maxReadingsPerBatch")) {
      maxReadingsPerBatch = l.get("maxReadingsPerBatch").small(1, MAX_BATCH_READINGS);
    }
    if (l.has("maxJobWorkPerBlock")) {
      maxJobWorkPerBlock = l.get("maxJobWorkPerBlock").small(1, 1_000_000);
    }
    if (l.has("keyRotationDelayMs")) keyRotationDelayMs = l.get("keyRotationDelayMs").integer();
  }

  return {
    params: {
      chainId,
      genesisTime,
      schedule,
      marketMode,
      governance: { proposalTtlBlocks },
      limits: { maxReadingsPerBatch, maxJobWorkPerBlock, keyRotationDelay: keyRotationDelayMs },
    },
    version,
    utilities,
    validators,
  };
}

function write<K, V>(state: StateOverlay, table: Table<K, V>, key: K, value: V): void {
  state.set(table.key(key), encode(table.schema, value));
}

function writeOne<V>(state: StateOverlay, singleton: Singleton<V>, value: V): void {
  state.set(singleton.key, encode(singleton.schema, value));
}

/** The state before the first block, as sorted writes. */
export function genesisState(genesis: Genesis): Change[] {
  const state = new StateOverlay(emptyState);
  writeOne(state, tables.params, genesis.params);
  writeOne(state, tables.upgrades, { genesisVersion: genesis.version, scheduled: [] });
  writeOne(state, tables.totals, ZERO_TOTALS);
  writeOne(state, tables.validators, {
    sets: [{ fromHeight: 1n, validators: [...genesis.validators] }],
    queue: [],
  });
  for (const { id, name, operator, policy } of genesis.utilities) {
    write(state, tables.utility, id, newUtility(id, name, operator, policy));
    write(state, tables.operator, operator, id);
  }
  return state.changes();
}
