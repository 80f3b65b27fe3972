// Runs the compiled `wattcap keys` as a child process.
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { fromHex, to0x } from "../../lib/bytes.js";
import { identityOf, parseKeyFile, peerIdOf, readKeyFile, renderKeyFile } from "../../node/home.js";

const CLI = fileURLToPath(new URL("../../cli/wattcap.js", import.meta.url));

function wattcap(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "keys", ...args], (error, stdout, stderr) => {
      resolve({
        code: error ? (typeof error.code === "number" ? error.code : -1) : 0,
        stdout,
        stderr,
      });
    });
  });
}

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-keys-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test("create --out writes a 0600 key file that show reads back", async (t) => {
  const dir = await tempDir(t);
  for (const type of ["validator", "operator", "oracle", "household"]) {
    const file = join(dir, `${type}.key`);
    const created = await wattcap("create", "--type", type, "--out", file, "--json");
    t.equal(created.code, 0, created.stderr);
    t.equal(created.stderr, "");
    const out = JSON.parse(created.stdout);
    t.notOk("secretKey" in out, "the secret is not printed when written to a file");
    t.equal((await stat(file)).mode & 0o777, 0o600);
    const key = await readKeyFile(file, type as "validator");
    const id = identityOf(key);
    t.same(out, { type, address: id.address, publicKey: to0x(id.publicKey), file });

    const shown = await wattcap("show", "--file", file, "--json");
    t.equal(shown.code, 0);
    t.same(JSON.parse(shown.stdout), { type, address: id.address, publicKey: to0x(id.publicKey) });
  }
  const text = await wattcap("show", "--file", join(dir, "oracle.key"));
  t.match(
    text.stdout,
    /^type: +oracle\naddress: +0x[0-9a-fA-F]{40}\npublicKey: +0x0[23][0-9a-f]{64}\n$/,
  );
});

t.test("create without --out prints the secret, with a warning in text mode", async (t) => {
  const json = await wattcap("create", "--type", "household", "--json");
  t.equal(json.code, 0);
  const out = JSON.parse(json.stdout);
  const key = parseKeyFile(JSON.stringify({ type: out.type, secretKey: out.secretKey }), "stdout");
  t.equal(identityOf(key).address, out.address, "the printed secret matches the printed address");
  t.equal(json.stderr, "");
  const text = await wattcap("create", "--type", "oracle");
  t.equal(text.code, 0);
  t.match(text.stdout, /secretKey: [0-9a-f]{64}\n/);
  t.match(text.stderr, /warning: printing a secret key/);
  const other = JSON.parse((await wattcap("create", "--type", "household", "--json")).stdout);
  t.not(other.secretKey, out.secretKey, "every run makes a fresh key");
});

t.test("show prints a node key's peer id", async (t) => {
  const file = join(await tempDir(t), "node.key");
  const secretKey = fromHex("11".repeat(32));
  await writeFile(file, renderKeyFile({ type: "node", secretKey }), { mode: 0o600 });
  const run = await wattcap("show", "--file", file, "--json");
  t.equal(JSON.parse(run.stdout).peerId, peerIdOf(secretKey));
});

t.test("bad arguments exit 64 with a clear message", async (t) => {
  const dir = await tempDir(t);
  const cases: [string[], RegExp][] = [
    [[], /keys: expected 'create' or 'show'\. Run 'wattcap keys --help'\./],
    [["delete"], /keys: unknown action 'delete'/],
    [["create"], /keys: create needs --type/],
    [
      ["create", "--type", "miner"],
      /--type must be one of validator, operator, oracle, household, got 'miner'/,
    ],
    [["create", "--type", "node"], /--type must be one of/],
    [["create", "--type", "oracle", "--file", "x"], /create takes --out, not --file/],
    [["create", "--type", "oracle", "--out", ""], /--out must not be empty/],
    [["create", "--type", "oracle", "extra"], /unexpected argument 'extra'/],
    [["show"], /show needs --file FILE/],
    [["show", "--file", "x", "--type", "oracle"], /show takes only --file and --json/],
    [["show", "--bogus"], /keys: Unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const run = await wattcap(...args);
    t.equal(run.code, 64, `keys ${args.join(" ")}`);
    t.match(run.stderr, message, `keys ${args.join(" ")}`);
    t.equal(run.stdout, "");
  }
  t.same(await readdir(dir), []);
  const help = await wattcap("--help");
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: wattcap keys create --type TYPE/);
});

t.test(
  "files: an existing --out is kept (73); unreadable, open or malformed keys fail",
  async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, "v.key");
    t.equal((await wattcap("create", "--type", "validator", "--out", file)).code, 0);
    const before = await readFile(file, "utf8");
    const clash = await wattcap("create", "--type", "validator", "--out", file);
    t.equal(clash.code, 73);
    t.match(clash.stderr, /already exists; not overwriting it \[EXISTS\]/);
    t.equal(await readFile(file, "utf8"), before);

    await chmod(file, 0o644);
    const open = await wattcap("show", "--file", file);
    t.equal(open.code, 78);
    t.match(
      open.stderr,
      /accessible by other users \(mode 0644\); run 'chmod 600 .*' \[PERMISSIONS\]/,
    );

    const missing = await wattcap("show", "--file", join(dir, "missing.key"));
    t.equal(missing.code, 74);
    t.match(missing.stderr, /no key file at .*missing\.key \[NOT_FOUND\]/);

    const junk = join(dir, "junk.key");
    await writeFile(junk, "{}", { mode: 0o600 });
    const bad = await wattcap("show", "--file", junk);
    t.equal(bad.code, 65);
    t.match(bad.stderr, /is not a key file: expected exactly the fields .* \[BAD_KEY_FILE\]/);

    const noDir = await wattcap("create", "--type", "oracle", "--out", join(dir, "no", "x.key"));
    t.equal(noDir.code, 74);
    t.match(noDir.stderr, /\[IO\]/);
  },
);
