// Credit transfers between households of one utility (DESIGN.md §6 "Markets"): a gift or an
// off-market sale of free credits of one vintage. The same limits as the market hold: only
// credits above the sender's unsettled obligations move (INSUFFICIENT_CREDITS), the receiver
// stays within the holding limit counting its open buys (HOLDING_LIMIT), and households of
// different utilities cannot trade (CROSS_UTILITY). A transfer to oneself is refused
// (SELF_TRADE): it would move nothing.
import { equalBytes } from "../../lib/bytes.js";
import { reject } from "../codes.js";
import { authoriseHousehold, householdSignedBy } from "../roles.js";
import { creditHolding } from "../settlement/credits.js";
import { tables } from "../tables.js";
import { defineHandler } from "../tx/registry.js";
import {
  creditSummary,
  giveCredits,
  sellableCredits,
  takeVintage,
  tradingAccount,
} from "./locks.js";
import { MAX_ORDER_QTY } from "./model.js";
import { marketPolicy, openWindow } from "./window.js";

export const transferCreditsHandler = defineHandler("transferCredits", {
  authorise: authoriseHousehold,
  async execute(ctx, tx) {
    const from = householdSignedBy(ctx, tx.signer) ?? reject("NOT_AUTHORISED");
    const { to: toAddress, vintage, qty } = tx.payload;
    if (qty === 0n || qty > MAX_ORDER_QTY) reject("BAD_QUANTITY");
    if (equalBytes(from.address, toAddress)) reject("SELF_TRADE", "a transfer to oneself");
    const to = ctx.need(tables.household, toAddress, "UNKNOWN_HOUSEHOLD");
    if (to.status !== "active") reject("HOUSEHOLD_CLOSED");
    if (to.utility !== from.utility) reject("CROSS_UTILITY");
    const held = creditHolding(ctx, from.address, vintage);
    if (held.amount - held.locked < qty) reject("INSUFFICIENT_CREDITS");
    const utility = ctx.need(tables.utility, to.utility, "UNKNOWN_UTILITY");
    const period = openWindow(ctx, utility)?.period;
    if (sellableCredits(ctx, from.address, period) < qty) reject("INSUFFICIENT_CREDITS");
    const receiving = creditSummary(ctx, to.address);
    const openBuys = tradingAccount(ctx, to.address).openBuyQty;
    if (receiving.held + openBuys + qty > marketPolicy(ctx, utility).holdingLimit) {
      reject("HOLDING_LIMIT");
    }
    takeVintage(ctx, from.address, vintage, qty);
    giveCredits(ctx, to.address, [{ vintage, qty }]);
    ctx.emit({
      kind: "creditsTransferred",
      value: { from: from.address, to: to.address, vintage, qty },
    });
  },
});
