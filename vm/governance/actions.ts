// What each governance action requires and does. An action is checked when it is proposed (so a
// proposal that could never pass is refused at once) and again when the deciding approval
// executes, against the state of that moment.
import { AddressError, addressOf } from "../../lib/address.js";
import { equalBytes } from "../../lib/bytes.js";
import { reject } from "../codes.js";
import type { ExecutionContext, StateView } from "../context.js";
import { isUtilityId } from "../model/common.js";
import type { GovernanceAction } from "../model/governance.js";
import { policyProblem } from "../model/policy.js";
import { newUtility, type Utility } from "../model/utility.js";
import type { ValidatorChange } from "../model/validators.js";
import { tables } from "../tables.js";
import { checkChange, projectedSet, queueChange, readSchedule } from "./validator-set.js";

function activeUtility(view: StateView, id: string): Utility {
  const utility = view.get(tables.utility, id);
  return utility?.status === "active" ? utility : reject("UNKNOWN_UTILITY");
}

/** The validator-set change an action makes, if it is one. */
function validatorChange(view: StateView, action: GovernanceAction): ValidatorChange | undefined {
  switch (action.kind) {
    case "addValidator": {
      const { validator } = action.value;
      const utility = activeUtility(view, validator.utility);
      if (!equalBytes(validator.operator, utility.operator)) reject("OPERATOR_MISMATCH");
      let address: Uint8Array;
      try {
        address = addressOf(validator.publicKey);
      } catch (e) {
        if (e instanceof AddressError) reject("BAD_VALIDATOR_KEY");
        throw e;
      }
      if (!equalBytes(address, validator.address)) reject("BAD_VALIDATOR_KEY");
      return { kind: "add", value: { validator } };
    }
    case "removeValidator":
      return { kind: "remove", value: action.value };
    case "rotateValidatorKey":
      return { kind: "rotateKey", value: action.value };
    default:
      return undefined;
  }
}

/** Whether the utility has validators in any set in force from now on, or queued. */
function hasValidators(view: StateView, utilityId: string): boolean {
  const schedule = readSchedule(view);
  const sets = [...schedule.sets.map((s) => s.validators), projectedSet(schedule)];
  return sets.some((set) => set.some((v) => v.utility === utilityId));
}

/** Throws the Reject the action would meet now; returns normally if it can be enacted. */
export function checkAction(view: StateView, action: GovernanceAction): void {
  const change = validatorChange(view, action);
  if (change) {
    checkChange(view, change);
    return;
  }
  switch (action.kind) {
    case "addUtility": {
      const { id, operator, policy } = action.value;
      if (!isUtilityId(id)) reject("BAD_UTILITY_ID");
      if (view.get(tables.utility, id)) reject("UTILITY_EXISTS");
      if (view.get(tables.operator, operator) !== undefined) reject("OPERATOR_IN_USE");
      const problem = policyProblem(policy);
      if (problem) reject("POLICY_INVALID", problem);
      return;
    }
    case "removeUtility": {
      const utility = activeUtility(view, action.value.id);
      if (utility.activeHouseholds > 0 || utility.balance !== 0n) reject("UTILITY_IN_USE");
      if (hasValidators(view, utility.id)) reject("UTILITY_IN_USE", "it has validators");
      return;
    }
    case "scheduleUpgrade": {
      const { version, height } = action.value;
      const upgrades = view.one(tables.upgrades);
      const last = upgrades.scheduled[upgrades.scheduled.length - 1];
      if (height <= view.block.height || (last && height <= last.height)) {
        reject("UPGRADE_HEIGHT_PASSED");
      }
      if (version <= (last?.version ?? upgrades.genesisVersion))
        reject("UPGRADE_VERSION_NOT_NEWER");
      if (upgrades.scheduled.length >= 64) reject("TOO_MANY_PENDING");
      return;
    }
    case "rotateOperatorKey": {
      const { utility: id, operator } = action.value;
      activeUtility(view, id);
      if (view.get(tables.operator, operator) !== undefined) reject("OPERATOR_IN_USE");
      if (hasValidators(view, id))
        checkChange(view, { kind: "rotateOperator", value: action.value });
      return;
    }
  }
}

/** Enacts a passed action (checking it once more). */
export function enact(ctx: ExecutionContext, action: GovernanceAction): void {
  checkAction(ctx, action);
  const change = validatorChange(ctx, action);
  if (change) {
    queueChange(ctx, change);
    return;
  }
  switch (action.kind) {
    case "addUtility": {
      const { id, name, operator, policy } = action.value;
      ctx.put(tables.utility, id, newUtility(id, name, operator, policy));
      ctx.put(tables.operator, operator, id);
      ctx.emit({ kind: "utilityAdded", value: { utility: id } });
      return;
    }
    case "removeUtility": {
      const utility = activeUtility(ctx, action.value.id);
      ctx.put(tables.utility, utility.id, { ...utility, status: "removed" });
      ctx.delete(tables.operator, utility.operator);
      ctx.emit({ kind: "utilityRemoved", value: { utility: utility.id } });
      return;
    }
    case "scheduleUpgrade": {
      const upgrades = ctx.one(tables.upgrades);
      ctx.putOne(tables.upgrades, {
        ...upgrades,
        scheduled: [...upgrades.scheduled, action.value],
      });
      ctx.emit({ kind: "upgradeScheduled", value: action.value });
      return;
    }
    case "rotateOperatorKey": {
      const { utility: id, operator } = action.value;
      const utility = activeUtility(ctx, id);
      ctx.delete(tables.operator, utility.operator);
      ctx.put(tables.operator, operator, id);
      ctx.put(tables.utility, id, { ...utility, operator });
      ctx.emit({ kind: "operatorRotated", value: { utility: id, operator } });
      // The utility's validator entries name the operator, so the set changes too (at H+2).
      if (hasValidators(ctx, id)) {
        queueChange(ctx, { kind: "rotateOperator", value: action.value });
      }
      return;
    }
  }
}
