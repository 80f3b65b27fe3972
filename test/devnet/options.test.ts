import t from "tap";
import { CliError, EXIT_USAGE } from "../../cli/usage.js";
import { parseDevnetArgs, parseDuration } from "../../devnet/options.js";

t.test("defaults are npm start's network", async (t) => {
  const d = parseDevnetArgs([]);
  if (d === "help") return t.fail("no --help given");
  t.same(d, {
    validators: 4,
    households: 200,
    periodMs: 120_000n,
    mode: "batch",
    reset: false,
    dir: ".wattcap/devnet",
    basePort: 26600,
    rpcPort: 8545,
  });
  t.equal(parseDevnetArgs(["--help"]), "help");
  t.equal(parseDevnetArgs(["-h"]), "help");
});

t.test("every option is read", async (t) => {
  const o = parseDevnetArgs([
    "--validators",
    "7",
    "--households",
    "0",
    "--period",
    "90s",
    "--mode",
    "continuous",
    "--dir",
    "/tmp/x",
    "--base-port",
    "40000",
    "--rpc-port",
    "9545",
    "--reset",
  ]);
  t.same(o, {
    validators: 7,
    households: 0,
    periodMs: 90_000n,
    mode: "continuous",
    reset: true,
    dir: "/tmp/x",
    basePort: 40000,
    rpcPort: 9545,
  });
});

function exitCodeOf(f: () => unknown): number | undefined {
  try {
    f();
    return undefined;
  } catch (error) {
    return error instanceof CliError ? error.exitCode : undefined;
  }
}

t.test("durations", async (t) => {
  t.equal(parseDuration("90s"), 90_000n);
  t.equal(parseDuration("2m"), 120_000n);
  t.equal(parseDuration("1h"), 3_600_000n);
  t.equal(parseDuration("1500ms"), 1500n);
  for (const bad of ["", "2", "2 m", "2min", "-1s", "1.5m", "s", "9999999999s"]) {
    t.equal(
      exitCodeOf(() => parseDuration(bad)),
      EXIT_USAGE,
      bad,
    );
  }
});

t.test("every bad input is a usage error naming the option", async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [["--validators", "0"], /--validators/],
    [["--validators", "17"], /--validators/],
    [["--validators", "four"], /--validators/],
    [["--validators", "-1"], /validators/],
    [["--households", "-1"], /households/],
    [["--households", "10001"], /--households/],
    [["--households", "many"], /--households/],
    [["--households"], /households/],
    [["--period", "2 minutes"], /--period/],
    [["--period", "5s"], /--period: a month must last at least 10s/],
    [["--mode", "auction"], /--mode: expected one of batch, continuous, paper, none/],
    [["--base-port", "80"], /--base-port/],
    [["--base-port", "65530"], /--base-port/],
    [["--rpc-port", "70000"], /--rpc-port/],
    [["--rpc-port", "26603"], /--rpc-port: it falls in the range/],
    [["--reset=yes"], /reset/],
    [["--unknown"], /unknown/],
    [["extra"], /extra/],
  ];
  for (const [args, message] of cases) {
    try {
      parseDevnetArgs(args);
      t.fail(`${args.join(" ")} was accepted`);
    } catch (error) {
      t.ok(error instanceof CliError, args.join(" "));
      t.equal((error as CliError).exitCode, EXIT_USAGE, `${args.join(" ")} exits 64`);
      t.match((error as Error).message, message, args.join(" "));
    }
  }
});
