// Bill payments and charges (DESIGN.md §6 "Money"): the only way money enters or leaves the
// chain. The utility records each against one of its households with its own external
// reference; a reference is used once, so a retried submission cannot double-count, and a
// record can be reversed once (a bounced payment, a charge made in error).
import { reject } from "../codes.js";
import type { ExecutionContext } from "../context.js";
import type { BillKind } from "../model/bill.js";
import type { Household } from "../model/household.js";
import type { Utility } from "../model/utility.js";
import { authoriseOperator, householdOf, signerUtility } from "../roles.js";
import { tables } from "../tables.js";
import { defineHandler } from "../tx/registry.js";
import { adjustBalance, changeSupply } from "./ledger.js";

/** + for a payment (money in), − for a charge (money out). */
const sign = (kind: BillKind): bigint => (kind === "payment" ? 1n : -1n);

/** Records a payment or charge under a fresh reference and moves the household's balance. */
export function recordBill(
  ctx: ExecutionContext,
  utility: Utility,
  household: Household,
  kind: BillKind,
  amount: bigint,
  reference: string,
): void {
  if (amount <= 0n) reject("BAD_AMOUNT", "the amount must be positive");
  if (ctx.get(tables.billRecord, [utility.id, reference])) reject("DUPLICATE_REFERENCE");
  const balance = adjustBalance(ctx, household.address, sign(kind) * amount);
  changeSupply(ctx, kind === "payment" ? { payments: amount } : { charges: amount });
  ctx.put(tables.billRecord, [utility.id, reference], {
    kind,
    household: household.address,
    amount,
    height: ctx.block.height,
    reversed: false,
  });
  ctx.emit({
    kind: "billRecorded",
    value: { household: household.address, utility: utility.id, kind, amount, reference, balance },
  });
}

function billHandler(type: "recordPayment" | "recordCharge", kind: BillKind) {
  return defineHandler(type, {
    authorise: authoriseOperator,
    execute(ctx, tx) {
      const utility = signerUtility(ctx, tx.signer);
      // Closed households still take payments and charges: settling debts after a move-out.
      const household = householdOf(ctx, utility, tx.payload.household);
      recordBill(ctx, utility, household, kind, tx.payload.amount, tx.payload.reference);
    },
  });
}

export const recordPayment = billHandler("recordPayment", "payment");
export const recordCharge = billHandler("recordCharge", "charge");

export const reverseBillRecord = defineHandler("reverseBillRecord", {
  authorise: authoriseOperator,
  execute(ctx, tx) {
    const utility = signerUtility(ctx, tx.signer);
    const { reference } = tx.payload;
    const record = ctx.need(tables.billRecord, [utility.id, reference], "UNKNOWN_REFERENCE");
    if (record.reversed) reject("ALREADY_REVERSED");
    const balance = adjustBalance(ctx, record.household, -sign(record.kind) * record.amount);
    changeSupply(
      ctx,
      record.kind === "payment" ? { payments: -record.amount } : { charges: -record.amount },
    );
    ctx.put(tables.billRecord, [utility.id, reference], { ...record, reversed: true });
    ctx.emit({
      kind: "billReversed",
      value: {
        household: record.household,
        utility: utility.id,
        kind: record.kind,
        amount: record.amount,
        reference,
        balance,
      },
    });
  },
});
