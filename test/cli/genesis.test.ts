// Runs the compiled `wattcap genesis` as a child process against real homes.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { toChecksumAddress } from "../../lib/address.js";
import { to0x } from "../../lib/bytes.js";
import { generateSecretKey } from "../../lib/keys.js";
import { buildGenesis } from "../../node/genesis.js";
import { identityOf, initHome } from "../../node/home.js";
import { parseGenesis } from "../../vm/genesis.js";

const CLI = fileURLToPath(new URL("../../cli/wattcap.js", import.meta.url));

function wattcap(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "genesis", ...args], (error, stdout, stderr) => {
      resolve({
        code: error ? (typeof error.code === "number" ? error.code : -1) : 0,
        stdout,
        stderr,
      });
    });
  });
}

function operatorAddress(): string {
  return identityOf({ type: "operator", secretKey: generateSecretKey() }).address;
}

interface Fixture {
  dir: string;
  network: Record<string, unknown>;
  validatorAddresses: string[];
}

/** Two homes in a temp dir and a description of a two-utility network naming them. */
async function fixture(t: { teardown(fn: () => unknown): void }): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-genesis-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ops = [operatorAddress(), operatorAddress()];
  const homes = [];
  for (const name of ["v0", "v1"]) {
    homes.push(await initHome({ home: join(dir, name), moniker: name }));
  }
  const network = {
    chainId: "wattcap-test",
    genesisTime: "now",
    periods: { kind: "fixed", startMs: "genesis", lengthMs: "600000", genesisMonth: 3 },
    marketMode: "batch",
    utilities: [
      { id: "u0", name: "Utility 0", operator: ops[0], policy: { reductionBps: 500 } },
      { id: "u1", name: "Utility 1", operator: ops[1] },
    ],
    validators: [
      { home: "v0", utility: "u0", operator: ops[0] },
      { home: "v1", utility: "u1", operator: ops[1] },
    ],
  };
  await writeFile(join(dir, "network.json"), JSON.stringify(network));
  return { dir, network, validatorAddresses: homes.map((h) => h.validator.address) };
}

t.test("create writes a genesis the node accepts; validate prints its hash and set", async (t) => {
  const f = await fixture(t);
  const out = join(f.dir, "genesis.json");
  const before = Date.now();
  const created = await wattcap("create", "--config", join(f.dir, "network.json"), "--out", out);
  t.equal(created.code, 0, created.stderr);
  const json = JSON.parse(await readFile(out, "utf8"));
  const genesis = parseGenesis(json);
  const hash = to0x(buildGenesis(json).hash);
  t.match(created.stdout, hash);

  t.equal(genesis.params.chainId, "wattcap-test");
  t.ok(genesis.params.genesisTime >= BigInt(before), "genesisTime 'now' is the current time");
  t.same(
    genesis.validators.map((v) => toChecksumAddress(v.address)).sort(),
    [...f.validatorAddresses].sort(),
  );
  const [u0, u1] = genesis.utilities;
  t.equal(u0?.policy.reductionBps, 500, "a given policy field is kept");
  t.equal(u1?.policy.reductionBps, 1000, "an omitted policy field takes the default");
  t.equal(json.periods.startMs, ((BigInt(json.genesisTime) / 1000n + 1n) * 1000n).toString());

  const validated = await wattcap("validate", out, "--json");
  t.equal(validated.code, 0, validated.stderr);
  const shown = JSON.parse(validated.stdout);
  t.equal(shown.genesisHash, hash);
  t.same(
    shown.validators.map((v: { address: string }) => v.address).sort(),
    [...f.validatorAddresses].sort(),
  );
  const text = await wattcap("validate", out);
  t.equal(text.code, 0);
  t.match(text.stdout, `genesis hash: ${hash}`);
  for (const a of f.validatorAddresses) t.match(text.stdout, a);
});

t.test("create never overwrites without --force, and --force does", async (t) => {
  const f = await fixture(t);
  const out = join(f.dir, "genesis.json");
  await writeFile(out, "keep");
  const config = join(f.dir, "network.json");
  const refused = await wattcap("create", "--config", config, "--out", out);
  t.equal(refused.code, 73);
  t.match(refused.stderr, "--force");
  t.equal(await readFile(out, "utf8"), "keep");
  const forced = await wattcap("create", "--config", config, "--out", out, "--force");
  t.equal(forced.code, 0, forced.stderr);
  t.equal(parseGenesis(JSON.parse(await readFile(out, "utf8"))).params.chainId, "wattcap-test");
});

t.test("a validator may be given by public key instead of home", async (t) => {
  const f = await fixture(t);
  const key = identityOf({ type: "validator", secretKey: generateSecretKey() });
  const validators = f.network.validators as Record<string, unknown>[];
  validators[1] = { ...validators[1], home: undefined, publicKey: to0x(key.publicKey) };
  await writeFile(join(f.dir, "network.json"), JSON.stringify(f.network));
  const out = join(f.dir, "genesis.json");
  const created = await wattcap("create", "--config", join(f.dir, "network.json"), "--out", out);
  t.equal(created.code, 0, created.stderr);
  const genesis = parseGenesis(JSON.parse(await readFile(out, "utf8")));
  t.ok(genesis.validators.some((v) => toChecksumAddress(v.address) === key.address));
});

t.test("bad input exits 65 naming the field; bad usage exits 64", async (t) => {
  const f = await fixture(t);
  const config = join(f.dir, "network.json");
  const out = join(f.dir, "genesis.json");
  const cases: [string, (n: Record<string, unknown>) => void, string][] = [
    [
      "unknown utility",
      (n) => ((n.validators as { utility: string }[])[0]!.utility = "zz"),
      "validators[0].utility",
    ],
    [
      "missing home",
      (n) => ((n.validators as { home: string }[])[1]!.home = "nope"),
      "validators[1].home",
    ],
    ["bad time", (n) => (n.genesisTime = "soon"), "genesisTime"],
    [
      "bad policy",
      (n) => ((n.utilities as { policy: unknown }[])[0]!.policy = { penaltyPrice: "0" }),
      "utilities[0].policy",
    ],
    [
      "bad operator",
      (n) => ((n.utilities as { operator: string }[])[1]!.operator = "0x12"),
      "utilities[1].operator",
    ],
  ];
  for (const [what, mutate, path] of cases) {
    const network = structuredClone(f.network);
    mutate(network);
    await writeFile(config, JSON.stringify(network));
    const r = await wattcap("create", "--config", config, "--out", out, "--force");
    t.equal(r.code, 65, `${what}: ${r.stderr}`);
    t.match(r.stderr, path, what);
  }

  await writeFile(out, JSON.stringify({ chainId: "x" }));
  const invalid = await wattcap("validate", out);
  t.equal(invalid.code, 65);
  t.match(invalid.stderr, "genesisTime");
  await writeFile(out, "{not json");
  t.equal((await wattcap("validate", out)).code, 65);

  t.equal((await wattcap("validate")).code, 64);
  t.equal((await wattcap("create", "--out", out)).code, 64);
  t.equal((await wattcap("create", "--config", config)).code, 64);
  t.equal((await wattcap("frobnicate")).code, 64);
  t.equal((await wattcap("create", "--bogus")).code, 64);
  t.equal((await wattcap("--help")).code, 0);
});
