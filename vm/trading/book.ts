// Open orders in state: the record and every index that points at it are written and removed
// together, and so is the order's lock (locks.ts), so "every order's lock equals its remaining
// size" holds after each of these functions.
import { concatBytes, readU64be, u64be } from "../../lib/bytes.js";
import { decode, type Infer } from "../../lib/codec.js";
import { sha256 } from "../../lib/hash.js";
import type { ExecutionContext, StateView } from "../context.js";
import type { OrderCloseReasonSchema } from "../event.js";
import { keys } from "../keys.js";
import type { Order } from "../market/order.js";
import { HashSchema } from "../model/common.js";
import { type Table, table } from "../tables.js";
import type { Side } from "../tx/types.js";
import { releaseCredits, updateTradingAccount } from "./locks.js";
import {
  bookTable,
  EMPTY,
  householdOrderTable,
  type MarketState,
  marketTable,
  NEW_MARKET,
  type OrderRecord,
  orderExpiryTable,
  orderTable,
} from "./model.js";

export type OrderCloseReason = Infer<typeof OrderCloseReasonSchema>;

/** (utility, period, side, rank) → order id: Algorithm 1's queues, in service order. */
export const paperQueueTable: Table<
  readonly [utility: string, period: bigint, side: Side, rank: Uint8Array],
  Uint8Array
> = table(
  "paperQueue",
  ([utility, period, side, rank]) => keys.paperQueue(utility, period, side, rank),
  HashSchema,
);

/** Sells by price, height, sha256(id); buys by height, sha256(id) (vm/market/paper.ts). */
export function paperRank(order: OrderRecord): Uint8Array {
  const tie = concatBytes(u64be(order.placedHeight), sha256(order.id));
  return order.side === "sell" ? concatBytes(u64be(order.price), tie) : tie;
}

export function marketState(view: StateView, utility: string): MarketState {
  return view.get(marketTable, utility) ?? NEW_MARKET;
}

/** Notes that the utility's book changed in this block: the batch auction will run. */
export function touchMarket(ctx: ExecutionContext, utility: string): void {
  const market = marketState(ctx, utility);
  if (market.changedHeight === ctx.block.height) return;
  ctx.put(marketTable, utility, { ...market, changedHeight: ctx.block.height });
}

/**
 * The new order's seq. Only the continuous mode ranks by arrival, so only it counts; elsewhere
 * the height keeps the state the same for any order of a block's transactions.
 */
export function nextSeq(ctx: ExecutionContext, utility: string): bigint {
  if (ctx.params.marketMode !== "continuous") return ctx.block.height;
  const market = marketState(ctx, utility);
  ctx.put(marketTable, utility, { ...market, nextSeq: market.nextSeq + 1n });
  return market.nextSeq;
}

/**
 * Writes a new order and its indexes. Its lock has been taken by the caller; the expiry index
 * only holds orders due before their window closes, since the window's own close is handled
 * per household by compliance (and by the `paper` clearing before it).
 */
export function writeOrder(ctx: ExecutionContext, order: OrderRecord, windowEnd: bigint): void {
  ctx.put(orderTable, order.id, order);
  ctx.put(bookTable, [order.utility, order.side, order.price, order.seq, order.id], order.id);
  ctx.put(householdOrderTable, [order.owner, order.id], EMPTY);
  if (order.expiry < windowEnd) ctx.put(orderExpiryTable, [order.expiry, order.id], EMPTY);
  if (ctx.params.marketMode === "paper") {
    ctx.put(paperQueueTable, [order.utility, order.period, order.side, paperRank(order)], order.id);
  }
  touchMarket(ctx, order.utility);
}

function deleteIndexes(ctx: ExecutionContext, order: OrderRecord): void {
  ctx.delete(orderTable, order.id);
  ctx.delete(bookTable, [order.utility, order.side, order.price, order.seq, order.id]);
  ctx.delete(householdOrderTable, [order.owner, order.id]);
  ctx.delete(orderExpiryTable, [order.expiry, order.id]);
  // Only the paper mode queues orders (writeOrder), and a chain's mode never changes.
  if (ctx.params.marketMode === "paper") {
    ctx.delete(paperQueueTable, [order.utility, order.period, order.side, paperRank(order)]);
  }
  touchMarket(ctx, order.utility);
}

/** Removes an open order and releases its lock. */
export async function closeOrder(
  ctx: ExecutionContext,
  order: OrderRecord,
  reason: OrderCloseReason,
): Promise<void> {
  deleteIndexes(ctx, order);
  if (order.side === "sell") {
    releaseCredits(ctx, order.owner, order.qty);
    updateTradingAccount(ctx, order.owner, (a) => ({ ...a, sellOrders: a.sellOrders - 1 }));
  } else {
    updateTradingAccount(ctx, order.owner, (a) => ({
      ...a,
      lockedMoney: a.lockedMoney - order.qty * order.price,
      openBuyQty: a.openBuyQty - order.qty,
      buyOrders: a.buyOrders - 1,
    }));
  }
  ctx.emit({
    kind: "orderClosed",
    value: { order: order.id, household: order.owner, reason, remaining: order.qty },
  });
}

/**
 * Takes `qty` off an order that was filled: what the fill used of its lock is gone with the
 * fill (settle.ts moved the credits or paid for them), so only a buy's lock needs adjusting.
 */
export function shrinkOrder(ctx: ExecutionContext, order: OrderRecord, qty: bigint): OrderRecord {
  if (qty <= 0n || qty > order.qty) throw new Error("a fill outside the order's remaining size");
  const remaining = order.qty - qty;
  const gone = remaining === 0n;
  if (gone) deleteIndexes(ctx, order);
  else {
    ctx.put(orderTable, order.id, { ...order, qty: remaining });
    touchMarket(ctx, order.utility);
  }
  updateTradingAccount(ctx, order.owner, (a) =>
    order.side === "buy"
      ? {
          ...a,
          lockedMoney: a.lockedMoney - qty * order.price,
          openBuyQty: a.openBuyQty - qty,
          buyOrders: a.buyOrders - (gone ? 1 : 0),
        }
      : { ...a, sellOrders: a.sellOrders - (gone ? 1 : 0) },
  );
  return { ...order, qty: remaining };
}

/** The household's open orders, by id. */
export async function ordersOf(
  ctx: ExecutionContext,
  household: Uint8Array,
): Promise<OrderRecord[]> {
  const out: OrderRecord[] = [];
  for (const [key] of await ctx.scan(keys.householdOrdersOf(household))) {
    const order = ctx.get(orderTable, key.subarray(key.length - 32));
    if (!order) throw new Error("a household order index entry without its order");
    out.push(order);
  }
  return out;
}

/** The engines' view of an order. */
export function engineOrder(order: OrderRecord): Order {
  return {
    id: order.id,
    owner: order.owner,
    side: order.side,
    qty: order.qty,
    price: order.price,
    placedHeight: order.placedHeight,
    seq: order.seq,
  };
}

/** The order a paper queue entry points at. */
export function indexedOrder(view: StateView, value: Uint8Array): OrderRecord {
  const order = view.get(orderTable, decode(HashSchema, value));
  if (!order) throw new Error("an order index entry without its order");
  return order;
}

/**
 * The order a book entry points at, by the id its key ends with (keys.orderBookEntry): the
 * entry's value is that same id, and taking it from the key spares decoding it.
 */
export function bookOrder(view: StateView, key: Uint8Array): OrderRecord {
  const order = view.get(orderTable, key.subarray(key.length - 32));
  if (!order) throw new Error("a book entry without its order");
  return order;
}

/** The price a book index key stands for. */
export function priceOfBookKey(key: Uint8Array, side: Side): bigint {
  const raw = readU64be(key, key.length - 48);
  return side === "buy" ? (1n << 64n) - 1n - raw : raw;
}

/** One side of the utility's book, best first, live orders only (expiry after `time`). */
export async function loadSide(
  ctx: ExecutionContext,
  utility: string,
  side: Side,
  time: bigint,
): Promise<OrderRecord[]> {
  const out: OrderRecord[] = [];
  for (const [key] of await ctx.scan(keys.orderBookSide(utility, side))) {
    const order = bookOrder(ctx, key);
    if (order.expiry > time) out.push(order);
  }
  return out;
}
