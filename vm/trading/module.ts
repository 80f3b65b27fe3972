// The trading module: the household's market transactions, the end-of-block market work, and
// what a household's move-out closes. Its settlement stages (market-open, paper-clearing,
// compliance, vintage-expiry) run through the period scheduler: vm/settlement/stages.ts.
import type { HouseholdCloseHook } from "../context.js";
import type { VmModule } from "../tx/registry.js";
import { batchAuctionJob, orderExpiryJob } from "./auction.js";
import { closeOrder, ordersOf } from "./book.js";
import { standingOrderTable } from "./model.js";
import { cancelOrderHandler, placeOrderHandler, replaceOrderHandler } from "./orders.js";
import { clearStandingOrderHandler, setStandingOrderHandler } from "./standing.js";
import { transferCreditsHandler } from "./transfers.js";

/** A household that moves out: its orders close and release their locks; its standing go. */
export const closeHouseholdOrders: HouseholdCloseHook = async (ctx, household) => {
  for (const order of await ordersOf(ctx, household.address)) {
    await closeOrder(ctx, order, "household-closed");
  }
  ctx.delete(standingOrderTable, [household.address, "buy"]);
  ctx.delete(standingOrderTable, [household.address, "sell"]);
};

export const tradingModule: VmModule = {
  name: "trading",
  handlers: [
    placeOrderHandler,
    cancelOrderHandler,
    replaceOrderHandler,
    setStandingOrderHandler,
    clearStandingOrderHandler,
    transferCreditsHandler,
  ],
  endBlock: [orderExpiryJob, batchAuctionJob],
  onHouseholdClose: closeHouseholdOrders,
};
