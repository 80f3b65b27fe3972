// The validated step between a clearing and the state (DESIGN.md §6: keep clear(book) -> fills
// pure and apply fills separately). Whatever produced the fills — an engine, a proposer, a bug —
// they are checked against the book before anything moves: each fill names an open order of its
// side, no order fills beyond its remaining size or past its limit, and the buy and sell sides
// balance in both energy and money, exactly.
import { equalBytes, toHex } from "../../lib/bytes.js";
import {
  type Book,
  type Fill,
  indexBook,
  MarketError,
  ORDER_ID_LENGTH,
  type Order,
  orderKey,
  type Trade,
  tradesToFills,
} from "./order.js";

export type FillErrorCode =
  | "BAD_BOOK" // the book itself is malformed (see indexBook)
  | "BAD_FILL" // a fill with a malformed id, a quantity ≤ 0 or a negative price
  | "UNKNOWN_ORDER" // a fill for an order that is not in the book
  | "SIDE_MISMATCH" // a fill's side, or a trade's buy/sell id, names an order of the other side
  | "OWNER_MISMATCH" // a trade's buyer or seller is not the owner of the order it names
  | "OVERFILL" // an order's fills add up to more than its remaining size
  | "PRICE_BEYOND_LIMIT" // a buy fill above the buy's limit, or a sell fill below the sell's
  | "VOLUME_MISMATCH" // Σ bought Wh ≠ Σ sold Wh
  | "VALUE_MISMATCH"; // Σ paid ≠ Σ received

export interface FillError {
  readonly code: FillErrorCode;
  readonly message: string;
  /** The order the error is about, when there is one. */
  readonly orderId?: Uint8Array;
}

export type FillCheck =
  | {
      readonly ok: true;
      /** Wh that change hands. */
      readonly volume: bigint;
      /** Micro-units that change hands: Σ qty × price over either side. */
      readonly value: bigint;
      /** The book after the fills: filled orders gone, partly filled ones reduced, order kept. */
      readonly residual: Book;
    }
  | { readonly ok: false; readonly error: FillError };

const fail = (code: FillErrorCode, message: string, orderId?: Uint8Array): FillCheck => ({
  ok: false,
  error: orderId === undefined ? { code, message } : { code, message, orderId },
});

/** The book's orders by id, or the BAD_BOOK failure. */
function indexOrFail(book: Book): Map<string, Order> | FillCheck {
  try {
    return indexBook(book);
  } catch (e) {
    if (e instanceof MarketError) return fail("BAD_BOOK", e.message);
    throw e;
  }
}

export function validateFills(book: Book, fills: readonly Fill[]): FillCheck {
  const byId = indexOrFail(book);
  if (!(byId instanceof Map)) return byId;
  const filled = new Map<string, bigint>();
  const totals = { buy: { qty: 0n, value: 0n }, sell: { qty: 0n, value: 0n } };
  for (const f of fills) {
    if (!(f.orderId instanceof Uint8Array) || f.orderId.length !== ORDER_ID_LENGTH) {
      return fail("BAD_FILL", `a fill's order id must be ${ORDER_ID_LENGTH} bytes`);
    }
    const key = orderKey(f.orderId);
    if (typeof f.qty !== "bigint" || f.qty <= 0n) {
      return fail(
        "BAD_FILL",
        `fill for ${toHex(f.orderId)} has a non-positive quantity`,
        f.orderId,
      );
    }
    if (typeof f.price !== "bigint" || f.price < 0n) {
      return fail("BAD_FILL", `fill for ${toHex(f.orderId)} has a negative price`, f.orderId);
    }
    const order = byId.get(key);
    if (order === undefined)
      return fail("UNKNOWN_ORDER", `no open order ${toHex(f.orderId)}`, f.orderId);
    if (f.side !== order.side) {
      return fail(
        "SIDE_MISMATCH",
        `fill says ${f.side} for ${order.side} ${toHex(f.orderId)}`,
        f.orderId,
      );
    }
    if (order.side === "buy" ? f.price > order.price : f.price < order.price) {
      return fail(
        "PRICE_BEYOND_LIMIT",
        `fill at ${f.price} is past the limit ${order.price} of ${order.side} ${toHex(f.orderId)}`,
        f.orderId,
      );
    }
    const total = (filled.get(key) ?? 0n) + f.qty;
    if (total > order.qty) {
      return fail("OVERFILL", `${toHex(f.orderId)} fills ${total} of ${order.qty} Wh`, f.orderId);
    }
    filled.set(key, total);
    const side = totals[order.side];
    side.qty += f.qty;
    side.value += f.qty * f.price;
  }
  if (totals.buy.qty !== totals.sell.qty) {
    return fail("VOLUME_MISMATCH", `${totals.buy.qty} Wh bought, ${totals.sell.qty} Wh sold`);
  }
  if (totals.buy.value !== totals.sell.value) {
    return fail("VALUE_MISMATCH", `${totals.buy.value} paid, ${totals.sell.value} received`);
  }
  const remaining = (orders: readonly Order[]): Order[] => {
    const out: Order[] = [];
    for (const o of orders) {
      const f = filled.get(orderKey(o.id)) ?? 0n;
      if (f === 0n) out.push(o);
      else if (f < o.qty) out.push({ ...o, qty: o.qty - f });
    }
    return out;
  };
  return {
    ok: true,
    volume: totals.buy.qty,
    value: totals.buy.value,
    residual: { buys: remaining(book.buys), sells: remaining(book.sells) },
  };
}

/**
 * Checks bilateral trades: each must name a buy and a sell of the book owned by the parties it
 * names, and then its two fills must pass validateFills.
 */
export function validateTrades(book: Book, trades: readonly Trade[]): FillCheck {
  const byId = indexOrFail(book);
  if (!(byId instanceof Map)) return byId;
  for (const t of trades) {
    for (const [id, party, side] of [
      [t.buyOrderId, t.buyer, "buy"],
      [t.sellOrderId, t.seller, "sell"],
    ] as const) {
      if (!(id instanceof Uint8Array) || id.length !== ORDER_ID_LENGTH) {
        return fail("BAD_FILL", `a trade's order id must be ${ORDER_ID_LENGTH} bytes`);
      }
      const order = byId.get(orderKey(id));
      if (order === undefined) return fail("UNKNOWN_ORDER", `no open order ${toHex(id)}`, id);
      if (order.side !== side) {
        return fail("SIDE_MISMATCH", `trade's ${side} ${toHex(id)} is a ${order.side}`, id);
      }
      if (!(party instanceof Uint8Array) || !equalBytes(party, order.owner)) {
        return fail("OWNER_MISMATCH", `trade's ${side}er does not own ${toHex(id)}`, id);
      }
    }
  }
  return validateFills(book, tradesToFills(trades));
}
