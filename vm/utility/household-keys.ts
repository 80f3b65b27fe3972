// Household keys. A lost wallet is replaced by the utility in two steps with a waiting period
// between them (DESIGN.md §6), during which the household's current key can cancel: a utility
// (or someone impersonating the household to it) cannot take over an account silently. A
// household may also delegate its standing orders to an app key.
import { equalBytes } from "../../lib/bytes.js";
import { reject } from "../codes.js";
import {
  activeHouseholdOf,
  authoriseHousehold,
  authoriseOperator,
  householdSignedBy,
  isHouseholdAddressInUse,
  operatedUtility,
  signerUtility,
} from "../roles.js";
import { tables } from "../tables.js";
import { defineHandler } from "../tx/registry.js";

export const requestKeyRotation = defineHandler("requestKeyRotation", {
  authorise: authoriseOperator,
  execute(ctx, tx) {
    const utility = signerUtility(ctx, tx.signer);
    const household = activeHouseholdOf(ctx, utility, tx.payload.household);
    const { newKey } = tx.payload;
    if (household.pendingKeyRotation) reject("KEY_ROTATION_PENDING");
    if (isHouseholdAddressInUse(ctx, newKey)) reject("KEY_IN_USE");
    const notBefore = ctx.block.time + ctx.params.limits.keyRotationDelay;
    ctx.put(tables.household, household.address, {
      ...household,
      pendingKeyRotation: { newKey, requestedAt: ctx.block.time, notBefore },
    });
    ctx.emit({
      kind: "keyRotationRequested",
      value: { household: household.address, newKey, notBefore },
    });
  },
});

export const completeKeyRotation = defineHandler("completeKeyRotation", {
  authorise: authoriseOperator,
  execute(ctx, tx) {
    const utility = signerUtility(ctx, tx.signer);
    const household = activeHouseholdOf(ctx, utility, tx.payload.household);
    const rotation = household.pendingKeyRotation ?? reject("NO_KEY_ROTATION");
    if (ctx.block.time < rotation.notBefore) reject("KEY_ROTATION_TOO_EARLY");
    // Another registration or rotation may have taken the key during the wait.
    if (isHouseholdAddressInUse(ctx, rotation.newKey)) reject("KEY_IN_USE");
    ctx.delete(tables.householdKey, household.key);
    ctx.put(tables.householdKey, rotation.newKey, household.address);
    // The old wallet's delegation goes with it.
    ctx.put(tables.household, household.address, {
      ...household,
      key: rotation.newKey,
      appKey: undefined,
      pendingKeyRotation: undefined,
    });
    ctx.emit({
      kind: "keyRotated",
      value: { household: household.address, oldKey: household.key, newKey: rotation.newKey },
    });
  },
});

export const cancelKeyRotation = defineHandler("cancelKeyRotation", {
  authorise(view, tx) {
    if (operatedUtility(view, tx.signer)) return undefined;
    const household = householdSignedBy(view, tx.signer);
    return household && equalBytes(household.address, tx.payload.household)
      ? undefined
      : "NOT_AUTHORISED";
  },
  execute(ctx, tx) {
    const household = ctx.need(tables.household, tx.payload.household, "UNKNOWN_HOUSEHOLD");
    // Signed by the household's own key, it is the household objecting; otherwise by an operator.
    if (!equalBytes(household.key, tx.signer)) {
      activeHouseholdOf(ctx, signerUtility(ctx, tx.signer), household.address);
    }
    if (!household.pendingKeyRotation) reject("NO_KEY_ROTATION");
    ctx.put(tables.household, household.address, { ...household, pendingKeyRotation: undefined });
    ctx.emit({ kind: "keyRotationCancelled", value: { household: household.address } });
  },
});

export const delegateAppKey = defineHandler("delegateAppKey", {
  authorise: authoriseHousehold,
  execute(ctx, tx) {
    const household = householdSignedBy(ctx, tx.signer) ?? reject("NOT_AUTHORISED");
    const { appKey } = tx.payload;
    if (appKey && equalBytes(appKey, household.key)) reject("BAD_APP_KEY");
    ctx.put(tables.household, household.address, { ...household, appKey });
    ctx.emit({ kind: "appKeySet", value: { household: household.address, appKey } });
  },
});
