import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { CliError, EXIT_CONFIG } from "../../cli/usage.js";
import type { DevnetOptions } from "../../devnet/options.js";
import { nodeProcess, prepareDevnet } from "../../devnet/supervisor.js";
import { loadConfig } from "../../node/config.js";
import { loadGenesisFile } from "../../node/genesis.js";
import { readKeyFile } from "../../node/home.js";

async function scratch(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-devnet-layout-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return join(dir, "devnet");
}

const options = (dir: string, more: Partial<DevnetOptions> = {}): DevnetOptions => ({
  validators: 2,
  households: 0,
  periodMs: 60_000n,
  mode: "batch",
  reset: false,
  dir,
  basePort: 40000,
  rpcPort: 48545,
  ...more,
});

async function configError(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (error) {
    return error instanceof CliError ? error.exitCode : undefined;
  }
}

t.test("a new devnet: homes, configs, keys and one genesis", async (t) => {
  const dir = await scratch(t);
  const { layout, resumed } = await prepareDevnet(options(dir), 1_795_539_600_500n);
  t.equal(resumed, false);
  t.same(
    layout.nodes.map((n) => [n.name, n.role, n.p2pPort, n.metricsPort, n.rpcPort]),
    [
      ["v0", "validator", 40000, 40001, 40002],
      ["v1", "validator", 40003, 40004, 40005],
      ["follower", "follower", 40006, 40007, 48545],
    ],
  );
  const genesis = await readFile(join(dir, "genesis.json"), "utf8");
  const chain = await loadGenesisFile(join(dir, "genesis.json"));
  t.same(chain.validators.map((v) => v.utility).sort(), ["u0", "u1"], "one utility per validator");
  for (const node of layout.nodes) {
    t.equal(
      await readFile(join(node.home, "genesis.json"), "utf8"),
      genesis,
      `${node.name} genesis`,
    );
    const config = await loadConfig({ home: node.home, env: {} });
    t.equal(config.role, node.role);
    t.equal(config.p2p.host, "127.0.0.1");
    t.equal(config.p2p.port, node.p2pPort);
    t.equal(config.metrics.port, node.metricsPort);
    t.equal(config.rpc.port, node.rpcPort);
    const peers = layout.nodes
      .filter((n) => n.role === "validator" && n.name !== node.name)
      .map((n) => `/ip4/127.0.0.1/tcp/${n.p2pPort}/p2p/${n.peerId}`);
    t.same(config.p2p.persistentPeers, peers, `${node.name} dials every other validator`);
    t.same(nodeProcess(node), { name: node.name, args: ["start", "--home", node.home] });
  }
  for (const u of ["u0", "u1"]) {
    const path = join(dir, "keys", `operator-${u}.json`);
    t.equal((await readKeyFile(path, "operator")).type, "operator");
    t.equal((await stat(path)).mode & 0o077, 0, `${u}'s operator key is private`);
  }
});

t.test("a second start resumes; other options are refused; --reset starts over", async (t) => {
  const dir = await scratch(t);
  const first = await prepareDevnet(options(dir), 1_795_539_600_500n);
  const genesis = await readFile(join(dir, "genesis.json"), "utf8");
  const again = await prepareDevnet(options(dir, { households: 50 }), 1_795_539_999_000n);
  t.equal(again.resumed, true);
  t.same(again.layout, first.layout);
  t.equal(await readFile(join(dir, "genesis.json"), "utf8"), genesis, "genesis untouched");
  for (const other of [{ validators: 3 }, { mode: "paper" as const }, { basePort: 41000 }]) {
    t.equal(
      await configError(prepareDevnet(options(dir, other), 1_795_539_999_000n)),
      EXIT_CONFIG,
      JSON.stringify(other),
    );
  }
  const reset = await prepareDevnet(
    options(dir, { reset: true, validators: 1 }),
    1_795_539_999_000n,
  );
  t.equal(reset.resumed, false);
  t.equal(reset.layout.nodes.length, 2);
  t.not(await readFile(join(dir, "genesis.json"), "utf8"), genesis, "a new genesis");
});

t.test("a directory with other content is not taken over without --reset", async (t) => {
  const dir = await scratch(t);
  await mkdir(dir);
  await writeFile(join(dir, "notes.txt"), "mine");
  t.equal(await configError(prepareDevnet(options(dir), 1_795_539_600_500n)), EXIT_CONFIG);
  t.equal(await readFile(join(dir, "notes.txt"), "utf8"), "mine", "left alone");
});
