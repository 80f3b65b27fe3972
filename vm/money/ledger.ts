// Balances and the money supply (DESIGN.md §6 "Money"). Trades, penalties, rebates and
// buy-backs only move money: a debit and an equal credit in the same transaction or job. Only
// bill payments and charges change the supply, and they record it in the totals, so that
// Σ balances = payments − charges can be checked at any block (sumBalances).
import { decode } from "../../lib/codec.js";
import type { StateReader } from "../../state/overlay.js";
import { reject } from "../codes.js";
import type { ExecutionContext } from "../context.js";
import { PREFIX } from "../keys.js";
import { AccountSchema, NEW_ACCOUNT } from "../model/account.js";
import { UtilitySchema } from "../model/utility.js";
import { tables } from "../tables.js";

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** `value`, refused with BAD_AMOUNT if it does not fit a signed 64-bit field. */
export function checkedI64(value: bigint): bigint {
  return value < I64_MIN || value > I64_MAX ? reject("BAD_AMOUNT", "over the 64-bit range") : value;
}

/** Adds `delta` to an account's balance (creating the account); returns the new balance. */
export function adjustBalance(ctx: ExecutionContext, address: Uint8Array, delta: bigint): bigint {
  const account = ctx.get(tables.account, address) ?? NEW_ACCOUNT;
  const balance = checkedI64(account.balance + delta);
  ctx.put(tables.account, address, { ...account, balance });
  return balance;
}

/** Adds `delta` to a utility's own balance; returns the new balance. */
export function adjustUtilityBalance(ctx: ExecutionContext, utilityId: string, delta: bigint) {
  const utility = ctx.get(tables.utility, utilityId);
  if (!utility) throw new Error(`adjustUtilityBalance: no utility ${utilityId}`);
  const balance = checkedI64(utility.balance + delta);
  ctx.put(tables.utility, utilityId, { ...utility, balance });
  return balance;
}

/** Records money created (payments) or removed (charges); negative deltas undo them. */
export function changeSupply(
  ctx: ExecutionContext,
  change: { readonly payments?: bigint; readonly charges?: bigint },
): void {
  const totals = ctx.one(tables.totals);
  ctx.putOne(tables.totals, {
    ...totals,
    payments: checkedI64(totals.payments + (change.payments ?? 0n)),
    charges: checkedI64(totals.charges + (change.charges ?? 0n)),
  });
}

/** Σ of every account's and every utility's balance: a full scan, for audits and tests. */
export async function sumBalances(state: StateReader): Promise<bigint> {
  let sum = 0n;
  for (const [, value] of await state.scan(Uint8Array.of(PREFIX.account))) {
    sum += decode(AccountSchema, value).balance;
  }
  for (const [, value] of await state.scan(Uint8Array.of(PREFIX.utility))) {
    sum += decode(UtilitySchema, value).balance;
  }
  return sum;
}
