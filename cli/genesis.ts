// `wattcap genesis`: turns a short network description (utilities, and validators named by their
// homes) into the genesis file every node of the network must share, and checks a genesis file,
// printing the hash peers compare. Validators are read from homes so nobody copies public keys
// by hand; the result is always re-checked with the node's own parser before it is written.
import { readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { addressOf, toChecksumAddress } from "../lib/address.js";
import { fromHex, to0x } from "../lib/bytes.js";
import { buildGenesis, type ChainGenesis, GenesisLoadError } from "../node/genesis.js";
import { HomeError, homePaths, identityOf, readKeyFile } from "../node/home.js";
import {
  CliError,
  commandArgs,
  EXIT_CANT_CREATE,
  EXIT_DATA,
  EXIT_IO,
  EXIT_USAGE,
} from "./usage.js";

const USAGE = `Usage: wattcap genesis create --config NETWORK.json --out genesis.json [--force]
       wattcap genesis validate FILE [--json]

create    writes a genesis file from NETWORK.json:
            chainId        text
            genesisTime    "now" or unix ms
            periods        {"kind":"fixed","startMs","lengthMs","genesisMonth"} or
                           {"kind":"calendar","genesisYear","genesisMonth","offsetMinutes"};
                           a fixed startMs of "genesis" means the first whole second after
                           genesisTime
            marketMode     optional: batch or continuous
            utilities      [{id, name, operator (EIP-55 address), policy}]; omitted policy
                           fields take the defaults below
            validators     [{home DIR} or {publicKey}, each with utility and operator];
                           a home's keys/validator.key gives the key (DIR relative to
                           NETWORK.json)
            governance, limits   optional, copied as they are
          Policy defaults: ${JSON.stringify(policyDefaults())}
validate  checks FILE and prints its genesis hash and validator set.

Exit codes: 64 usage, 65 bad input (the message names the field), 73 output exists, 74 I/O.
`;

const HINT = "Run 'wattcap genesis --help'.";

/** The documented policy a utility gets for every field its description leaves out. */
export function policyDefaults(): Record<string, unknown> {
  return {
    reductionBps: 1000,
    penaltyPrice: "300",
    floorPrice: "10",
    buybackPrice: "5",
    rebatePrice: "0",
    creditLifetime: 3,
    holdingLimit: "100000000",
    creditLimit: "5000000",
    readingGrace: "86400000",
    tradingWindow: "604800000",
    noticePeriod: "5184000000",
    peakWindows: [],
    peakWeightBps: 10_000,
    readingInterval: "3600000",
    maxReadingDrift: "3600000",
  };
}

/** A bad network description: `path` names the field, as genesis errors do. */
export class NetworkConfigError extends Error {
  override name = "NetworkConfigError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function objectAt(v: unknown, path: string): Record<string, unknown> {
  if (!isObject(v)) throw new NetworkConfigError(path, "expected an object");
  return v;
}

function arrayAt(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new NetworkConfigError(path, "expected an array");
  return v;
}

function genesisTimeOf(v: unknown, now: bigint): bigint {
  if (v === "now") return now;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^(0|[1-9][0-9]*)$/.test(v)) return BigInt(v);
  throw new NetworkConfigError("genesisTime", 'expected "now" or unix milliseconds');
}

function addressOfKey(publicKey: unknown, path: string): string {
  try {
    if (typeof publicKey !== "string") throw new Error("expected hex");
    return toChecksumAddress(addressOf(fromHex(publicKey, 33)));
  } catch (e) {
    throw new NetworkConfigError(
      path,
      `not a compressed secp256k1 public key (${(e as Error).message})`,
    );
  }
}

const NETWORK_FIELDS = [
  "chainId",
  "genesisTime",
  "version",
  "periods",
  "marketMode",
  "utilities",
  "validators",
  "governance",
  "limits",
];

/**
 * The genesis JSON a network description stands for. `baseDir` resolves validator homes; `now`
 * (unix ms) replaces genesisTime "now". Throws NetworkConfigError for the description's own
 * shape and reads; the genesis rules themselves are left to buildGenesis.
 */
export async function genesisFromNetwork(
  network: unknown,
  baseDir: string,
  now: bigint,
): Promise<Record<string, unknown>> {
  const root = objectAt(network, "config");
  for (const key of Object.keys(root)) {
    if (!NETWORK_FIELDS.includes(key)) throw new NetworkConfigError(key, "unknown field");
  }
  const out: Record<string, unknown> = { ...root };
  const time = genesisTimeOf(root.genesisTime, now);
  out.genesisTime = time.toString();
  if (isObject(root.periods) && root.periods.startMs === "genesis") {
    out.periods = { ...root.periods, startMs: ((time / 1000n + 1n) * 1000n).toString() };
  }
  out.utilities = arrayAt(root.utilities, "utilities").map((u, i) => {
    const utility = objectAt(u, `utilities[${i}]`);
    const policy =
      utility.policy === undefined ? {} : objectAt(utility.policy, `utilities[${i}].policy`);
    return { ...utility, policy: { ...policyDefaults(), ...policy } };
  });
  const validators: Record<string, unknown>[] = [];
  for (const [i, v] of arrayAt(root.validators, "validators").entries()) {
    const path = `validators[${i}]`;
    const { home, publicKey, ...rest } = objectAt(v, path);
    if ((home === undefined) === (publicKey === undefined)) {
      throw new NetworkConfigError(path, "give exactly one of home and publicKey");
    }
    let identity: { publicKey: string; address?: string };
    if (home !== undefined) {
      if (typeof home !== "string" || home === "") {
        throw new NetworkConfigError(`${path}.home`, "expected a directory");
      }
      const keyPath = homePaths(resolve(baseDir, home)).validatorKey;
      try {
        const id = identityOf(await readKeyFile(keyPath, "validator"));
        identity = { publicKey: to0x(id.publicKey), address: id.address };
      } catch (e) {
        if (e instanceof HomeError) throw new NetworkConfigError(`${path}.home`, e.message);
        throw e;
      }
    } else {
      identity = { publicKey: publicKey as string };
    }
    const address = identity.address ?? addressOfKey(identity.publicKey, `${path}.publicKey`);
    validators.push({ address, publicKey: identity.publicKey, ...rest });
  }
  out.validators = validators;
  return out;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string" },
      out: { type: "string" },
      force: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
}

function usage(message: string): CliError {
  return new CliError(`genesis: ${message}. ${HINT}`, EXIT_USAGE);
}

function dataError(e: unknown): CliError {
  if (e instanceof NetworkConfigError || e instanceof GenesisLoadError) {
    return new CliError(`genesis: ${e.message}`, EXIT_DATA);
  }
  throw e;
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new CliError(`genesis: cannot read ${path}: ${(e as Error).message}`, EXIT_IO);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`genesis: ${path} is not JSON: ${(e as Error).message}`, EXIT_DATA);
  }
}

function describe(chain: ChainGenesis) {
  return {
    chainId: chain.chainId,
    genesisHash: to0x(chain.hash),
    stateRoot: to0x(chain.stateRoot),
    validators: chain.validators.map((v) => ({
      address: toChecksumAddress(v.address),
      publicKey: to0x(v.publicKey),
      utility: v.utility,
      operator: toChecksumAddress(v.operator),
    })),
  };
}

function print(chain: ChainGenesis, json: boolean): void {
  const d = describe(chain);
  if (json) {
    process.stdout.write(`${JSON.stringify(d)}\n`);
    return;
  }
  process.stdout.write(`chain id:     ${d.chainId}\ngenesis hash: ${d.genesisHash}\n`);
  process.stdout.write(`validators:   ${d.validators.length}\n`);
  for (const v of d.validators) {
    process.stdout.write(`  ${v.address}  utility ${v.utility}  operator ${v.operator}\n`);
  }
}

/** Builds and writes a genesis file; returns the built genesis. For tools and test harnesses. */
export async function createGenesisFile(
  network: unknown,
  baseDir: string,
  out: string,
  options: { force?: boolean; now?: bigint } = {},
): Promise<ChainGenesis> {
  const json = await genesisFromNetwork(network, baseDir, options.now ?? BigInt(Date.now()));
  const chain = buildGenesis(json);
  await writeFile(out, `${JSON.stringify(json, null, 2)}\n`, {
    flag: options.force ? "w" : "wx",
    mode: 0o644,
  });
  return chain;
}

export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs("genesis", HINT, USAGE, () => parse(args));
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  if (sub === undefined) {
    process.stdout.write(USAGE);
    return EXIT_USAGE;
  }
  if (sub === "create") {
    if (rest.length > 0) throw usage(`unexpected argument '${rest[0]}'`);
    if (!values.config) throw usage("create needs --config NETWORK.json");
    if (!values.out) throw usage("create needs --out FILE");
    const configPath = resolve(values.config);
    const network = await readJson(configPath);
    let chain: ChainGenesis;
    try {
      chain = await createGenesisFile(network, dirname(configPath), resolve(values.out), {
        force: values.force,
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") {
        throw new CliError(
          `genesis: ${values.out} exists; use --force to overwrite it`,
          EXIT_CANT_CREATE,
        );
      }
      if (e instanceof NetworkConfigError || e instanceof GenesisLoadError) throw dataError(e);
      if ((e as NodeJS.ErrnoException).code !== undefined) {
        throw new CliError(`genesis: cannot write ${values.out}: ${(e as Error).message}`, EXIT_IO);
      }
      throw e;
    }
    print(chain, values.json);
    return 0;
  }
  if (sub === "validate") {
    const [file, ...extra] = rest;
    if (file === undefined) throw usage("validate needs a FILE");
    if (extra.length > 0) throw usage(`unexpected argument '${extra[0]}'`);
    if (values.config !== undefined || values.out !== undefined || values.force) {
      throw usage("validate takes only FILE and --json");
    }
    const json = await readJson(resolve(file));
    let chain: ChainGenesis;
    try {
      chain = buildGenesis(json);
    } catch (e) {
      throw dataError(e);
    }
    print(chain, values.json);
    return 0;
  }
  throw usage(`unknown subcommand '${sub}'`);
}
