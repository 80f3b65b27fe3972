// Limit orders (DESIGN.md §6 "Orders"): placeOrder, cancelOrder and replaceOrder, and the one
// placement path the standing-order stage also uses. An order is accepted only if every rule
// holds, and then its lock is taken with it (locks.ts):
//
// - MARKET_CLOSED in the `none` mode; BAD_QUANTITY for 0, over MAX_ORDER_QTY, or a value
//   qty × price over MAX_ORDER_VALUE;
// - OUTSIDE_WINDOW unless a trading window is open (window.ts: the order joins the latest
//   open window, period k); PRICE_OUT_OF_BAND outside k's [floorPrice, penaltyPrice];
// - BAD_EXPIRY for an expiry not after the block time; a later one is capped at k's
//   tradingEndsAt (so a wallet wanting "good for the window" sends 2^64 − 1);
// - SELF_TRADE if the household has open orders on the other side; TOO_MANY_ORDERS past
//   MAX_OPEN_ORDERS;
// - a sell: INSUFFICIENT_CREDITS unless free credits − owed ≥ qty, where owed is the Σ of its
//   obligations still waiting for compliance (it may sell only credits above them);
// - a buy: IN_ARREARS if balance < −creditLimit; else INSUFFICIENT_FUNDS unless
//   balance − lockedMoney − qty × price ≥ −creditLimit; HOLDING_LIMIT unless
//   held + open buys + qty ≤ holdingLimit. Limits come from k's snapshot.
//
// In the `continuous` mode the order is matched as it is placed; in `batch` it waits for the
// end-of-block auction; in `paper` for the clearing at the end of its window.
import { concatBytes, equalBytes, u32be } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import { reject } from "../codes.js";
import type { ExecutionContext } from "../context.js";
import { keys } from "../keys.js";
import { ContinuousBook } from "../market/continuous-book.js";
import { minQty } from "../market/order.js";
import { NEW_ACCOUNT } from "../model/account.js";
import type { Household } from "../model/household.js";
import { authoriseHousehold, householdSignedBy } from "../roles.js";
import { tables } from "../tables.js";
import { defineHandler } from "../tx/registry.js";
import type { Side } from "../tx/types.js";
import { bookOrder, closeOrder, engineOrder, nextSeq, priceOfBookKey, writeOrder } from "./book.js";
import {
  creditSummary,
  lockCredits,
  sellableOf,
  tradingAccount,
  updateTradingAccount,
} from "./locks.js";
import {
  MAX_OPEN_ORDERS,
  MAX_ORDER_QTY,
  MAX_ORDER_VALUE,
  type OrderRecord,
  orderTable,
} from "./model.js";
import { MatchedBook, settleTrades } from "./settle.js";
import { openWindow } from "./window.js";

export interface OrderRequest {
  readonly side: Side;
  readonly qty: bigint;
  readonly price: bigint;
  readonly expiry: bigint;
}

/** A transaction's n-th order: unique, and known to the sender before the block. */
export function orderIdOf(txId: Uint8Array, index: number): Uint8Array {
  return sha256(concatBytes(txId, u32be(index)));
}

/**
 * Checks and places an order for `household`, or throws Reject. Returns the order as it stands
 * after any matching (undefined once fully filled).
 */
export async function placeOrder(
  ctx: ExecutionContext,
  household: Household,
  request: OrderRequest,
  id: Uint8Array,
  standing: boolean,
): Promise<OrderRecord | undefined> {
  const { side, qty, price } = request;
  if (ctx.params.marketMode === "none") reject("MARKET_CLOSED");
  if (qty === 0n || qty > MAX_ORDER_QTY) reject("BAD_QUANTITY");
  const utility = ctx.need(tables.utility, household.utility, "UNKNOWN_UTILITY");
  const window = openWindow(ctx, utility) ?? reject("OUTSIDE_WINDOW");
  const { policy, timeline } = window;
  if (price < policy.floorPrice || price > policy.penaltyPrice) reject("PRICE_OUT_OF_BAND");
  if (qty * price > MAX_ORDER_VALUE) reject("BAD_QUANTITY", "the order's value is too large");
  if (request.expiry <= ctx.block.time) reject("BAD_EXPIRY");
  const expiry = minQty(request.expiry, timeline.tradingEndsAt);
  if (ctx.get(orderTable, id)) throw new Error("order id collision");

  const account = tradingAccount(ctx, household.address);
  if ((side === "buy" ? account.sellOrders : account.buyOrders) > 0) reject("SELF_TRADE");
  if (account.buyOrders + account.sellOrders >= MAX_OPEN_ORDERS) {
    reject("TOO_MANY_ORDERS", `at most ${MAX_OPEN_ORDERS} open orders`);
  }
  if (side === "sell") {
    const { free, vintages } = creditSummary(ctx, household.address);
    if (sellableOf(ctx, household.address, free, window.period, account) < qty) {
      reject("INSUFFICIENT_CREDITS");
    }
    lockCredits(ctx, household.address, qty, vintages);
    // Locking credits leaves the trading account as `account` read it.
    updateTradingAccount(
      ctx,
      household.address,
      (a) => ({ ...a, sellOrders: a.sellOrders + 1 }),
      account,
    );
  } else {
    const { balance } = ctx.get(tables.account, household.address) ?? NEW_ACCOUNT;
    const floor = -policy.creditLimit;
    if (balance < floor) reject("IN_ARREARS");
    if (balance - account.lockedMoney - qty * price < floor) reject("INSUFFICIENT_FUNDS");
    const { held } = creditSummary(ctx, household.address);
    if (held + account.openBuyQty + qty > policy.holdingLimit) reject("HOLDING_LIMIT");
    updateTradingAccount(
      ctx,
      household.address,
      (a) => ({
        ...a,
        lockedMoney: a.lockedMoney + qty * price,
        openBuyQty: a.openBuyQty + qty,
        buyOrders: a.buyOrders + 1,
      }),
      account,
    );
  }

  const order: OrderRecord = {
    id,
    owner: household.address,
    utility: utility.id,
    side,
    qty,
    price,
    placedHeight: ctx.block.height,
    seq: nextSeq(ctx, utility.id),
    period: window.period,
    expiry,
    standing,
  };
  writeOrder(ctx, order, timeline.tradingEndsAt);
  ctx.emit({
    kind: "orderPlaced",
    value: {
      order: id,
      household: household.address,
      utility: utility.id,
      side,
      qty,
      price,
      period: window.period,
      expiry,
      standing,
    },
  });
  return ctx.params.marketMode === "continuous" ? matchContinuous(ctx, order) : order;
}

/** Makers are read a page at a time, only as far as they cross and the taker needs. */
const MAKER_PAGE = 16;

/**
 * The opposite side's orders an incoming order can trade with, best first, until their sizes
 * cover it. Expired makers met on the way are closed (their lock released), not matched.
 */
async function crossingMakers(ctx: ExecutionContext, taker: OrderRecord): Promise<OrderRecord[]> {
  const side: Side = taker.side === "buy" ? "sell" : "buy";
  const prefix = keys.orderBookSide(taker.utility, side);
  const makers: OrderRecord[] = [];
  let covered = 0n;
  let after: Uint8Array | undefined;
  for (;;) {
    const page = await ctx.scan(
      prefix,
      after ? { after, limit: MAKER_PAGE } : { limit: MAKER_PAGE },
    );
    if (page.length === 0) return makers;
    for (const [key] of page) {
      after = key;
      const price = priceOfBookKey(key, side);
      if (taker.side === "buy" ? price > taker.price : price < taker.price) return makers;
      const maker = bookOrder(ctx, key);
      if (maker.expiry <= ctx.block.time) {
        await closeOrder(ctx, maker, "expired");
        continue;
      }
      makers.push(maker);
      covered += maker.qty;
      if (covered >= taker.qty) return makers;
    }
  }
}

/** Price-time matching of one incoming order against the resting book (docs/market.md). */
async function matchContinuous(
  ctx: ExecutionContext,
  taker: OrderRecord,
): Promise<OrderRecord | undefined> {
  const makers = await crossingMakers(ctx, taker);
  if (makers.length === 0) return taker;
  const book = ContinuousBook.fromOrders(makers.map(engineOrder));
  const trades = book.place(engineOrder(taker));
  const matched =
    taker.side === "buy" ? new MatchedBook([taker], makers) : new MatchedBook(makers, [taker]);
  await settleTrades(ctx, matched, trades);
  return ctx.get(orderTable, taker.id);
}

/** The household's own open order, or UNKNOWN_ORDER. */
function ownOrder(ctx: ExecutionContext, household: Household, id: Uint8Array): OrderRecord {
  const order = ctx.get(orderTable, id);
  if (!order || !equalBytes(order.owner, household.address)) reject("UNKNOWN_ORDER");
  return order;
}

function signer(ctx: ExecutionContext, address: Uint8Array): Household {
  return householdSignedBy(ctx, address) ?? reject("NOT_AUTHORISED");
}

export const placeOrderHandler = defineHandler("placeOrder", {
  authorise: authoriseHousehold,
  async execute(ctx, tx) {
    await placeOrder(ctx, signer(ctx, tx.signer), tx.payload, orderIdOf(tx.id, 0), false);
  },
});

export const cancelOrderHandler = defineHandler("cancelOrder", {
  authorise: authoriseHousehold,
  async execute(ctx, tx) {
    const household = signer(ctx, tx.signer);
    await closeOrder(ctx, ownOrder(ctx, household, tx.payload.orderId), "cancelled");
  },
});

/**
 * Cancels an order and places its replacement (same side, new id orderIdOf(tx, 0), new seq: it
 * loses its time priority) in one step: if the new order is refused, the old one stays.
 */
export const replaceOrderHandler = defineHandler("replaceOrder", {
  authorise: authoriseHousehold,
  async execute(ctx, tx) {
    const household = signer(ctx, tx.signer);
    const { orderId, qty, price, expiry } = tx.payload;
    const old = ownOrder(ctx, household, orderId);
    await closeOrder(ctx, old, "replaced");
    await placeOrder(
      ctx,
      household,
      { side: old.side, qty, price, expiry },
      orderIdOf(tx.id, 0),
      false,
    );
  },
});
