// The rules every reading keeps (DESIGN.md §6 "Readings") and what accepting one changes: the
// meter's state, the boundaries it lets the chain interpolate, and the household's first
// reading time. Shared by oracle batches and meter replacement, which applies the old meter's
// final reading as an ordinary reading.
import { equalBytes } from "../../lib/bytes.js";
import type { RejectCode } from "../codes.js";
import type { ExecutionContext } from "../context.js";
import type { Household } from "../model/household.js";
import type { Policy } from "../model/policy.js";
import type { Reading } from "../model/reading.js";
import { policyForPeriod, type Utility } from "../model/utility.js";
import { periodOf, periodStart } from "../period.js";
import { isFinalisedFor, periodRecord } from "../settlement/snapshot.js";
import { tables } from "../tables.js";
import { boundaryTable, interpolate, MAX_REGISTER_WH, type Snapshot } from "./boundary.js";
import {
  householdValues,
  lastSnapshot,
  type MeterState,
  meterStateTable,
  zeros,
} from "./meter-state.js";

export type ReadingCheck =
  | { readonly kind: "accept" }
  | { readonly kind: "duplicate" }
  | { readonly kind: "reject"; readonly code: RejectCode };

const ACCEPT: ReadingCheck = { kind: "accept" };
const DUPLICATE: ReadingCheck = { kind: "duplicate" };
const refuse = (code: RejectCode): ReadingCheck => ({ kind: "reject", code });

/** The policy readings are held to: the snapshot of the period the block is in. */
export function readingPolicy(ctx: ExecutionContext, utility: Utility): Policy {
  const now = ctx.currentPeriod();
  return now === undefined ? policyForPeriod(utility, 0n) : periodRecord(ctx, utility, now).policy;
}

/** Whether `time` is exactly a period boundary: such readings are outside the interval limit. */
export function isBoundaryTime(ctx: ExecutionContext, time: bigint): boolean {
  const k = periodOf(ctx.params.schedule, time);
  return k !== undefined && periodStart(ctx.params.schedule, k) === time;
}

/**
 * The checks after the meter, the oracle and the signature: order, drift, finality, register
 * values and, for oracle readings, the interval limit.
 */
export function checkReading(
  ctx: ExecutionContext,
  utility: Utility,
  household: Household,
  state: MeterState | undefined,
  reading: Reading,
  policy: Policy,
  options: { readonly limitFrequency: boolean },
): ReadingCheck {
  const { time, registers } = reading;
  if (registers.length !== household.registers) return refuse("READING_REGISTER_COUNT");
  if (state && time === state.time && sameValues(registers, state.registers)) return DUPLICATE;
  if (state && time <= state.time) return refuse("READING_NOT_AFTER_LAST");
  if (time > ctx.block.time + policy.maxReadingDrift) return refuse("READING_BEYOND_DRIFT");
  if (isPeriodClosedForReadings(ctx, utility, time)) return refuse("READING_PERIOD_FINALISED");
  if (state && registers.some((r, i) => r < (state.registers[i] ?? 0n))) {
    return refuse("READING_NOT_MONOTONIC");
  }
  const values = householdValues(state ?? fresh(registers.length), registers);
  if (values.some((v) => v >= MAX_REGISTER_WH) || registers.some((r) => r >= MAX_REGISTER_WH)) {
    return refuse("READING_OUT_OF_RANGE");
  }
  if (
    options.limitFrequency &&
    state?.lastSlot !== undefined &&
    !isBoundaryTime(ctx, time) &&
    time / policy.readingInterval === state.lastSlot
  ) {
    return refuse("READING_TOO_FREQUENT");
  }
  return ACCEPT;
}

/** Readings for period k are accepted until end_k + readingGrace (k's snapshot). */
function isPeriodClosedForReadings(ctx: ExecutionContext, utility: Utility, time: bigint): boolean {
  const k = periodOf(ctx.params.schedule, time);
  if (k === undefined || !ctx.hasStarted(k)) return false;
  return ctx.block.time >= periodRecord(ctx, utility, k).finalisesAt;
}

function sameValues(a: readonly bigint[], b: readonly bigint[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function fresh(count: number): Pick<MeterState, "base" | "rawBase"> {
  return { base: zeros(count), rawBase: zeros(count) };
}

/**
 * Applies a reading that passed checkReading: the boundaries between the meter's last reading
 * and this one, the meter's new state, and the household's first reading time. Returns the
 * meter's new state.
 */
export function applyReading(
  ctx: ExecutionContext,
  household: Household,
  state: MeterState | undefined,
  reading: Reading,
  policy: Policy,
): MeterState {
  const { time, registers } = reading;
  const mapping = state ?? fresh(registers.length);
  const next: Snapshot = { time, values: householdValues(mapping, registers) };
  writeBoundaries(ctx, household.address, state ? lastSnapshot(state) : undefined, next);
  const updated: MeterState = {
    time,
    registers,
    base: mapping.base,
    rawBase: mapping.rawBase,
    previous: state ? lastSnapshot(state) : undefined,
    lastSlot: isBoundaryTime(ctx, time) ? state?.lastSlot : time / policy.readingInterval,
  };
  ctx.put(meterStateTable, reading.meterIdHash, updated);
  if (household.firstReadingTime === undefined) {
    const current = ctx.get(tables.household, household.address) ?? household;
    ctx.put(tables.household, household.address, { ...current, firstReadingTime: time });
  }
  return updated;
}

/**
 * Every boundary in (last.time, next.time] that a period not yet finalised for the household
 * still needs, newest first: interpolated, or, for a boundary finalisation had to estimate,
 * recorded as its true value. Periods finalise in order, so the walk stops at the first one
 * already finalised: the boundaries before it are settled history.
 */
function writeBoundaries(
  ctx: ExecutionContext,
  household: Uint8Array,
  last: Snapshot | undefined,
  next: Snapshot,
): void {
  const schedule = ctx.params.schedule;
  const newest = periodOf(schedule, next.time);
  if (newest === undefined) return;
  for (let k = newest; k >= 0n; k--) {
    const at = periodStart(schedule, k);
    if (last ? at <= last.time : at !== next.time) break;
    if (isFinalisedFor(ctx, household, k)) break;
    const values = last ? interpolate(last, next, at) : [...next.values];
    const existing = ctx.get(boundaryTable, [household, k]);
    if (existing === undefined) {
      ctx.put(boundaryTable, [household, k], { values, estimated: false, actual: undefined });
    } else if (existing.estimated && existing.actual === undefined) {
      ctx.put(boundaryTable, [household, k], { ...existing, actual: values });
    }
  }
}

/** The household a meter belongs to, if it is active and the meter is its current one. */
export function meterHousehold(
  ctx: ExecutionContext,
  meterIdHash: Uint8Array,
): Household | undefined {
  const address = ctx.get(tables.meter, meterIdHash);
  const household = address === undefined ? undefined : ctx.get(tables.household, address);
  return household?.status === "active" && equalBytes(household.meterIdHash, meterIdHash)
    ? household
    : undefined;
}
