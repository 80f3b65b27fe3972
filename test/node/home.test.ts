import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import t from "tap";
import { toChecksumAddress } from "../../lib/address.js";
import { to0x, toHex } from "../../lib/bytes.js";
import { publicKeyOf } from "../../lib/keys.js";
import { ConfigError, loadConfig } from "../../node/config.js";
import {
  homePaths,
  identityOf,
  initHome,
  parseKeyFile,
  peerIdOf,
  readKeyFile,
  renderKeyFile,
  writeKeyFile,
} from "../../node/home.js";
import { Wal } from "../../node/wal.js";
import { SECRET_KEY, signer, tempDir } from "./fixtures/signing.js";

/** Every path under `dir` with its mode and contents, to prove an operation changed nothing. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await readdir(dir, { recursive: true })) {
    const path = join(dir, name);
    const info = await stat(path);
    out[name] =
      `${(info.mode & 0o777).toString(8)} ${info.isFile() ? await readFile(path, "hex") : "dir"}`;
  }
  return out;
}

t.test("homePaths lays out the home", async (t) => {
  const p = homePaths("/srv/w");
  t.same(p, {
    home: "/srv/w",
    config: "/srv/w/config.json",
    genesis: "/srv/w/genesis.json",
    keys: "/srv/w/keys",
    nodeKey: "/srv/w/keys/node.key",
    validatorKey: "/srv/w/keys/validator.key",
    data: "/srv/w/data",
    walDir: "/srv/w/wal",
    signingWal: "/srv/w/wal/signing.wal",
  });
});

t.test("initHome creates keys, config and directories with private modes", async (t) => {
  const home = join(await tempDir(t), "a", "home");
  const result = await initHome({ home, moniker: "utility-a" });
  const p = result.paths;
  for (const dir of [p.home, p.keys, p.data, p.walDir]) {
    t.equal((await stat(dir)).mode & 0o777, 0o700, `${dir} is 0700`);
  }
  for (const file of [p.config, p.nodeKey, p.validatorKey]) {
    t.equal((await stat(file)).mode & 0o777, 0o600, `${file} is 0600`);
  }
  const nodeKey = await readKeyFile(p.nodeKey, "node");
  const validatorKey = await readKeyFile(p.validatorKey, "validator");
  t.equal(result.peerId, peerIdOf(nodeKey.secretKey));
  t.match(result.peerId, /^16Uiu2/, "a secp256k1 libp2p peer id");
  t.same(result.validator, identityOf(validatorKey));
  t.same(result.validator.publicKey, publicKeyOf(validatorKey.secretKey));
  const config = await loadConfig({ home, env: {} });
  t.equal(config.moniker, "utility-a");
  t.equal(config.home, p.home);
  t.same(await readdir(p.data), [], "the store starts empty");
  t.same(await readdir(p.keys), ["node.key", "validator.key"], "no temporaries left behind");
});

t.test("initHome refuses an existing home and changes nothing", async (t) => {
  const home = join(await tempDir(t), "home");
  await initHome({ home, moniker: "n" });
  await writeFile(join(home, "genesis.json"), "{}");
  const before = await snapshot(home);
  await t.rejects(initHome({ home, moniker: "n" }), { code: "EXISTS", message: /--force/ });
  t.same(await snapshot(home), before);

  // Any one of our entries marks a home.
  const partial = join(await tempDir(t), "partial");
  await mkdir(join(partial, "wal"), { recursive: true });
  await t.rejects(initHome({ home: partial, moniker: "n" }), { code: "EXISTS" });
  t.same(await readdir(partial), ["wal"]);
});

t.test("initHome into an existing empty directory, or onto a file", async (t) => {
  const dir = await tempDir(t);
  const empty = join(dir, "empty");
  await mkdir(empty, { mode: 0o755 });
  await initHome({ home: empty, moniker: "n" });
  t.ok((await stat(join(empty, "config.json"))).isFile());

  const file = join(dir, "file");
  await writeFile(file, "x");
  await t.rejects(initHome({ home: file, moniker: "n" }), { code: "NOT_A_DIRECTORY" });
  t.equal(await readFile(file, "utf8"), "x");
});

t.test("a bad moniker is refused before anything is written", async (t) => {
  const home = join(await tempDir(t), "home");
  await t.rejects(initHome({ home, moniker: "\u0007bell" }), ConfigError);
  await t.rejects(stat(home), { code: "ENOENT" });
});

t.test(
  "--force replaces keys, store and WAL, keeps other files, and never runs under a node",
  async (t) => {
    const home = join(await tempDir(t), "home");
    const first = await initHome({ home, moniker: "n" });
    const p = first.paths;
    await writeFile(join(p.data, "CURRENT"), "old store");
    await writeFile(join(home, "genesis.json"), "{}");

    const wal = await Wal.open(p.signingWal);
    await t.rejects(initHome({ home, moniker: "n", force: true }), {
      code: "IN_USE",
      message: new RegExp(`process ${process.pid}`),
    });
    await wal.close();

    const second = await initHome({ home, moniker: "m", force: true });
    t.not(second.validator.address, first.validator.address, "a new validator key");
    t.not(second.peerId, first.peerId, "a new node key");
    t.same(await readdir(p.data), [], "the old store is gone");
    t.same(await readdir(p.walDir), [], "the old WAL is gone");
    t.equal(await readFile(join(home, "genesis.json"), "utf8"), "{}", "genesis is kept");
    t.equal((await loadConfig({ home, env: {} })).moniker, "m");
  },
);

t.test("key files: format, modes and every way to be wrong", async (t) => {
  const dir = await tempDir(t);
  const text = renderKeyFile({ type: "oracle", secretKey: SECRET_KEY });
  t.equal(text, `{"type":"oracle","secretKey":"${toHex(SECRET_KEY)}"}\n`);
  t.same(parseKeyFile(text, "x"), { type: "oracle", secretKey: SECRET_KEY });
  t.same(
    parseKeyFile(`{"secretKey":"${to0x(SECRET_KEY)}","type":"household"}`, "x").type,
    "household",
    "0x prefix and any field order",
  );
  const bad = (content: string, message: RegExp) =>
    t.throws(() => parseKeyFile(content, "k.key"), { code: "BAD_KEY_FILE", message });
  bad("nope", /not JSON/);
  bad("[1]", /not an object/);
  bad(`{"type":"oracle"}`, /exactly the fields/);
  bad(`{"type":"oracle","secretKey":"${toHex(SECRET_KEY)}","address":"0x"}`, /exactly the fields/);
  bad(`{"type":"miner","secretKey":"${toHex(SECRET_KEY)}"}`, /"type" must be one of/);
  bad(`{"type":"oracle","secretKey":"abcd"}`, /32 bytes in hex/);
  bad(`{"type":"oracle","secretKey":7}`, /32 bytes in hex/);
  bad(`{"type":"oracle","secretKey":"${"00".repeat(32)}"}`, /not a valid secp256k1/);
  bad(`{"type":"oracle","secretKey":"${"ff".repeat(32)}"}`, /not a valid secp256k1/);

  const path = join(dir, "v.key");
  await writeKeyFile(path, { type: "validator", secretKey: SECRET_KEY });
  t.equal((await stat(path)).mode & 0o777, 0o600);
  await t.rejects(
    writeKeyFile(path, { type: "validator", secretKey: new Uint8Array(32).fill(1) }),
    {
      code: "EXISTS",
    },
  );
  t.same((await readKeyFile(path)).secretKey, SECRET_KEY, "the existing key is untouched");
  t.same(await readdir(dir), ["v.key"], "no temporary left after a refused write");
  await t.rejects(readKeyFile(path, "oracle"), { code: "WRONG_KEY_TYPE" });
  await chmod(path, 0o640);
  await t.rejects(readKeyFile(path), { code: "PERMISSIONS", message: /mode 0640.*chmod 600/ });
  await chmod(path, 0o600);
  await t.rejects(readKeyFile(join(dir, "missing.key")), { code: "NOT_FOUND" });
  await t.rejects(readKeyFile(dir), { code: "BAD_KEY_FILE", message: /not a file/ });
  const big = join(dir, "big.key");
  await writeFile(big, " ".repeat(5000), { mode: 0o600 });
  await t.rejects(readKeyFile(big), { code: "BAD_KEY_FILE", message: /5000 bytes/ });
  await t.rejects(
    writeKeyFile(join(dir, "no", "such", "dir.key"), { type: "oracle", secretKey: SECRET_KEY }),
    {
      code: "IO",
    },
  );
});

t.test("identityOf gives the address, public key and (for node keys) the peer id", async (t) => {
  const id = identityOf({ type: "validator", secretKey: SECRET_KEY });
  t.same(id.publicKey, signer.publicKey);
  t.equal(id.address, toChecksumAddress(signer.address));
  t.equal(id.peerId, undefined);
  const node = identityOf({ type: "node", secretKey: SECRET_KEY });
  t.equal(node.peerId, peerIdOf(SECRET_KEY));
});
