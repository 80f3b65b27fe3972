// Structured logs: one JSON object per line (pino), so an operator's collector can filter by
// level and module without parsing prose. Each part of the node logs through a child logger
// (`logger.child({ module: "consensus" })`), which stamps every line with the module's name.
import { hostname } from "node:os";
import { type DestinationStream, type LevelWithSilent, type Logger, pino } from "pino";
import { to0x } from "./bytes.js";

export type { Logger };

export const LOG_LEVELS = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
] as const satisfies readonly LevelWithSilent[];
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && (LOG_LEVELS as readonly string[]).includes(value);
}

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; standard output when omitted. */
  readonly destination?: DestinationStream;
  /** Fields on every line, e.g. the node's moniker, so lines from several nodes can be merged. */
  readonly base?: Readonly<Record<string, string>>;
}

const MAX_DEPTH = 8;

// JSON has no bigint and pino would print Uint8Arrays as {"0":..,"1":..}. Money and heights
// are bigints that can exceed 2^53, so they are written as decimal strings (exact), and bytes as
// 0x-hex, the form the RPC and the explorer show. Errors and other class instances are left to
// pino's serializers.
function jsonSafe(value: unknown, depth: number): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return to0x(value);
  if (depth >= MAX_DEPTH || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => jsonSafe(v, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = jsonSafe(v, depth + 1);
  return out;
}

export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level,
    base: { pid: process.pid, hostname: hostname(), ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      // The level's name rather than pino's number: readable, and what collectors expect.
      level: (label: string) => ({ level: label }),
      log: (object: Record<string, unknown>) => jsonSafe(object, 0) as Record<string, unknown>,
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** Logs nothing: for tests and tools that take a logger but have nothing to say. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
