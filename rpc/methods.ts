// The one table of RPC methods (issue 5): each method's name, summary, params schema (a named
// params object: unknown names are refused), result schema, and hand-written TS types beside
// them. The server validates every request against these schemas, rpc_discover publishes them
// as an OpenRPC document, and the client SDK types its calls from RpcMethods. Value forms are
// rpc/json.ts's: bigints and times as decimal strings, bytes as 0x-hex, addresses EIP-55.
//
// Lists page with a cursor: pass `cursor` from the previous page's `nextCursor` (null on the
// first call) and a `limit` (1..MAX_PAGE, default DEFAULT_PAGE); `nextCursor` is null on the
// last page. Cursors are opaque.
import { type Json, type JsonSchema, jsonSchemas as j, nullable } from "./json.js";

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 100;

// ---------------------------------------------------------------------------------------------
// Schema builders.

const str = (description?: string): JsonSchema =>
  description ? { type: "string", description } : { type: "string" };
const bool: JsonSchema = { type: "boolean" };
const int = (minimum: number, maximum: number): JsonSchema => ({
  type: "integer",
  minimum,
  maximum,
});
const oneOf = (values: readonly string[]): JsonSchema => ({ type: "string", enum: [...values] });
const arr = (items: JsonSchema, maxItems?: number): JsonSchema =>
  maxItems === undefined ? { type: "array", items } : { type: "array", items, maxItems };

/** An object with exactly these properties (those not in `optional` are required). */
function obj(properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  return {
    type: "object",
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    additionalProperties: false,
  };
}

/** A free-form object whose values are any JSON (events, curves decoded from the chain). */
const anyObject: JsonSchema = { type: "object" };

const pageParams = {
  cursor: nullable({ type: "string", maxLength: 256 }),
  limit: int(1, MAX_PAGE),
} as const;
const pageOptional = ["cursor", "limit"] as const;

function page(item: JsonSchema): JsonSchema {
  return obj({ items: arr(item), nextCursor: nullable(str()) });
}

// ---------------------------------------------------------------------------------------------
// Shared result shapes.

const RejectCodeJ = str("a vm reject code (docs/reject-codes.md)");

const HeaderJ = obj({
  version: int(0, 0xffff_ffff),
  chainId: str(),
  height: j.u64,
  time: j.time,
  parentHash: j.hash,
  proposer: j.address,
  txRoot: j.hash,
  stateRoot: j.hash,
  receiptsRoot: j.hash,
  validatorsHash: j.hash,
  nextValidatorsHash: j.hash,
  lastCommitHash: j.hash,
  evidenceHash: j.hash,
});

const CommitJ = obj({
  height: j.u64,
  round: int(0, 0xffff_ffff),
  blockHash: j.hash,
  signatures: arr(obj({ validator: j.address, signature: j.bytes })),
});

const BlockTxJ = obj({
  hash: j.hash,
  type: int(0, 0xffff_ffff),
  typeName: nullable(str()),
  signer: j.address,
  nonce: j.u64,
  bytes: j.bytes,
});

const ValidatorJ = obj({
  address: j.address,
  publicKey: j.bytes,
  operator: j.address,
  utility: str(),
});

const ReadingResultJ = obj({
  result: oneOf(["accepted", "duplicate", "rejected"]),
  reject: nullable(RejectCodeJ),
});

const EventJ: JsonSchema = {
  type: "object",
  properties: { kind: str(), value: anyObject },
  required: ["kind", "value"],
};

const ReceiptJ = obj({
  outcome: oneOf(["ok", "rejected"]),
  reject: nullable(RejectCodeJ),
  events: arr(EventJ),
  readingResults: nullable(arr(ReadingResultJ)),
});

const PolicyJ = obj({
  reductionBps: int(0, 10_000),
  penaltyPrice: j.u64,
  floorPrice: j.u64,
  buybackPrice: j.u64,
  rebatePrice: j.u64,
  creditLifetime: int(1, 1200),
  holdingLimit: j.u64,
  creditLimit: j.u64,
  readingGrace: j.u64,
  tradingWindow: j.u64,
  noticePeriod: j.u64,
  peakWindows: arr(obj({ startMinute: int(0, 1439), endMinute: int(1, 1440) })),
  peakWeightBps: int(0, 0xffff_ffff),
  readingInterval: j.u64,
  maxReadingDrift: j.u64,
});

const TradeTotalJ = obj({ qty: j.u64, value: j.u64 });

const StatementJ = obj({
  household: j.address,
  utility: str(),
  period: j.u64,
  status: oneOf(["open", "settled"]),
  cap: j.u64,
  capSource: oneOf(["baseline", "explicit"]),
  weighted: bool,
  consumption: j.i64,
  peak: j.i64,
  weightedConsumption: j.i64,
  estimated: bool,
  estimateAdjustment: j.i64,
  corrections: arr(obj({ period: j.u64, reason: str(), amount: j.i64, reference: str() }), 16),
  settledConsumption: j.i64,
  minted: j.u64,
  obligation: j.u64,
  bought: TradeTotalJ,
  sold: TradeTotalJ,
  surrendered: j.u64,
  uncovered: j.u64,
  penalty: j.u64,
  rebate: TradeTotalJ,
  buyback: TradeTotalJ,
  penaltyPrice: j.u64,
  gainAgainstNoMarket: j.i64,
});

const PeriodTotalsJ = obj({
  settled: int(0, 0xffff_ffff),
  skipped: int(0, 0xffff_ffff),
  underCap: int(0, 0xffff_ffff),
  overCap: int(0, 0xffff_ffff),
  estimated: int(0, 0xffff_ffff),
  consumption: j.i64,
  creditsMinted: j.u64,
  obligations: j.u64,
  creditsSurrendered: j.u64,
  uncovered: j.u64,
  penalties: j.u64,
  creditsRebated: j.u64,
  rebatesPaid: j.u64,
  creditsExpired: j.u64,
  buybacksPaid: j.u64,
});

const PHASES = ["upcoming", "open", "reading-grace", "trading", "closed"] as const;

const OrderJ = obj({
  id: j.hash,
  owner: j.address,
  utility: str(),
  side: oneOf(["buy", "sell"]),
  qty: j.u64,
  price: j.u64,
  placedHeight: j.u64,
  seq: j.u64,
  period: j.u64,
  expiry: j.time,
  standing: bool,
});

const PricePointJ = obj({ price: j.u64, qty: j.u64 });

export const SUBSCRIPTION_TOPICS = [
  "newHeads",
  "household",
  "trades",
  "auctions",
  "readings",
] as const;

// ---------------------------------------------------------------------------------------------
// TS types of the JSON forms (strings where json.ts says so).

export type U64 = string;
export type I64 = string;
export type Hex = string;
export type Address = string;
export type Cursor = string | null;

/**
 * Household data on a node that restricts it (rpc/access.ts): a signed request (authMessage),
 * or a session token from auth_signIn (rpc/sessions.ts).
 */
export interface AuthParams {
  auth?: { publicKey: Hex; time: U64; signature: Hex } | { session: Hex };
}

export interface PageParams {
  cursor?: Cursor;
  limit?: number;
}
export interface Page<T> {
  items: T[];
  nextCursor: Cursor;
}

export interface HeaderJson {
  version: number;
  chainId: string;
  height: U64;
  time: U64;
  parentHash: Hex;
  proposer: Address;
  txRoot: Hex;
  stateRoot: Hex;
  receiptsRoot: Hex;
  validatorsHash: Hex;
  nextValidatorsHash: Hex;
  lastCommitHash: Hex;
  evidenceHash: Hex;
}
export interface CommitJson {
  height: U64;
  round: number;
  blockHash: Hex;
  signatures: { validator: Address; signature: Hex }[];
}
export interface BlockTxJson {
  hash: Hex;
  type: number;
  typeName: string | null;
  signer: Address;
  nonce: U64;
  bytes: Hex;
}
export interface ValidatorJson {
  address: Address;
  publicKey: Hex;
  operator: Address;
  utility: string;
}
export interface ValidatorLivenessJson extends ValidatorJson {
  signed: U64;
  missed: U64;
  lastSigned: U64 | null;
  evidence: { height: U64; evidenceHeight: U64 }[];
}
export type EventJson = { kind: string; value: { [key: string]: Json } };
export interface ReadingResultJson {
  result: "accepted" | "duplicate" | "rejected";
  reject: string | null;
}
export interface ReceiptJson {
  outcome: "ok" | "rejected";
  reject: string | null;
  events: EventJson[];
  readingResults: ReadingResultJson[] | null;
}
export interface PolicyJson {
  reductionBps: number;
  penaltyPrice: U64;
  floorPrice: U64;
  buybackPrice: U64;
  rebatePrice: U64;
  creditLifetime: number;
  holdingLimit: U64;
  creditLimit: U64;
  readingGrace: U64;
  tradingWindow: U64;
  noticePeriod: U64;
  peakWindows: { startMinute: number; endMinute: number }[];
  peakWeightBps: number;
  readingInterval: U64;
  maxReadingDrift: U64;
}
export interface TradeTotalJson {
  qty: U64;
  value: U64;
}
export interface StatementJson {
  household: Address;
  utility: string;
  period: U64;
  status: "open" | "settled";
  cap: U64;
  capSource: "baseline" | "explicit";
  weighted: boolean;
  consumption: I64;
  peak: I64;
  weightedConsumption: I64;
  estimated: boolean;
  estimateAdjustment: I64;
  corrections: { period: U64; reason: string; amount: I64; reference: string }[];
  settledConsumption: I64;
  minted: U64;
  obligation: U64;
  bought: TradeTotalJson;
  sold: TradeTotalJson;
  surrendered: U64;
  uncovered: U64;
  penalty: U64;
  rebate: TradeTotalJson;
  buyback: TradeTotalJson;
  penaltyPrice: U64;
  gainAgainstNoMarket: I64;
}
export interface PeriodTotalsJson {
  settled: number;
  skipped: number;
  underCap: number;
  overCap: number;
  estimated: number;
  consumption: I64;
  creditsMinted: U64;
  obligations: U64;
  creditsSurrendered: U64;
  uncovered: U64;
  penalties: U64;
  creditsRebated: U64;
  rebatesPaid: U64;
  creditsExpired: U64;
  buybacksPaid: U64;
}
export type Phase = (typeof PHASES)[number];
export interface OrderJson {
  id: Hex;
  owner: Address;
  utility: string;
  side: "buy" | "sell";
  qty: U64;
  price: U64;
  placedHeight: U64;
  seq: U64;
  period: U64;
  expiry: U64;
  standing: boolean;
}
export interface TradeJson {
  height: U64;
  time: U64;
  order: Hex;
  household: Address;
  side: "buy" | "sell";
  qty: U64;
  price: U64;
}
export interface AuctionJson {
  height: U64;
  time: U64;
  period: U64;
  price: U64 | null;
  volume: U64;
  demand: { price: U64; qty: U64 }[];
  supply: { price: U64; qty: U64 }[];
}
export type SubscriptionTopic = (typeof SUBSCRIPTION_TOPICS)[number];

/** Params and result of every method, for typed calls. */
export interface RpcMethods {
  chain_status: {
    params: Record<string, never>;
    result: {
      chainId: string;
      genesisHash: Hex;
      height: U64;
      headHash: Hex;
      headTime: U64;
      validatorCount: number;
      syncing: boolean;
    };
  };
  chain_getBlock: {
    /** One of height or hash; neither: the head. */
    params: { height?: U64; hash?: Hex };
    result: {
      height: U64;
      hash: Hex;
      header: HeaderJson;
      transactions: BlockTxJson[];
      /** The commit that decided this block; null for genesis. */
      commit: CommitJson | null;
      /** The parent's commit the block carries; null at height 1. */
      lastCommit: CommitJson | null;
      evidenceCount: number;
    } | null;
  };
  chain_getValidators: {
    params: { height?: U64 };
    result: { height: U64; validatorsHash: Hex; validators: ValidatorLivenessJson[] };
  };
  tx_send: { params: { tx: Hex }; result: { hash: Hex } };
  tx_get: {
    params: { hash: Hex };
    result: {
      hash: Hex;
      status: "pending" | "finalized" | "rejected" | "unknown";
      height: U64 | null;
      index: number | null;
      receipt: ReceiptJson | null;
    };
  };
  account_get: {
    params: { address: Address } & AuthParams;
    result: {
      address: Address;
      nonce: U64;
      balance: I64;
      credits: { vintage: U64; amount: U64; locked: U64 }[];
      lockedCredits: U64;
      lockedMoney: U64;
      openBuyQty: U64;
      owed: U64;
      openOrders: number;
    };
  };
  household_get: {
    params: { address: Address } & AuthParams;
    result: {
      address: Address;
      utility: string;
      key: Address;
      appKey: Address | null;
      meterIdHash: Hex;
      meterKeyType: "secp256k1" | "p256" | null;
      registers: number;
      baselines: U64[];
      status: "active" | "closed";
      registeredAt: U64;
      closedAt: U64 | null;
      firstReadingTime: U64 | null;
      currentPeriod: {
        period: U64;
        phase: Phase;
        cap: U64 | null;
        capSource: "baseline" | "explicit" | null;
        /** Weighted Wh since start_k, from the meter's last reading; null before any. */
        consumptionSoFar: I64 | null;
      } | null;
      standingOrders: { sell: U64 | null; buy: U64 | null };
    } | null;
  };
  household_statement: {
    params: { address: Address; period: U64 } & AuthParams;
    result: StatementJson | null;
  };
  period_get: {
    /** Without a period: the one containing the head's time. */
    params: { utility: string; period?: U64 };
    result: {
      utility: string;
      period: U64;
      phase: Phase;
      start: U64;
      end: U64;
      finalisesAt: U64;
      tradingEndsAt: U64;
      month: number;
      snapshotTaken: boolean;
      policy: PolicyJson | null;
      totals: PeriodTotalsJson | null;
    };
  };
  market_orderBook: {
    params: { utility: string; side: "buy" | "sell" } & PageParams;
    result: Page<OrderJson> & { lastPrice: U64 | null };
  };
  market_orders: {
    params: { address: Address } & PageParams & AuthParams;
    result: Page<OrderJson>;
  };
  market_trades: { params: { utility: string } & PageParams; result: Page<TradeJson> };
  market_auctions: { params: { utility: string } & PageParams; result: Page<AuctionJson> };
  oracle_list: {
    params: { utility?: string } & PageParams;
    result: Page<{
      address: Address;
      utility: string;
      active: boolean;
      registeredHeight: U64;
      readingsRelayed: U64;
      batches: U64;
      rejections: { code: string; count: U64 }[];
    }>;
  };
  utility_get: {
    params: { utility: string } & PageParams;
    result: {
      id: string;
      name: string;
      operator: Address;
      status: "active" | "removed";
      policy: PolicyJson;
      pendingPolicies: { fromPeriod: U64; value: PolicyJson }[];
      householdCount: number;
      activeHouseholds: number;
      balance: I64;
      /** Policy changes as they landed, newest first, paged. */
      history: Page<{ height: U64; time: U64; fromPeriod: U64; tx: Hex | null }>;
    } | null;
  };
  txs_byAddress: {
    params: { address: Address } & PageParams & AuthParams;
    result: Page<{ hash: Hex; height: U64; index: number; role: "signer" | "party" }>;
  };
  readings_byMeter: {
    params: { meterIdHash: Hex } & PageParams & AuthParams;
    result: Page<{
      height: U64;
      tx: Hex;
      index: number;
      time: U64;
      registers: U64[];
      result: "accepted" | "duplicate" | "rejected";
      reject: string | null;
    }>;
  };
  export_settlement: {
    params: { utility: string; period: U64 } & PageParams & AuthParams;
    result: {
      utility: string;
      period: U64;
      phase: Phase;
      totals: PeriodTotalsJson | null;
      statements: Page<StatementJson>;
    };
  };
  state_getProof: {
    /**
     * A raw world-state key; without height: the head. `auth` is needed for a key of household
     * data on a node that restricts it (rpc/access.ts proofSubject).
     */
    params: { key: Hex; height?: U64 } & AuthParams;
    result: {
      key: Hex;
      value: Hex | null;
      height: U64;
      /** The SMT proof (state/smt/proof.ts) in JSON form. */
      proof: { [key: string]: Json };
      header: HeaderJson;
      commit: CommitJson | null;
      validators: ValidatorJson[];
    };
  };
  rpc_discover: { params: Record<string, never>; result: { [key: string]: Json } };
  auth_challenge: {
    params: Record<string, never>;
    result: { chainId: string; nonce: Hex; expires: U64 };
  };
  auth_signIn: {
    params: { publicKey: Hex; nonce: Hex; expires: U64; signature: Hex };
    result: {
      session: Hex;
      address: Address;
      expires: U64;
      auditor: boolean;
      utility: string | null;
      household: Address | null;
    };
  };
  auth_signOut: { params: { session: Hex }; result: { removed: boolean } };
  subscribe: {
    params: {
      topic: SubscriptionTopic;
      /** household: the household's address. */
      address?: Address;
      /** trades, auctions, readings: restrict to one utility. */
      utility?: string;
      /** readings: restrict to one meter. */
      meterIdHash?: Hex;
    } & AuthParams;
    result: { subscription: string };
  };
  unsubscribe: { params: { subscription: string }; result: { removed: boolean } };
}

export type MethodName = keyof RpcMethods;
export type ParamsOf<M extends MethodName> = RpcMethods[M]["params"];
export type ResultOf<M extends MethodName> = RpcMethods[M]["result"];

export interface MethodSpec {
  readonly name: MethodName;
  readonly summary: string;
  readonly params: JsonSchema;
  readonly result: JsonSchema;
  /** Only over WebSocket. */
  readonly websocketOnly?: boolean;
  /** Returns household-level data: restricted on public nodes with access control on. */
  readonly personal?: boolean;
}

const none = obj({});

/**
 * Access control (rpc/access.ts): every personal method takes an optional `auth`, required on a
 * node that restricts household data.
 */
const PublicKeyJ: JsonSchema = {
  type: "string",
  pattern: "^0x[0-9a-fA-F]{66}$",
  description: "33-byte public key",
};
const SignatureJ: JsonSchema = {
  type: "string",
  pattern: "^0x[0-9a-fA-F]{128}$",
  description: "64-byte signature",
};
const TokenJ: JsonSchema = {
  type: "string",
  pattern: "^0x[0-9a-fA-F]{64}$",
  description: "32 bytes, 0x-hex",
};
const AuthJ: JsonSchema = {
  oneOf: [
    obj({ publicKey: PublicKeyJ, time: j.time, signature: SignatureJ }),
    obj({ session: TokenJ }),
  ],
};

function withAuth(spec: MethodSpec): MethodSpec {
  if (!spec.personal) return spec;
  const properties = spec.params.properties as Record<string, JsonSchema>;
  return { ...spec, params: { ...spec.params, properties: { ...properties, auth: AuthJ } } };
}

const table: readonly MethodSpec[] = [
  {
    name: "chain_status",
    summary: "Chain id, head height, hash and time, validator count, syncing",
    params: none,
    result: obj({
      chainId: str(),
      genesisHash: j.hash,
      height: j.u64,
      headHash: j.hash,
      headTime: j.time,
      validatorCount: int(0, 1024),
      syncing: bool,
    }),
  },
  {
    name: "chain_getBlock",
    summary: "A block by height or hash (default: head): header, transactions, commit signatures",
    params: obj({ height: j.u64, hash: j.hash }, ["height", "hash"]),
    result: nullable(
      obj({
        height: j.u64,
        hash: j.hash,
        header: HeaderJ,
        transactions: arr(BlockTxJ),
        commit: nullable(CommitJ),
        lastCommit: nullable(CommitJ),
        evidenceCount: int(0, 1024),
      }),
    ),
  },
  {
    name: "chain_getValidators",
    summary: "The validator set at a height (default: head) with liveness and evidence",
    params: obj({ height: j.u64 }, ["height"]),
    result: obj({
      height: j.u64,
      validatorsHash: j.hash,
      validators: arr(
        obj({
          address: j.address,
          publicKey: j.bytes,
          operator: j.address,
          utility: str(),
          signed: j.u64,
          missed: j.u64,
          lastSigned: nullable(j.u64),
          evidence: arr(obj({ height: j.u64, evidenceHeight: j.u64 })),
        }),
      ),
    }),
  },
  {
    name: "tx_send",
    summary: "Submits a signed transaction (hex); its hash, or error -32000 with data.reject",
    params: obj({ tx: j.bytes }),
    result: obj({ hash: j.hash }),
  },
  {
    name: "tx_get",
    summary: "A transaction's status (pending, finalized, rejected, unknown), height and receipt",
    params: obj({ hash: j.hash }),
    result: obj({
      hash: j.hash,
      status: oneOf(["pending", "finalized", "rejected", "unknown"]),
      height: nullable(j.u64),
      index: nullable(int(0, 0xffff_ffff)),
      receipt: nullable(ReceiptJ),
    }),
  },
  {
    name: "account_get",
    summary: "Nonce, balance, credits by vintage and locked amounts of an account",
    params: obj({ address: j.address }),
    personal: true,
    result: obj({
      address: j.address,
      nonce: j.u64,
      balance: j.i64,
      credits: arr(obj({ vintage: j.u64, amount: j.u64, locked: j.u64 })),
      lockedCredits: j.u64,
      lockedMoney: j.u64,
      openBuyQty: j.u64,
      owed: j.u64,
      openOrders: int(0, 0xffff_ffff),
    }),
  },
  {
    name: "household_get",
    summary: "A household: utility, meter, baselines, current cap and consumption, standing orders",
    params: obj({ address: j.address }),
    personal: true,
    result: nullable(
      obj({
        address: j.address,
        utility: str(),
        key: j.address,
        appKey: nullable(j.address),
        meterIdHash: j.hash,
        meterKeyType: nullable(oneOf(["secp256k1", "p256"])),
        registers: int(1, 2),
        baselines: arr(j.u64, 12),
        status: oneOf(["active", "closed"]),
        registeredAt: j.time,
        closedAt: nullable(j.time),
        firstReadingTime: nullable(j.time),
        currentPeriod: nullable(
          obj({
            period: j.u64,
            phase: oneOf(PHASES),
            cap: nullable(j.u64),
            capSource: nullable(oneOf(["baseline", "explicit"])),
            consumptionSoFar: nullable(j.i64),
          }),
        ),
        standingOrders: obj({ sell: nullable(j.u64), buy: nullable(j.u64) }),
      }),
    ),
  },
  {
    name: "household_statement",
    summary: "A household's statement for one period",
    params: obj({ address: j.address, period: j.u64 }),
    personal: true,
    result: nullable(StatementJ),
  },
  {
    name: "period_get",
    summary: "A utility's period (default: the current one): phase, boundaries, policy, totals",
    params: obj({ utility: j.utility, period: j.u64 }, ["period"]),
    result: obj({
      utility: str(),
      period: j.u64,
      phase: oneOf(PHASES),
      start: j.time,
      end: j.time,
      finalisesAt: j.time,
      tradingEndsAt: j.time,
      month: int(0, 11),
      snapshotTaken: bool,
      policy: nullable(PolicyJ),
      totals: nullable(PeriodTotalsJ),
    }),
  },
  {
    name: "market_orderBook",
    summary: "One side of a utility's order book, best price first, paged",
    params: obj({ utility: j.utility, side: oneOf(["buy", "sell"]), ...pageParams }, pageOptional),
    result: obj({ items: arr(OrderJ), nextCursor: nullable(str()), lastPrice: nullable(j.u64) }),
  },
  {
    name: "market_orders",
    summary: "An account's open orders, paged",
    params: obj({ address: j.address, ...pageParams }, pageOptional),
    personal: true,
    result: page(OrderJ),
  },
  {
    name: "market_trades",
    summary: "A utility's fills, newest first, paged",
    params: obj({ utility: j.utility, ...pageParams }, pageOptional),
    result: page(
      obj({
        height: j.u64,
        time: j.time,
        order: j.hash,
        household: j.address,
        side: oneOf(["buy", "sell"]),
        qty: j.u64,
        price: j.u64,
      }),
    ),
  },
  {
    name: "market_auctions",
    summary: "A utility's call auctions: clearing price, volume, curves; newest first, paged",
    params: obj({ utility: j.utility, ...pageParams }, pageOptional),
    result: page(
      obj({
        height: j.u64,
        time: j.time,
        period: j.u64,
        price: nullable(j.u64),
        volume: j.u64,
        demand: arr(PricePointJ),
        supply: arr(PricePointJ),
      }),
    ),
  },
  {
    name: "oracle_list",
    summary: "Oracles (of one utility or all) with readings relayed and rejections by code",
    params: obj({ utility: j.utility, ...pageParams }, ["utility", ...pageOptional]),
    result: page(
      obj({
        address: j.address,
        utility: str(),
        active: bool,
        registeredHeight: j.u64,
        readingsRelayed: j.u64,
        batches: j.u64,
        rejections: arr(obj({ code: RejectCodeJ, count: j.u64 })),
      }),
    ),
  },
  {
    name: "utility_get",
    summary: "A utility: operator, policy in force and scheduled, and its policy history (paged)",
    params: obj({ utility: j.utility, ...pageParams }, pageOptional),
    result: nullable(
      obj({
        id: str(),
        name: str(),
        operator: j.address,
        status: oneOf(["active", "removed"]),
        policy: PolicyJ,
        pendingPolicies: arr(obj({ fromPeriod: j.u64, value: PolicyJ })),
        householdCount: int(0, 0xffff_ffff),
        activeHouseholds: int(0, 0xffff_ffff),
        balance: j.i64,
        history: page(
          obj({ height: j.u64, time: j.time, fromPeriod: j.u64, tx: nullable(j.hash) }),
        ),
      }),
    ),
  },
  {
    name: "txs_byAddress",
    summary: "Transactions an address signed or took part in, newest first, paged",
    params: obj({ address: j.address, ...pageParams }, pageOptional),
    personal: true,
    result: page(
      obj({
        hash: j.hash,
        height: j.u64,
        index: int(0, 0xffff_ffff),
        role: oneOf(["signer", "party"]),
      }),
    ),
  },
  {
    name: "readings_byMeter",
    summary: "Readings relayed for a meter (by meter id hash) with their results, newest first",
    params: obj({ meterIdHash: j.hash, ...pageParams }, pageOptional),
    personal: true,
    result: page(
      obj({
        height: j.u64,
        tx: j.hash,
        index: int(0, 0xffff_ffff),
        time: j.time,
        registers: arr(j.u64, 2),
        result: oneOf(["accepted", "duplicate", "rejected"]),
        reject: nullable(RejectCodeJ),
      }),
    ),
  },
  {
    name: "export_settlement",
    summary: "A utility's period for billing: totals and every household's statement, paged",
    params: obj({ utility: j.utility, period: j.u64, ...pageParams }, pageOptional),
    personal: true,
    result: obj({
      utility: str(),
      period: j.u64,
      phase: oneOf(PHASES),
      totals: nullable(PeriodTotalsJ),
      statements: page(StatementJ),
    }),
  },
  {
    name: "state_getProof",
    summary: "A state value with its proof, header, commit and the validator set of the header",
    // Not `personal` as a whole: only keys of household data need auth (rpc/access.ts).
    params: obj({ key: j.bytes, height: j.u64, auth: AuthJ }, ["height", "auth"]),
    result: obj({
      key: j.bytes,
      value: nullable(j.bytes),
      height: j.u64,
      proof: anyObject,
      header: HeaderJ,
      commit: nullable(CommitJ),
      validators: arr(ValidatorJ),
    }),
  },
  {
    name: "rpc_discover",
    summary: "This API's OpenRPC document",
    params: none,
    result: anyObject,
  },
  {
    name: "auth_challenge",
    summary:
      "Sign-in, step 1: a nonce this node accepts once within 60 s, and the session's expiry",
    params: none,
    result: obj({ chainId: str(), nonce: TokenJ, expires: j.time }),
  },
  {
    name: "auth_signIn",
    summary:
      "Sign-in, step 2: the challenge signed by a household, operator or auditor key; a session",
    params: obj({ publicKey: PublicKeyJ, nonce: TokenJ, expires: j.time, signature: SignatureJ }),
    result: obj({
      session: TokenJ,
      address: j.address,
      expires: j.time,
      auditor: bool,
      utility: nullable(str()),
      household: nullable(j.address),
    }),
  },
  {
    name: "auth_signOut",
    summary: "Ends a session",
    params: obj({ session: TokenJ }),
    result: obj({ removed: bool }),
  },
  {
    name: "subscribe",
    summary: "WebSocket: subscribe to newHeads, household, trades, auctions or readings",
    websocketOnly: true,
    params: obj(
      {
        topic: oneOf(SUBSCRIPTION_TOPICS),
        address: j.address,
        utility: j.utility,
        meterIdHash: j.hash,
        auth: AuthJ,
      },
      ["address", "utility", "meterIdHash", "auth"],
    ),
    result: obj({ subscription: str() }),
  },
  {
    name: "unsubscribe",
    summary: "WebSocket: ends a subscription",
    websocketOnly: true,
    params: obj({ subscription: { type: "string", maxLength: 64 } }),
    result: obj({ removed: bool }),
  },
];

/** The table. Order is the order rpc_discover lists them in. */
export const methods: readonly MethodSpec[] = table.map(withAuth);

export const methodsByName: ReadonlyMap<string, MethodSpec> = new Map(
  methods.map((m) => [m.name, m]),
);

/** The notification a subscription sends: method "subscription", params {subscription, result}. */
export const SUBSCRIPTION_NOTIFICATION = "subscription";
