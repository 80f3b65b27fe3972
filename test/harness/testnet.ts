// A network of real `wattcap start` processes on loopback for tests: temp homes made with
// initHome, a genesis made by `wattcap genesis`'s own code, free ports, short timeouts. Tests
// start, stop, SIGKILL and restart nodes by name, poll /status, and after stopping read each
// node's store and signing WAL to check agreement and that no vote was ever signed twice.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createGenesisFile } from "../../cli/genesis.js";
import { decodeBlock } from "../../lib/block.js";
import { to0x } from "../../lib/bytes.js";
import { commitVote, decodeCommit } from "../../lib/commit.js";
import { generateSecretKey } from "../../lib/keys.js";
import type { Vote } from "../../lib/vote.js";
import { defaultConfigFile, renderConfigFile } from "../../node/config.js";
import { homePaths, identityOf, initHome } from "../../node/home.js";
import type { NodeStatus } from "../../node/node.js";
import { Wal, type WalEntry } from "../../node/wal.js";
import { Store } from "../../state/store.js";
import { type FaultPlan, type FaultReport, NO_FAULTS } from "./fault-plan.js";
import { acquireSuiteLock } from "./suite-lock.js";

const CHAIN_ID = "wattcap-testnet";
export const CLI = fileURLToPath(new URL("../../cli/wattcap.js", import.meta.url));
const FAULT_NODE = fileURLToPath(new URL("./fault-node.js", import.meta.url));

export type Role = "validator" | "follower";

/** A utility of the testnet's genesis: its id and the operator key that signs for it. */
export interface TestnetOperator {
  readonly utility: string;
  /** The genesis validator of this utility (v0 for u0, …). */
  readonly validator: string;
  readonly secretKey: Uint8Array;
  /** EIP-55 address. */
  readonly address: string;
}

export interface TestnetNode {
  /** v0, v1, … for validators; f0, f1, … for followers. */
  readonly name: string;
  readonly role: Role;
  readonly home: string;
  readonly peerId: string;
  readonly p2pPort: number;
  readonly rpcPort: number;
  readonly metricsPort: number;
  readonly log: string;
  /** The consensus key's public key (33 bytes), in or out of the genesis set. */
  readonly validatorPublicKey: Uint8Array;
  /** A validator of the genesis set (false for followers and spares). */
  readonly genesisValidator: boolean;
}

export interface TestnetOptions {
  readonly validators: number;
  readonly followers?: number;
  /**
   * Validator-role nodes (s0, s1, …) whose keys are not in the genesis set: they follow the
   * chain until governance adds them.
   */
  readonly spares?: number;
  /** Merged (one level deep per top-level key) into every node's config.json. */
  readonly configOverrides?: Record<string, unknown>;
  /** Fixed-period length of the genesis; default 10 minutes, so no period ends in a test. */
  readonly periodMs?: bigint;
  /**
   * Runs every node under the test-only fault layer (fault-node.ts), so setFaults, partition
   * and heal work; without it nodes run the plain `wattcap start`.
   */
  readonly faults?: boolean;
  /** Fields of every utility's genesis policy; the rest are `wattcap genesis`'s defaults. */
  readonly policy?: Record<string, unknown>;
  /** The genesis `limits` (maxReadingsPerBatch, …); the defaults when absent. */
  readonly limits?: Record<string, unknown>;
}

/** One committed block as a node stored it. */
export interface StoredBlock {
  readonly hash: string;
  readonly stateRoot: string;
}

/** Something a test can register cleanup with (tap's `t`). */
export interface Teardownable {
  teardown(fn: () => unknown): void;
  /** tap's: false once an assertion failed, so teardown shows the logs. */
  passing?(): boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Below the kernel's ephemeral range (32768-60999 on Linux), where the OS hands out ports to
 * every `listen(0)` and outgoing connection of the tests running beside this one: a port taken
 * from that range could be handed out again before the node binds it (CI saw a node fail with
 * EADDRINUSE). Ports here are handed out only by this function.
 */
const PORT_RANGE = { from: 12_000, size: 20_000 };

function listensOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A random loopback port outside the ephemeral range that is free now. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * PORT_RANGE.size);
    if (await listensOn(port)) return port;
  }
  throw new Error("no free port found below the ephemeral range");
}

function multiaddr(node: TestnetNode): string {
  return `/ip4/127.0.0.1/tcp/${node.p2pPort}/p2p/${node.peerId}`;
}

/** Loopback messages take milliseconds: fail a round fast so a dead proposer costs little. */
const TIMEOUTS = {
  propose: { baseMs: 1000, deltaMs: 250 },
  prevote: { baseMs: 400, deltaMs: 200 },
  precommit: { baseMs: 400, deltaMs: 200 },
};

const live = new Set<Testnet>();
process.once("exit", () => {
  for (const net of live) net.killAllSync();
});

export class Testnet {
  private readonly children = new Map<string, ChildProcess>();
  private readonly plans = new Map<string, FaultPlan>();
  private failed = false;

  private constructor(
    readonly dir: string,
    readonly nodes: readonly TestnetNode[],
    /** 0x-hex genesis hash every node must report. */
    readonly genesisHash: string,
    /** One per genesis utility, in validator order. */
    readonly operators: readonly TestnetOperator[],
    private readonly withFaults: boolean,
  ) {
    live.add(this);
  }

  /** Makes the homes, genesis and configs; starts nothing. */
  static async create(options: TestnetOptions, t?: Teardownable): Promise<Testnet> {
    // A test's network runs alone (suite-lock.ts); scripts (faults, bench) run alone anyway.
    const release = t ? await acquireSuiteLock() : async () => {};
    const dir = await mkdtemp(join(tmpdir(), "wattcap-testnet-"));
    try {
      const net = await Testnet.layOut(dir, options);
      t?.teardown(async () => {
        if (t.passing?.() === false) net.markFailed();
        await net.teardown();
        await release();
      });
      return net;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      await release();
      throw error;
    }
  }

  private static async layOut(dir: string, options: TestnetOptions): Promise<Testnet> {
    // [name, role, in the genesis set]
    const names: [string, Role, boolean][] = [
      ...Array.from({ length: options.validators }, (_, i): [string, Role, boolean] => [
        `v${i}`,
        "validator",
        true,
      ]),
      ...Array.from({ length: options.followers ?? 0 }, (_, i): [string, Role, boolean] => [
        `f${i}`,
        "follower",
        false,
      ]),
      ...Array.from({ length: options.spares ?? 0 }, (_, i): [string, Role, boolean] => [
        `s${i}`,
        "validator",
        false,
      ]),
    ];
    const nodes: TestnetNode[] = [];
    const utilities: unknown[] = [];
    const validators: unknown[] = [];
    const operators: TestnetOperator[] = [];
    for (const [name, role, genesisValidator] of names) {
      const home = join(dir, name);
      const init = await initHome({ home, moniker: name });
      nodes.push({
        name,
        role,
        home,
        peerId: init.peerId,
        p2pPort: await freePort(),
        rpcPort: await freePort(),
        metricsPort: await freePort(),
        log: join(dir, `${name}.log`),
        validatorPublicKey: init.validator.publicKey,
        genesisValidator,
      });
      if (genesisValidator) {
        const id = `u${validators.length}`;
        const secretKey = generateSecretKey();
        const operator = identityOf({ type: "operator", secretKey }).address;
        utilities.push({
          id,
          name: `Utility ${id}`,
          operator,
          ...(options.policy ? { policy: options.policy } : {}),
        });
        validators.push({ home: name, utility: id, operator });
        operators.push({ utility: id, validator: name, secretKey, address: operator });
      }
    }
    const network = {
      chainId: CHAIN_ID,
      genesisTime: "now",
      periods: {
        kind: "fixed",
        startMs: "genesis",
        lengthMs: (options.periodMs ?? 600_000n).toString(),
        genesisMonth: 0,
      },
      utilities,
      validators,
      ...(options.limits ? { limits: options.limits } : {}),
    };
    const genesisPath = join(dir, "genesis.json");
    const chain = await createGenesisFile(network, dir, genesisPath);
    const genesisText = await readFile(genesisPath, "utf8");
    const peers = nodes.filter((n) => n.genesisValidator);
    for (const node of nodes) {
      const paths = homePaths(node.home);
      await writeFile(paths.genesis, genesisText);
      const file = defaultConfigFile(node.name) as Record<string, Record<string, unknown>>;
      const config: Record<string, unknown> = {
        ...file,
        role: node.role,
        logLevel: "warn",
        consensus: { ...file.consensus, targetBlockTimeMs: 300, timeouts: TIMEOUTS },
        p2p: {
          ...file.p2p,
          host: "127.0.0.1",
          port: node.p2pPort,
          persistentPeers: peers.filter((p) => p.name !== node.name).map(multiaddr),
        },
        rpc: { ...file.rpc, host: "127.0.0.1", port: node.rpcPort },
        metrics: { ...file.metrics, enabled: true, host: "127.0.0.1", port: node.metricsPort },
      };
      for (const [key, value] of Object.entries(options.configOverrides ?? {})) {
        const base = config[key];
        config[key] =
          typeof base === "object" && base !== null && typeof value === "object" && value !== null
            ? { ...base, ...value }
            : value;
      }
      await writeFile(paths.config, renderConfigFile(config));
    }
    return new Testnet(dir, nodes, to0x(chain.hash), operators, options.faults ?? false);
  }

  node(name: string): TestnetNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node ${name} in this testnet`);
    return node;
  }

  /** The operator of utility `utility` (u0, u1, …). */
  operator(utility: string): TestnetOperator {
    const operator = this.operators.find((o) => o.utility === utility);
    if (!operator) throw new Error(`no utility ${utility} in this testnet`);
    return operator;
  }

  /** The genesis validators. */
  get validators(): string[] {
    return this.nodes.filter((n) => n.genesisValidator).map((n) => n.name);
  }

  /** Validator-role nodes outside the genesis set. */
  get spares(): string[] {
    return this.nodes
      .filter((n) => n.role === "validator" && !n.genesisValidator)
      .map((n) => n.name);
  }

  /** The node's JSON-RPC URL (HTTP; WebSocket at /ws on the same port). */
  rpcUrl(name: string): string {
    return `http://127.0.0.1:${this.node(name).rpcPort}`;
  }

  get followers(): string[] {
    return this.nodes.filter((n) => n.role === "follower").map((n) => n.name);
  }

  isRunning(name: string): boolean {
    const child = this.children.get(name);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Spawns `wattcap start --home` for the node, appending its output to its log file. */
  start(name: string): void {
    if (this.isRunning(name)) throw new Error(`${name} is already running`);
    const node = this.node(name);
    const log = openSync(node.log, "a");
    try {
      const args = this.withFaults
        ? [FAULT_NODE, this.planPath(name), "--home", node.home]
        : [CLI, "start", "--home", node.home];
      // Profiling under load: each node writes a V8 CPU profile there when it exits (stop(), not
      // kill(): a SIGKILLed process writes nothing).
      const profDir = process.env.TESTNET_CPU_PROF;
      const prof = profDir ? ["--cpu-prof", "--cpu-prof-dir", profDir] : [];
      const child = spawn(process.execPath, [...prof, ...args], { stdio: ["ignore", log, log] });
      this.children.set(name, child);
    } finally {
      closeSync(log);
    }
  }

  private async signal(name: string, signal: NodeJS.Signals): Promise<number | null> {
    const child = this.children.get(name);
    if (!child) return null;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    }
    this.children.delete(name);
    return child.exitCode;
  }

  private planPath(name: string): string {
    return join(this.dir, `${name}.faults.json`);
  }

  /** The node's fault plan now (what setFaults last wrote). */
  faultPlan(name: string): FaultPlan {
    return this.plans.get(name) ?? NO_FAULTS;
  }

  /**
   * Changes a node's fault plan (merged into its current one); the node applies it within about
   * 200 ms, running or not (a restarted node reads it at start). Needs `faults: true`.
   */
  async setFaults(name: string, change: Partial<FaultPlan>): Promise<void> {
    if (!this.withFaults) throw new Error("this testnet was created without faults: true");
    const plan = { ...this.faultPlan(name), ...change };
    this.plans.set(name, plan);
    const path = this.planPath(name);
    await writeFile(`${path}.tmp`, JSON.stringify(plan));
    await rename(`${path}.tmp`, path);
  }

  /**
   * Splits the network: each node is cut off from every node outside its group (nodes in no
   * group are cut off from all). Both sides refuse each other, so no message crosses.
   */
  async partition(groups: readonly (readonly string[])[]): Promise<void> {
    for (const node of this.nodes) {
      const group = groups.find((g) => g.includes(node.name)) ?? [node.name];
      const cut = this.nodes.filter((n) => !group.includes(n.name)).map((n) => n.peerId);
      await this.setFaults(node.name, { cut });
    }
  }

  /** Ends every partition. */
  async heal(): Promise<void> {
    for (const node of this.nodes) await this.setFaults(node.name, { cut: [] });
  }

  /** The report a fault-layer node last wrote (every 500 ms), or undefined before the first. */
  async faultReport(name: string): Promise<FaultReport | undefined> {
    try {
      return JSON.parse(await readFile(`${this.planPath(name)}.report.json`, "utf8"));
    } catch {
      return undefined;
    }
  }

  /** SIGTERM and wait for the exit; returns the exit code (null if it died by a signal). */
  stop(name: string): Promise<number | null> {
    return this.signal(name, "SIGTERM");
  }

  /** Waits for a node to exit by itself (a refused start); returns its exit code. */
  async exited(name: string, timeoutMs: number): Promise<number | null> {
    const child = this.children.get(name);
    if (!child) throw new Error(`${name} was not started`);
    if (child.exitCode === null && child.signalCode === null) {
      const exit = new Promise((r) => child.once("exit", r));
      const timeout = sleep(timeoutMs).then(() => "timeout");
      if ((await Promise.race([exit, timeout])) === "timeout") {
        this.failed = true;
        throw new Error(`${name} still running after ${timeoutMs} ms`);
      }
    }
    this.children.delete(name);
    return child.exitCode;
  }

  /** SIGKILL: a crash, with no chance to flush or close anything. */
  async kill(name: string): Promise<void> {
    await this.signal(name, "SIGKILL");
  }

  async restart(name: string): Promise<void> {
    await this.stop(name);
    this.start(name);
  }

  /** The node's GET /status, or undefined while it is down or not yet listening. */
  async status(name: string): Promise<NodeStatus | undefined> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.node(name).metricsPort}/status`, {
        signal: AbortSignal.timeout(1000),
      });
      if (!r.ok) return undefined;
      return (await r.json()) as NodeStatus;
    } catch {
      return undefined;
    }
  }

  /** The nodes' heights, or undefined if any of them is not answering. */
  async heights(names: readonly string[]): Promise<number[] | undefined> {
    const all = await Promise.all(names.map((n) => this.status(n)));
    const heights: number[] = [];
    for (const s of all) {
      if (s === undefined) return undefined;
      heights.push(s.height);
    }
    return heights;
  }

  /** The highest height any of the named nodes that answer reports (0 if none does). */
  async maxHeight(names: readonly string[]): Promise<number> {
    const all = await Promise.all(names.map((n) => this.status(n)));
    return Math.max(0, ...all.map((s) => s?.height ?? 0));
  }

  /** Polls `probe` until it returns something other than undefined/false; throws on timeout. */
  async waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined | false>,
    timeoutMs: number,
  ): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > end) {
        this.failed = true;
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      }
      await sleep(200);
    }
  }

  /** Waits until every named node reports at least height `h`; returns their heights. */
  waitForHeight(names: readonly string[], h: number, timeoutMs: number): Promise<number[]> {
    return this.waitFor(
      `${names.join(", ")} at height ${h}`,
      async () => {
        const hs = await this.heights(names);
        return hs?.every((x) => x >= h) ? hs : undefined;
      },
      timeoutMs,
    );
  }

  /** A stopped node's stored chain: block hash and state root (0x-hex) by height from 1. */
  async chainOf(name: string): Promise<Map<bigint, StoredBlock>> {
    if (this.isRunning(name)) throw new Error(`stop ${name} before reading its store`);
    const store = await Store.open(homePaths(this.node(name).home).data, { create: false });
    const out = new Map<bigint, StoredBlock>();
    try {
      const head = store.head()?.height ?? 0n;
      for (let h = 1n; h <= head; h++) {
        const bytes = store.getBlock(h);
        const hash = store.chain.getBlockHash(h);
        if (!bytes || !hash) continue;
        out.set(h, { hash: to0x(hash), stateRoot: to0x(decodeBlock(bytes).header.stateRoot) });
      }
    } finally {
      await store.close();
    }
    return out;
  }

  /** A stopped node's stored commits, as the precommits their signatures sign. */
  async storedPrecommits(name: string): Promise<Vote[]> {
    if (this.isRunning(name)) throw new Error(`stop ${name} before reading its store`);
    const store = await Store.open(homePaths(this.node(name).home).data, { create: false });
    const out: Vote[] = [];
    try {
      const head = store.head()?.height ?? 0n;
      for (let h = 1n; h <= head; h++) {
        const bytes = store.getCommit(h);
        if (!bytes) continue;
        const commit = decodeCommit(bytes);
        for (const s of commit.signatures) out.push(commitVote(commit, CHAIN_ID, s.validator));
      }
    } finally {
      await store.close();
    }
    return out;
  }

  /** A stopped node's signing WAL records. */
  async walRecords(name: string): Promise<readonly WalEntry[]> {
    if (this.isRunning(name)) throw new Error(`stop ${name} before reading its WAL`);
    const wal = await Wal.open(homePaths(this.node(name).home).signingWal);
    try {
      return [...wal.records()];
    } finally {
      await wal.close();
    }
  }

  /** Marks the run failed, so teardown prints the logs' tails. */
  markFailed(): void {
    this.failed = true;
  }

  /** The last `lines` lines of every node's log, for a failure report. */
  logTails(lines = 30): string {
    return this.nodes
      .map((n) => {
        let text = "";
        try {
          text = readFileSync(n.log, "utf8");
        } catch {
          text = "(no log)";
        }
        return `--- ${n.name} (${n.log}) ---\n${text.split("\n").slice(-lines).join("\n")}`;
      })
      .join("\n");
  }

  /** Kills every child and removes the temp dir; prints the logs' tails if the run failed. */
  async teardown(): Promise<void> {
    for (const name of [...this.children.keys()]) await this.kill(name);
    if (this.failed || process.exitCode) process.stderr.write(`${this.logTails()}\n`);
    await rm(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  /** For process exit, when nothing async runs any more. */
  killAllSync(): void {
    for (const child of this.children.values()) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // Best effort: the process is exiting.
    }
  }
}

/** Heights at which two stored chains differ (only heights both have). */
export function divergence(
  a: ReadonlyMap<bigint, StoredBlock>,
  b: ReadonlyMap<bigint, StoredBlock>,
): bigint[] {
  const out: bigint[] = [];
  for (const [h, block] of a) {
    const other = b.get(h);
    if (other && (other.hash !== block.hash || other.stateRoot !== block.stateRoot)) out.push(h);
  }
  return out;
}

/**
 * Steps (validator/height/round/type) for which two different votes were signed, across every
 * source given: signing WALs' records and stored commits' precommits (storedPrecommits).
 */
export function conflictingVotes(sources: readonly (readonly (WalEntry | Vote)[])[]): string[] {
  const signed = new Map<string, string>();
  const conflicts: string[] = [];
  for (const records of sources) {
    for (const record of records) {
      const v =
        "kind" in record ? (record.kind === "vote" ? record.signed.vote : undefined) : record;
      if (v === undefined) continue;
      const step = `${to0x(v.validator)}/${v.height}/${v.round}/${v.type}`;
      const value = v.blockHash ? to0x(v.blockHash) : "nil";
      const seen = signed.get(step);
      if (seen !== undefined && seen !== value && !conflicts.includes(step)) conflicts.push(step);
      signed.set(step, value);
    }
  }
  return conflicts;
}

/** A small seeded generator (mulberry32), so a failing fault schedule can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface KillCycleOptions {
  readonly cycles: number;
  readonly random: () => number;
  /** Longest wait before a kill; the moment is uniform in [0, maxDelayMs). */
  readonly maxDelayMs?: number;
  /** How long every validator may take to pass the height reached before the kill. */
  readonly catchUpMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * Repeatedly SIGKILLs one validator (chosen at random) at a random moment, restarts it at once,
 * and waits until every validator has passed the height the network had reached, so each crash
 * lands mid-round at a different step. Returns the heights reached after each cycle.
 */
export async function runKillCycles(net: Testnet, options: KillCycleOptions): Promise<number[]> {
  const validators = net.validators;
  const reached: number[] = [];
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    await sleep(Math.floor(options.random() * (options.maxDelayMs ?? 1500)));
    const victim = validators[Math.floor(options.random() * validators.length)] ?? "v0";
    const before = Math.max(...((await net.heights(validators)) ?? [0]));
    await net.kill(victim);
    options.log?.(`cycle ${cycle}: killed ${victim} at about height ${before}`);
    net.start(victim);
    const heights = await net.waitForHeight(validators, before + 1, options.catchUpMs ?? 30_000);
    reached.push(Math.min(...heights));
  }
  return reached;
}
