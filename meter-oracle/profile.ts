// Household load profiles: one common year of hourly Wh per household type, derived once from
// the Green Button sample files (meter-oracle/profiles/derive.ts) and committed as a compact
// JSON file, so simulated meters have realistic shapes without the source data at run time.
// Format "wattcap-household-profiles/1": each profile's 8760 hourly values are little-endian
// u16 (the samples peak below 4 kWh/h), base64-encoded; its annual sum is recorded beside them
// and checked on every load.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { MeterDataError } from "./interval.js";

export const PROFILE_FORMAT = "wattcap-household-profiles/1";
/** Hours in a common (non-leap) year. */
export const PROFILE_HOURS = 8_760;
/** The largest hourly value the u16 encoding holds. */
export const MAX_HOURLY_WH = 0xffff;

export interface HouseholdProfile {
  /** Slug of the label, unique in the set: "coastal-multi-family". */
  readonly id: string;
  readonly label: string;
  /** The file it was derived from. */
  readonly source: string;
  readonly sourceSha256: string;
  /** Unix seconds of hour 0: local midnight, 1 January, at utcOffsetSec. */
  readonly start: bigint;
  /** The profile's local standard time minus UTC, seconds; hour i is local hour i of the year. */
  readonly utcOffsetSec: bigint;
  /** PROFILE_HOURS values; treat as read-only. */
  readonly hourlyWh: Uint16Array;
  readonly annualWh: bigint;
}

export interface ProfileSet {
  readonly license: string;
  readonly attribution: string;
  readonly profiles: readonly HouseholdProfile[];
}

/** The JSON form; bigints as decimal strings. */
export interface ProfileFile {
  readonly format: typeof PROFILE_FORMAT;
  readonly license: string;
  readonly attribution: string;
  readonly profiles: readonly {
    readonly id: string;
    readonly label: string;
    readonly source: string;
    readonly sourceSha256: string;
    readonly start: string;
    readonly utcOffsetSec: number;
    readonly hours: number;
    readonly annualWh: string;
    readonly encoding: "u16le-base64";
    readonly data: string;
  }[];
}

export function encodeProfiles(set: ProfileSet): ProfileFile {
  return {
    format: PROFILE_FORMAT,
    license: set.license,
    attribution: set.attribution,
    profiles: set.profiles.map((p) => {
      checkValues(p.id, p.hourlyWh);
      const bytes = Buffer.alloc(PROFILE_HOURS * 2);
      for (const [i, wh] of p.hourlyWh.entries()) bytes.writeUInt16LE(wh, i * 2);
      return {
        id: p.id,
        label: p.label,
        source: p.source,
        sourceSha256: p.sourceSha256,
        start: p.start.toString(),
        utcOffsetSec: Number(p.utcOffsetSec),
        hours: PROFILE_HOURS,
        annualWh: sum(p.hourlyWh).toString(),
        encoding: "u16le-base64",
        data: bytes.toString("base64"),
      };
    }),
  };
}

/** Validates and decodes a parsed profile file; throws MeterDataError("BAD_PROFILE"). */
export function decodeProfiles(json: unknown): ProfileSet {
  const file = record(json, "file");
  if (file.format !== PROFILE_FORMAT) bad(`format is not ${PROFILE_FORMAT}`);
  const list = file.profiles;
  if (!Array.isArray(list) || list.length === 0) bad("no profiles");
  const ids = new Set<string>();
  const profiles = list.map((entry: unknown, i: number): HouseholdProfile => {
    const p = record(entry, `profile ${i}`);
    const id = string(p.id, "id");
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(id) || ids.has(id))
      bad(`profile id ${id} invalid or repeated`);
    ids.add(id);
    if (p.hours !== PROFILE_HOURS || p.encoding !== "u16le-base64") {
      bad(`${id}: expected ${PROFILE_HOURS} hours as u16le-base64`);
    }
    const data = string(p.data, "data");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) bad(`${id}: data is not base64`);
    const bytes = Buffer.from(data, "base64");
    if (bytes.length !== PROFILE_HOURS * 2) bad(`${id}: data is ${bytes.length} bytes`);
    const hourlyWh = new Uint16Array(PROFILE_HOURS);
    for (let h = 0; h < PROFILE_HOURS; h++) hourlyWh[h] = bytes.readUInt16LE(h * 2);
    const annualWh = integer(p.annualWh, "annualWh");
    if (sum(hourlyWh) !== annualWh) bad(`${id}: values do not sum to annualWh ${annualWh}`);
    const offset = p.utcOffsetSec;
    if (!Number.isInteger(offset) || Math.abs(offset as number) > 14 * 3600) {
      bad(`${id}: utcOffsetSec out of range`);
    }
    return {
      id,
      label: string(p.label, "label"),
      source: string(p.source, "source"),
      sourceSha256: string(p.sourceSha256, "sourceSha256"),
      start: integer(p.start, "start"),
      utcOffsetSec: BigInt(offset as number),
      hourlyWh,
      annualWh,
    };
  });
  return {
    license: string(file.license, "license"),
    attribution: string(file.attribution, "attribution"),
    profiles,
  };
}

/**
 * The committed profile file: beside this module when run from source, or in the source tree
 * two levels above dist/meter-oracle when compiled (tsc does not copy JSON).
 */
export function defaultProfilesUrl(): URL {
  const name = "profiles/greenbutton-profiles.json";
  const beside = new URL(name, import.meta.url);
  return existsSync(beside) ? beside : new URL(`../../meter-oracle/${name}`, import.meta.url);
}

/** Reads and decodes a profile file; throws BAD_PROFILE for bad content (I/O errors as is). */
export async function loadProfiles(file: string | URL = defaultProfilesUrl()): Promise<ProfileSet> {
  const text = await readFile(file, "utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    bad("not JSON");
  }
  return decodeProfiles(json);
}

function checkValues(id: string, values: Uint16Array): void {
  if (values.length !== PROFILE_HOURS) bad(`${id}: ${values.length} hours, not ${PROFILE_HOURS}`);
}

function sum(values: Uint16Array): bigint {
  let total = 0n;
  for (const v of values) total += BigInt(v);
  return total;
}

function bad(message: string): never {
  throw new MeterDataError("BAD_PROFILE", message);
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    bad(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function string(value: unknown, what: string): string {
  if (typeof value !== "string") bad(`${what} is not a string`);
  return value;
}

function integer(value: unknown, what: string): bigint {
  if (typeof value !== "string" || !/^-?[0-9]{1,19}$/.test(value))
    bad(`${what} is not an integer string`);
  return BigInt(value);
}
