// Simulated meters for the devnet and the household scenario: each household is one of the
// Green Button shapes, scaled, shifted in time and with hourly noise, all fixed by (seed,
// household index). The household's parameters come from an sfc32 generator seeded with both;
// the noise of an hour is a hash of (household key, absolute UTC hour), not a position in a
// stream, so any time range, asked in any order or in pieces, gives the same Wh.
import { civilFromDays, daysFromCivil, floorDiv } from "../lib/civil.js";
import { SECONDS_PER_DAY, SECONDS_PER_HOUR } from "./civil.js";
import { type IntervalReading, MeterDataError } from "./interval.js";
import type { HouseholdProfile, ProfileSet } from "./profile.js";

const PPM = 1_000_000n;
const U32 = 0x1_0000_0000;

export interface SimulationOptions {
  /** Range of the household's scale, parts per million of the profile. Default 600000..1600000. */
  readonly scalePpm?: readonly [min: number, max: number];
  /** Largest time shift either way, whole hours. Default 2. */
  readonly maxShiftHours?: number;
  /** Hourly noise amplitude, ± parts per million. Default 150000 (±15 %). */
  readonly noisePpm?: number;
  /**
   * The household's local time minus UTC, seconds. Profiles are local-time shapes (evening
   * peaks stay in the evening); the offset is fixed, like the chain's calendar. Default 0.
   */
  readonly utcOffsetSec?: bigint;
}

export interface SimulatedHousehold {
  readonly seed: number;
  readonly index: number;
  readonly profile: HouseholdProfile;
  readonly scalePpm: bigint;
  /** Hours the shape runs late (positive) or early (negative). */
  readonly shiftHours: bigint;
  readonly noisePpm: bigint;
  readonly utcOffsetSec: bigint;
  /** Keys the hourly noise. */
  readonly noiseKey: number;
}

/**
 * Household `index` of the simulation `seed` (both unsigned 32-bit integers). Throws
 * MeterDataError("BAD_OPTION") for options out of range or an empty profile set.
 */
export function simulatedHousehold(
  profiles: ProfileSet,
  seed: number,
  index: number,
  options: SimulationOptions = {},
): SimulatedHousehold {
  const [scaleMin, scaleMax] = options.scalePpm ?? [600_000, 1_600_000];
  const maxShift = options.maxShiftHours ?? 2;
  const noise = options.noisePpm ?? 150_000;
  if (
    !isU32(seed) ||
    !isU32(index) ||
    !isU32(scaleMin) ||
    !isU32(scaleMax) ||
    scaleMin > scaleMax ||
    !Number.isInteger(maxShift) ||
    maxShift < 0 ||
    maxShift > 24 * 366 ||
    !Number.isInteger(noise) ||
    noise < 0 ||
    noise >= 1_000_000 ||
    profiles.profiles.length === 0
  ) {
    throw new MeterDataError("BAD_OPTION", "simulation options out of range");
  }
  const rng = sfc32(seed, index);
  const profile = profiles.profiles[rng() % profiles.profiles.length];
  if (profile === undefined) throw new MeterDataError("BAD_OPTION", "no profile");
  return {
    seed,
    index,
    profile,
    scalePpm: BigInt(scaleMin + (rng() % (scaleMax - scaleMin + 1))),
    shiftHours: BigInt((rng() % (2 * maxShift + 1)) - maxShift),
    noisePpm: BigInt(noise),
    utcOffsetSec: options.utcOffsetSec ?? 0n,
    noiseKey: rng(),
  };
}

/**
 * Wh of the UTC hour starting at `hourStart` (a multiple of 3600):
 * ⌊profile × scale × (10^6 + noise) / 10^12⌋, where the profile value is the one at the same
 * local calendar position (month, day, hour; 29 February reuses 28 February) after the shift.
 */
export function hourWh(household: SimulatedHousehold, hourStart: bigint): bigint {
  const local = hourStart + household.utcOffsetSec + household.shiftHours * SECONDS_PER_HOUR;
  const base = BigInt(household.profile.hourlyWh[profileHour(local)] ?? 0);
  const hour = floorDiv(hourStart, SECONDS_PER_HOUR);
  const span = household.noisePpm * 2n + 1n;
  const noise = (BigInt(noiseBits(household.noiseKey, hour)) % span) - household.noisePpm;
  return (base * household.scalePpm * (PPM + noise)) / (PPM * PPM);
}

/**
 * The complete UTC hours inside [from, to), as intervals. An hour is metered once it is over,
 * like a real meter's interval: a live caller asks up to "now" and gets each hour once.
 */
export function* simulatedIntervals(
  household: SimulatedHousehold,
  from: bigint,
  to: bigint,
): Generator<IntervalReading> {
  const first = -floorDiv(-from, SECONDS_PER_HOUR) * SECONDS_PER_HOUR;
  for (let start = first; start + SECONDS_PER_HOUR <= to; start += SECONDS_PER_HOUR) {
    yield { start, durationSec: SECONDS_PER_HOUR, wh: hourWh(household, start) };
  }
}

// Profiles hold a common year; a calendar position is found in one (2011, as derived).
const COMMON_YEAR = 2011n;
const COMMON_YEAR_START = daysFromCivil(COMMON_YEAR, 1n, 1n);

/** The profile hour at a local time: its month, day and hour in a common year. */
export function profileHour(localTime: bigint): number {
  const day = floorDiv(localTime, SECONDS_PER_DAY);
  const { month, day: dayOfMonth } = civilFromDays(day);
  const inCommonYear = month === 2n && dayOfMonth === 29n ? 28n : dayOfMonth;
  const dayOfYear = daysFromCivil(COMMON_YEAR, month, inCommonYear) - COMMON_YEAR_START;
  const hour = (localTime - day * SECONDS_PER_DAY) / SECONDS_PER_HOUR;
  return Number(dayOfYear * 24n + hour);
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < U32;
}

/** sfc32 (Chris Doty-Humphrey's small fast counting generator), 32-bit unsigned outputs. */
function sfc32(seed: number, stream: number): () => number {
  let a = seed | 0;
  let b = stream | 0;
  let c = 0x9e3779b9 | 0;
  let d = 1;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Mix the seed words through the state before the first output is used.
  for (let i = 0; i < 16; i++) next();
  return next;
}

// A 32-bit finaliser (murmur3 fmix32): every input bit affects every output bit.
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function noiseBits(key: number, hour: bigint): number {
  const word = BigInt.asUintN(64, hour);
  const low = Number(word & 0xffff_ffffn);
  const high = Number(word >> 32n);
  return mix32(key ^ mix32(low ^ mix32(high ^ 0x9e3779b9)));
}
