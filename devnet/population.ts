// The simulated households of a devnet or scenario, all fixed by (seed, index): a Green Button
// load shape scaled, shifted and with hourly noise (meter-oracle/simulated-meter.ts), a
// behaviour (devnet/behaviour.ts), standing-order prices, and keys. Months of the simulation are
// file months of the profiles' calendar replayed as chain periods (docs/meter-data.md): month j
// of the run is file month (2011, startMonth) + j, replayed as period firstPeriod + j.
import { concatBytes, utf8 } from "../lib/bytes.js";
import { sha256 } from "../lib/hash.js";
import { isValidSecretKey } from "../lib/keys.js";
import { monthNumber, monthStart } from "../meter-oracle/civil.js";
import type { ProfileSet } from "../meter-oracle/profile.js";
import { PPM, respondedWh } from "../meter-oracle/responses.js";
import {
  hourWh,
  type SimulatedHousehold,
  simulatedHousehold,
} from "../meter-oracle/simulated-meter.js";
import { type BehaviourModel, type HouseholdTraits, traitsOf } from "./behaviour.js";

/** The profiles' year: month j of a run is file month (FILE_YEAR, startMonth) + j. */
export const FILE_YEAR = 2011n;

export interface PopulationSpec {
  readonly seed: number;
  readonly households: number;
  /** The calendar month (1..12) the first simulated month replays. */
  readonly startMonth: number;
  readonly behaviour: BehaviourModel;
  /** Last year's consumption differs from this year's usual by a seeded change in this range, ppm. */
  readonly baselineChangePpm?: readonly [min: number, max: number];
}

export interface PopulationHousehold {
  readonly index: number;
  readonly meterId: string;
  readonly sim: SimulatedHousehold;
  readonly traits: HouseholdTraits;
  /** Year-on-year change of its load: baseline = last year's load × (10^6 + change) / 10^6. */
  readonly baselineChangePpm: number;
  /** Draws in [0, 1) placing its standing-order prices inside the utility's price band. */
  readonly sellDraw: number;
  readonly buyDraw: number;
  readonly secretKey: Uint8Array;
  readonly meterSecretKey: Uint8Array;
}

/** Four bytes of sha256(tag ‖ seed ‖ index ‖ n) as an unsigned 32-bit draw. */
function draw(tag: string, seed: number, index: number, n = 0): number {
  const h = sha256(utf8(`wattcap-population|${tag}|${seed}|${index}|${n}`));
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

/** A secp256k1 secret key from (tag, seed, index): simulation keys, never for real money. */
function derivedKey(tag: string, seed: number, index: number): Uint8Array {
  for (let n = 0; ; n++) {
    const key = sha256(concatBytes(utf8(`wattcap-population-key|${tag}|${seed}|${index}|${n}`)));
    if (isValidSecretKey(key)) return key;
  }
}

export function population(profiles: ProfileSet, spec: PopulationSpec): PopulationHousehold[] {
  const [lo, hi] = spec.baselineChangePpm ?? [-100_000, 150_000];
  return Array.from({ length: spec.households }, (_, index) => ({
    index,
    meterId: `u0-meter-${index}`,
    sim: simulatedHousehold(profiles, spec.seed, index),
    traits: traitsOf(spec.behaviour, draw("kind", spec.seed, index), draw("e", spec.seed, index)),
    baselineChangePpm: lo + (draw("change", spec.seed, index) % (hi - lo + 1)),
    sellDraw: draw("sell", spec.seed, index) / 2 ** 32,
    buyDraw: draw("buy", spec.seed, index) / 2 ** 32,
    secretKey: derivedKey("household", spec.seed, index),
    meterSecretKey: derivedKey("meter", spec.seed, index),
  }));
}

/** [from, to) in unix seconds of the file month `month` (1-based, may exceed 12) of `year`. */
export function fileMonth(year: bigint, month: number): readonly [bigint, bigint] {
  const m = monthNumber(year, BigInt(month));
  return [monthStart(m, 0n), monthStart(m + 1n, 0n)];
}

/** Peak hours for the report: 16:00 to 21:00 of the (UTC) replayed clock. */
export const PEAK_HOURS: readonly [from: bigint, to: bigint] = [16n, 21n];

/**
 * Σ over the month's hours of ⌊hourWh × ppm / 10^6⌋ — exactly what its meter reports — and
 * the part of it in peak hours.
 */
export function monthSplit(
  sim: SimulatedHousehold,
  span: readonly [bigint, bigint],
  ppm = 1_000_000,
): { total: bigint; peak: bigint } {
  let total = 0n;
  let peak = 0n;
  for (let t = span[0]; t < span[1]; t += 3600n) {
    const wh = respondedWh(hourWh(sim, t), ppm);
    total += wh;
    const hour = (t / 3600n) % 24n;
    if (hour >= PEAK_HOURS[0] && hour < PEAK_HOURS[1]) peak += wh;
  }
  return { total, peak };
}

export function monthWh(sim: SimulatedHousehold, span: readonly [bigint, bigint], ppm = 1_000_000) {
  return monthSplit(sim, span, ppm).total;
}

/** The file month replayed as run month j (0-based). */
export function runMonth(startMonth: number, j: number): readonly [bigint, bigint] {
  return fileMonth(FILE_YEAR, startMonth + j);
}

/**
 * The twelve monthly baselines, indexed by calendar month 0..11: last year's consumption of
 * that month (the file month one year before the one the run replays), times the household's
 * year-on-year change.
 */
export function baselines(h: PopulationHousehold, startMonth: number): bigint[] {
  return Array.from({ length: 12 }, (_, m) => {
    // The run replays calendar month m+1 in FILE_YEAR if it is at or after startMonth, else a year later.
    const year = m + 1 >= startMonth ? FILE_YEAR : FILE_YEAR + 1n;
    const lastYear = monthWh(h.sim, fileMonth(year - 1n, m + 1));
    return (lastYear * (PPM + BigInt(h.baselineChangePpm))) / PPM;
  });
}

/**
 * The baselines as registered on chain, indexed by the chain's month: the chain month of the
 * first simulated period gets the baseline of the start month, and so on round the year.
 */
export function registeredBaselines(
  calendar: readonly bigint[],
  startMonth: number,
  firstChainMonth: number,
): bigint[] {
  return Array.from(
    { length: 12 },
    (_, slot) => calendar[(slot - firstChainMonth + startMonth - 1 + 24) % 12] ?? 0n,
  );
}

/** A standing-order price at `draw` of the way through [lo, hi]. */
export function priceAt(lo: bigint, hi: bigint, fraction: number): bigint {
  return lo + BigInt(Math.floor(Number(hi - lo) * fraction));
}
