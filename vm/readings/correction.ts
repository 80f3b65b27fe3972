// Corrections (DESIGN.md §6 "Missing data"): a utility adjusts the consumption it settled for a
// household in some period — a faulty meter, a misread — with a reason code. A settled period is
// never reopened: the correction is settled with the household's next period that is not yet
// final, and both statements tell the story (the corrected period's number is on the entry).
import { reject } from "../codes.js";
import { activeHouseholdOf, authoriseOperator, signerUtility } from "../roles.js";
import { finaliseStage } from "../settlement/finalise.js";
import { stageCursor } from "../settlement/scheduler.js";
import { householdPeriodTable, isFinalisedFor } from "../settlement/snapshot.js";
import { MAX_CORRECTIONS, statementOf, updateStatement } from "../settlement/statement.js";
import { defineHandler } from "../tx/registry.js";
import { MAX_REGISTER_WH } from "./boundary.js";

export const postCorrection = defineHandler("postCorrection", {
  authorise: authoriseOperator,
  execute(ctx, tx) {
    const utility = signerUtility(ctx, tx.signer);
    const household = activeHouseholdOf(ctx, utility, tx.payload.household);
    const { period, reason, consumptionDelta: amount, reference } = tx.payload;
    if (ctx.get(householdPeriodTable, [household.address, period])?.status !== "settled") {
      reject("PERIOD_NOT_SETTLED");
    }
    if (amount === 0n || amount >= MAX_REGISTER_WH || amount <= -MAX_REGISTER_WH) {
      reject("BAD_AMOUNT");
    }
    // Finalisation walks periods in order: every period before its cursor's is final for all
    // households, and the cursor's own is final for those it has passed.
    const frontier = stageCursor(ctx, utility.id, finaliseStage.name)?.period ?? period + 1n;
    let target = frontier > period + 1n ? frontier : period + 1n;
    if (isFinalisedFor(ctx, household.address, target)) target += 1n;

    const corrections = statementOf(ctx, household.address, target)?.corrections ?? [];
    if (corrections.length >= MAX_CORRECTIONS) reject("TOO_MANY_PENDING");
    if (corrections.some((c) => c.reference === reference)) reject("DUPLICATE_REFERENCE");
    updateStatement(ctx, household.address, target, (s) => ({
      ...s,
      corrections: [...s.corrections, { period, reason, amount, reference }],
    }));
  },
});
