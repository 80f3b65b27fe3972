// Banking and expiry (DESIGN.md §6 "Banking"): credits of vintage v can be kept (and traded)
// until the compliance step of period v + creditLifetime (v's snapshot); right after it, the
// household's sell orders are closed first, and the utility buys the credits at v's
// buybackPrice, or with a price of 0 they simply expire. Either way they leave existence and
// are counted as expired; the buy-back is recorded on the household's statement for v.
import type { ExecutionContext } from "../context.js";
import type { Household } from "../model/household.js";
import type { Utility } from "../model/utility.js";
import { adjustBalance, adjustUtilityBalance } from "../money/ledger.js";
import { creditHolding, creditsOf } from "../settlement/credits.js";
import { addPeriodTotals, periodPolicy } from "../settlement/snapshot.js";
import type { PeriodStage } from "../settlement/stage.js";
import { addTrade, updateStatement } from "../settlement/statement.js";
import { closeOrder, ordersOf } from "./book.js";
import { retireCredits, takeVintage } from "./locks.js";

/** Expires every vintage v the household holds with v + creditLifetime(v) ≤ j. */
export async function expireVintages(
  ctx: ExecutionContext,
  utility: Utility,
  j: bigint,
  household: Household,
): Promise<void> {
  const address = household.address;
  const due = creditsOf(ctx, address).filter(
    (h) => h.vintage + BigInt(periodPolicy(ctx, utility, h.vintage).creditLifetime) <= j,
  );
  if (due.length === 0) return;
  if (due.some((h) => h.locked > 0n)) {
    for (const order of await ordersOf(ctx, address)) {
      if (order.side === "sell") await closeOrder(ctx, order, "vintage-expiry");
    }
  }
  for (const { vintage } of due) {
    const qty = creditHolding(ctx, address, vintage).amount;
    const price = periodPolicy(ctx, utility, vintage).buybackPrice;
    const value = qty * price;
    takeVintage(ctx, address, vintage, qty);
    retireCredits(ctx, "creditsExpired", qty);
    if (value > 0n) {
      adjustBalance(ctx, address, value);
      adjustUtilityBalance(ctx, utility.id, -value);
      updateStatement(ctx, address, vintage, (s) => ({
        ...s,
        buyback: addTrade(s.buyback, qty, value),
      }));
    }
    addPeriodTotals(ctx, utility, vintage, { creditsExpired: qty, buybacksPaid: value });
    ctx.emit({
      kind: "creditsExpired",
      value: { household: address, vintage, qty, buyback: value },
    });
  }
}

export const vintageExpiryStage: PeriodStage = {
  name: "vintage-expiry",
  startsAt: "tradingEndsAt",
  household: expireVintages,
};
