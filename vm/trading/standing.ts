// Standing orders and what happens to a household right after period k is finalised
// (DESIGN.md §6 "Standing orders", "Rebate", "Orders").
//
// A household (or the app key it delegated to) sets "sell my surplus at no less than X" and
// "cover my shortfall at no more than Y" once; they are kept across periods. The `market-open`
// stage runs after finalisation, per household, once for k:
// 1. an obligation of k becomes `owed` in its trading account, so credits needed to cover it
//    cannot be sold or given away until compliance;
// 2. with rebatePrice > 0 (traditional DSM) the utility buys the credits just minted at that
//    price;
// 3. the standing sell places a sell of the credits just minted at X; the standing buy a buy
//    of (obligation − free credits) at Y, shrunk to what balance − locked + creditLimit pays
//    for and to the holding limit. Both expire at k's tradingEndsAt and have the id
//    sha256("standing-order" ‖ household ‖ k ‖ side). A placement the rules refuse is skipped
//    with a `standingOrderSkipped` event carrying the code; it never fails the block.
import { concatBytes, equalBytes, u64be, utf8 } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import { Reject, reject } from "../codes.js";
import type { ExecutionContext, StateView } from "../context.js";
import { minQty } from "../market/order.js";
import { NEW_ACCOUNT } from "../model/account.js";
import type { Household } from "../model/household.js";
import type { Utility } from "../model/utility.js";
import { adjustBalance, adjustUtilityBalance } from "../money/ledger.js";
import { creditHolding } from "../settlement/credits.js";
import { addPeriodTotals, periodRecord } from "../settlement/snapshot.js";
import type { PeriodStage } from "../settlement/stage.js";
import { addTrade, statementOf, updateStatement } from "../settlement/statement.js";
import { tables } from "../tables.js";
import { defineHandler } from "../tx/registry.js";
import type { Side } from "../tx/types.js";
import {
  creditSummary,
  retireCredits,
  takeVintage,
  tradingAccount,
  updateTradingAccount,
} from "./locks.js";
import { standingOrderTable } from "./model.js";
import { placeOrder } from "./orders.js";
import { marketPolicy, openWindow } from "./window.js";

export function standingOrderId(household: Uint8Array, k: bigint, side: Side): Uint8Array {
  return sha256(
    concatBytes(utf8("standing-order"), household, u64be(k), Uint8Array.of(side === "buy" ? 0 : 1)),
  );
}

/** The household's own key or its delegated app key may manage its standing orders. */
function authoriseStanding(
  view: StateView,
  tx: { readonly signer: Uint8Array; readonly payload: { readonly household: Uint8Array } },
) {
  const household = view.get(tables.household, tx.payload.household);
  if (household?.status !== "active") return "NOT_AUTHORISED";
  const isOwnKey = equalBytes(household.key, tx.signer);
  const isAppKey = household.appKey !== undefined && equalBytes(household.appKey, tx.signer);
  return isOwnKey || isAppKey ? undefined : "NOT_AUTHORISED";
}

export const setStandingOrderHandler = defineHandler("setStandingOrder", {
  authorise: authoriseStanding,
  execute(ctx, tx) {
    const { household: address, side, price } = tx.payload;
    const household = ctx.need(tables.household, address, "UNKNOWN_HOUSEHOLD");
    const utility = ctx.need(tables.utility, household.utility, "UNKNOWN_UTILITY");
    if (ctx.params.marketMode === "none") reject("MARKET_CLOSED");
    const policy = marketPolicy(ctx, utility);
    if (price < policy.floorPrice || price > policy.penaltyPrice) reject("PRICE_OUT_OF_BAND");
    ctx.put(standingOrderTable, [address, side], { price, setHeight: ctx.block.height });
    ctx.emit({ kind: "standingOrderSet", value: { household: address, side, price } });
  },
});

export const clearStandingOrderHandler = defineHandler("clearStandingOrder", {
  authorise: authoriseStanding,
  execute(ctx, tx) {
    const { household, side } = tx.payload;
    if (!ctx.get(standingOrderTable, [household, side])) reject("UNKNOWN_ORDER");
    ctx.delete(standingOrderTable, [household, side]);
    ctx.emit({ kind: "standingOrderSet", value: { household, side, price: undefined } });
  },
});

/** The utility buys `qty` credits of vintage k at `price`: they leave existence as rebated. */
function rebate(
  ctx: ExecutionContext,
  utility: Utility,
  k: bigint,
  household: Uint8Array,
  wanted: bigint,
  price: bigint,
): void {
  const holding = creditHolding(ctx, household, k);
  const free = holding.amount - holding.locked;
  const qty = minQty(free, wanted);
  if (qty === 0n) return;
  const value = qty * price;
  takeVintage(ctx, household, k, qty);
  retireCredits(ctx, "creditsRebated", qty);
  adjustBalance(ctx, household, value);
  adjustUtilityBalance(ctx, utility.id, -value);
  updateStatement(ctx, household, k, (s) => ({ ...s, rebate: addTrade(s.rebate, qty, value) }));
  addPeriodTotals(ctx, utility, k, { creditsRebated: qty, rebatesPaid: value });
  ctx.emit({ kind: "creditsRebated", value: { household, period: k, qty, value } });
}

function skipped(
  ctx: ExecutionContext,
  household: Uint8Array,
  k: bigint,
  side: Side,
  reason: string,
) {
  ctx.emit({ kind: "standingOrderSkipped", value: { household, period: k, side, reason } });
}

/**
 * Places a standing order. Every refusal of placeOrder comes before its first write, so a
 * caught Reject leaves the state as it was.
 */
async function placeStanding(
  ctx: ExecutionContext,
  household: Household,
  k: bigint,
  side: Side,
  qty: bigint,
  price: bigint,
  expiry: bigint,
): Promise<void> {
  if (qty <= 0n) return skipped(ctx, household.address, k, side, "NOTHING_TO_TRADE");
  try {
    const request = { side, qty, price, expiry };
    await placeOrder(ctx, household, request, standingOrderId(household.address, k, side), true);
  } catch (e) {
    if (!(e instanceof Reject)) throw e;
    skipped(ctx, household.address, k, side, e.code);
  }
}

/** How much of a buy at `price` the household's money and holding limit allow. */
function affordable(
  ctx: ExecutionContext,
  household: Uint8Array,
  held: bigint,
  price: bigint,
  policy: { readonly creditLimit: bigint; readonly holdingLimit: bigint },
): bigint {
  const { creditLimit, holdingLimit } = policy;
  const account = tradingAccount(ctx, household);
  const room = holdingLimit - held - account.openBuyQty;
  const { balance } = ctx.get(tables.account, household) ?? NEW_ACCOUNT;
  const spendable = balance - account.lockedMoney + creditLimit;
  const byMoney = price === 0n ? room : spendable < 0n ? 0n : spendable / price;
  return minQty(byMoney, room);
}

async function openMarket(
  ctx: ExecutionContext,
  utility: Utility,
  k: bigint,
  household: Household,
) {
  const statement = statementOf(ctx, household.address, k);
  if (statement?.status !== "settled") return;
  const { policy, tradingEndsAt } = periodRecord(ctx, utility, k);
  const { obligation } = statement;
  if (obligation > 0n) {
    updateTradingAccount(ctx, household.address, (a) => ({
      ...a,
      owed: a.owed + obligation,
      owedThrough: k,
    }));
  }
  let surplus = statement.minted;
  if (policy.rebatePrice > 0n && surplus > 0n) {
    rebate(ctx, utility, k, household.address, surplus, policy.rebatePrice);
    surplus = 0n;
  }
  if (household.status !== "active") return;
  const sell = ctx.get(standingOrderTable, [household.address, "sell"]);
  const buy = ctx.get(standingOrderTable, [household.address, "buy"]);
  if (!sell && !buy) return;
  const window = openWindow(ctx, utility);
  if (window?.period !== k) {
    if (sell) skipped(ctx, household.address, k, "sell", "OUTSIDE_WINDOW");
    if (buy) skipped(ctx, household.address, k, "buy", "OUTSIDE_WINDOW");
    return;
  }
  if (sell) await placeStanding(ctx, household, k, "sell", surplus, sell.price, tradingEndsAt);
  if (buy) {
    const { free, held } = creditSummary(ctx, household.address);
    const shortfall = obligation - free;
    const cover = affordable(ctx, household.address, held, buy.price, policy);
    const qty = minQty(shortfall, cover);
    await placeStanding(ctx, household, k, "buy", qty, buy.price, tradingEndsAt);
  }
}

/** After finalisation: owed obligations, rebates, standing orders (see the file comment). */
export const marketOpenStage: PeriodStage = {
  name: "market-open",
  startsAt: "finalisesAt",
  household: openMarket,
};
