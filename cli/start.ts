// `wattcap start --home DIR [config flags...]`: runs a node until SIGINT or SIGTERM. Settings
// come from DIR/config.json, WATTCAP_* variables and the flags (node/config.ts); logs are JSON
// lines on standard output. Everything that can be wrong before the node runs (no home, no
// genesis, a bad setting, an unreadable key, a store or WAL locked by another node) is reported
// as one line on standard error with a sysexits(3) status.
import { stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createLogger } from "../lib/log.js";
import { ChainError } from "../node/chain.js";
import { ConfigError, configFlagOptions, loadConfig, resolveHome } from "../node/config.js";
import { GenesisLoadError, loadGenesisFile } from "../node/genesis.js";
import { homePaths, readKeyFile } from "../node/home.js";
import { type NodeTestHooks, WattcapNode } from "../node/node.js";
import { Shutdown } from "../node/shutdown.js";
import { openConsensusSigner, SignerError } from "../node/signer.js";
import { WalError } from "../node/wal.js";
import { StoreError } from "../state/errors.js";
import { homeCliError } from "./init.js";
import {
  CliError,
  commandArgs,
  EXIT_CONFIG,
  EXIT_DATA,
  EXIT_IO,
  EXIT_UNAVAILABLE,
} from "./usage.js";

const USAGE = `Usage: wattcap start [--home DIR] [--<setting> VALUE ...]

Runs a Wattcap node on a home made by 'wattcap init' with the chain's genesis file in place.
Logs are JSON lines on standard output. SIGINT or SIGTERM stops the node cleanly (a second
signal exits at once). GET /status and /metrics are served on the metrics port.

Options:
  --home DIR          the home directory (default: $WATTCAP_HOME, else ~/.wattcap)
  --<setting> VALUE   override a setting of config.json, e.g. --p2p-port 26656,
                      --metrics-port 26660, --role follower, --log-level debug
                      (every setting: see docs, or node/config.ts)
  -h, --help          show this help
`;

const HINT = "Run 'wattcap start --help'.";

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: false,
    strict: true,
    options: {
      ...configFlagOptions,
      home: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** The CLI form of anything that stops the node from starting. */
function startCliError(error: unknown): unknown {
  if (error instanceof CliError) return error;
  if (error instanceof ConfigError) return new CliError(`start: ${error.message}`, EXIT_CONFIG);
  if (error instanceof GenesisLoadError) {
    return new CliError(`start: genesis: ${error.message} [${error.code}]`, EXIT_CONFIG);
  }
  if (error instanceof StoreError || error instanceof WalError) {
    const code =
      error.code === "LOCKED" ? EXIT_UNAVAILABLE : error.code === "IO" ? EXIT_IO : EXIT_DATA;
    return new CliError(`start: ${error.message} [${error.code}]`, code);
  }
  if (error instanceof ChainError) {
    return new CliError(`start: ${error.message} [${error.code}]`, EXIT_DATA);
  }
  if (error instanceof SignerError) {
    return new CliError(`start: ${error.message} [${error.code}]`, EXIT_CONFIG);
  }
  const home = homeCliError(error);
  if (home !== error) return home;
  if (error instanceof Error && "code" in error && error.code === "EADDRINUSE") {
    return new CliError(`start: ${error.message}`, EXIT_UNAVAILABLE);
  }
  return error;
}

/** What the fault-injecting test entry (test/harness/fault-node.ts) adds; the CLI passes none. */
export interface StartTestHarness {
  readonly hooks: NodeTestHooks;
  started(node: WattcapNode): void;
}

export async function run(args: string[], harness?: StartTestHarness): Promise<number> {
  const parsed = commandArgs("start", HINT, USAGE, () => parse(args));
  if (parsed === undefined) return 0;
  const { values } = parsed;
  if (values.home === "") throw new CliError(`start: --home must not be empty. ${HINT}`);
  const home = resolveHome(values.home);
  const { home: _home, help: _help, ...flagValues } = values;
  const flags: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(flagValues)) {
    if (typeof value === "string") flags[name] = value;
  }

  let node: WattcapNode;
  let shutdown: Shutdown;
  try {
    const info = await stat(home).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new CliError(
        `start: no Wattcap home at ${home}; run 'wattcap init --home ${home}' first`,
        EXIT_CONFIG,
      );
    }
    const config = await loadConfig({ home, flags });
    const genesis = await loadGenesisFile(config.genesisFile);
    const paths = homePaths(config.home);
    const nodeKey = (await readKeyFile(paths.nodeKey, "node")).secretKey;
    const signer =
      config.role === "validator" ? await openConsensusSigner(config, paths) : undefined;
    const logger = createLogger({ level: config.logLevel, base: { moniker: config.moniker } });
    shutdown = new Shutdown({ logger, timeoutMs: config.shutdownTimeoutMs });
    node = await WattcapNode.start({
      config,
      genesis,
      nodeKey,
      ...(signer ? { signer } : {}),
      logger,
      ...(harness ? { testHooks: harness.hooks } : {}),
    });
    harness?.started(node);
  } catch (error) {
    throw startCliError(error);
  }
  // A signal during start-up ends the process the default way: whatever the node had written
  // was fsynced. From here on, a signal closes its parts in order.
  node.registerWith(shutdown);
  shutdown.install();
  // Runs until a signal: Shutdown closes the node's parts and ends the process.
  return new Promise<number>(() => {});
}
