// Onboarding and the household terms a utility sets (DESIGN.md §6 "Households and meters",
// "Caps"): registration, baselines for future periods, explicit caps before a period starts.
import { isValidMeterPublicKey } from "../../lib/meter-key.js";
import { reject } from "../codes.js";
import { schedule } from "../model/scheduled.js";
import {
  activeHouseholdOf,
  authoriseOperator,
  isHouseholdAddressInUse,
  signerUtility,
} from "../roles.js";
import { tables } from "../tables.js";
import { defineHandler } from "../tx/registry.js";

export const registerHousehold = defineHandler("registerHousehold", {
  authorise: authoriseOperator,
  execute(ctx, tx) {
    const utility = signerUtility(ctx, tx.signer);
    const { household: address, meterIdHash, meterKey, registers, baselines } = tx.payload;
    if (ctx.get(tables.household, address)) reject("HOUSEHOLD_EXISTS");
    if (isHouseholdAddressInUse(ctx, address)) reject("KEY_IN_USE");
    if (ctx.get(tables.meter, meterIdHash)) reject("METER_EXISTS");
    if (meterKey && !isValidMeterPublicKey(meterKey.type, meterKey.publicKey)) {
      reject("BAD_METER_KEY");
    }
    const index = utility.householdCount;
    ctx.put(tables.household, address, {
      address,
      utility: utility.id,
      index,
      key: address,
      meterIdHash,
      meterKey,
      registers,
      baselines,
      pendingBaselines: [],
      status: "active",
      registeredAt: ctx.block.time,
      closedAt: undefined,
      appKey: undefined,
      pendingKeyRotation: undefined,
      firstReadingTime: undefined,
    });
    ctx.put(tables.householdIndex, [utility.id, index], address);
    ctx.put(tables.meter, meterIdHash, address);
    ctx.put(tables.householdKey, address, address);
    ctx.put(tables.utility, utility.id, {
      ...utility,
      householdCount: index + 1,
      activeHouseholds: utility.activeHouseholds + 1,
    });
    ctx.emit({
      kind: "householdRegistered",
      value: { household: address, utility: utility.id, index },
    });
  },
});

export const updateBaselines = defineHandler("updateBaselines", {
  authorise: authoriseOperator,
  execute(ctx, tx) {
    const utility = signerUtility(ctx, tx.signer);
    const household = activeHouseholdOf(ctx, utility, tx.payload.household);
    const { fromPeriod, baselines } = tx.payload;
    if (ctx.hasStarted(fromPeriod)) reject("BASELINE_PERIOD_STARTED");
    const next = schedule(household.baselines, household.pendingBaselines, ctx.currentPeriod(), {
      fromPeriod,
      value: baselines,
    });
    if (!next) reject("TOO_MANY_PENDING");
    ctx.put(tables.household, household.address, {
      ...household,
      baselines: next.current,
      pendingBaselines: next.pending,
    });
    ctx.emit({ kind: "baselinesUpdated", value: { household: household.address, fromPeriod } });
  },
});

export const setExplicitCap = defineHandler("setExplicitCap", {
  authorise: authoriseOperator,
  execute(ctx, tx) {
    const utility = signerUtility(ctx, tx.signer);
    const household = activeHouseholdOf(ctx, utility, tx.payload.household);
    const { period, cap } = tx.payload;
    // Caps never change after start_k (DESIGN §6 "Caps").
    if (ctx.hasStarted(period)) reject("CAP_PERIOD_STARTED");
    if (cap === undefined) ctx.delete(tables.explicitCap, [household.address, period]);
    else ctx.put(tables.explicitCap, [household.address, period], cap);
    ctx.emit({ kind: "explicitCapSet", value: { household: household.address, period, cap } });
  },
});
