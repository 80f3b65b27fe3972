// The node's configuration: `<home>/config.json`, overridden by WATTCAP_* environment variables,
// overridden by command-line flags (defaults < file < environment < flags).
//
// JSON rather than TOML: the platform parses it strictly with no extra dependency, and a
// deployment tool can write it with any language's standard library. Its cost is the lack of
// comments; docs/ and `settings` below describe every key.
//
// Every setting is declared once in `schema`; its environment variable and flag are derived
// from its path, so the three sources cannot drift apart:
//   rpc.port                        WATTCAP_RPC_PORT                    --rpc-port
//   logLevel                        WATTCAP_LOG_LEVEL                   --log-level
//   p2p.bootstrapPeers              WATTCAP_P2P_BOOTSTRAP_PEERS         --p2p-bootstrap-peers
//   consensus.timeouts.propose.baseMs  WATTCAP_CONSENSUS_TIMEOUTS_PROPOSE_BASE_MS  (and so on)
// Lists are comma-separated in the environment and in flags; booleans are `true` or `false`.
// WATTCAP_HOME names the home directory itself. Any other WATTCAP_* variable is rejected, so a
// misspelt override fails loudly instead of being ignored.
//
// Validation collects every problem, each named by its source and path, and throws one
// ConfigError: an operator fixes a file once rather than once per mistake.
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { defaultTimeouts, type TimeoutConfig } from "../consensus/timeout.js";
import { parseAddress } from "../lib/address.js";
import { fromHex } from "../lib/bytes.js";
import { isValidPublicKey } from "../lib/keys.js";
import { LOG_LEVELS } from "../lib/log.js";

export const CONFIG_FILE = "config.json";
export const HOME_ENV = "WATTCAP_HOME";
const ENV_PREFIX = "WATTCAP_";

export type ConfigErrorCode =
  | "NOT_FOUND" // no config file in the home: the home was never initialised
  | "UNREADABLE" // the file exists but cannot be read or is not JSON
  | "INVALID"; // a value (from any source) breaks a rule

/** One bad input: where it came from (the file, a variable or a flag), its setting and why. */
export interface ConfigProblem {
  readonly source: string;
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    readonly problems: readonly ConfigProblem[] = [],
  ) {
    super(message);
  }
}

/** Thrown by a setting's parser; the loader adds the source and path. */
class Invalid extends Error {}

/** One configurable value: its default and how to read it from JSON and from text. */
class Setting<T> {
  constructor(
    readonly defaultValue: T,
    /** What the value must be, for error messages and docs. */
    readonly expected: string,
    readonly fromJson: (value: unknown) => T,
    readonly fromText: (text: string) => T,
  ) {}
}

function integer(min: number, max: number, defaultValue: number): Setting<number> {
  const expected = `an integer in [${min}, ${max}]`;
  const check = (v: unknown): number => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw new Invalid(`expected ${expected}, got ${show(v)}`);
    }
    return v;
  };
  const fromText = (s: string): number => {
    if (!/^(0|[1-9][0-9]*)$/.test(s)) throw new Invalid(`expected ${expected}, got ${show(s)}`);
    return check(Number(s));
  };
  return new Setting(defaultValue, expected, check, fromText);
}

function boolean(defaultValue: boolean): Setting<boolean> {
  const fromText = (s: string): boolean => {
    if (s === "true") return true;
    if (s === "false") return false;
    throw new Invalid(`expected true or false, got ${show(s)}`);
  };
  const fromJson = (v: unknown): boolean => {
    if (typeof v !== "boolean") throw new Invalid(`expected true or false, got ${show(v)}`);
    return v;
  };
  return new Setting(defaultValue, "true or false", fromJson, fromText);
}

/** A string setting whose text form is the string itself; `check` throws Invalid. */
function text(defaultValue: string, expected: string, check: (s: string) => void): Setting<string> {
  const fromText = (s: string): string => {
    check(s);
    return s;
  };
  const fromJson = (v: unknown): string => {
    if (typeof v !== "string") throw new Invalid(`expected ${expected}, got ${show(v)}`);
    return fromText(v);
  };
  return new Setting(defaultValue, expected, fromJson, fromText);
}

function choice<const T extends readonly string[]>(
  values: T,
  defaultValue: T[number],
): Setting<T[number]> {
  const expected = `one of ${values.join(", ")}`;
  const check = (s: string): void => {
    if (!values.includes(s)) throw new Invalid(`expected ${expected}, got ${show(s)}`);
  };
  return text(defaultValue, expected, check) as Setting<T[number]>;
}

/** A list of strings: a JSON array, or comma-separated text. */
function list(expected: string, max: number, check: (s: string) => void): Setting<string[]> {
  const checkAll = (items: string[]): string[] => {
    if (items.length > max) throw new Invalid(`at most ${max} entries, got ${items.length}`);
    items.forEach((item, i) => {
      try {
        check(item);
      } catch (error) {
        throw new Invalid(`entry ${i}: ${(error as Error).message}`);
      }
    });
    return items;
  };
  const fromJson = (v: unknown): string[] => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
      throw new Invalid(`expected a list of ${expected}, got ${show(v)}`);
    }
    return checkAll([...v]);
  };
  const fromText = (s: string): string[] =>
    checkAll(s.trim() === "" ? [] : s.split(",").map((x) => x.trim()));
  return new Setting<string[]>([], `a list of ${expected}`, fromJson, fromText);
}

function show(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) return String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

const HOSTNAME =
  /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function checkHost(s: string): void {
  if (isIP(s) === 0 && !HOSTNAME.test(s)) {
    throw new Invalid(`expected an IP address or host name, got ${show(s)}`);
  }
}

function checkPeerId(s: string): void {
  try {
    peerIdFromString(s);
  } catch {
    throw new Invalid(`not a libp2p peer id: ${show(s)}`);
  }
}

/** A dialable peer: a multiaddr with a TCP port that ends in the peer's id. */
function checkPeerAddress(s: string): void {
  let components: { name: string; value?: string }[];
  try {
    components = multiaddr(s).getComponents();
  } catch (error) {
    throw new Invalid(`not a multiaddr (${(error as Error).message}): ${show(s)}`);
  }
  const last = components[components.length - 1];
  if (last?.name !== "p2p" || last.value === undefined) {
    throw new Invalid(`expected a multiaddr ending in /p2p/<peer id>, got ${show(s)}`);
  }
  if (!components.some((c) => c.name === "tcp")) {
    throw new Invalid(`expected a multiaddr with a /tcp/ port, got ${show(s)}`);
  }
  checkPeerId(last.value);
}

function checkMoniker(s: string): void {
  if (!/^[\x21-\x7e]([\x20-\x7e]{0,62}[\x21-\x7e])?$/.test(s)) {
    throw new Invalid(
      `expected 1 to 64 printable ASCII characters, not starting or ending with a space, got ${show(s)}`,
    );
  }
}

function checkPath(s: string): void {
  if (s === "" || s.includes("\0")) throw new Invalid(`expected a file path, got ${show(s)}`);
}

function checkUrl(s: string): void {
  if (s === "") return;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new Invalid(`expected an http:// or https:// URL, got ${show(s)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Invalid(`expected an http:// or https:// URL, got ${show(s)}`);
  }
}

function checkPublicKeyHex(s: string): void {
  if (s === "") return;
  let key: Uint8Array | undefined;
  try {
    key = fromHex(s, 33);
  } catch {}
  if (!key || !isValidPublicKey(key)) {
    throw new Invalid(`expected a 33-byte compressed secp256k1 public key in hex, got ${show(s)}`);
  }
}

const port = (defaultValue: number) => integer(0, 65535, defaultValue);
const ms = (defaultValue: bigint) => integer(1, 600_000, Number(defaultValue));
const MAX_PEERS = 256;
const MAX_AUDITORS = 256;

function checkAddress(s: string): void {
  try {
    parseAddress(s);
  } catch (error) {
    throw new Invalid(`not an address: ${show(s)} (${(error as Error).message})`);
  }
}

function timeouts(step: keyof TimeoutConfig) {
  return { baseMs: ms(defaultTimeouts[step].baseMs), deltaMs: ms(defaultTimeouts[step].deltaMs) };
}

/**
 * Every setting, with its default. Port 0 lets the system pick a free port (for tests and
 * devnets). Storage and WAL directories are not settings: they are fixed in the home (home.ts).
 */
const schema = {
  /** A name for this node in logs and metrics; not secret, not unique. */
  moniker: text("wattcap-node", "a printable name", checkMoniker),
  /** A validator signs when its key is in the set; a follower never loads a consensus key. */
  role: choice(["validator", "follower"] as const, "validator"),
  /** The chain's genesis file, relative to the home unless absolute. */
  genesisFile: text("genesis.json", "a file path", checkPath),
  logLevel: choice(LOG_LEVELS, "info"),
  p2p: {
    host: text("0.0.0.0", "an IP address or host name", checkHost),
    port: port(26656),
    /** Dialled once at start to join the network. */
    bootstrapPeers: list("multiaddrs ending in /p2p/<peer id>", MAX_PEERS, checkPeerAddress),
    /** Kept connected: redialled with backoff whenever the link drops. */
    persistentPeers: list("multiaddrs ending in /p2p/<peer id>", MAX_PEERS, checkPeerAddress),
    /**
     * Validators known by peer id only, that dial us (a sentry's validator, one behind NAT):
     * treated as validator links (accepted, never pruned, asked first for votes), not dialed.
     */
    validatorPeerIds: list("libp2p peer ids", MAX_PEERS, checkPeerId),
    /**
     * Refuse inbound links from any peer not in persistentPeers or validatorPeerIds (a validator
     * behind sentries, which face the public).
     */
    acceptOnlyKnownValidators: boolean(false),
  },
  rpc: {
    host: text("127.0.0.1", "an IP address or host name", checkHost),
    port: port(8545),
    /**
     * Household data (accounts, statements, orders, readings…) only for the household, its
     * utility's operator or an auditor, by signed request or sign-in session (rpc/access.ts).
     */
    restrictHouseholdData: boolean(false),
    /** Addresses of auditor keys that may read every household's data when it is restricted. */
    auditors: list("0x-hex addresses", MAX_AUDITORS, checkAddress),
  },
  metrics: {
    enabled: boolean(true),
    host: text("127.0.0.1", "an IP address or host name", checkHost),
    port: port(26660),
  },
  mempool: {
    maxTxs: integer(1, 1_000_000, 10_000),
    maxBytes: integer(1024, 2 ** 32, 64 * 1024 * 1024),
    maxTxsPerAccount: integer(1, 10_000, 64),
  },
  consensus: {
    /** The pause after a commit before the next height starts: the chain's pace when healthy. */
    targetBlockTimeMs: integer(1, 600_000, 1000),
    /** How far a fresh proposal's time may be from this validator's clock. */
    clockDriftMs: integer(1, 600_000, 1000),
    timeouts: {
      propose: timeouts("propose"),
      prevote: timeouts("prevote"),
      precommit: timeouts("precommit"),
    },
  },
  storage: {
    /**
     * How many recent block bodies to keep; 0 keeps every block (an archive node). Hashes,
     * commits and receipts stay; peers sync older blocks from archive nodes or start from a
     * snapshot. At least keepVersions, so every provable state keeps its header.
     */
    blockRetention: integer(0, 2 ** 31, 0),
    /** How many recent state versions stay provable (Store's keepVersions). */
    keepVersions: integer(1, 1_000_000, 256),
  },
  /** Signature-verification worker threads; 0 verifies on the main thread. */
  verifyWorkers: integer(0, 64, 0),
  /** Where the validator key lives: `local` is <home>/keys/validator.key; `remote` is a signer service. */
  signer: {
    kind: choice(["local", "remote"] as const, "local"),
    url: text("", "an http:// or https:// URL", checkUrl),
    /** Connect to the URL's server over this Unix socket instead of TCP (same machine). */
    socketPath: text("", "a socket path", (s) => {
      if (s.includes("\0")) throw new Invalid("a socket path cannot contain NUL");
    }),
    /** The remote key's public key: every signature it returns is checked against it. */
    publicKey: text("", "a compressed public key in hex", checkPublicKeyHex),
    timeoutMs: integer(1, 60_000, 2000),
  },
  /** How long graceful shutdown waits for the node's parts to close before giving up. */
  shutdownTimeoutMs: integer(1, 600_000, 10_000),
};

type Schema = { readonly [key: string]: Setting<unknown> | Schema };
type ValueOf<S> = {
  readonly [K in keyof S]: S[K] extends Setting<infer T>
    ? T extends string[]
      ? readonly string[]
      : T
    : ValueOf<S[K]>;
};

/** The settings as read from the file and the overrides, after validation. */
export type Settings = ValueOf<typeof schema>;

/** A loaded configuration: the settings, the home they came from, and paths made absolute. */
export type NodeConfig = Settings & {
  /** Absolute path of the home directory. */
  readonly home: string;
  /** Absolute path of the genesis file. */
  readonly genesisFile: string;
};

interface Entry {
  readonly path: readonly string[];
  readonly setting: Setting<unknown>;
  readonly env: string;
  readonly flag: string;
}

function flatten(tree: Schema, prefix: readonly string[] = []): Entry[] {
  const out: Entry[] = [];
  for (const [key, node] of Object.entries(tree)) {
    const path = [...prefix, key];
    if (node instanceof Setting) {
      const words = path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, "$1_$2"));
      out.push({
        path,
        setting: node,
        env: `${ENV_PREFIX}${words.join("_").toUpperCase()}`,
        flag: words.join("-").replaceAll("_", "-").toLowerCase(),
      });
    } else {
      out.push(...flatten(node, path));
    }
  }
  return out;
}

const entries = flatten(schema);
const byEnv = new Map(entries.map((e) => [e.env, e]));
const byFlag = new Map(entries.map((e) => [e.flag, e]));
const bySetting = new Map(entries.map((e) => [e.setting, e]));

/** Every setting's path, environment variable, flag, default and expected form (for docs/help). */
export const settings: readonly {
  readonly path: string;
  readonly env: string;
  readonly flag: string;
  readonly default: unknown;
  readonly expected: string;
}[] = entries.map((e) => ({
  path: e.path.join("."),
  env: e.env,
  flag: `--${e.flag}`,
  default: e.setting.defaultValue,
  expected: e.setting.expected,
}));

/**
 * `parseArgs` options for every setting's flag (all take a string value), so a command such as
 * `wattcap start` can accept them next to its own options and pass the values to loadConfig.
 */
export const configFlagOptions: Readonly<Record<string, { type: "string" }>> = Object.fromEntries(
  entries.map((e) => [e.flag, { type: "string" as const }]),
);

/** A nested record of defaults, in the shape of the file. */
function defaultsOf(tree: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(tree)) {
    out[key] = node instanceof Setting ? node.defaultValue : defaultsOf(node);
  }
  return out;
}

/**
 * The config file `wattcap init` writes: every setting at its default, so an operator sees each
 * knob in one place, with the moniker given.
 */
export function defaultConfigFile(moniker: string): Record<string, unknown> {
  try {
    checkMoniker(moniker);
  } catch (error) {
    throw new ConfigError("INVALID", `moniker: ${(error as Error).message}`, [
      { source: "moniker", path: "moniker", message: (error as Error).message },
    ]);
  }
  return { ...defaultsOf(schema), moniker };
}

/** The file's text: two-space JSON with a final newline, as an operator would write it. */
export function renderConfigFile(file: Record<string, unknown>): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** `--home`, else WATTCAP_HOME, else ~/.wattcap; always absolute. */
export function resolveHome(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const chosen = flag ?? env[HOME_ENV];
  if (chosen !== undefined && chosen !== "") return resolve(chosen);
  return join(homedir(), ".wattcap");
}

export interface ConfigSources {
  /** The home directory; relative paths in the config are resolved against it. */
  readonly home: string;
  /** The parsed config file (any JSON value; it is validated here). */
  readonly file: unknown;
  /** How the file is named in messages; default "config.json". */
  readonly fileName?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Flag values by flag name without dashes, e.g. { "rpc-port": "8546" }. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
}

/** Validates the file and applies the overrides. Pure: reads no file and no process state. */
export function parseConfig(sources: ConfigSources): NodeConfig {
  const fileName = sources.fileName ?? CONFIG_FILE;
  const problems: ConfigProblem[] = [];
  const values = new Map<string, unknown>(entries.map((e) => [e.path.join("."), undefined]));

  const apply = (entry: Entry, source: string, read: () => unknown) => {
    const path = entry.path.join(".");
    try {
      values.set(path, read());
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      problems.push({ source, path, message: error.message });
    }
  };

  readFileLayer(sources.file, schema, [], fileName, problems, apply);

  for (const [name, raw] of Object.entries(sources.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || name === HOME_ENV || raw === undefined) continue;
    const entry = byEnv.get(name);
    if (!entry) {
      problems.push({ source: name, path: "", message: "unknown WATTCAP_ variable" });
      continue;
    }
    apply(entry, name, () => entry.setting.fromText(raw));
  }

  for (const [name, raw] of Object.entries(sources.flags ?? {})) {
    if (raw === undefined) continue;
    const entry = byFlag.get(name);
    if (!entry) {
      problems.push({ source: `--${name}`, path: "", message: "unknown flag" });
      continue;
    }
    apply(entry, `--${name}`, () => entry.setting.fromText(raw));
  }

  const settings = build(schema, [], values) as unknown as Settings;
  if (problems.length === 0) problems.push(...crossCheck(settings));
  if (problems.length > 0) {
    const lines = problems.map((p) => `${p.source}${p.path ? `: ${p.path}` : ""}: ${p.message}`);
    throw new ConfigError("INVALID", `invalid configuration: ${lines.join("; ")}`, problems);
  }
  const home = resolve(sources.home);
  const genesisFile = isAbsolute(settings.genesisFile)
    ? settings.genesisFile
    : join(home, settings.genesisFile);
  return { ...settings, home, genesisFile };
}

function readFileLayer(
  value: unknown,
  tree: Schema,
  prefix: readonly string[],
  source: string,
  problems: ConfigProblem[],
  apply: (entry: Entry, source: string, read: () => unknown) => void,
): void {
  const here = prefix.join(".");
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({ source, path: here || "(top level)", message: `expected an object` });
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const node = Object.hasOwn(tree, key) ? tree[key] : undefined;
    const path = [...prefix, key];
    if (node === undefined) {
      problems.push({ source, path: path.join("."), message: "unknown setting" });
    } else if (node instanceof Setting) {
      apply(bySetting.get(node)!, source, () => node.fromJson(child));
    } else {
      readFileLayer(child, node, path, source, problems, apply);
    }
  }
}

function build(tree: Schema, prefix: readonly string[], values: Map<string, unknown>): unknown {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(tree)) {
    const path = [...prefix, key];
    if (node instanceof Setting) {
      const value = values.get(path.join("."));
      out[key] = value === undefined ? node.defaultValue : value;
    } else {
      out[key] = build(node, path, values);
    }
  }
  return out;
}

/** Rules between settings, checked once each value is valid on its own. */
function crossCheck(s: Settings): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const source = "config";
  // Equal ports clash whatever the hosts, since 0.0.0.0 covers every address.
  const listeners: [string, number][] = [
    ["p2p.port", s.p2p.port],
    ["rpc.port", s.rpc.port],
  ];
  if (s.metrics.enabled) listeners.push(["metrics.port", s.metrics.port]);
  for (let i = 0; i < listeners.length; i++) {
    for (let j = i + 1; j < listeners.length; j++) {
      const [pathA, portA] = listeners[i]!;
      const [pathB, portB] = listeners[j]!;
      if (portA !== 0 && portA === portB) {
        problems.push({ source, path: pathB, message: `port ${portB} is already ${pathA}` });
      }
    }
  }
  if (s.signer.kind === "remote") {
    if (s.signer.url === "") {
      problems.push({ source, path: "signer.url", message: "required when signer.kind is remote" });
    }
    if (s.signer.publicKey === "") {
      problems.push({
        source,
        path: "signer.publicKey",
        message: "required when signer.kind is remote",
      });
    }
  }
  if (s.storage.blockRetention > 0 && s.storage.blockRetention < s.storage.keepVersions) {
    problems.push({
      source,
      path: "storage.blockRetention",
      message: `must be 0 (keep all) or at least storage.keepVersions (${s.storage.keepVersions}): a provable state needs its block's header`,
    });
  }
  if (
    s.p2p.acceptOnlyKnownValidators &&
    s.p2p.validatorPeerIds.length === 0 &&
    s.p2p.persistentPeers.length === 0
  ) {
    problems.push({
      source,
      path: "p2p.validatorPeerIds",
      message:
        "and persistentPeers are empty, so acceptOnlyKnownValidators would refuse every validator link",
    });
  }
  return problems;
}

/** The consensus core's timeouts from the settings. */
export function consensusTimeouts(config: Settings): TimeoutConfig {
  const t = config.consensus.timeouts;
  const linear = (x: { baseMs: number; deltaMs: number }) => ({
    baseMs: BigInt(x.baseMs),
    deltaMs: BigInt(x.deltaMs),
  });
  return {
    propose: linear(t.propose),
    prevote: linear(t.prevote),
    precommit: linear(t.precommit),
  };
}

export interface LoadOptions {
  readonly home: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly flags?: Readonly<Record<string, string | undefined>>;
}

/** Reads `<home>/config.json` and applies the environment and flags; throws ConfigError. */
export async function loadConfig(options: LoadOptions): Promise<NodeConfig> {
  const path = join(resolve(options.home), CONFIG_FILE);
  let textValue: string;
  try {
    textValue = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new ConfigError(
        "NOT_FOUND",
        `no ${CONFIG_FILE} in ${resolve(options.home)}; run 'wattcap init --home ${resolve(options.home)}' first`,
      );
    }
    throw new ConfigError("UNREADABLE", `cannot read ${path}: ${(error as Error).message}`);
  }
  let file: unknown;
  try {
    file = JSON.parse(textValue);
  } catch (error) {
    throw new ConfigError("UNREADABLE", `${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig({
    home: options.home,
    file,
    fileName: path,
    env: options.env ?? process.env,
    flags: options.flags ?? {},
  });
}
