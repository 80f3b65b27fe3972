// London smart-meter CSV reader (UK Power Networks' Low Carbon London layout):
//   LCLid,stdorToU,DateTime,KWH/hh (per half hour)␠
//   MAC000002,Std,2012-10-12 00:30:00.0000000, 0.263
// and the three-column form without stdorToU. It streams line by line and holds back at most
// one row per household, to tell duplicates apart, so memory grows with households, never with
// readings. Every quirk has a rule (docs/meter-data.md); nothing is dropped without a count or
// an issue, and nothing is guessed:
// - Null or empty value: no interval; issue NULL_VALUE.
// - exact duplicate (same household, timestamp and energy): dropped, counted in the summary.
// - conflicting duplicate (same household and timestamp, different energy): neither row is
//   used; one issue CONFLICTING_DUPLICATE lists every value seen.
// - timestamp not on :00:00 or :30:00 (with a zero fraction): issue OFF_GRID, row rejected.
// - timestamp earlier than the household's previous row: issue OUT_OF_ORDER, row rejected.
// - unparseable value, timestamp or row: BAD_VALUE, BAD_TIMESTAMP, BAD_ROW, row rejected.
// - CRLF, a UTF-8 BOM, blank lines and spaces around fields are tolerated.
import { daysFromCivil, daysInMonth } from "../lib/civil.js";
import { SECONDS_PER_DAY } from "./civil.js";
import { type ExactWh, parseKwh, sameEnergy, WhCarry } from "./decimal.js";
import { type ChunkSource, type IntervalReading, MeterDataError, textChunks } from "./interval.js";

export const HALF_HOUR_SEC = 1_800n;
// A real row is under 60 characters; a line this long means the file is not this format.
const MAX_LINE = 4_096;

export type LondonIssueCode =
  | "NULL_VALUE"
  | "BAD_VALUE"
  | "BAD_TIMESTAMP"
  | "OFF_GRID"
  | "OUT_OF_ORDER"
  | "BAD_ROW"
  | "CONFLICTING_DUPLICATE";

export interface LondonIssue {
  readonly code: LondonIssueCode;
  /** 1-based line number in the file (the first of the rows, for a conflict). */
  readonly line: number;
  /** "" when the row has no usable LCLid. */
  readonly lclid: string;
  readonly message: string;
}

export type Tariff = "Std" | "ToU";

export interface LondonSummary {
  /** Non-blank lines after the header. */
  readonly rows: number;
  readonly intervals: number;
  readonly exactDuplicates: number;
  readonly blankLines: number;
  readonly issues: number;
  readonly households: number;
}

export type LondonEvent =
  | {
      readonly kind: "interval";
      readonly lclid: string;
      /** undefined in the three-column form. */
      readonly tariff: Tariff | undefined;
      readonly line: number;
      readonly interval: IntervalReading;
    }
  | { readonly kind: "issue"; readonly issue: LondonIssue }
  | { readonly kind: "end"; readonly summary: LondonSummary };

/**
 * The London dataset stamps each half hour with its END, in GMT (= UTC) all year round: the
 * first reading of a day is 00:30, and clock-change days have 48 rows. This is the only place
 * that decides it.
 */
export function halfHourEndingAt(timestamp: bigint, wh: bigint): IntervalReading {
  return { start: timestamp - HALF_HOUR_SEC, durationSec: HALF_HOUR_SEC, wh };
}

export type TimestampResult =
  | { readonly ok: true; readonly time: bigint }
  | { readonly ok: false; readonly code: "BAD_TIMESTAMP" | "OFF_GRID" };

const TIMESTAMP =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,7}))?$/;

/** "2012-10-12 00:30:00.0000000" (UTC) → unix seconds, if it is a half-hour mark. */
export function parseLondonTimestamp(text: string): TimestampResult {
  const m = TIMESTAMP.exec(text);
  if (m === null) return { ok: false, code: "BAD_TIMESTAMP" };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((s) => BigInt(s ?? ""));
  if (
    year === undefined ||
    month === undefined ||
    day === undefined ||
    hour === undefined ||
    minute === undefined ||
    second === undefined ||
    month < 1n ||
    month > 12n ||
    day < 1n ||
    day > daysInMonth(year, month) ||
    hour > 23n ||
    minute > 59n ||
    second > 59n
  ) {
    return { ok: false, code: "BAD_TIMESTAMP" };
  }
  const fraction = m[7] ?? "";
  if ((minute !== 0n && minute !== 30n) || second !== 0n || /[1-9]/.test(fraction)) {
    return { ok: false, code: "OFF_GRID" };
  }
  const time = daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3_600n + minute * 60n;
  return { ok: true, time };
}

/** Where each field sits in a row, from the header. */
export interface LondonColumns {
  readonly count: number;
  readonly lclid: number;
  readonly tariff: number | undefined;
  readonly time: number;
  readonly kwh: number;
}

const HEADER_NAMES: Record<string, keyof Omit<LondonColumns, "count">> = {
  lclid: "lclid",
  stdortou: "tariff",
  datetime: "time",
  tstp: "time",
  "kwh/hh (per half hour)": "kwh",
  "energy(kwh/hh)": "kwh",
};

/** Column positions from the header line; throws MeterDataError("BAD_CSV_HEADER"). */
export function parseLondonHeader(line: string): LondonColumns {
  const names = line.split(",").map((name) => name.trim().toLowerCase());
  const found: Partial<Record<keyof Omit<LondonColumns, "count">, number>> = {};
  names.forEach((name, i) => {
    const key = HEADER_NAMES[name];
    if (key === undefined || found[key] !== undefined) {
      throw new MeterDataError("BAD_CSV_HEADER", `unexpected column ${JSON.stringify(name)}`);
    }
    found[key] = i;
  });
  const { lclid, tariff, time, kwh } = found;
  if (lclid === undefined || time === undefined || kwh === undefined) {
    throw new MeterDataError("BAD_CSV_HEADER", "need LCLid, DateTime and KWH/hh columns");
  }
  return { count: names.length, lclid, tariff, time, kwh };
}

// The row of one household at one timestamp, held until a later timestamp shows it has no
// duplicate; every row at that timestamp joins it.
interface Pending {
  readonly time: bigint;
  readonly timeText: string;
  readonly line: number;
  readonly tariff: Tariff | undefined;
  readonly values: ExactWh[];
  readonly texts: string[];
  conflicting: boolean;
}

interface Household {
  readonly carry: WhCarry;
  lastTime: bigint | undefined;
  pending: Pending | undefined;
}

/**
 * Intervals and issues of a London smart-meter CSV, then one summary. Throws MeterDataError
 * only for faults that make the whole file unreadable: BAD_CSV_HEADER, LINE_TOO_LONG,
 * BAD_ENCODING.
 */
export async function* readLondonCsv(source: ChunkSource): AsyncGenerator<LondonEvent> {
  const reader = new LondonReader();
  let partial = "";
  for await (const text of textChunks(source)) {
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    if (partial.length > MAX_LINE) {
      throw new MeterDataError("LINE_TOO_LONG", `line ${reader.lineNumber + lines.length + 1}`);
    }
    for (const line of lines) yield* reader.line(line);
  }
  if (partial.length > 0) yield* reader.line(partial);
  yield* reader.end();
}

class LondonReader {
  lineNumber = 0;
  private columns: LondonColumns | undefined;
  private readonly households = new Map<string, Household>();
  private rows = 0;
  private intervals = 0;
  private exactDuplicates = 0;
  private blankLines = 0;
  private issues = 0;

  *line(raw: string): Generator<LondonEvent> {
    this.lineNumber += 1;
    if (raw.length > MAX_LINE) throw new MeterDataError("LINE_TOO_LONG", `line ${this.lineNumber}`);
    let line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (this.lineNumber === 1 && line.startsWith("\uFEFF")) line = line.slice(1);
    if (line.trim() === "") {
      this.blankLines += 1;
      return;
    }
    if (this.columns === undefined) {
      this.columns = parseLondonHeader(line);
      return;
    }
    this.rows += 1;
    yield* this.row(
      line.split(",").map((field) => field.trim()),
      this.columns,
    );
  }

  *end(): Generator<LondonEvent> {
    if (this.columns === undefined) throw new MeterDataError("BAD_CSV_HEADER", "empty file");
    for (const [lclid, household] of this.households) yield* this.flush(lclid, household);
    yield {
      kind: "end",
      summary: {
        rows: this.rows,
        intervals: this.intervals,
        exactDuplicates: this.exactDuplicates,
        blankLines: this.blankLines,
        issues: this.issues,
        households: this.households.size,
      },
    };
  }

  private issue(code: LondonIssueCode, lclid: string, message: string, line = this.lineNumber) {
    this.issues += 1;
    return { kind: "issue", issue: { code, line, lclid, message } } as const;
  }

  private *row(fields: string[], columns: LondonColumns): Generator<LondonEvent> {
    const lclid = fields[columns.lclid] ?? "";
    if (fields.length !== columns.count || lclid === "") {
      yield this.issue("BAD_ROW", lclid, `expected ${columns.count} fields and an LCLid`);
      return;
    }
    let tariff: Tariff | undefined;
    if (columns.tariff !== undefined) {
      const text = fields[columns.tariff];
      if (text !== "Std" && text !== "ToU") {
        yield this.issue("BAD_ROW", lclid, `stdorToU is ${JSON.stringify(text)}`);
        return;
      }
      tariff = text;
    }
    const timeText = fields[columns.time] ?? "";
    const stamp = parseLondonTimestamp(timeText);
    if (!stamp.ok) {
      const what = stamp.code === "OFF_GRID" ? "not on a half-hour mark" : "not a timestamp";
      yield this.issue(stamp.code, lclid, `${JSON.stringify(timeText)} is ${what}`);
      return;
    }
    let household = this.households.get(lclid);
    if (household === undefined) {
      household = { carry: new WhCarry(), lastTime: undefined, pending: undefined };
      this.households.set(lclid, household);
    }
    if (household.lastTime !== undefined && stamp.time < household.lastTime) {
      yield this.issue("OUT_OF_ORDER", lclid, `${timeText} is before the household's previous row`);
      return;
    }
    household.lastTime = stamp.time;
    const valueText = fields[columns.kwh] ?? "";
    if (valueText === "" || valueText.toLowerCase() === "null") {
      yield this.issue("NULL_VALUE", lclid, `no value at ${timeText}`);
      return;
    }
    let value: ExactWh;
    try {
      value = parseKwh(valueText);
    } catch (err) {
      if (!(err instanceof MeterDataError)) throw err;
      yield this.issue("BAD_VALUE", lclid, err.message);
      return;
    }
    const pending = household.pending;
    if (pending !== undefined && pending.time === stamp.time) {
      if (pending.values.some((v) => sameEnergy(v, value))) {
        this.exactDuplicates += 1;
      } else {
        pending.conflicting = true;
        pending.values.push(value);
        pending.texts.push(valueText);
      }
      return;
    }
    yield* this.flush(lclid, household);
    household.pending = {
      time: stamp.time,
      timeText,
      line: this.lineNumber,
      tariff,
      values: [value],
      texts: [valueText],
      conflicting: false,
    };
  }

  private *flush(lclid: string, household: Household): Generator<LondonEvent> {
    const pending = household.pending;
    household.pending = undefined;
    if (pending === undefined) return;
    const [value] = pending.values;
    if (pending.conflicting || value === undefined) {
      const message = `values ${pending.texts.join(", ")} at ${pending.timeText}: none used`;
      yield this.issue("CONFLICTING_DUPLICATE", lclid, message, pending.line);
      return;
    }
    this.intervals += 1;
    yield {
      kind: "interval",
      lclid,
      tariff: pending.tariff,
      line: pending.line,
      interval: halfHourEndingAt(pending.time, household.carry.add(value)),
    };
  }
}
