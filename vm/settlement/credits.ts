// Conservation credits (DESIGN.md §1, §6): 1 credit = 1 Wh of verified saving, held per
// household and vintage (the period that minted it). `locked` is the part sell orders hold, so
// free = amount − locked. Credits come into existence only here, by minting at finalisation;
// the chain's totals count them so that the credit invariant can be checked at every block.
import { readU64be } from "../../lib/bytes.js";
import { decode, type Infer, struct, u64 } from "../../lib/codec.js";
import type { ExecutionContext, StateView } from "../context.js";
import { keys } from "../keys.js";
import { type Table, table, tables } from "../tables.js";

export const CreditHoldingSchema = struct("CreditHolding", { amount: u64, locked: u64 });
export type CreditHolding = Infer<typeof CreditHoldingSchema>;

const NONE: CreditHolding = { amount: 0n, locked: 0n };

/** (household, vintage) → the credits of that vintage the household holds. */
export const creditsTable: Table<readonly [household: Uint8Array, vintage: bigint], CreditHolding> =
  table("credits", ([household, vintage]) => keys.credits(household, vintage), CreditHoldingSchema);

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
  ctx.put(creditsTable, [household, vintage], { ...held, amount: held.amount + amount });
  const totals = ctx.one(tables.totals);
  ctx.putOne(tables.totals, { ...totals, creditsMinted: totals.creditsMinted + amount });
}

export interface VintageHolding extends CreditHolding {
  readonly vintage: bigint;
}

/** Every vintage the household holds, oldest first. */
export async function creditsOf(
  ctx: ExecutionContext,
  household: Uint8Array,
): Promise<VintageHolding[]> {
  const rows = await ctx.scan(keys.creditsOf(household));
  return rows.map(([key, value]) => ({
    vintage: readU64be(key, key.length - 8),
    ...decode(CreditHoldingSchema, value),
  }));
}
