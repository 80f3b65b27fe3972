// Compliance (DESIGN.md §6 "Compliance"): at period k's tradingEndsAt, once per household, its
// orders of k's window (and, if it owes, all its sells) are closed and their locks released;
// then credits of vintages ≤ k are surrendered oldest first against its obligation, and each
// Wh left uncovered costs penaltyPrice from k's snapshot, moved from its balance to its
// utility's (which may put it in arrears). Nothing carries forward and no penalty is refunded.
import type { ExecutionContext } from "../context.js";
import { minQty } from "../market/order.js";
import type { Household } from "../model/household.js";
import type { Utility } from "../model/utility.js";
import { adjustBalance, adjustUtilityBalance } from "../money/ledger.js";
import { addPeriodTotals, periodRecord } from "../settlement/snapshot.js";
import type { PeriodStage } from "../settlement/stage.js";
import { statementOf, updateStatement } from "../settlement/statement.js";
import { closeOrder, ordersOf } from "./book.js";
import {
  creditSummary,
  retireCredits,
  takeFreeCredits,
  tradingAccount,
  updateTradingAccount,
} from "./locks.js";

export async function settleCompliance(
  ctx: ExecutionContext,
  utility: Utility,
  k: bigint,
  household: Household,
): Promise<void> {
  const address = household.address;
  const statement = statementOf(ctx, address, k);
  const obligation = statement?.status === "settled" ? statement.obligation : 0n;
  const account = tradingAccount(ctx, address);
  // Most households have no orders left: skip the scan for them.
  const open = account.buyOrders + account.sellOrders > 0 ? await ordersOf(ctx, address) : [];
  for (const order of open) {
    if (order.period <= k || (order.side === "sell" && obligation > 0n)) {
      await closeOrder(ctx, order, "compliance");
    }
  }
  if (obligation === 0n) return;

  const { vintages } = creditSummary(ctx, address);
  let usable = 0n;
  for (const v of vintages) if (v.vintage <= k) usable += v.amount - v.locked;
  const surrendered = minQty(usable, obligation);
  if (surrendered > 0n) takeFreeCredits(ctx, address, surrendered, k);
  retireCredits(ctx, "creditsSurrendered", surrendered);
  const uncovered = obligation - surrendered;
  const penalty = uncovered * periodRecord(ctx, utility, k).policy.penaltyPrice;
  if (penalty > 0n) {
    adjustBalance(ctx, address, -penalty);
    adjustUtilityBalance(ctx, utility.id, penalty);
  }
  updateTradingAccount(ctx, address, (a) => ({ ...a, owed: a.owed - obligation }));
  updateStatement(ctx, address, k, (s) => ({ ...s, surrendered, uncovered, penalty }));
  addPeriodTotals(ctx, utility, k, {
    creditsSurrendered: surrendered,
    uncovered,
    penalties: penalty,
  });
  ctx.emit({
    kind: "complianceSettled",
    value: { household: address, period: k, obligation, surrendered, uncovered, penalty },
  });
}

export const complianceStage: PeriodStage = {
  name: "compliance",
  startsAt: "tradingEndsAt",
  household: settleCompliance,
};
