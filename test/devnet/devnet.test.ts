import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { CliError } from "../../cli/usage.js";
import { devnetGenesis } from "../../devnet/genesis.js";
import { parseDevnetArgs, parseDuration } from "../../devnet/options.js";
import { toChecksumAddress } from "../../lib/address.js";
import { toHex } from "../../lib/bytes.js";
import { buildGenesis } from "../../node/genesis.js";
import type { NodeStatus } from "../../node/node.js";
import { operatorOf, validatorOf } from "../vm/helpers.js";

const CLI = new URL("../../cli/wattcap.js", import.meta.url).pathname;

t.test("options: defaults, and every bad input refused with a usage error", async (t) => {
  const d = parseDevnetArgs([]);
  t.not(d, "help");
  if (d === "help") return;
  t.equal(d.validators, 4);
  t.equal(d.periodMs, 120_000n, "a month in 2 minutes");
  t.equal(d.mode, "batch");
  t.equal(d.rpcPort, 8545);
  t.equal(d.reset, false);
  t.equal(parseDevnetArgs(["--help"]), "help");
  t.equal(parseDuration("90s"), 90_000n);
  t.equal(parseDuration("1h"), 3_600_000n);
  t.equal(parseDuration("1500ms"), 1500n);
  for (const args of [
    ["--validators", "0"],
    ["--validators", "17"],
    ["--validators", "four"],
    ["--period", "2 minutes"],
    ["--period", "5s"],
    ["--mode", "auction"],
    ["--base-port", "80"],
    ["--rpc-port", "26603"],
    ["--households"],
    ["extra"],
  ]) {
    t.throws(() => parseDevnetArgs(args), CliError, args.join(" "));
  }
});

t.test("the genesis passes the node's own checks, one utility per validator", async (t) => {
  const validators = [0, 1, 2, 3].map((i) => ({
    address: toChecksumAddress(validatorOf(i, 0).address),
    publicKey: toHex(validatorOf(i, 0).publicKey),
    operator: operatorOf(i).hex,
  }));
  const json = devnetGenesis({
    validators,
    periodMs: 120_000n,
    mode: "paper",
    now: 1_700_000_000_500n,
  });
  const g = buildGenesis(json);
  t.equal(g.validators.length, 4);
  t.equal(new Set(g.validators.map((v) => v.utility)).size, 4, "no utility holds a third");
  t.equal(g.genesis.params.marketMode, "paper");
  t.same(
    (json.periods as { startMs: string }).startMs,
    "1700000001000",
    "periods start on the next second",
  );
});

/** Three ports per node from a base where all are free, and one more for the follower's RPC. */
async function freePorts(count: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 30_000 + Math.floor(Math.random() * 20_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await free(p);
    if (ok) return base;
  }
  throw new Error("no free port range");
}

async function status(port: number): Promise<NodeStatus | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(1000) });
    return (await r.json()) as NodeStatus;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

t.test(
  "npm start's devnet: 4 validators and a follower agree, stop cleanly, resume, reset",
  { timeout: 240_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "wattcap-devnet-"));
    const base = await freePorts(16);
    const rpcPort = base + 15;
    const metricsPorts = [0, 1, 2, 3, 4].map((i) => base + 3 * i + 1);
    let child: ChildProcess | undefined;
    let output = "";
    t.teardown(async () => {
      child?.kill("SIGKILL");
      if (!t.passing()) t.comment(output);
      await rm(dir, { recursive: true, force: true });
    });
    const start = (...extra: string[]) => {
      const args = ["devnet", "--dir", dir, "--period", "60s", "--base-port", `${base}`];
      child = spawn(process.execPath, [CLI, ...args, "--rpc-port", `${rpcPort}`, ...extra], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout?.on("data", (d) => {
        output += d;
      });
      child.stderr?.on("data", (d) => {
        output += d;
      });
      return child;
    };
    const stop = async (c: ChildProcess) => {
      const exited = new Promise<number | null>((r) => c.once("exit", (code) => r(code)));
      c.kill("SIGINT");
      return exited;
    };
    const heads = () => Promise.all(metricsPorts.map(status));
    const allAt = (h: number) => async () => {
      const s = await heads();
      return s.every((x) => x !== undefined && x.height >= h) ? (s as NodeStatus[]) : undefined;
    };
    const blockHash = async (height: number) => {
      const r = await fetch(`http://127.0.0.1:${rpcPort}/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "chain_getBlock",
          params: { height: `${height}` },
        }),
      });
      return ((await r.json()) as { result: { hash: string } }).result.hash;
    };

    const first = start();
    const up = await waitFor("every node at height 3", allAt(3));
    t.equal(new Set(up.map((s) => s.genesisHash)).size, 1, "one chain");
    t.equal(up.filter((s) => s.role === "validator").length, 4);
    // Every node's block at a common height is the one the follower's RPC serves.
    const h = Math.min(...up.map((s) => s.height));
    const atH = await waitFor("the same height everywhere", async () => {
      const s = await heads();
      return s.every((x) => x?.height === s[0]?.height) ? (s as NodeStatus[]) : undefined;
    });
    t.equal(new Set(atH.map((s) => s.blockHash)).size, 1, "all nodes have the same head block");
    t.equal(await blockHash(atH[0]!.height), atH[0]!.blockHash, "the RPC serves that block");
    t.equal((await fetch(`http://127.0.0.1:${rpcPort}/explorer/`)).status, 200, "explorer served");

    t.equal(await stop(first), 0, "Ctrl-C stops the devnet with exit 0");
    t.same(
      await heads(),
      [undefined, undefined, undefined, undefined, undefined],
      "no node left running",
    );

    const second = start();
    const resumed = await waitFor("the resumed chain past its old head", allAt(atH[0]!.height + 2));
    t.equal(resumed[0]!.genesisHash, up[0]!.genesisHash, "same chain after a restart");
    t.ok(resumed[0]!.height > h);
    t.equal(await stop(second), 0);

    const third = start("--reset");
    const fresh = await waitFor("a new chain", allAt(1));
    t.not(fresh[0]!.genesisHash, up[0]!.genesisHash, "--reset starts a new chain");
    t.equal(await stop(third), 0);
    t.ok(JSON.parse(await readFile(join(dir, "devnet.json"), "utf8")).nodes.length === 5);
  },
);
