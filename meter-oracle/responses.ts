// Households that respond to the market: a simulated meter meters business-as-usual load, and
// a household simulation (devnet/) decides, before each period starts, how much each household
// consumes relative to that — a factor in parts per million. The decisions reach the oracle as
// one small file per period in a shared directory, `period-<k>.json`, written atomically (a
// temporary file renamed into place), so a reader sees a whole file or none. A meter whose
// period has no file yet waits: its readings are late, never metered at the wrong level.
import { readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MeterDataError } from "./interval.js";

export const RESPONSES_FORMAT = "wattcap-responses/1";
export const PPM = 1_000_000n;
/** A response factor is at most 10× business as usual. */
export const MAX_RESPONSE_PPM = 10_000_000;

export interface PeriodResponses {
  readonly period: bigint;
  /** Factor of household index i, parts per million of its business-as-usual load. */
  readonly ppm: readonly number[];
}

export function responsesFile(dir: string, period: bigint): string {
  return join(dir, `period-${period}.json`);
}

/** One hour's metered Wh under a response factor: ⌊wh × ppm / 10^6⌋, the same everywhere. */
export function respondedWh(wh: bigint, ppm: number): bigint {
  return (wh * BigInt(ppm)) / PPM;
}

export async function writeResponses(dir: string, responses: PeriodResponses): Promise<void> {
  for (const p of responses.ppm) checkPpm(p);
  const file = responsesFile(dir, responses.period);
  const text = JSON.stringify({
    format: RESPONSES_FORMAT,
    period: responses.period.toString(),
    ppm: responses.ppm,
  });
  await writeFile(`${file}.tmp`, `${text}\n`);
  await rename(`${file}.tmp`, file);
}

/** Parses a responses file; throws MeterDataError("BAD_RESPONSES"). */
export function parseResponses(text: string, period: bigint): PeriodResponses {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new MeterDataError("BAD_RESPONSES", `period ${period}: not JSON`);
  }
  const o = json as { format?: unknown; period?: unknown; ppm?: unknown };
  if (typeof json !== "object" || json === null || o.format !== RESPONSES_FORMAT) {
    throw new MeterDataError("BAD_RESPONSES", `period ${period}: not ${RESPONSES_FORMAT}`);
  }
  if (o.period !== period.toString() || !Array.isArray(o.ppm)) {
    throw new MeterDataError("BAD_RESPONSES", `period ${period}: wrong period or no ppm list`);
  }
  const ppm = o.ppm.map((p: unknown) => checkPpm(p));
  return { period, ppm };
}

function checkPpm(p: unknown): number {
  if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p > MAX_RESPONSE_PPM) {
    throw new MeterDataError("BAD_RESPONSES", `response factor ${String(p)} out of range`);
  }
  return p;
}

/**
 * One meter's view of the responses directory: its factor for a period, read once the file
 * exists and then cached; undefined while the file is not there yet.
 */
export class ResponseBook {
  readonly #known = new Map<bigint, number>();

  constructor(
    private readonly dir: string,
    private readonly index: number,
  ) {}

  factor(period: bigint): number | undefined {
    const cached = this.#known.get(period);
    if (cached !== undefined) return cached;
    let text: string;
    try {
      text = readFileSync(responsesFile(this.dir, period), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    const ppm = parseResponses(text, period).ppm[this.index];
    if (ppm === undefined) {
      throw new MeterDataError("BAD_RESPONSES", `period ${period}: no household ${this.index}`);
    }
    this.#known.set(period, ppm);
    return ppm;
  }
}
