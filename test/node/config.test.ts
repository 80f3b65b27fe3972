import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import t from "tap";
import { toHex } from "../../lib/bytes.js";
import {
  ConfigError,
  type ConfigProblem,
  configFlagOptions,
  consensusTimeouts,
  defaultConfigFile,
  loadConfig,
  parseConfig,
  renderConfigFile,
  resolveHome,
  settings,
} from "../../node/config.js";
import { signer, tempDir } from "./fixtures/signing.js";

const PEER = "16Uiu2HAm3cuhhRL2msUuLF62KRSfneFDx94RsuouyW25Ho42cFMq";
const HOME = "/srv/wattcap";

/** The problems parseConfig reports for these sources (none if it accepts them). */
function problems(sources: Partial<Parameters<typeof parseConfig>[0]>): readonly ConfigProblem[] {
  try {
    parseConfig({ home: HOME, file: {}, ...sources });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
}

t.test("an empty file gives the documented defaults", async (t) => {
  const c = parseConfig({ home: HOME, file: {} });
  t.equal(c.home, HOME);
  t.equal(c.genesisFile, join(HOME, "genesis.json"), "genesis is resolved against the home");
  t.equal(c.rpc.port, 8545);
  t.equal(c.rpc.host, "127.0.0.1");
  t.equal(c.consensus.targetBlockTimeMs, 1000);
  t.equal(c.verifyWorkers, 0);
  t.equal(c.role, "validator");
  t.equal(c.logLevel, "info");
  t.equal(c.signer.kind, "local");
  t.same(c.p2p.bootstrapPeers, []);
  t.same(consensusTimeouts(c), {
    propose: { baseMs: 3000n, deltaMs: 500n },
    prevote: { baseMs: 1000n, deltaMs: 500n },
    precommit: { baseMs: 1000n, deltaMs: 500n },
  });
});

t.test("the file init writes parses back to the defaults, with its moniker", async (t) => {
  const file = JSON.parse(renderConfigFile(defaultConfigFile("utility-a-1")));
  const c = parseConfig({ home: HOME, file });
  const d = parseConfig({ home: HOME, file: {} });
  t.same({ ...c, moniker: d.moniker }, d);
  t.equal(c.moniker, "utility-a-1");
  t.throws(() => defaultConfigFile(" padded"), ConfigError);
  t.throws(() => defaultConfigFile("x".repeat(65)), ConfigError);
});

t.test("precedence: defaults < file < environment < flags", async (t) => {
  const file = { rpc: { port: 9000 }, logLevel: "warn", p2p: { validatorPeerIds: [PEER] } };
  const fromFile = parseConfig({ home: HOME, file });
  t.equal(fromFile.rpc.port, 9000);
  t.equal(fromFile.logLevel, "warn");
  t.equal(fromFile.metrics.port, 26660, "untouched settings keep defaults");

  const env = { WATTCAP_RPC_PORT: "9100", WATTCAP_LOG_LEVEL: "debug", PATH: "/bin" };
  const fromEnv = parseConfig({ home: HOME, file, env });
  t.equal(fromEnv.rpc.port, 9100);
  t.equal(fromEnv.logLevel, "debug");
  t.same(fromEnv.p2p.validatorPeerIds, [PEER]);

  const flags = { "rpc-port": "9200", "p2p-validator-peer-ids": "" };
  const fromFlags = parseConfig({ home: HOME, file, env, flags });
  t.equal(fromFlags.rpc.port, 9200);
  t.equal(fromFlags.logLevel, "debug", "a flag overrides only its own setting");
  t.same(fromFlags.p2p.validatorPeerIds, [], "an empty list flag clears the list");
});

t.test("environment and flag names derive from the setting's path", async (t) => {
  const byPath = new Map(settings.map((s) => [s.path, s]));
  t.same(byPath.get("rpc.port"), {
    path: "rpc.port",
    env: "WATTCAP_RPC_PORT",
    flag: "--rpc-port",
    default: 8545,
    expected: "an integer in [0, 65535]",
  });
  t.equal(byPath.get("logLevel")?.env, "WATTCAP_LOG_LEVEL");
  t.equal(
    byPath.get("consensus.timeouts.propose.baseMs")?.flag,
    "--consensus-timeouts-propose-base-ms",
  );
  t.equal(byPath.get("p2p.bootstrapPeers")?.env, "WATTCAP_P2P_BOOTSTRAP_PEERS");
  t.same(configFlagOptions["log-level"], { type: "string" });
  t.equal(Object.keys(configFlagOptions).length, settings.length);

  const c = parseConfig({
    home: HOME,
    file: {},
    env: {
      WATTCAP_CONSENSUS_TIMEOUTS_PROPOSE_BASE_MS: "2500",
      WATTCAP_P2P_BOOTSTRAP_PEERS: `/ip4/10.0.0.1/tcp/26656/p2p/${PEER}, /dns4/a.example/tcp/1/p2p/${PEER}`,
      WATTCAP_METRICS_ENABLED: "false",
      WATTCAP_HOME: "/elsewhere",
    },
    flags: { "verify-workers": "2", "genesis-file": "/etc/wattcap/genesis.json" },
  });
  t.equal(c.consensus.timeouts.propose.baseMs, 2500);
  t.same(c.p2p.bootstrapPeers, [
    `/ip4/10.0.0.1/tcp/26656/p2p/${PEER}`,
    `/dns4/a.example/tcp/1/p2p/${PEER}`,
  ]);
  t.equal(c.metrics.enabled, false);
  t.equal(c.home, HOME, "WATTCAP_HOME is not an override: the caller resolved the home");
  t.equal(c.verifyWorkers, 2);
  t.equal(c.genesisFile, "/etc/wattcap/genesis.json", "an absolute genesis path is kept");
});

t.test("every invalid input is reported with its source and path", async (t) => {
  const one = (
    sources: Partial<Parameters<typeof parseConfig>[0]>,
    source: string,
    path: string,
    message: RegExp,
  ) => {
    const found = problems(sources);
    t.equal(found.length, 1, `${source} ${path}: one problem`);
    t.equal(found[0]?.source, source);
    t.equal(found[0]?.path, path);
    t.match(found[0]?.message, message);
  };
  one({ file: { rpc: { prot: 1 } } }, "config.json", "rpc.prot", /unknown setting/);
  one({ file: { colour: "blue" } }, "config.json", "colour", /unknown setting/);
  one({ file: { rpc: 8545 } }, "config.json", "rpc", /expected an object/);
  one({ file: [] }, "config.json", "(top level)", /expected an object/);
  one(
    { file: { rpc: { port: "8545" } } },
    "config.json",
    "rpc.port",
    /integer in \[0, 65535\], got "8545"/,
  );
  one({ file: { rpc: { port: 70000 } } }, "config.json", "rpc.port", /got 70000/);
  one({ file: { rpc: { port: 1.5 } } }, "config.json", "rpc.port", /integer/);
  one(
    { file: { rpc: { host: "bad host!" } } },
    "config.json",
    "rpc.host",
    /IP address or host name/,
  );
  one({ file: { logLevel: "verbose" } }, "config.json", "logLevel", /one of fatal, error/);
  one({ file: { role: "leader" } }, "config.json", "role", /validator, follower/);
  one({ file: { moniker: "" } }, "config.json", "moniker", /printable/);
  one({ file: { metrics: { enabled: "yes" } } }, "config.json", "metrics.enabled", /true or false/);
  one({ file: { mempool: { maxTxs: 0 } } }, "config.json", "mempool.maxTxs", /\[1, 1000000\]/);
  one(
    { file: { consensus: { timeouts: { prevote: { deltaMs: 0 } } } } },
    "config.json",
    "consensus.timeouts.prevote.deltaMs",
    /\[1, 600000\]/,
  );
  one({ file: { p2p: { bootstrapPeers: "x" } } }, "config.json", "p2p.bootstrapPeers", /a list of/);
  one(
    { file: { p2p: { bootstrapPeers: ["/ip4/1.2.3.4/tcp/1"] } } },
    "config.json",
    "p2p.bootstrapPeers",
    /entry 0: .*\/p2p\//,
  );
  one(
    { file: { p2p: { persistentPeers: [`/ip4/1.2.3.4/udp/1/p2p/${PEER}`] } } },
    "config.json",
    "p2p.persistentPeers",
    /\/tcp\//,
  );
  one(
    { file: { p2p: { persistentPeers: ["/ip4/300.0.0.1/tcp/1"] } } },
    "config.json",
    "p2p.persistentPeers",
    /not a multiaddr/,
  );
  one(
    { file: { p2p: { validatorPeerIds: [PEER, "Qmnotapeer"] } } },
    "config.json",
    "p2p.validatorPeerIds",
    /entry 1: not a libp2p peer id/,
  );
  one({ file: { signer: { url: "ftp://signer" } } }, "config.json", "signer.url", /http/);
  one({ file: { signer: { publicKey: "02abcd" } } }, "config.json", "signer.publicKey", /33-byte/);
  one({ file: { genesisFile: "" } }, "config.json", "genesisFile", /file path/);

  one({ env: { WATTCAP_RPC_PORT: "abc" } }, "WATTCAP_RPC_PORT", "rpc.port", /got "abc"/);
  one({ env: { WATTCAP_RPC_PORT: "08545" } }, "WATTCAP_RPC_PORT", "rpc.port", /integer/);
  one({ env: { WATTCAP_RPC_PORT: "-1" } }, "WATTCAP_RPC_PORT", "rpc.port", /integer/);
  one(
    { env: { WATTCAP_METRICS_ENABLED: "1" } },
    "WATTCAP_METRICS_ENABLED",
    "metrics.enabled",
    /true or false/,
  );
  one({ env: { WATTCAP_RPC_PROT: "1" } }, "WATTCAP_RPC_PROT", "", /unknown WATTCAP_ variable/);
  one({ flags: { "rpc-prot": "1" } }, "--rpc-prot", "", /unknown flag/);
  one({ flags: { "log-level": "loud" } }, "--log-level", "logLevel", /one of/);

  one({ file: { metrics: { port: 8545 } } }, "config", "metrics.port", /already rpc.port/);
  one(
    { file: { signer: { kind: "remote", publicKey: toHex(signer.publicKey) } } },
    "config",
    "signer.url",
    /required/,
  );
  one(
    { file: { signer: { kind: "remote", url: "http://127.0.0.1:1/" } } },
    "config",
    "signer.publicKey",
    /required/,
  );
  one(
    { file: { storage: { blockRetention: 100 } } },
    "config",
    "storage.blockRetention",
    /at least storage.keepVersions \(256\)/,
  );
  t.same(
    problems({ file: { storage: { blockRetention: 100, keepVersions: 100 } } }),
    [],
    "retention may equal keepVersions",
  );
  one(
    { file: { p2p: { acceptOnlyKnownValidators: true } } },
    "config",
    "p2p.validatorPeerIds",
    /refuse every/,
  );

  t.same(
    problems({
      file: {
        p2p: {
          acceptOnlyKnownValidators: true,
          persistentPeers: [`/ip4/10.0.0.1/tcp/26656/p2p/${PEER}`],
        },
      },
    }),
    [],
    "persistent peers alone are known validators",
  );
  t.same(
    problems({ file: { metrics: { port: 8545, enabled: false } } }),
    [],
    "a disabled listener cannot clash",
  );
  t.same(
    problems({ file: { rpc: { port: 0 }, metrics: { port: 0 }, p2p: { port: 0 } } }),
    [],
    "port 0s never clash",
  );
  t.same(
    problems({
      file: { signer: { kind: "remote", url: "https://s:1/", publicKey: toHex(signer.publicKey) } },
    }),
    [],
  );
});

t.test("problems are collected from every source into one error", async (t) => {
  const error = t.throws(() =>
    parseConfig({
      home: HOME,
      file: { rpc: { port: -1 }, bogus: 1 },
      env: { WATTCAP_LOG_LEVEL: "x" },
      flags: { "verify-workers": "99" },
    }),
  ) as ConfigError;
  t.equal(error.code, "INVALID");
  t.equal(error.problems.length, 4);
  t.match(
    error.message,
    /config\.json: rpc\.port: .*; config\.json: bogus: unknown setting; WATTCAP_LOG_LEVEL: logLevel: .*; --verify-workers: verifyWorkers: /,
  );
});

t.test("loadConfig reads <home>/config.json", async (t) => {
  const home = await tempDir(t);
  await t.rejects(loadConfig({ home, env: {} }), {
    code: "NOT_FOUND",
    message: /wattcap init --home/,
  });
  await writeFile(join(home, "config.json"), "{ not json");
  await t.rejects(loadConfig({ home, env: {} }), { code: "UNREADABLE", message: /not valid JSON/ });
  await writeFile(join(home, "config.json"), JSON.stringify({ rpc: { port: 9999 } }));
  const c = await loadConfig({
    home,
    env: { WATTCAP_MEMPOOL_MAX_TXS: "5" },
    flags: { "rpc-host": "0.0.0.0" },
  });
  t.equal(c.rpc.port, 9999);
  t.equal(c.rpc.host, "0.0.0.0");
  t.equal(c.mempool.maxTxs, 5);
  await writeFile(join(home, "config.json"), JSON.stringify({ rpc: { port: "x" } }));
  await t.rejects(loadConfig({ home, env: {} }), {
    code: "INVALID",
    message: new RegExp(`${join(home, "config.json")}: rpc.port`),
  });
  await mkdir(join(home, "dir"));
  await mkdir(join(home, "dir", "config.json"));
  await t.rejects(loadConfig({ home: join(home, "dir"), env: {} }), { code: "UNREADABLE" });
});

t.test("resolveHome: --home, then WATTCAP_HOME, then ~/.wattcap", async (t) => {
  t.equal(resolveHome("rel/dir", { WATTCAP_HOME: "/x" }), resolve("rel/dir"));
  t.equal(resolveHome(undefined, { WATTCAP_HOME: "/x" }), "/x");
  t.equal(resolveHome(undefined, { WATTCAP_HOME: "" }), join(homedir(), ".wattcap"));
  t.equal(resolveHome(undefined, {}), join(homedir(), ".wattcap"));
});
