// Meter replacement (DESIGN.md §6 "Households and meters"). The utility's transaction carries
// the old meter's final reading and the new meter's first, taken at the same instant: the final
// reading closes the old meter's series like any reading, and the new meter's registers are
// mapped onto the household's cumulative Wh at that instant, so no consumption is lost or
// counted twice. The utility attests both readings (a faulty meter may not sign any more).
import { equalBytes } from "../../lib/bytes.js";
import { isValidMeterPublicKey } from "../../lib/meter-key.js";
import { reject } from "../codes.js";
import { activeHouseholdOf, authoriseOperator, signerUtility } from "../roles.js";
import { tables } from "../tables.js";
import { defineHandler } from "../tx/registry.js";
import { MAX_REGISTER_WH } from "./boundary.js";
import { lastSnapshot, meterStateTable } from "./meter-state.js";
import { applyReading, checkReading, readingPolicy } from "./rules.js";

export const replaceMeter = defineHandler("replaceMeter", {
  authorise: authoriseOperator,
  execute(ctx, tx) {
    const utility = signerUtility(ctx, tx.signer);
    const household = activeHouseholdOf(ctx, utility, tx.payload.household);
    const { meterIdHash, meterKey, oldFinal, newFirst } = tx.payload;
    if (ctx.get(tables.meter, meterIdHash)) reject("METER_EXISTS");
    if (meterKey && !isValidMeterPublicKey(meterKey.type, meterKey.publicKey)) {
      reject("BAD_METER_KEY");
    }
    if (!equalBytes(oldFinal.meterIdHash, household.meterIdHash)) reject("READING_UNKNOWN_METER");
    if (!equalBytes(newFirst.meterIdHash, meterIdHash) || newFirst.time !== oldFinal.time) {
      reject("METER_REPLACEMENT_MISMATCH");
    }
    if (newFirst.registers.length !== household.registers) reject("READING_REGISTER_COUNT");
    if (newFirst.registers.some((r) => r >= MAX_REGISTER_WH)) reject("READING_OUT_OF_RANGE");

    const policy = readingPolicy(ctx, utility);
    const before = ctx.get(meterStateTable, household.meterIdHash);
    const check = checkReading(ctx, utility, household, before, oldFinal, policy, {
      limitFrequency: false,
    });
    if (check.kind === "reject") reject(check.code);
    // A final reading the oracle already relayed is the meter's last one as it is.
    const final =
      check.kind === "duplicate" && before
        ? before
        : applyReading(ctx, household, before, oldFinal, policy);

    // The new meter continues the household's series from the old meter's final values.
    const atSwap = lastSnapshot(final);
    ctx.delete(meterStateTable, household.meterIdHash);
    ctx.put(meterStateTable, meterIdHash, {
      time: newFirst.time,
      registers: newFirst.registers,
      base: atSwap.values,
      rawBase: newFirst.registers,
      previous: final.previous,
      lastSlot: final.lastSlot,
    });
    ctx.delete(tables.meter, household.meterIdHash);
    ctx.put(tables.meter, meterIdHash, household.address);
    const current = ctx.need(tables.household, household.address, "UNKNOWN_HOUSEHOLD");
    ctx.put(tables.household, household.address, { ...current, meterIdHash, meterKey });
  },
});
