// What the chain remembers of a meter: its last reading (to check the next one and to
// interpolate boundaries), the reading before (to extrapolate when data is missing), and how its
// registers map onto the household's cumulative Wh. A new meter starts from its own register
// values; mapping them onto the old meter's final values keeps a household's consumption
// continuous across a replacement.
import { type Infer, optional, struct, u64 } from "../../lib/codec.js";
import { keys } from "../keys.js";
import { RegistersSchema } from "../model/reading.js";
import { type Table, table } from "../tables.js";
import { RegisterValuesSchema, type Snapshot } from "./boundary.js";

const SnapshotSchema = struct("RegisterSnapshot", { time: u64, values: RegisterValuesSchema });

export const MeterStateSchema = struct("MeterState", {
  time: u64,
  /** The meter's own register values in its last reading. */
  registers: RegistersSchema,
  /** Household Wh = base + register − rawBase: the household's values when the meter was fitted. */
  base: RegisterValuesSchema,
  /** The meter's registers when it was fitted (zero for a household's first meter). */
  rawBase: RegisterValuesSchema,
  /** The reading before the last, in household Wh, possibly from the meter it replaced. */
  previous: optional(SnapshotSchema),
  /** readingInterval slot of the last reading not exactly at a period boundary. */
  lastSlot: optional(u64),
});
export type MeterState = Infer<typeof MeterStateSchema>;

/** meterIdHash → the meter's state; absent until its first accepted reading. */
export const meterStateTable: Table<Uint8Array, MeterState> = table(
  "meterReading",
  keys.meterReading,
  MeterStateSchema,
);

/** A meter's registers in household Wh. */
export function householdValues(
  state: Pick<MeterState, "base" | "rawBase">,
  registers: readonly bigint[],
): bigint[] {
  return registers.map((r, i) => (state.base[i] ?? 0n) + r - (state.rawBase[i] ?? 0n));
}

/** The last reading, in household Wh. */
export function lastSnapshot(state: MeterState): Snapshot & { values: bigint[] } {
  return { time: state.time, values: householdValues(state, state.registers) };
}

export function zeros(count: number): bigint[] {
  return Array.from({ length: count }, () => 0n);
}
