// The oracle's configuration file (docs/oracle.md "Configuration"): where the chain is, whose key
// signs the batches, where the outbox lives, and each meter: its id, register layout, key (or
// none: oracle-only mode) and source. JSON, like the node's config, parsed strictly: unknown
// fields are refused, and every problem is collected so an operator fixes a file in one pass.
// Relative paths are resolved against the config file's directory.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fromHex, toHex, utf8 } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import type { MeterKeyType } from "../../lib/meter-key.js";
import {
  calendarSchedule,
  fixedSchedule,
  PeriodError,
  type PeriodSchedule,
  periodStart,
} from "../../vm/period.js";
import { MAX_BATCH_READINGS } from "../../vm/tx/types.js";
import { DAY_MS, type DownsampleOptions } from "../downsample.js";
import { MeterDataError } from "../interval.js";
import { type PeakWindow, peakWindows, type RegisterMode, type Registers } from "../registers.js";
import type { TimeMapSpec } from "../time-map.js";

/** The deepest submission pipeline a config may ask for. */
const MAX_IN_FLIGHT = 32;

export type OracleConfigErrorCode = "NOT_FOUND" | "UNREADABLE" | "INVALID";

export class OracleConfigError extends Error {
  override name = "OracleConfigError";
  constructor(
    readonly code: OracleConfigErrorCode,
    message: string,
    /** Every problem found, each prefixed with its JSON path. */
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

export type SourceConfig =
  | { readonly kind: "espi"; readonly path: string }
  | { readonly kind: "london-csv"; readonly path: string; readonly lclid: string }
  | {
      readonly kind: "simulated";
      readonly seed: number;
      readonly index: number;
      /** A profile file; the committed Green Button profiles when absent. */
      readonly profiles: string | undefined;
      /** The simulated household's local time minus UTC, seconds. */
      readonly utcOffsetSec: bigint;
      /**
       * A directory of per-period response factors (meter-oracle/responses.ts) written by a
       * household simulation; absent: the meter reads business as usual.
       */
      readonly responses: string | undefined;
    };

export type MeterKeyConfig =
  | { readonly kind: "none" }
  | { readonly kind: "key"; readonly type: MeterKeyType; readonly file: string };

export interface TimeMapConfig {
  readonly fileYear: number;
  readonly fileMonth: number;
  readonly months: number;
  readonly fileUtcOffsetSec: bigint;
  readonly firstPeriod: bigint;
}

export interface MeterConfig {
  /** The utility's own meter id; only its hash goes on chain. */
  readonly meterId: string;
  readonly meterIdHash: Uint8Array;
  readonly registers: RegisterMode;
  /** The registers before the source's first interval (a meter that did not start at zero). */
  readonly initialRegisters: Registers | undefined;
  readonly key: MeterKeyConfig;
  readonly source: SourceConfig;
  readonly timeMap: TimeMapConfig;
}

export interface OracleConfig {
  /** The config file itself (absolute), for messages. */
  readonly file: string;
  readonly rpcUrl: string;
  readonly chainId: string;
  readonly oracleKeyFile: string;
  readonly outboxDir: string;
  /** The chain's period schedule, in the genesis file's `periods` form. */
  readonly schedule: PeriodSchedule;
  readonly snapshots: DownsampleOptions;
  readonly batch: {
    /** Readings per submitReadings transaction: at most the chain's maxReadingsPerBatch. */
    readonly maxReadings: number;
    /** How often the service looks for due readings and new simulated intervals. */
    readonly intervalMs: number;
    /** Transactions outstanding at once (consecutive nonces): the submission pipeline's depth. */
    readonly maxInFlight: number;
  };
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  /** Where the service serves /metrics and /status; undefined: not served. */
  readonly http: { readonly host: string; readonly port: number } | undefined;
  readonly meters: readonly MeterConfig[];
}

/** The chain time → period start function a time map needs, from the configured schedule. */
export function timeMapSpec(config: OracleConfig, meter: MeterConfig): TimeMapSpec {
  return { ...meter.timeMap, periodStartMs: (k) => periodStart(config.schedule, k) };
}

/** The on-chain meter id hash when a config gives only the meter id: sha256 of its UTF-8. */
export function meterIdHashOf(meterId: string): Uint8Array {
  return sha256(utf8(meterId));
}

export async function loadOracleConfig(file: string): Promise<OracleConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new OracleConfigError("NOT_FOUND", `no config file at ${path}`);
    throw new OracleConfigError("UNREADABLE", `cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new OracleConfigError("UNREADABLE", `${path} is not JSON: ${(error as Error).message}`);
  }
  return parseOracleConfig(json, path);
}

/** Validates a parsed config; `file` anchors relative paths. Throws OracleConfigError INVALID. */
export function parseOracleConfig(json: unknown, file: string): OracleConfig {
  const problems: string[] = [];
  const base = dirname(resolve(file));
  const root = new Reader(json, "", problems);
  const o = root.object([
    "rpcUrl",
    "chainId",
    "oracleKeyFile",
    "outboxDir",
    "periods",
    "snapshotIntervalMs",
    "batch",
    "retry",
    "http",
    "meters",
  ]);
  const rpcUrl = o.field("rpcUrl").string((s) => {
    const url = new URL(s);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
  }, "an http:// or https:// URL");
  const chainId = o.field("chainId").string((s) => {
    if (s.length < 1 || s.length > 64) throw new Error();
  }, "1 to 64 characters");
  const oracleKeyFile = o.field("oracleKeyFile").file(base);
  const outboxDir = o.field("outboxDir").file(base);
  const schedule = parseSchedule(o.field("periods"));
  const snapshotMs = o.optional("snapshotIntervalMs")?.bigint(1n, 2n ** 62n) ?? DAY_MS;
  const batchO = o.optional("batch")?.object(["maxReadings", "intervalMs", "maxInFlight"]);
  const maxReadings = batchO?.optional("maxReadings")?.int(1, MAX_BATCH_READINGS) ?? 1000;
  const intervalMs = batchO?.optional("intervalMs")?.int(10, 3_600_000) ?? 1000;
  // Below the mempool's per-account quota (maxTxsPerAccount, 64 by default), with room to spare.
  const maxInFlight = batchO?.optional("maxInFlight")?.int(1, MAX_IN_FLIGHT) ?? 4;
  const retryO = o.optional("retry")?.object(["initialMs", "maxMs"]);
  const initialMs = retryO?.optional("initialMs")?.int(1, 3_600_000) ?? 500;
  const maxMs = retryO?.optional("maxMs")?.int(1, 3_600_000) ?? 30_000;
  if (maxMs < initialMs) problems.push("retry.maxMs: must be at least retry.initialMs");
  const httpR = o.optional("http");
  let http: OracleConfig["http"];
  if (httpR !== undefined && httpR.value !== null) {
    const h = httpR.object(["host", "port"]);
    http = {
      host: h.optional("host")?.string(() => {}, "a host name or address") ?? "127.0.0.1",
      port: h.field("port").int(0, 65_535),
    };
  }
  const meters = o.field("meters").array((m) => parseMeter(m, base), 1, 100_000);
  const seen = new Set<string>();
  meters.forEach((m, i) => {
    const key = toHex(m.meterIdHash);
    if (seen.has(key)) problems.push(`meters[${i}]: the same meter id (hash) appears twice`);
    seen.add(key);
  });
  if (problems.length > 0) {
    throw new OracleConfigError(
      "INVALID",
      `${file}: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`,
      problems,
    );
  }
  return {
    file: resolve(file),
    rpcUrl,
    chainId,
    oracleKeyFile,
    outboxDir,
    schedule,
    snapshots: { intervalMs: snapshotMs, anchorMs: 0n },
    batch: { maxReadings, intervalMs, maxInFlight },
    retry: { initialMs, maxMs },
    http,
    meters,
  };
}

function parseSchedule(r: Reader): PeriodSchedule {
  const kind = r
    .object(["kind"], true)
    .field("kind")
    .choice(["fixed", "calendar"] as const);
  try {
    if (kind === "fixed") {
      const o = r.object(["kind", "startMs", "lengthMs", "genesisMonth"]);
      return fixedSchedule(
        o.field("startMs").bigint(0n, 2n ** 62n),
        o.field("lengthMs").bigint(1n, 2n ** 62n),
        o.field("genesisMonth").int(0, 11),
      );
    }
    const o = r.object(["kind", "genesisYear", "genesisMonth", "offsetMinutes"]);
    return calendarSchedule(
      o.field("genesisYear").int(1970, 9999),
      o.field("genesisMonth").int(0, 11),
      o.field("offsetMinutes").int(-720, 840),
    );
  } catch (error) {
    if (!(error instanceof PeriodError)) throw error;
    r.fail(error.message);
    // Never used: the problem just recorded makes parseOracleConfig throw.
    return fixedSchedule(0n, 1n, 0);
  }
}

function parseMeter(r: Reader, base: string): MeterConfig {
  const o = r.object([
    "meterId",
    "meterIdHash",
    "registers",
    "peakWindows",
    "initialRegisters",
    "key",
    "source",
    "timeMap",
  ]);
  const meterId = o.field("meterId").string((s) => {
    if (s.length < 1 || s.length > 128) throw new Error();
  }, "1 to 128 characters");
  const hashR = o.optional("meterIdHash");
  const meterIdHash = hashR ? hashR.hex(32) : meterIdHashOf(meterId);
  const count = o.optional("registers")?.int(1, 2) ?? 1;
  const windowsR = o.optional("peakWindows");
  let registers: RegisterMode = { kind: "single" };
  if (count === 2) {
    if (windowsR === undefined) o.fail("a two-register (time-of-use) meter needs peakWindows");
    else {
      const windows = windowsR.array(
        (w) => {
          const wo = w.object(["startMinute", "endMinute"]);
          return {
            startMinute: wo.field("startMinute").int(0, 1439),
            endMinute: wo.field("endMinute").int(1, 1440),
          };
        },
        1,
        48,
      );
      try {
        registers = { kind: "tou", peak: peakWindows(windows as PeakWindow[]) };
      } catch (error) {
        if (!(error instanceof MeterDataError)) throw error;
        windowsR.fail(error.message);
      }
    }
  } else if (windowsR !== undefined) {
    windowsR.fail("peakWindows need registers: 2");
  }
  const initialR = o.optional("initialRegisters");
  let initialRegisters: Registers | undefined;
  if (initialR) {
    const values = initialR.array((v) => v.bigint(0n, 2n ** 48n - 1n), 1, 2);
    if (values.length !== count) initialR.fail(`expected ${count} register value(s)`);
    initialRegisters = (values.length === 2 ? [values[0], values[1]] : [values[0]]) as Registers;
  }
  const key = parseKey(o.field("key"), base);
  const source = parseSource(o.field("source"), base);
  const tm = o
    .field("timeMap")
    .object(["fileYear", "fileMonth", "months", "fileUtcOffsetSec", "firstPeriod"]);
  const timeMap: TimeMapConfig = {
    fileYear: tm.field("fileYear").int(1900, 9999),
    fileMonth: tm.field("fileMonth").int(1, 12),
    months: tm.field("months").int(1, 1200),
    fileUtcOffsetSec: BigInt(tm.optional("fileUtcOffsetSec")?.int(-50_400, 50_400) ?? 0),
    firstPeriod: tm.field("firstPeriod").bigint(0n, 2n ** 32n),
  };
  return { meterId, meterIdHash, registers, initialRegisters, key, source, timeMap };
}

function parseKey(r: Reader, base: string): MeterKeyConfig {
  if (r.value === "none") return { kind: "none" };
  const o = r.object(["type", "file"]);
  return {
    kind: "key",
    type: o.field("type").choice(["secp256k1", "p256"] as const),
    file: o.field("file").file(base),
  };
}

function parseSource(r: Reader, base: string): SourceConfig {
  const kind = r
    .object(["kind"], true)
    .field("kind")
    .choice(["espi", "london-csv", "simulated"] as const);
  if (kind === "espi") {
    const o = r.object(["kind", "path"]);
    return { kind, path: o.field("path").file(base) };
  }
  if (kind === "london-csv") {
    const o = r.object(["kind", "path", "lclid"]);
    return {
      kind,
      path: o.field("path").file(base),
      lclid: o.field("lclid").string((s) => {
        if (s.length < 1 || s.length > 64) throw new Error();
      }, "1 to 64 characters"),
    };
  }
  const o = r.object(["kind", "seed", "index", "profiles", "utcOffsetSec", "responses"]);
  return {
    kind,
    seed: o.field("seed").int(0, 0xffff_ffff),
    index: o.field("index").int(0, 0xffff_ffff),
    profiles: o.optional("profiles")?.file(base),
    utcOffsetSec: BigInt(o.optional("utcOffsetSec")?.int(-50_400, 50_400) ?? 0),
    responses: o.optional("responses")?.file(base),
  };
}

// A cursor into the JSON that records problems instead of throwing, returning a placeholder so
// parsing can go on and report everything at once.
class Reader {
  constructor(
    readonly value: unknown,
    readonly path: string,
    private readonly problems: string[],
  ) {}

  fail(message: string): void {
    this.problems.push(`${this.path || "(root)"}: ${message}`);
  }

  /** Reports a value of the wrong type, or a missing one as missing. */
  private expected(what: string): void {
    this.fail(this.value === undefined ? "missing" : `expected ${what}, got ${show(this.value)}`);
  }

  /** An object with only `known` fields (unless `loose`); absent ones read as missing. */
  object(known: readonly string[], loose = false): Fields {
    const v = this.value;
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      this.expected("an object");
      return new Fields({}, this.path, this.problems);
    }
    const fields = v as Record<string, unknown>;
    if (!loose) {
      for (const name of Object.keys(fields)) {
        if (!known.includes(name)) this.fail(`unknown field "${name}"`);
      }
    }
    return new Fields(fields, this.path, this.problems);
  }

  string(check: (s: string) => void, expected: string): string {
    if (typeof this.value !== "string") {
      this.expected(`a string (${expected})`);
      return "";
    }
    try {
      check(this.value);
    } catch {
      this.fail(`expected ${expected}, got ${JSON.stringify(this.value)}`);
    }
    return this.value;
  }

  file(base: string): string {
    const s = this.string((p) => {
      if (p.length === 0) throw new Error();
    }, "a non-empty path");
    return resolve(base, s);
  }

  choice<const T extends readonly string[]>(values: T): T[number] {
    const v = this.value;
    if (typeof v !== "string" || !values.includes(v)) {
      this.expected(`one of ${values.join(", ")}`);
      return values[0] as T[number];
    }
    return v as T[number];
  }

  int(min: number, max: number): number {
    const v = this.value;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.expected(`an integer in [${min}, ${max}]`);
      return min;
    }
    return v;
  }

  /** A bigint as a decimal string or a safe integer. */
  bigint(min: bigint, max: bigint): bigint {
    const v = this.value;
    let n: bigint | undefined;
    if (typeof v === "string" && /^-?(0|[1-9][0-9]*)$/.test(v)) n = BigInt(v);
    else if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
    if (n === undefined || n < min || n > max) {
      this.expected(`an integer in [${min}, ${max}] (a number or decimal string)`);
      return min;
    }
    return n;
  }

  hex(length: number): Uint8Array {
    const s = this.string((h) => fromHex(h, length), `${length} bytes of hex`);
    try {
      return fromHex(s, length);
    } catch {
      return new Uint8Array(length);
    }
  }

  array<T>(item: (r: Reader) => T, min: number, max: number): T[] {
    const v = this.value;
    if (!Array.isArray(v) || v.length < min || v.length > max) {
      this.expected(`an array of ${min} to ${max} items`);
      return [];
    }
    return v.map((x, i) => item(new Reader(x, `${this.path}[${i}]`, this.problems)));
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

class Fields {
  constructor(
    private readonly fields: Record<string, unknown>,
    private readonly path: string,
    private readonly problems: string[],
  ) {}

  private at(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  field(name: string): Reader {
    return new Reader(this.fields[name], this.at(name), this.problems);
  }

  optional(name: string): Reader | undefined {
    return Object.hasOwn(this.fields, name) ? this.field(name) : undefined;
  }

  fail(message: string): void {
    this.problems.push(`${this.path || "(root)"}: ${message}`);
  }
}
