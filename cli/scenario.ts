// `wattcap scenario`: the household experiment, headless (docs/scenario.md). One arm, or with
// --compare every arm on the same households and seed, each on its own devnet; the reports go
// to DIR.
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_BEHAVIOUR } from "../devnet/behaviour.js";
import { parseDuration } from "../devnet/options.js";
import { ARM_NAMES, ARMS, type ArmName } from "../devnet/scenario/arms.js";
import type { ArmReport } from "../devnet/scenario/report.js";
import { comparisonCharts, comparisonMarkdown } from "../devnet/scenario/report-md.js";
import {
  preparePopulation,
  runArm,
  type ScenarioOptions,
  writeArm,
} from "../devnet/scenario/runner.js";
import { CliError, commandArgs, EXIT_SOFTWARE, EXIT_USAGE } from "./usage.js";

const USAGE = `Usage: wattcap scenario [options]

Runs the household experiment on a real devnet (validator processes, a follower, the meter
oracle; every transaction through RPC) and writes report.json, report.md and SVG charts to
DIR. With --compare, runs every arm (bau, dsm, cap, paper, batch, continuous) on the same
households and seed into DIR/arms/<arm>/, resuming finished arms, and writes
comparison.md and comparison.json.

Options:
  --households N     simulated households of utility u0, 1..10000 (default 200)
  --months N         simulated months, 1..24 (default 3)
  --mode MODE        the arm: batch, continuous, paper, none (cap with penalty, no market),
                     bau or dsm (default batch)
  --compare          run every arm and compare them
  --seed N           the simulation's seed, 0..4294967295 (default 1)
  --period DURATION  how long a month lasts (default 30s; at least 10s)
  --start-month N    the calendar month (1..12) the first month replays (default 1)
  --setup DURATION   time for the households to register, from the chain being up to the
                     first month (default: 20s + 150ms per household)
  --validators N     validators, 1..16 (default 4)
  --out DIR          where the reports go (default scenario-out)
  --base-port N      first of the nodes' ports (default 27600)
  --rpc-port N       the follower's RPC port (default 27545)
  -h, --help         this text
`;

const HINT = "Run 'wattcap scenario --help'.";

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      households: { type: "string", default: "200" },
      months: { type: "string", default: "3" },
      mode: { type: "string", default: "batch" },
      compare: { type: "boolean", default: false },
      seed: { type: "string", default: "1" },
      period: { type: "string", default: "30s" },
      "start-month": { type: "string", default: "1" },
      setup: { type: "string" },
      validators: { type: "string", default: "4" },
      out: { type: "string", default: "scenario-out" },
      "base-port": { type: "string", default: "27600" },
      "rpc-port": { type: "string", default: "27545" },
      help: { type: "boolean", short: "h" },
    },
  });
}

function integer(name: string, text: string, min: number, max: number): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new CliError(
      `scenario: --${name} must be an integer in ${min}..${max}. ${HINT}`,
      EXIT_USAGE,
    );
  }
  return Number(text);
}

/** Maps the CLI's arm names onto the arms: `none` is the cap without a market. */
function armOf(mode: string): ArmName {
  if (mode === "none") return "cap";
  if ((ARM_NAMES as readonly string[]).includes(mode) && mode !== "cap") return mode as ArmName;
  throw new CliError(
    `scenario: --mode must be batch, continuous, paper, none, bau or dsm, got '${mode}'. ${HINT}`,
    EXIT_USAGE,
  );
}

/**
 * The options as comparison.json records them: DIR as given (a committed run names no
 * machine's path), bigints as strings, and neither the logger nor the abort signal.
 */
function recordedOptions(o: ScenarioOptions, out: string) {
  const { say: _say, signal: _signal, ...rest } = o;
  return {
    ...rest,
    out,
    periodMs: String(o.periodMs),
    setupMs: String(o.setupMs),
    behaviour: { ...o.behaviour, retailPrice: String(o.behaviour.retailPrice) },
  };
}

export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs("scenario", HINT, USAGE, () => parse(args));
  if (parsed === undefined) return 0;
  const v = parsed.values;
  // Ctrl-C stops the arm under way and its devnet; finished arms stay for a resumed run.
  const stop = new AbortController();
  const abort = () => stop.abort();
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  const households = integer("households", v.households, 1, 10_000);
  const validators = integer("validators", v.validators, 1, 16);
  const periodMs = parseDuration(v.period);
  if (periodMs < 10_000n)
    throw new CliError(`scenario: --period must be at least 10s. ${HINT}`, EXIT_USAGE);
  const basePort = integer("base-port", v["base-port"], 1024, 65_000 - 3 * (validators + 2));
  const rpcPort = integer("rpc-port", v["rpc-port"], 1024, 65_535);
  if (rpcPort >= basePort && rpcPort <= basePort + 3 * (validators + 1)) {
    throw new CliError(`scenario: --rpc-port falls in the nodes' port range. ${HINT}`, EXIT_USAGE);
  }
  const options: ScenarioOptions = {
    households,
    months: integer("months", v.months, 1, 24),
    seed: integer("seed", v.seed, 0, 0xffff_ffff),
    periodMs,
    validators,
    out: resolve(v.out),
    basePort,
    rpcPort,
    startMonth: integer("start-month", v["start-month"], 1, 12),
    setupMs: v.setup === undefined ? 20_000n + 150n * BigInt(households) : parseDuration(v.setup),
    behaviour: DEFAULT_BEHAVIOUR,
    say: (line) => console.log(line),
    signal: stop.signal,
  };
  const arms = v.compare ? [...ARM_NAMES] : [armOf(v.mode)];
  await mkdir(options.out, { recursive: true });
  const population = await preparePopulation(options);
  const reports: ArmReport[] = [];
  for (const name of arms) reports.push(await runArm(ARMS[name], options, population));
  const [only] = reports;
  if (!v.compare && only !== undefined) await writeArm(options.out, only);
  if (v.compare) {
    const header = [
      `${households} households, ${options.months} months from calendar month ${options.startMonth}, ` +
        `seed ${options.seed}, ${validators} validators, a month every ${periodMs / 1000n} s.`,
    ];
    await writeFile(join(options.out, "comparison.md"), comparisonMarkdown(reports, header));
    for (const [name, svg] of Object.entries(comparisonCharts(reports))) {
      await writeFile(join(options.out, name), svg);
    }
    await writeFile(
      join(options.out, "comparison.json"),
      `${JSON.stringify({ options: recordedOptions(options, v.out), arms: reports }, null, 2)}\n`,
    );
  }
  const inconsistent = reports.filter((r) => !r.consistent).map((r) => r.arm);
  console.log(
    inconsistent.length === 0
      ? `scenario: done; reports in ${options.out}`
      : `scenario: done, but chain and simulator differ in: ${inconsistent.join(", ")} (see the reports)`,
  );
  return inconsistent.length === 0 ? 0 : EXIT_SOFTWARE;
}
