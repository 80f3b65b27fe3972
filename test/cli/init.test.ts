// Runs the compiled `wattcap` command as a child process, as an operator would.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { fromHex } from "../../lib/bytes.js";
import { loadConfig } from "../../node/config.js";
import { identityOf, peerIdOf, readKeyFile } from "../../node/home.js";

const CLI = fileURLToPath(new URL("../../cli/wattcap.js", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function wattcap(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, WATTCAP_HOME: "", ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-cli-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test("init --json creates a home and prints its identities", async (t) => {
  const home = join(await tempDir(t), "node1");
  const run = await wattcap(["init", "--home", home, "--moniker", "utility-a-1", "--json"]);
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stderr, "");
  const out = JSON.parse(run.stdout);
  t.same(Object.keys(out).sort(), [
    "config",
    "home",
    "peerId",
    "validatorAddress",
    "validatorPublicKey",
  ]);
  t.equal(out.home, home);
  t.equal(out.config, join(home, "config.json"));
  const nodeKey = await readKeyFile(join(home, "keys", "node.key"), "node");
  const validator = identityOf(await readKeyFile(join(home, "keys", "validator.key"), "validator"));
  t.equal(out.peerId, peerIdOf(nodeKey.secretKey));
  t.equal(out.validatorAddress, validator.address);
  t.same(fromHex(out.validatorPublicKey), validator.publicKey);
  t.equal((await loadConfig({ home, env: {} })).moniker, "utility-a-1");
  t.equal((await stat(join(home, "keys", "validator.key"))).mode & 0o777, 0o600);
});

t.test(
  "init without --json prints a readable summary; WATTCAP_HOME is the default home",
  async (t) => {
    const home = join(await tempDir(t), "from-env");
    const run = await wattcap(["init"], { WATTCAP_HOME: home });
    t.equal(run.code, 0, run.stderr);
    t.match(run.stdout, `Initialised a Wattcap home at ${home}\n`);
    t.match(run.stdout, /peer id: +16Uiu2\w+\n/);
    t.match(run.stdout, /validator address: +0x[0-9a-fA-F]{40}\n/);
    t.match(run.stdout, `wattcap start --home ${home}`);
    t.equal((await loadConfig({ home, env: {} })).moniker, "wattcap-node");
  },
);

t.test(
  "init refuses to overwrite a home (exit 73) and changes nothing; --force replaces it",
  async (t) => {
    const home = join(await tempDir(t), "node");
    t.equal((await wattcap(["init", "--home", home])).code, 0);
    const keyBefore = await readFile(join(home, "keys", "validator.key"), "utf8");
    const again = await wattcap(["init", "--home", home]);
    t.equal(again.code, 73);
    t.equal(again.stdout, "");
    t.match(again.stderr, /^wattcap: .* is already a Wattcap home .*--force.* \[EXISTS\]\n$/);
    t.equal(await readFile(join(home, "keys", "validator.key"), "utf8"), keyBefore);

    const forced = await wattcap(["init", "--home", home, "--force", "--json"]);
    t.equal(forced.code, 0, forced.stderr);
    t.not(await readFile(join(home, "keys", "validator.key"), "utf8"), keyBefore, "a new key");
  },
);

t.test("bad arguments exit 64 with a clear message and create nothing", async (t) => {
  const dir = await tempDir(t);
  const home = join(dir, "never");
  const cases: [string[], RegExp][] = [
    [["init", "--home", home, "--bogus"], /init: Unknown option '--bogus'.*wattcap init --help/],
    [["init", "--home", home, "extra"], /init: Unexpected argument 'extra'/],
    [["init", "--home"], /init: Option '--home <value>' argument missing/],
    [["init", "--home", ""], /init: --home must not be empty/],
    [["init", "--home", home, "--moniker", ""], /init: --moniker: expected 1 to 64 printable/],
    [["init", "--home", home, "--moniker", "a\tb"], /init: --moniker: /],
  ];
  for (const [args, message] of cases) {
    const run = await wattcap(args);
    t.equal(run.code, 64, args.join(" "));
    t.match(run.stderr, message, args.join(" "));
    t.equal(run.stdout, "");
  }
  t.same(await readdir(dir), [], "nothing was created");
});

t.test("a home path that is a file exits 74", async (t) => {
  const file = join(await tempDir(t), "file");
  await writeFile(file, "x");
  const run = await wattcap(["init", "--home", file]);
  t.equal(run.code, 74);
  t.match(run.stderr, /is not a directory \[NOT_A_DIRECTORY\]/);
});

t.test("init --help and the command list", async (t) => {
  const help = await wattcap(["init", "--help"]);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: wattcap init \[--home DIR\]/);
  t.match(help.stdout, /--force/);
  const list = await wattcap(["--help"]);
  t.match(list.stdout, /\n {2}init +Create a node's home/);
  t.match(list.stdout, /\n {2}keys +Create or show a key file/);
});
