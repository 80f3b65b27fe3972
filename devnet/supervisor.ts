// The devnet on disk and in processes. `prepareDevnet` lays out the homes, keys and genesis once
// (or finds them from a previous start); `Supervisor` runs every node as its own process with
// `wattcap start`, restarts one that dies, and stops them all on request.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError, EXIT_CONFIG } from "../cli/usage.js";
import { toHex } from "../lib/bytes.js";
import { generateSecretKey } from "../lib/keys.js";
import { defaultConfigFile, renderConfigFile } from "../node/config.js";
import { buildGenesis } from "../node/genesis.js";
import { homePaths, identityOf, initHome, writeKeyFile } from "../node/home.js";
import { devnetGenesis, type GenesisCustom } from "./genesis.js";
import type { DevnetOptions } from "./options.js";

export interface DevnetNode {
  readonly name: string;
  readonly role: "validator" | "follower";
  readonly home: string;
  readonly p2pPort: number;
  readonly metricsPort: number;
  readonly rpcPort: number;
  readonly peerId: string;
}

/** dir/devnet.json: written last when a devnet is laid out, so its presence means complete. */
export interface DevnetLayout {
  readonly format: 1;
  readonly validators: number;
  readonly periodMs: string;
  readonly mode: string;
  readonly basePort: number;
  readonly rpcPort: number;
  readonly nodes: readonly DevnetNode[];
}

const LAYOUT_FILE = "devnet.json";

function multiaddr(node: DevnetNode): string {
  return `/ip4/127.0.0.1/tcp/${node.p2pPort}/p2p/${node.peerId}`;
}

/**
 * Consensus timeouts for a loopback network with a 1 s block time: messages arrive in
 * milliseconds, so a round that fails (a validator restarting) is retried within a few seconds
 * instead of the production defaults' longer waits.
 */
const DEVNET_TIMEOUTS = {
  propose: { baseMs: 1500, deltaMs: 250 },
  prevote: { baseMs: 500, deltaMs: 250 },
  precommit: { baseMs: 500, deltaMs: 250 },
};

/** A node's config: loopback only, every validator a persistent peer. */
function nodeConfig(node: DevnetNode, validators: readonly DevnetNode[]): string {
  const file = defaultConfigFile(node.name) as Record<string, Record<string, unknown>>;
  return renderConfigFile({
    ...file,
    role: node.role,
    consensus: { ...file.consensus, targetBlockTimeMs: 1000, timeouts: DEVNET_TIMEOUTS },
    p2p: {
      ...file.p2p,
      host: "127.0.0.1",
      port: node.p2pPort,
      persistentPeers: validators.filter((v) => v.name !== node.name).map(multiaddr),
    },
    metrics: { ...file.metrics, enabled: true, host: "127.0.0.1", port: node.metricsPort },
    rpc: { ...file.rpc, host: "127.0.0.1", port: node.rpcPort },
  });
}

function sameOptions(layout: DevnetLayout, options: DevnetOptions): boolean {
  return (
    layout.validators === options.validators &&
    layout.periodMs === options.periodMs.toString() &&
    layout.mode === options.mode &&
    layout.basePort === options.basePort &&
    layout.rpcPort === options.rpcPort
  );
}

async function layOut(
  dir: string,
  options: DevnetOptions,
  now: bigint,
  custom: GenesisCustom | undefined,
): Promise<DevnetLayout> {
  const names = [...Array.from({ length: options.validators }, (_, i) => `v${i}`), "follower"];
  const nodes: DevnetNode[] = [];
  const validators: Array<{ address: string; publicKey: string; operator: string }> = [];
  for (const [i, name] of names.entries()) {
    const home = join(dir, "nodes", name);
    const init = await initHome({ home, moniker: name });
    const port = options.basePort + 3 * i;
    const role = name === "follower" ? "follower" : "validator";
    nodes.push({
      name,
      role,
      home,
      p2pPort: port,
      metricsPort: port + 1,
      rpcPort: role === "follower" ? options.rpcPort : port + 2,
      peerId: init.peerId,
    });
    if (role === "validator") {
      // Each validator's utility has an operator account; its key stays in dir/keys.
      const secretKey = generateSecretKey();
      await writeKeyFile(join(dir, "keys", `operator-u${i}.json`), { type: "operator", secretKey });
      validators.push({
        address: init.validator.address,
        publicKey: toHex(init.validator.publicKey),
        operator: identityOf({ type: "operator", secretKey }).address,
      });
    }
  }
  const genesisJson = devnetGenesis({
    validators,
    periodMs: options.periodMs,
    mode: options.mode,
    now,
    custom,
  });
  buildGenesis(genesisJson); // the same check every node makes at start-up
  const genesisText = `${JSON.stringify(genesisJson, null, 2)}\n`;
  await writeFile(join(dir, "genesis.json"), genesisText);
  const validatorNodes = nodes.filter((n) => n.role === "validator");
  for (const node of nodes) {
    const paths = homePaths(node.home);
    await writeFile(paths.genesis, genesisText);
    await writeFile(paths.config, nodeConfig(node, validatorNodes));
  }
  const layout: DevnetLayout = {
    format: 1,
    validators: options.validators,
    periodMs: options.periodMs.toString(),
    mode: options.mode,
    basePort: options.basePort,
    rpcPort: options.rpcPort,
    nodes,
  };
  await writeFile(join(dir, LAYOUT_FILE), `${JSON.stringify(layout, null, 2)}\n`);
  return layout;
}

/**
 * The devnet in `options.dir`: a new one (after deleting the dir with --reset), or the one a
 * previous start left, which must have been made with the same options.
 */
export async function prepareDevnet(
  options: DevnetOptions,
  now: bigint,
  custom?: GenesisCustom,
): Promise<{ layout: DevnetLayout; dir: string; resumed: boolean }> {
  const dir = resolve(options.dir);
  if (options.reset) await rm(dir, { recursive: true, force: true });
  const layoutPath = join(dir, LAYOUT_FILE);
  if (existsSync(layoutPath)) {
    const layout = JSON.parse(await readFile(layoutPath, "utf8")) as DevnetLayout;
    if (!sameOptions(layout, options)) {
      throw new CliError(
        `${dir} holds a devnet made with other options (validators ${layout.validators}, ` +
          `period ${layout.periodMs} ms, mode ${layout.mode}, ports ${layout.basePort}/${layout.rpcPort}); ` +
          "start it with those, or add --reset for a new chain",
        EXIT_CONFIG,
      );
    }
    return { layout, dir, resumed: true };
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new CliError(
      `${dir} exists but holds no complete devnet (no ${LAYOUT_FILE}); add --reset to replace it`,
      EXIT_CONFIG,
    );
  }
  mkdirSync(join(dir, "keys"), { recursive: true, mode: 0o700 });
  try {
    return { layout: await layOut(dir, options, now, custom), dir, resumed: false };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

const CLI = fileURLToPath(new URL("../cli/wattcap.js", import.meta.url));
const MAX_RESTART_DELAY_MS = 10_000;
const STOP_GRACE_MS = 10_000;

/**
 * One long-running part of the devnet: a `wattcap` subcommand run as its own process. The nodes
 * are the first; the meter oracle and the household simulation join as further entries.
 */
export interface SupervisedProcess {
  /** Unique in the devnet; names the log file dir/logs/<name>.log. */
  readonly name: string;
  /** The arguments to `wattcap`, e.g. ["start", "--home", home]. */
  readonly args: readonly string[];
}

export function nodeProcess(node: DevnetNode): SupervisedProcess {
  return { name: node.name, args: ["start", "--home", node.home] };
}

interface Running {
  readonly process: SupervisedProcess;
  child: ChildProcess | undefined;
  restartDelay: number;
  timer: NodeJS.Timeout | undefined;
}

/** Runs the devnet's processes, each logging to dir/logs/<name>.log. */
export class Supervisor {
  readonly #running: Running[];
  #stopping = false;

  constructor(
    processes: readonly SupervisedProcess[],
    private readonly dir: string,
    private readonly notice: (line: string) => void,
  ) {
    this.#running = processes.map((process) => ({
      process,
      child: undefined,
      restartDelay: 1000,
      timer: undefined,
    }));
    mkdirSync(join(dir, "logs"), { recursive: true });
  }

  start(): void {
    for (const r of this.#running) this.#spawn(r);
  }

  #spawn(r: Running): void {
    const { name, args } = r.process;
    const log = openSync(join(this.dir, "logs", `${name}.log`), "a");
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    r.child = child;
    const started = Date.now();
    child.on("exit", (code, signal) => {
      r.child = undefined;
      // Exit code 0 is a node that was asked to stop (Ctrl-C in a terminal reaches every process
      // in the group): only a crash is restarted.
      if (this.#stopping || code === 0) return;
      // A node that ran a while gets a quick restart; one that keeps dying backs off.
      if (Date.now() - started > 30_000) r.restartDelay = 1000;
      this.notice(
        `${name} exited (${signal ?? `code ${code}`}); restarting in ${r.restartDelay / 1000}s — see logs/${name}.log`,
      );
      r.timer = setTimeout(() => {
        r.timer = undefined;
        if (!this.#stopping) this.#spawn(r);
      }, r.restartDelay);
      r.restartDelay = Math.min(2 * r.restartDelay, MAX_RESTART_DELAY_MS);
    });
  }

  /** SIGTERM to every node (SIGKILL to any still up after the grace period); resolves when all exited. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const exits = this.#running.map((r) => {
      if (r.timer) clearTimeout(r.timer);
      const child = r.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((done) => {
        const kill = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
        child.once("exit", () => {
          clearTimeout(kill);
          done();
        });
        child.kill("SIGTERM");
      });
    });
    await Promise.all(exits);
  }
}
