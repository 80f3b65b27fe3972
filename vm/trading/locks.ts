// Locks (DESIGN.md §6 "Orders"): a sell order locks the credits it offers, a buy order the
// money it may pay, so that a fill can always be settled. Invariant: every open order's lock
// equals its remaining size — Σ locked credits of a household = Σ remaining of its sells, and
// its lockedMoney = Σ remaining × limit of its buys (test/vm/invariants.test.ts).
//
// Credits are locked, moved and released OLDEST VINTAGE FIRST: a seller parts with the credits
// closest to expiry, and a buyer receives them with the vintages they had. Only the totals of a
// household's locked credits matter, so which vintage a release frees is immaterial to its
// orders; oldest first keeps it deterministic.
import type { ExecutionContext, StateView } from "../context.js";
import { minQty } from "../market/order.js";
import type { Totals } from "../model/chain.js";
import {
  type CreditHolding,
  creditHolding,
  creditsOf,
  putHolding,
  type VintageHolding,
} from "../settlement/credits.js";
import { statementOf } from "../settlement/statement.js";
import { tables } from "../tables.js";
import { NEW_TRADING_ACCOUNT, type TradingAccount, tradingAccountTable } from "./model.js";

/** Some credits of one vintage. */
export interface CreditChunk {
  readonly vintage: bigint;
  readonly qty: bigint;
}

export function tradingAccount(view: StateView, household: Uint8Array): TradingAccount {
  return view.get(tradingAccountTable, household) ?? NEW_TRADING_ACCOUNT;
}

/** Writes the account, or deletes it when it holds nothing, so idle households cost no state. */
export function putTradingAccount(
  ctx: ExecutionContext,
  household: Uint8Array,
  account: TradingAccount,
): void {
  // owedThrough only matters while an obligation is owed: once compliance has paid it off,
  // the window of that period has closed.
  const idle =
    account.lockedMoney === 0n &&
    account.openBuyQty === 0n &&
    account.buyOrders === 0 &&
    account.sellOrders === 0 &&
    account.owed === 0n;
  if (idle) ctx.delete(tradingAccountTable, household);
  else ctx.put(tradingAccountTable, household, account);
}

/**
 * Writes `patch` of the household's trading account. The caller may pass the account as it
 * stands (saving a second read) if it just read it and nothing changed it since.
 */
export function updateTradingAccount(
  ctx: ExecutionContext,
  household: Uint8Array,
  patch: (account: TradingAccount) => TradingAccount,
  current: TradingAccount = tradingAccount(ctx, household),
): TradingAccount {
  const next = patch(current);
  if (next.lockedMoney < 0n || next.openBuyQty < 0n || next.owed < 0n) {
    throw new Error("trading account below zero: a lock was released twice");
  }
  putTradingAccount(ctx, household, next);
  return next;
}

export interface CreditSummary {
  readonly vintages: VintageHolding[];
  /** Σ amount: every credit the household holds. */
  readonly held: bigint;
  /** Σ (amount − locked). */
  readonly free: bigint;
  readonly locked: bigint;
}

export function creditSummary(view: StateView, household: Uint8Array): CreditSummary {
  const vintages = creditsOf(view, household);
  let held = 0n;
  let locked = 0n;
  for (const v of vintages) {
    held += v.amount;
    locked += v.locked;
  }
  return { vintages, held, free: held - locked, locked };
}

/**
 * Of `free` credits, those beyond what its unsettled obligations need: what it may sell or give
 * away. `period` is the open window's: its obligation counts as soon as finalisation records
 * it, before the market-open stage (which may come some blocks later) adds it to `owed`.
 * `account` is the household's trading account, if the caller has just read it.
 */
export function sellableOf(
  view: StateView,
  household: Uint8Array,
  free: bigint,
  period: bigint | undefined,
  account: TradingAccount = tradingAccount(view, household),
): bigint {
  let owed = account.owed;
  if (period !== undefined && (account.owedThrough ?? -1n) < period) {
    const statement = statementOf(view, household, period);
    if (statement?.status === "settled") owed += statement.obligation;
  }
  return free > owed ? free - owed : 0n;
}

export function sellableCredits(
  view: StateView,
  household: Uint8Array,
  period: bigint | undefined,
): bigint {
  return sellableOf(view, household, creditSummary(view, household).free, period);
}

/** Walks the vintages oldest first, taking up to `qty` where `room` allows; throws if short. */
function walk(
  ctx: ExecutionContext,
  household: Uint8Array,
  qty: bigint,
  room: (h: VintageHolding) => bigint,
  apply: (h: VintageHolding, take: bigint) => CreditHolding,
  current?: readonly VintageHolding[],
): CreditChunk[] {
  const chunks: CreditChunk[] = [];
  let left = qty;
  for (const h of current ?? creditsOf(ctx, household)) {
    if (left === 0n) break;
    const r = room(h);
    const take = minQty(r, left);
    if (take <= 0n) continue;
    putHolding(ctx, household, h.vintage, apply(h, take));
    chunks.push({ vintage: h.vintage, qty: take });
    left -= take;
  }
  if (left !== 0n) throw new Error(`household is ${left} credits short: a lock went missing`);
  return chunks;
}

/**
 * Locks `qty` free credits for a sell order. The caller has checked there are enough; it may
 * pass the holdings it just read (saving a second scan) if nothing changed them since.
 */
export function lockCredits(
  ctx: ExecutionContext,
  household: Uint8Array,
  qty: bigint,
  current?: readonly VintageHolding[],
) {
  return walk(
    ctx,
    household,
    qty,
    (h) => h.amount - h.locked,
    (h, n) => ({ amount: h.amount, locked: h.locked + n }),
    current,
  );
}

/** Frees `qty` locked credits of a sell order that was cancelled or expired. */
export function releaseCredits(ctx: ExecutionContext, household: Uint8Array, qty: bigint) {
  return walk(
    ctx,
    household,
    qty,
    (h) => h.locked,
    (h, n) => ({ amount: h.amount, locked: h.locked - n }),
  );
}

/** Takes `qty` locked credits out of a seller's holdings for a fill. */
export function takeLockedCredits(ctx: ExecutionContext, household: Uint8Array, qty: bigint) {
  return walk(
    ctx,
    household,
    qty,
    (h) => h.locked,
    (h, n) => ({ amount: h.amount - n, locked: h.locked - n }),
  );
}

/** Takes `qty` free credits, oldest first (surrender), from vintages up to `maxVintage`. */
export function takeFreeCredits(
  ctx: ExecutionContext,
  household: Uint8Array,
  qty: bigint,
  maxVintage?: bigint,
) {
  return walk(
    ctx,
    household,
    qty,
    (h) => (maxVintage !== undefined && h.vintage > maxVintage ? 0n : h.amount - h.locked),
    (h, n) => ({ amount: h.amount - n, locked: h.locked }),
  );
}

/** Takes `qty` free credits of one vintage (transfers, rebates, buy-backs). */
export function takeVintage(
  ctx: ExecutionContext,
  household: Uint8Array,
  vintage: bigint,
  qty: bigint,
): void {
  const h = creditHolding(ctx, household, vintage);
  if (h.amount - h.locked < qty) throw new Error(`vintage ${vintage}: too few free credits`);
  putHolding(ctx, household, vintage, { amount: h.amount - qty, locked: h.locked });
}

export function giveCredits(
  ctx: ExecutionContext,
  household: Uint8Array,
  chunks: readonly CreditChunk[],
): void {
  for (const c of chunks) {
    const h = creditHolding(ctx, household, c.vintage);
    putHolding(ctx, household, c.vintage, { amount: h.amount + c.qty, locked: h.locked });
  }
}

/** Credits leaving existence: counted in the chain totals the credit invariant is checked on. */
export function retireCredits(
  ctx: ExecutionContext,
  kind: "creditsSurrendered" | "creditsExpired" | "creditsRebated",
  qty: bigint,
): void {
  if (qty === 0n) return;
  const totals: Totals = ctx.one(tables.totals);
  ctx.putOne(tables.totals, { ...totals, [kind]: totals[kind] + qty });
}
