// Conservation credits (DESIGN.md §1, §6): 1 credit = 1 Wh of verified saving, held per
// household and vintage (the period that minted it). `locked` is the part sell orders hold, so
// free = amount − locked. Credits come into existence only here, by minting at finalisation;
// the chain's totals count them so that the credit invariant can be checked at every block.
import { type Infer, list, struct, u64 } from "../../lib/codec.js";
import type { ExecutionContext, StateView } from "../context.js";
import { keys } from "../keys.js";
import { type Table, table, tables } from "../tables.js";

export const CreditHoldingSchema = struct("CreditHolding", { amount: u64, locked: u64 });
export type CreditHolding = Infer<typeof CreditHoldingSchema>;

const NONE: CreditHolding = { amount: 0n, locked: 0n };

/** (household, vintage) → the credits of that vintage the household holds. */
export const creditsTable: Table<readonly [household: Uint8Array, vintage: bigint], CreditHolding> =
  table("credits", ([household, vintage]) => keys.credits(household, vintage), CreditHoldingSchema);

/**
 * household → the vintages it holds, ascending: which holdings exist, so that reading them all
 * takes one lookup per vintage instead of a range scan of the database. Kept by putHolding.
 */
export const creditVintagesTable: Table<Uint8Array, bigint[]> = table(
  "creditVintages",
  (household) => keys.creditVintages(household),
  list(u64, 1 << 16),
);

export function creditHolding(
  view: StateView,
  household: Uint8Array,
  vintage: bigint,
): CreditHolding {
  return view.get(creditsTable, [household, vintage]) ?? NONE;
}

/** Creates `amount` credits of `vintage` for the household. */
export function mintCredits(
  ctx: ExecutionContext,
  household: Uint8Array,
  vintage: bigint,
  amount: bigint,
): void {
  if (amount <= 0n) throw new RangeError("minting needs a positive amount");
  const held = creditHolding(ctx, household, vintage);
  putHolding(ctx, household, vintage, { ...held, amount: held.amount + amount });
  const totals = ctx.one(tables.totals);
  ctx.putOne(tables.totals, { ...totals, creditsMinted: totals.creditsMinted + amount });
}

export interface VintageHolding extends CreditHolding {
  readonly vintage: bigint;
}

/** Every vintage the household holds, oldest first. */
export function creditsOf(view: StateView, household: Uint8Array): VintageHolding[] {
  const vintages = view.get(creditVintagesTable, household) ?? [];
  return vintages.map((vintage) => ({ vintage, ...creditHolding(view, household, vintage) }));
}

/**
 * Writes a holding, deleting it when it is empty, and keeps the household's list of vintages in
 * step: the only way holdings change.
 */
export function putHolding(
  ctx: ExecutionContext,
  household: Uint8Array,
  vintage: bigint,
  holding: CreditHolding,
): void {
  if (holding.amount < 0n || holding.locked < 0n || holding.locked > holding.amount) {
    throw new Error(`credit holding of vintage ${vintage} would break its bounds`);
  }
  const vintages = ctx.get(creditVintagesTable, household) ?? [];
  const at = vintages.indexOf(vintage);
  if (holding.amount === 0n) {
    ctx.delete(creditsTable, [household, vintage]);
    if (at < 0) return;
    const rest = vintages.filter((v) => v !== vintage);
    if (rest.length === 0) ctx.delete(creditVintagesTable, household);
    else ctx.put(creditVintagesTable, household, rest);
    return;
  }
  ctx.put(creditsTable, [household, vintage], holding);
  if (at < 0) {
    const sorted = [...vintages, vintage].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    ctx.put(creditVintagesTable, household, sorted);
  }
}
