// `wattcap devnet` options: every one validated, with a one-line error a user can act on.
import { parseArgs } from "node:util";
import { CliError, EXIT_USAGE } from "../cli/usage.js";
import { MARKET_MODES, type MarketMode } from "../vm/model/chain.js";

export interface DevnetOptions {
  /**
   * Validators, each of its own utility. From four up no utility holds a third of the set; with
   * fewer, every utility does (a 1..3-validator devnet is for quick local runs, not fault tests).
   */
  readonly validators: number;
  /** Simulated households of utility u0 (the simulation joins the supervisor in a later change). */
  readonly households: number;
  /** How long one compressed month lasts, in ms. */
  readonly periodMs: bigint;
  readonly mode: MarketMode;
  readonly reset: boolean;
  readonly dir: string;
  /** The first of the ports the nodes use (three per node: p2p, metrics, RPC; the follower uses --rpc-port for RPC). */
  readonly basePort: number;
  /** The follower's RPC port: the one users and the explorer talk to. */
  readonly rpcPort: number;
}

export const DEVNET_USAGE = `Usage: wattcap devnet [options]

Starts a local network on loopback: validators of one utility each, in separate processes,
and a follower serving JSON-RPC, WebSocket and the explorer. Ctrl-C stops it; starting again
resumes from disk.

Options:
  --validators N     validators (and utilities), 1..16 (default 4); below 4, every
                     utility holds at least a third of the set
  --households N     simulated households of utility u0, 0..10000 (default 200)
  --period DURATION  how long a compressed month lasts: 90s, 2m, 1h, 1500ms (default 2m)
  --mode MODE        market mode: batch, continuous, paper or none (default batch)
  --dir DIR          where homes, keys, genesis and logs live (default .wattcap/devnet)
  --base-port N      first port of the validators' and follower's p2p/metrics ports (default 26600)
  --rpc-port N       the follower's RPC port (default 8545)
  --reset            delete DIR first and start a new chain
  -h, --help         this text`;

const UNITS: Record<string, bigint> = { ms: 1n, s: 1000n, m: 60_000n, h: 3_600_000n };

/** "90s", "2m", "1h", "1500ms" → milliseconds. */
export function parseDuration(text: string): bigint {
  const m = /^(\d{1,9})(ms|s|m|h)$/.exec(text.trim());
  if (!m)
    throw new CliError(`--period: '${text}' is not a duration like 90s, 2m or 1h`, EXIT_USAGE);
  return BigInt(m[1]!) * UNITS[m[2]!]!;
}

function integer(name: string, text: string, min: number, max: number): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new CliError(
      `--${name}: expected an integer in ${min}..${max}, got '${text}'`,
      EXIT_USAGE,
    );
  }
  return Number(text);
}

/** The parsed options, or "help" when --help was asked for. */
export function parseDevnetArgs(args: string[]): DevnetOptions | "help" {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof spec }>>;
  const spec = {
    validators: { type: "string" },
    households: { type: "string" },
    period: { type: "string" },
    mode: { type: "string" },
    dir: { type: "string" },
    "base-port": { type: "string" },
    "rpc-port": { type: "string" },
    reset: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  } as const;
  try {
    parsed = parseArgs({ args, options: spec, strict: true, allowPositionals: false });
  } catch (error) {
    throw new CliError(`devnet: ${(error as Error).message}`, EXIT_USAGE);
  }
  const v = parsed.values;
  if (v.help) return "help";
  const mode = v.mode ?? "batch";
  if (!(MARKET_MODES as readonly string[]).includes(mode)) {
    throw new CliError(
      `--mode: expected one of ${MARKET_MODES.join(", ")}, got '${mode}'`,
      EXIT_USAGE,
    );
  }
  const periodMs = parseDuration(v.period ?? "2m");
  if (periodMs < 10_000n)
    throw new CliError("--period: a month must last at least 10s", EXIT_USAGE);
  const validators = integer("validators", v.validators ?? "4", 1, 16);
  const households = integer("households", v.households ?? "200", 0, 10_000);
  const basePort = integer(
    "base-port",
    v["base-port"] ?? "26600",
    1024,
    65535 - 3 * (validators + 1),
  );
  const rpcPort = integer("rpc-port", v["rpc-port"] ?? "8545", 1024, 65535);
  if (rpcPort >= basePort && rpcPort < basePort + 3 * (validators + 1)) {
    throw new CliError(
      "--rpc-port: it falls in the range the nodes use from --base-port",
      EXIT_USAGE,
    );
  }
  return {
    validators,
    households,
    periodMs,
    mode: mode as MarketMode,
    reset: v.reset ?? false,
    dir: v.dir ?? ".wattcap/devnet",
    basePort,
    rpcPort,
  };
}
