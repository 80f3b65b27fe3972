// Orders, books and the fills the matching engines produce (DESIGN.md §6 "Orders", "Market
// modes"). Quantities are Wh of credits and prices micro-units per Wh, all bigint, so the
// value of a trade, qty × price, is exact.
import { byteString, toHex } from "../../lib/bytes.js";

export type Side = "buy" | "sell";

export const ORDER_ID_LENGTH = 32;
export const ADDRESS_LENGTH = 20;

export interface Order {
  readonly id: Uint8Array;
  readonly owner: Uint8Array;
  readonly side: Side;
  /** Remaining size in Wh, > 0. */
  readonly qty: bigint;
  /** Limit in micro-units per Wh: the most a buy pays, the least a sell accepts. */
  readonly price: bigint;
  readonly placedHeight: bigint;
  /** Placement order within the chain: time priority in the continuous book. */
  readonly seq: bigint;
}

/** The open orders of one market. */
export interface Book {
  readonly buys: readonly Order[];
  readonly sells: readonly Order[];
}

/** What one order gets from a clearing: an order may get several fills at different prices. */
export interface Fill {
  readonly orderId: Uint8Array;
  readonly side: Side;
  readonly qty: bigint;
  readonly price: bigint;
}

/** A fill that pairs a buyer with a seller: the continuous and `paper` modes settle bilaterally. */
export interface Trade {
  readonly buyOrderId: Uint8Array;
  readonly sellOrderId: Uint8Array;
  readonly buyer: Uint8Array;
  readonly seller: Uint8Array;
  readonly qty: bigint;
  readonly price: bigint;
}

export type MarketErrorCode =
  | "BAD_ORDER" // malformed order: id/owner length, qty ≤ 0 or price < 0
  | "WRONG_SIDE" // an order in the list of the other side
  | "DUPLICATE_ORDER" // two orders with one id
  | "STALE_SEQ" // a placement whose seq is not after every earlier placement
  | "CROSSED_BOOK" // a restored continuous book whose best bid reaches its best ask
  | "BAD_PARAMS"; // auction parameters out of range

export class MarketError extends Error {
  override name = "MarketError";
  constructor(
    readonly code: MarketErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The smaller of two quantities: Math.min does not take bigints. */
export function minQty(a: bigint, b: bigint): bigint {
  if (a < b) return a;
  return b;
}

/**
 * Map key for an order id: ids are bytes, and Maps compare Uint8Arrays by identity. Not hex,
 * which builds a string a digit pair at a time: a block keys its whole book by these.
 */
export function orderKey(id: Uint8Array): string {
  return byteString(id);
}

/** Throws MarketError("BAD_ORDER") unless the order is well formed. */
export function checkOrder(order: Order): void {
  if (!(order.id instanceof Uint8Array) || order.id.length !== ORDER_ID_LENGTH) {
    throw new MarketError("BAD_ORDER", `order id must be ${ORDER_ID_LENGTH} bytes`);
  }
  if (!(order.owner instanceof Uint8Array) || order.owner.length !== ADDRESS_LENGTH) {
    throw new MarketError("BAD_ORDER", `order owner must be ${ADDRESS_LENGTH} bytes`);
  }
  if (order.side !== "buy" && order.side !== "sell") {
    throw new MarketError("BAD_ORDER", "order side must be buy or sell");
  }
  if (typeof order.qty !== "bigint" || order.qty <= 0n) {
    throw new MarketError("BAD_ORDER", `order ${toHex(order.id)} has a non-positive quantity`);
  }
  if (typeof order.price !== "bigint" || order.price < 0n) {
    throw new MarketError("BAD_ORDER", `order ${toHex(order.id)} has a negative price`);
  }
}

/**
 * Checks every order of a book and indexes it by id. Throws MarketError: BAD_ORDER,
 * WRONG_SIDE, DUPLICATE_ORDER.
 */
export function indexBook(book: Book): Map<string, Order> {
  const byId = new Map<string, Order>();
  const add = (order: Order, side: Side): void => {
    checkOrder(order);
    const key = orderKey(order.id);
    if (order.side !== side) {
      throw new MarketError(
        "WRONG_SIDE",
        `order ${toHex(order.id)} is a ${order.side} among the ${side}s`,
      );
    }
    if (byId.has(key))
      throw new MarketError("DUPLICATE_ORDER", `order ${toHex(order.id)} appears twice`);
    byId.set(key, order);
  };
  for (const o of book.buys) add(o, "buy");
  for (const o of book.sells) add(o, "sell");
  return byId;
}

/** The two fills a trade stands for, at the trade's price. */
export function tradesToFills(trades: readonly Trade[]): Fill[] {
  const fills: Fill[] = [];
  for (const t of trades) {
    fills.push({ orderId: t.buyOrderId, side: "buy", qty: t.qty, price: t.price });
    fills.push({ orderId: t.sellOrderId, side: "sell", qty: t.qty, price: t.price });
  }
  return fills;
}
