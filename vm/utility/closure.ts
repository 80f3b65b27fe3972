// Move-out (DESIGN.md §6): the utility closes a household's account with a final settlement.
// Other modules first wind down what the household has open (their onHouseholdClose hooks);
// then its balance is settled off chain and recorded under the utility's reference, so the
// money leaves (a refund) or enters (a debt collected) the chain like any bill. The record
// stays, closed, so its history and any remaining period settlements keep their meaning.
import { reject } from "../codes.js";
import { NEW_ACCOUNT } from "../model/account.js";
import { recordBill } from "../money/bills.js";
import { activeHouseholdOf, authoriseOperator, signerUtility } from "../roles.js";
import { tables } from "../tables.js";
import { defineHandler } from "../tx/registry.js";

export const closeHousehold = defineHandler("closeHousehold", {
  authorise: authoriseOperator,
  async execute(ctx, tx) {
    const { reference } = tx.payload;
    const before = activeHouseholdOf(ctx, signerUtility(ctx, tx.signer), tx.payload.household);
    const utilityId = before.utility;
    if (ctx.get(tables.billRecord, [utilityId, reference])) reject("DUPLICATE_REFERENCE");
    for (const hook of ctx.env.householdCloseHooks) await hook(ctx, before);

    // Hooks may have moved money or changed the records: read them afresh.
    const utility = signerUtility(ctx, tx.signer);
    const household = activeHouseholdOf(ctx, utility, before.address);
    const { balance } = ctx.get(tables.account, household.address) ?? NEW_ACCOUNT;
    if (balance > 0n) recordBill(ctx, utility, household, "charge", balance, reference);
    if (balance < 0n) recordBill(ctx, utility, household, "payment", -balance, reference);

    ctx.delete(tables.householdKey, household.key);
    ctx.put(tables.household, household.address, {
      ...household,
      status: "closed",
      closedAt: ctx.block.time,
      appKey: undefined,
      pendingKeyRotation: undefined,
    });
    ctx.put(tables.utility, utility.id, {
      ...utility,
      activeHouseholds: utility.activeHouseholds - 1,
    });
    ctx.emit({
      kind: "householdClosed",
      value: { household: household.address, settled: balance },
    });
  },
});
