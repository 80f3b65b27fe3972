// The trading module's records (DESIGN.md §6 "Orders", "Market modes"): open orders and the
// indexes that find them (the book, best first; each household's orders; early expiries; the
// `paper` queues), each utility's market state, each household's trading account, and the
// standing orders households keep across periods.
import { bool, type Infer, optional, struct, u32, u64 } from "../../lib/codec.js";
import { keys } from "../keys.js";
import { AddressSchema, HashSchema, UtilityIdSchema } from "../model/common.js";
import { type Table, table } from "../tables.js";
import { type Side, SideSchema } from "../tx/types.js";

export const OrderRecordSchema = struct("OrderRecord", {
  id: HashSchema,
  /** The household's address (its identity, not its key). */
  owner: AddressSchema,
  utility: UtilityIdSchema,
  side: SideSchema,
  /** Remaining Wh, > 0: the order's lock is always exactly this size (see locks.ts). */
  qty: u64,
  /** Limit, micro-units per Wh. */
  price: u64,
  placedHeight: u64,
  /**
   * Time priority: in the continuous mode the utility's placement counter; in batch and paper,
   * whose rules never look at arrival order, the placement height.
   */
  seq: u64,
  /** The period whose trading window the order was placed in. */
  period: u64,
  /** Live while the block time is below this; never after the window's end. */
  expiry: u64,
  /** Placed by the standing-order stage rather than by a transaction. */
  standing: bool,
});
export type OrderRecord = Infer<typeof OrderRecordSchema>;

export const MarketStateSchema = struct("MarketState", {
  /** The next order's seq. */
  nextSeq: u64,
  /** The last batch clearing price; absent before the market's first trade. */
  lastPrice: optional(u64),
  /** The height of the last block that changed the book: the batch auction runs in it. */
  changedHeight: u64,
});
export type MarketState = Infer<typeof MarketStateSchema>;

export const NEW_MARKET: MarketState = { nextSeq: 0n, lastPrice: undefined, changedHeight: 0n };

export const TradingAccountSchema = struct("TradingAccount", {
  /** Σ remaining × limit over the household's open buys. */
  lockedMoney: u64,
  /** Σ remaining over its open buys: counted against the holding limit. */
  openBuyQty: u64,
  buyOrders: u32,
  sellOrders: u32,
  /**
   * Σ obligations finalised whose compliance has not run: credits it may not sell or give
   * away, since they are needed to cover them.
   */
  owed: u64,
  /** The last period whose obligation `owed` includes (set by the market-open stage). */
  owedThrough: optional(u64),
});
export type TradingAccount = Infer<typeof TradingAccountSchema>;

export const NEW_TRADING_ACCOUNT: TradingAccount = {
  lockedMoney: 0n,
  openBuyQty: 0n,
  buyOrders: 0,
  sellOrders: 0,
  owed: 0n,
  owedThrough: undefined,
};

export const StandingOrderSchema = struct("StandingOrder", {
  /** sell: no less than this per Wh; buy: no more. */
  price: u64,
  setHeight: u64,
});
export type StandingOrder = Infer<typeof StandingOrderSchema>;

const Empty = struct("Empty", {});
type Empty = Record<string, never>;
export const EMPTY: Empty = {};

export const orderTable: Table<Uint8Array, OrderRecord> = table(
  "order",
  keys.order,
  OrderRecordSchema,
);

/** The book index: an ascending scan of a side meets the best price first, then the oldest. */
export const bookTable: Table<
  readonly [utility: string, side: Side, price: bigint, seq: bigint, id: Uint8Array],
  Uint8Array
> = table(
  "orderBook",
  ([utility, side, price, seq, id]) => keys.orderBookEntry(utility, side, price, seq, id),
  HashSchema,
);

export const householdOrderTable: Table<readonly [household: Uint8Array, id: Uint8Array], Empty> =
  table("householdOrder", ([household, id]) => keys.householdOrder(household, id), Empty);

export const orderExpiryTable: Table<readonly [expiry: bigint, id: Uint8Array], Empty> = table(
  "orderExpiry",
  ([expiry, id]) => keys.orderExpiry(expiry, id),
  Empty,
);

export const marketTable: Table<string, MarketState> = table(
  "market",
  keys.market,
  MarketStateSchema,
);

export const tradingAccountTable: Table<Uint8Array, TradingAccount> = table(
  "tradingAccount",
  keys.tradingAccount,
  TradingAccountSchema,
);

export const standingOrderTable: Table<
  readonly [household: Uint8Array, side: Side],
  StandingOrder
> = table(
  "standingOrder",
  ([household, side]) => keys.standingOrder(household, side),
  StandingOrderSchema,
);

/** A household may have at most this many open orders: compliance and close cancel them all. */
export const MAX_OPEN_ORDERS = 16;

/** No order is larger: a meter register never passes 2^48 Wh either. */
export const MAX_ORDER_QTY = 1n << 48n;
/** qty × price must stay far inside the signed 64-bit balances it moves. */
export const MAX_ORDER_VALUE = 1n << 62n;
