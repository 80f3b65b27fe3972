// `wattcap wallet` as a child process: the keystore (create, import, list, wrong password,
// damaged files), then every RPC command end to end against a real in-process node and RPC
// server, with balance and credits proven against the genesis validator set.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { to0x, toHex } from "../../lib/bytes.js";
import { validatorSetHash } from "../../lib/validator.js";
import { renderKeyFile } from "../../node/home.js";
import { WattcapClient } from "../../rpc/client/client.js";
import { Signer, waitForFinality } from "../../rpc/client/tx-builder.js";
import { toJson } from "../../rpc/json.js";
import {
  decryptKey,
  encryptKey,
  KeystoreError,
  LIGHT_SCRYPT,
  parseKeystore,
} from "../../rpc/wallet/keystore.js";
import { projectPeriod } from "../../rpc/wallet/projection.js";
import { startNode } from "../rpc/rpc-fixtures.js";
import { actor, genesisJson, hash32, operatorOf, validatorOf } from "../vm/helpers.js";

const CLI = fileURLToPath(new URL("../../cli/wattcap.js", import.meta.url));
const PASSWORD = "correct horse battery staple";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string | undefined> = {}): ChildProcess {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, WATTCAP_PASSWORD: PASSWORD, ...env })) {
    if (v !== undefined) childEnv[k] = v;
  }
  return spawn(process.execPath, [CLI, "wallet", ...args], { env: childEnv });
}

function finish(child: ChildProcess, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => {
      stdout += d;
    });
    child.stderr!.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin!.end(input ?? "");
  });
}

function wallet(
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string } = {},
) {
  return finish(start(args, options.env), options.input);
}

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-wallet-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const household = actor(21);
const appKey = actor(22);

t.test("keystore files: round trip, wrong password, damage", async (t) => {
  const file = await encryptKey(household.secretKey, PASSWORD, LIGHT_SCRYPT);
  t.equal(file.address, household.hex);
  t.same(await decryptKey(file, PASSWORD), household.secretKey);
  await t.rejects(decryptKey(file, "wrong"), { code: "WRONG_PASSWORD" });
  const flipped = {
    ...file,
    crypto: { ...file.crypto, ciphertext: `ff${file.crypto.ciphertext.slice(2)}` },
  };
  await t.rejects(
    decryptKey(flipped, PASSWORD),
    { code: "WRONG_PASSWORD" },
    "GCM catches changed bytes",
  );
  const moved = { ...file, address: appKey.hex };
  await t.rejects(
    decryptKey(moved, PASSWORD),
    { code: "WRONG_PASSWORD" },
    "the address is authenticated",
  );
  const text = JSON.stringify(file);
  t.throws(() => parseKeystore(text.slice(0, 40), "f"), KeystoreError);
  t.throws(() => parseKeystore(JSON.stringify({ ...file, version: 2 }), "f"), {
    code: "CORRUPTED",
  });
  const huge = {
    ...file,
    crypto: { ...file.crypto, kdfparams: { ...file.crypto.kdfparams, N: 1 << 30 } },
  };
  t.throws(
    () => parseKeystore(JSON.stringify(huge), "f"),
    { code: "CORRUPTED" },
    "no unbounded scrypt",
  );
});

t.test("the projection extrapolates consumption linearly to the period's end", async (t) => {
  t.same(projectPeriod(300n, 1000n, 0n, 100n, 25n), {
    projected: 1200n,
    position: -200n,
    elapsedBps: 2500n,
  });
  t.same(projectPeriod(300n, 1000n, 0n, 100n, 0n), {
    projected: 300n,
    position: 700n,
    elapsedBps: 0n,
  });
  t.same(projectPeriod(300n, 1000n, 0n, 100n, 500n), {
    projected: 300n,
    position: 700n,
    elapsedBps: 10000n,
  });
});

t.test("create, import, list; wrong password; corrupted keystore", async (t) => {
  const dir = await tempDir(t);
  const ks = ["--keystore", dir];

  const created = await wallet(["create", "--light-kdf", "--json", ...ks]);
  t.equal(created.code, 0, created.stderr);
  const { address: createdAddress, path } = JSON.parse(created.stdout);
  t.match(createdAddress, /^0x[0-9a-fA-F]{40}$/);
  t.equal((await stat(path)).mode & 0o777, 0o600, "key files are 0600");
  t.equal((await stat(dir)).mode & 0o777, 0o700, "the keystore is 0700");
  t.notMatch(await readFile(path, "utf8"), /secret/i);

  const imported = await wallet(["import", "--light-kdf", "--json", ...ks], {
    input: `${toHex(household.secretKey)}\n`,
  });
  t.equal(imported.code, 0, imported.stderr);
  t.equal(JSON.parse(imported.stdout).address, household.hex);
  const again = await wallet(["import", "--light-kdf", ...ks], {
    input: toHex(household.secretKey),
  });
  t.equal(again.code, 73, "an existing key is never overwritten");
  t.match(again.stderr, /already holds/);

  const keyFile = join(dir, "..", `${appKey.hex}.key`);
  await writeFile(keyFile, renderKeyFile({ type: "household", secretKey: appKey.secretKey }));
  t.teardown(() => rm(keyFile, { force: true }));
  const fromFile = await wallet([
    "import",
    "--light-kdf",
    "--secret-file",
    keyFile,
    "--json",
    ...ks,
  ]);
  t.equal(fromFile.code, 0, fromFile.stderr);
  t.equal(JSON.parse(fromFile.stdout).address, appKey.hex);

  const badHex = await wallet(["import", ...ks], { input: "xyz" });
  t.equal(badHex.code, 65);
  t.match(badHex.stderr, /32 bytes of hex/);

  const listed = await wallet(["list", "--json", ...ks]);
  t.equal(listed.code, 0);
  t.same(
    JSON.parse(listed.stdout)
      .keys.map((k: { address: string }) => k.address)
      .sort(),
    [createdAddress, household.hex, appKey.hex].sort(),
  );

  // Signing unlocks the key before it talks to the node: port 1 is closed.
  const offline = ["--rpc", "http://127.0.0.1:1/", ...ks, "--address", household.hex];
  const cancel = ["order", "cancel", "--order", `0x${"11".repeat(32)}`, ...offline];
  const wrong = await wallet(cancel, { env: { WATTCAP_PASSWORD: "not the password" } });
  t.equal(wrong.code, 77);
  t.match(wrong.stderr, /wrong password/);
  const right = await wallet(cancel);
  t.equal(right.code, 69, "the right password unlocks; then the node is unreachable");
  t.match(right.stderr, /cannot reach/);
  const noPassword = await wallet(cancel, { env: { WATTCAP_PASSWORD: undefined } });
  t.equal(noPassword.code, 64);
  t.match(noPassword.stderr, /set WATTCAP_PASSWORD or run in a terminal/);
  const ambiguous = await wallet(["order", "cancel", "--order", `0x${"11".repeat(32)}`, ...ks]);
  t.equal(ambiguous.code, 64);
  t.match(ambiguous.stderr, /choose one with --address/);

  // Damage: a changed ciphertext fails authentication; a truncated file is reported as such.
  const householdFile = join(dir, `${household.hex.toLowerCase()}.json`);
  const original = JSON.parse(await readFile(householdFile, "utf8"));
  const c = original.crypto.ciphertext as string;
  original.crypto.ciphertext = `${c.slice(0, 10)}${c[10] === "0" ? "1" : "0"}${c.slice(11)}`;
  await writeFile(householdFile, JSON.stringify(original), { mode: 0o600 });
  const altered = await wallet(cancel);
  t.equal(altered.code, 77);
  t.match(altered.stderr, /wrong password \(or the file was altered\)/);
  await writeFile(householdFile, '{"version": 1, "address": "0x', { mode: 0o600 });
  const truncated = await wallet(cancel);
  t.equal(truncated.code, 65);
  t.match(truncated.stderr, /not a valid keystore file: not JSON \[CORRUPTED\]/);
  const damagedList = await wallet(["list", ...ks]);
  t.equal(damagedList.code, 0);
  t.match(damagedList.stdout, /DAMAGED: .*not JSON/);
});

t.test("every command has --help", async (t) => {
  // In-process: the same run() the dispatcher calls, with stdout captured.
  const { run } = await import("../../cli/wallet.js");
  const help = async (args: string[]) => {
    let out = "";
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => {
      out += chunk;
      return true;
    }) as typeof process.stdout.write;
    try {
      return { code: await run(args), out };
    } finally {
      process.stdout.write = write;
    }
  };
  const subs = ["create", "import", "list", "balance", "status", "statement"];
  for (const sub of [...subs, "order", "standing", "delegate", "transfer", "watch"]) {
    const { code, out } = await help([sub, "--help"]);
    t.equal(code, 0, sub);
    t.match(out, new RegExp(`^Usage: wattcap wallet ${sub}`), sub);
    t.match(out, /--json/);
    t.match(out, /--rpc URL/);
  }
  t.match((await help(["--help"])).out, /Commands:\n {2}create/);
  await t.rejects(run(["fly"]), { exitCode: 64, message: /unknown command 'fly'/ });
  await t.rejects(run(["order", "place", "--qty", "x"]), { name: "CliError", exitCode: 64 });
  const child = await wallet(["--help"]);
  t.equal(child.code, 0, "and through the dispatcher");
  t.match(child.stdout, /^Usage: wattcap wallet <command>/);
});

t.test("RPC commands end to end against a real node", async (t) => {
  const node = await startNode(t);
  const dir = await tempDir(t);
  const genesisFile = join(dir, "genesis.json");
  await writeFile(genesisFile, JSON.stringify(genesisJson([1])));
  const ks = ["--keystore", join(dir, "keys")];
  const rpc = ["--rpc", node.url, ...ks];

  // Blocks are produced in the background while commands wait for finality.
  let producing = true;
  const producer = (async () => {
    while (producing) {
      await node.produce();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  t.teardown(async () => {
    producing = false;
    await producer;
  });

  // The utility registers the household and records a payment, through the SDK.
  const client = new WattcapClient({ url: node.url });
  t.teardown(() => client.close());
  const operator = new Signer(client, operatorOf(0).secretKey);
  const registered = await operator.sendAndWait(
    "registerHousehold",
    {
      household: household.address,
      meterIdHash: hash32(21),
      meterKey: undefined,
      registers: 1,
      baselines: Array.from({ length: 12 }, () => 100_000n),
    },
    { pollMs: 50 },
  );
  t.equal(registered.receipt?.outcome, "ok", JSON.stringify(registered.receipt));
  const paid = await operator.sendAndWait(
    "recordPayment",
    { household: household.address, amount: 5_000n, reference: "inv-1" },
    { pollMs: 50 },
  );
  t.equal(paid.receipt?.outcome, "ok", JSON.stringify(paid.receipt));

  const imported = await wallet(["import", "--light-kdf", ...ks], {
    input: toHex(household.secretKey),
  });
  t.equal(imported.code, 0, imported.stderr);

  const verified = await wallet(["balance", "--genesis", genesisFile, "--json", ...rpc]);
  t.equal(verified.code, 0, verified.stderr);
  const balance = JSON.parse(verified.stdout);
  t.equal(balance.address, household.hex);
  t.equal(balance.balance, "5000");
  t.equal(balance.verification.verified, true);
  t.equal(balance.verification.signers, 1);
  const text = await wallet(["balance", "--genesis", genesisFile, ...rpc]);
  t.match(text.stdout, /balance: +5000 micro-units/);
  t.match(text.stdout, /verified against block \d+ signed by 1\/1 validators/);

  const unverified = await wallet(["balance", ...rpc]);
  t.equal(unverified.code, 0);
  t.match(unverified.stdout, /NOT VERIFIED \(NO_TRUST_ROOT\)/);

  // A checkpoint naming a set the chain was never signed by: the proof is refused.
  const stranger = validatorOf(5, 0);
  const checkpoint = join(dir, "checkpoint.json");
  await writeFile(
    checkpoint,
    JSON.stringify({
      chainId: "wattcap-test",
      height: "0",
      validators: toJson([
        {
          address: stranger.address,
          publicKey: stranger.publicKey,
          operator: operatorOf(5).address,
          utility: "u5",
        },
      ]),
    }),
  );
  const untrusted = await wallet(["balance", "--checkpoint", checkpoint, "--json", ...rpc]);
  t.equal(untrusted.code, 65);
  t.equal(JSON.parse(untrusted.stdout).verification.code, "UNTRUSTED_VALIDATOR_SET");
  t.match(untrusted.stderr, /NOT VERIFIED/);

  // The real set as a checkpoint verifies; a checkpoint whose hash does not match is refused.
  const real = validatorOf(0, 0);
  const realSet = [
    {
      address: real.address,
      publicKey: real.publicKey,
      operator: operatorOf(0).address,
      utility: "u0",
    },
  ];
  const good = join(dir, "good-checkpoint.json");
  const hashOfSet = to0x(validatorSetHash(realSet));
  await writeFile(
    good,
    JSON.stringify({
      chainId: "wattcap-test",
      height: "1",
      validatorsHash: hashOfSet,
      validators: toJson(realSet),
    }),
  );
  const fromCheckpoint = await wallet(["balance", "--checkpoint", good, ...rpc]);
  t.equal(fromCheckpoint.code, 0, fromCheckpoint.stderr);
  t.match(fromCheckpoint.stdout, /verified against block \d+ signed by 1\/1 validators/);
  await writeFile(
    good,
    JSON.stringify({
      chainId: "wattcap-test",
      height: "1",
      validatorsHash: `0x${"00".repeat(32)}`,
      validators: toJson(realSet),
    }),
  );
  const mismatched = await wallet(["balance", "--checkpoint", good, ...rpc]);
  t.equal(mismatched.code, 65);
  t.match(mismatched.stderr, /not the hash of its validators/);

  const status = await wallet(["status", "--json", ...rpc]);
  t.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout);
  t.equal(s.utility, "u0");
  t.equal(s.balance, "5000");
  t.same(s.orders, []);
  const statusText = await wallet(["status", ...rpc]);
  t.match(statusText.stdout, /household: +0x[0-9a-fA-F]{40} \(u0, active\)/);

  const statement = await wallet(["statement", "--period", "0", ...rpc]);
  t.ok(statement.code === 0 || statement.code === 66, statement.stderr);
  t.equal((await wallet(["statement", ...rpc])).code, 64, "--period is required");

  const delegated = await wallet(["delegate", "--app-key", appKey.hex, "--json", ...rpc]);
  t.equal(delegated.code, 0, delegated.stdout + delegated.stderr);
  t.equal(JSON.parse(delegated.stdout).status, "finalized");
  t.equal((await client.rpc.household_get({ address: household.hex }))?.appKey, appKey.hex);

  const standing = await wallet([
    "standing",
    "set",
    "--side",
    "sell",
    "--price",
    "120",
    "--json",
    ...rpc,
  ]);
  const standingResult = JSON.parse(standing.stdout);
  t.match(standingResult.height, /^\d+$/, "the standing order went into a block");
  if (standing.code === 0) {
    t.equal(
      (await client.rpc.household_get({ address: household.hex }))?.standingOrders.sell,
      "120",
    );
  }

  const placed = await wallet([
    "order",
    "place",
    "--side",
    "buy",
    "--qty",
    "10",
    "--price",
    "150",
    "--expiry",
    "+1h",
    "--json",
    ...rpc,
  ]);
  t.match(JSON.parse(placed.stdout).height, /^\d+$/, placed.stderr);
  t.ok(placed.code === 0 || placed.code === 65);

  const transfer = await wallet([
    "transfer",
    "--to",
    appKey.hex,
    "--vintage",
    "0",
    "--qty",
    "1",
    "--json",
    ...rpc,
  ]);
  const transferResult = JSON.parse(transfer.stdout);
  t.equal(transfer.code, 65, "no credits to transfer");
  t.equal(transferResult.status === "finalized" || transferResult.status === "rejected", true);
  t.not(transferResult.reject, null);

  const zeroQty = await wallet([
    "transfer",
    "--to",
    appKey.hex,
    "--vintage",
    "0",
    "--qty",
    "0",
    ...rpc,
  ]);
  t.equal(zeroQty.code, 64);
  t.match(zeroQty.stderr, /qty must be positive/);

  // watch prints the household's events as they happen, until SIGINT.
  const watcher = start(["watch", "--json", ...rpc]);
  let live = "";
  let told = "";
  watcher.stdout!.on("data", (d) => {
    live += d;
  });
  watcher.stderr!.on("data", (d) => {
    told += d;
  });
  const watched = finish(watcher);
  await until(() => told.includes("watching"));
  const payment = await operator.send("recordPayment", {
    household: household.address,
    amount: 7n,
    reference: "inv-2",
  });
  await waitForFinality(client, payment.hash, { pollMs: 50 });
  await until(() => live.includes(payment.hash));
  watcher.kill("SIGINT");
  const ended = await watched;
  t.equal(ended.code, 0, ended.stderr);
  const events = ended.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  t.ok(
    events.some((e) => e.tx === payment.hash && e.event.kind.length > 0),
    ended.stdout,
  );

  // The delegated app key manages the household's standing orders with its own key.
  const app = await wallet(["import", "--light-kdf", ...ks], { input: toHex(appKey.secretKey) });
  t.equal(app.code, 0, app.stderr);
  const asApp = [...rpc, "--address", appKey.hex, "--household", household.hex];
  const appSet = await wallet(["standing", "set", "--side", "buy", "--price", "140", ...asApp]);
  t.equal(appSet.code, 0, appSet.stdout + appSet.stderr);
  t.match(appSet.stdout, /setStandingOrder 0x[0-9a-f]{64} final in block \d+/);
  t.equal((await client.rpc.household_get({ address: household.hex }))?.standingOrders.buy, "140");
  const appClear = await wallet(["standing", "clear", "--side", "buy", ...asApp]);
  t.equal(appClear.code, 0, appClear.stdout + appClear.stderr);
  t.equal((await client.rpc.household_get({ address: household.hex }))?.standingOrders.buy, null);
});

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}
