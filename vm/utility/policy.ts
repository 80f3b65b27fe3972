// A utility sets its own policy, for periods far enough ahead that households have notice
// (DESIGN.md §6 "Periods": changes apply only to periods starting at least noticePeriod after
// they land). The notice is the one of the policy in force when the change lands.
import { reject } from "../codes.js";
import { policyProblem } from "../model/policy.js";
import { schedule } from "../model/scheduled.js";
import { policyForPeriod } from "../model/utility.js";
import { authoriseOperator, signerUtility } from "../roles.js";
import { tables } from "../tables.js";
import { defineHandler } from "../tx/registry.js";

export const setPolicy = defineHandler("setPolicy", {
  authorise: authoriseOperator,
  execute(ctx, tx) {
    const utility = signerUtility(ctx, tx.signer);
    const { fromPeriod, policy } = tx.payload;
    const problem = policyProblem(policy);
    if (problem) reject("POLICY_INVALID", problem);
    const now = ctx.currentPeriod();
    const inForce = policyForPeriod(utility, now ?? 0n);
    if (ctx.periodStart(fromPeriod) < ctx.block.time + inForce.noticePeriod)
      reject("NOTICE_PERIOD");
    const next = schedule(utility.policy, utility.pendingPolicies, now, {
      fromPeriod,
      value: policy,
    });
    if (!next) reject("TOO_MANY_PENDING");
    ctx.put(tables.utility, utility.id, {
      ...utility,
      policy: next.current,
      pendingPolicies: next.pending,
    });
    ctx.emit({ kind: "policyScheduled", value: { utility: utility.id, fromPeriod } });
  },
});
