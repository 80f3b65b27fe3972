// npm start's devnet end to end: the real CLI as a child process, its nodes as grandchildren.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import type { NodeStatus } from "../../node/node.js";
import { holdSuiteLock } from "../harness/suite-lock.js";

const CLI = new URL("../../cli/wattcap.js", import.meta.url).pathname;
const NODES = 5; // 4 validators and the follower

/** A base port from which `count` ports are free on loopback. */
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

async function blockHash(rpcPort: number, height: number): Promise<string | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${rpcPort}/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "chain_getBlock",
        params: { height: `${height}` },
      }),
      signal: AbortSignal.timeout(1000),
    });
    return ((await r.json()) as { result?: { hash: string } }).result?.hash;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 40_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Processes whose command line mentions the devnet's directory: its nodes. */
function nodePids(dir: string): Map<string, number> {
  const pids = new Map<string, number>();
  for (const line of execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" }).split("\n")) {
    const m = /^\s*(\d+)\s+.*--home\s+(\S+)/.exec(line);
    if (m?.[2]?.startsWith(dir)) pids.set(m[2].slice(m[2].lastIndexOf("/") + 1), Number(m[1]));
  }
  return pids;
}

t.test(
  "npm start's devnet: 4 validators and a follower agree, survive a crash, stop, resume, reset",
  { timeout: 150_000 },
  async (t) => {
    await holdSuiteLock(t);
    const dir = await mkdtemp(join(tmpdir(), "wattcap-devnet-"));
    const base = await freePorts(3 * NODES + 1);
    const rpcPort = base + 3 * NODES;
    const metricsPorts = Array.from({ length: NODES }, (_, i) => base + 3 * i + 1);
    const rpcPorts = [...metricsPorts.slice(0, -1).map((p) => p + 1), rpcPort];
    let child: ChildProcess | undefined;
    let output = "";
    t.teardown(async () => {
      // The CLI runs detached in its own process group: kill it and every node it started.
      if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
      for (const pid of nodePids(dir).values()) process.kill(pid, "SIGKILL");
      if (!t.passing()) t.comment(output);
      await rm(dir, { recursive: true, force: true });
    });
    const start = (...extra: string[]) => {
      const args = ["devnet", "--validators", "4", "--households", "0", "--period", "60s"];
      args.push("--dir", dir, "--base-port", `${base}`, "--rpc-port", `${rpcPort}`, ...extra);
      output += `$ wattcap ${args.join(" ")}\n`;
      const c = spawn(process.execPath, [CLI, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      c.stdout?.on("data", (d) => {
        output += d;
      });
      c.stderr?.on("data", (d) => {
        output += d;
      });
      child = c;
      return c;
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
    const hashesAt = async (h: number) => {
      const hashes = await Promise.all(rpcPorts.map((p) => blockHash(p, h)));
      return hashes.every((x) => x !== undefined) ? (hashes as string[]) : undefined;
    };

    const first = start();
    const up = await waitFor("every node at height 3", allAt(3));
    t.equal(new Set(up.map((s) => s.genesisHash)).size, 1, "one chain");
    t.same(
      up.map((s) => s.role),
      ["validator", "validator", "validator", "validator", "follower"],
    );
    t.equal(
      new Set(up.map((s) => s.validatorAddress)).size,
      NODES,
      "four validators, one follower",
    );
    const atThree = await waitFor("block 3 everywhere", () => hashesAt(3));
    t.equal(new Set(atThree).size, 1, "every node has the same block at height 3");
    t.match(output, `http://127.0.0.1:${rpcPort}/explorer/`, "the explorer's URL is printed");
    t.equal((await fetch(`http://127.0.0.1:${rpcPort}/explorer/`)).status, 200, "explorer served");

    // A validator that dies is restarted by the supervisor and catches up.
    const before = nodePids(dir);
    t.equal(before.size, NODES, "each node is its own process");
    process.kill(before.get("v1")!, "SIGKILL");
    const restarted = await waitFor("v1 restarted", async () => {
      const pid = nodePids(dir).get("v1");
      return pid !== undefined && pid !== before.get("v1") ? pid : undefined;
    });
    t.not(restarted, before.get("v1"));
    const caughtUp = await waitFor("v1 back at the head", async () => {
      const s = await heads();
      const v1 = s[1];
      return v1 !== undefined && v1.height >= Math.max(...up.map((x) => x.height)) + 2
        ? v1
        : undefined;
    });
    t.equal(caughtUp.genesisHash, up[0]!.genesisHash);

    const last = Math.max(...(await heads()).map((s) => s?.height ?? 0));
    t.equal(await stop(first), 0, "Ctrl-C stops the devnet with exit 0");
    t.same(nodePids(dir), new Map(), "no node process remains");
    t.same(await heads(), Array(NODES).fill(undefined), "no node answers");

    const second = start();
    const resumed = await waitFor("the resumed chain past its old head", allAt(last + 1));
    t.equal(resumed[0]!.genesisHash, up[0]!.genesisHash, "the same chain after a restart");
    t.match(output, /resumed/);
    t.same(await hashesAt(3), atThree, "every node kept its history");
    t.equal(await stop(second), 0);
    t.same(nodePids(dir), new Map(), "no node process remains");

    const third = start("--reset");
    const fresh = await waitFor("a new chain", async () => {
      const s = await heads();
      return s.every((x) => x !== undefined) ? (s as NodeStatus[]) : undefined;
    });
    t.not(fresh[0]!.genesisHash, up[0]!.genesisHash, "--reset starts a new chain");
    t.ok(fresh[0]!.height < last, "from height 0 again");
    t.match(output, /devnet created/);
    t.equal(await stop(third), 0);
    t.equal(JSON.parse(await readFile(join(dir, "devnet.json"), "utf8")).nodes.length, NODES);
  },
);
