// Oracle batches (DESIGN.md §6 "Readings"). An oracle of a utility relays its households'
// meter readings; each reading gets its own result in the receipt, and good readings apply
// even when others in the batch are refused. A batch is refused whole only for a fault of the
// transaction itself: a signer that is not an active oracle, or more readings than allowed.
import { type RejectCode, reject } from "../codes.js";
import type { ExecutionContext } from "../context.js";
import type { Reading } from "../model/reading.js";
import { readingSignBytes } from "../model/reading.js";
import type { ReadingResult } from "../receipt.js";
import { tables } from "../tables.js";
import { defineHandler } from "../tx/registry.js";
import { meterStateTable } from "./meter-state.js";
import { applyReading, checkReading, meterHousehold, readingPolicy } from "./rules.js";
import { meterSignatureValid } from "./signature.js";

const ACCEPTED: ReadingResult = { kind: "accepted", value: {} };
const DUPLICATE: ReadingResult = { kind: "duplicate", value: {} };

export const submitReadings = defineHandler("submitReadings", {
  authorise(view, tx) {
    return view.get(tables.oracle, tx.signer)?.active ? undefined : "NOT_AUTHORISED";
  },
  execute(ctx, tx) {
    const { readings } = tx.payload;
    if (readings.length > ctx.params.limits.maxReadingsPerBatch) reject("BATCH_TOO_LARGE");
    const oracle = ctx.get(tables.oracle, tx.signer) ?? reject("NOT_AUTHORISED");
    ctx.setReadingResults(readings.map((reading) => submitOne(ctx, oracle.utility, reading)));
  },
});

function submitOne(ctx: ExecutionContext, oracleUtility: string, reading: Reading): ReadingResult {
  const household = meterHousehold(ctx, reading.meterIdHash);
  if (!household) return rejected("READING_UNKNOWN_METER");
  if (household.utility !== oracleUtility) return rejected("READING_ORACLE_NOT_AUTHORISED");
  if (
    household.meterKey &&
    !meterSignatureValid(
      household.meterKey,
      readingSignBytes(ctx.params.chainId, reading),
      reading.signature,
      ctx.env.verifiedSignatures,
    )
  ) {
    return rejected("READING_BAD_SIGNATURE");
  }
  const utility = ctx.need(tables.utility, household.utility, "UNKNOWN_UTILITY");
  const policy = readingPolicy(ctx, utility);
  const state = ctx.get(meterStateTable, reading.meterIdHash);
  const check = checkReading(ctx, utility, household, state, reading, policy, {
    limitFrequency: true,
  });
  if (check.kind === "reject") return rejected(check.code);
  if (check.kind === "duplicate") return DUPLICATE;
  applyReading(ctx, household, state, reading, policy);
  return ACCEPTED;
}

function rejected(code: RejectCode): ReadingResult {
  return { kind: "rejected", value: code };
}
