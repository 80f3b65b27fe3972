// `wattcap init`: creates a node's home directory (node/home.ts) with a node key, a validator
// key and a default config, and prints what the genesis coordinator and peers need: the node's
// peer id and the validator's address and public key.
import { parseArgs } from "node:util";
import { to0x } from "../lib/bytes.js";
import { ConfigError, resolveHome } from "../node/config.js";
import { HomeError, type HomeErrorCode, initHome } from "../node/home.js";
import {
  CliError,
  commandArgs,
  EXIT_CANT_CREATE,
  EXIT_CONFIG,
  EXIT_DATA,
  EXIT_IO,
  EXIT_UNAVAILABLE,
} from "./usage.js";

const USAGE = `Usage: wattcap init [--home DIR] [--moniker NAME] [--force] [--json]

Creates a node's home directory:
  DIR/config.json          settings, every one at its default (edit, or override with
                           WATTCAP_* variables and flags at start)
  DIR/keys/node.key        the node's libp2p identity
  DIR/keys/validator.key   the validator's consensus key
  DIR/data/, DIR/wal/      the store and the signing WAL (empty)
Directories are created 0700 and files 0600. Place the chain's genesis file at
DIR/genesis.json, then run 'wattcap start --home DIR'.

Options:
  --home DIR       the home directory (default: $WATTCAP_HOME, else ~/.wattcap)
  --moniker NAME   this node's name in logs and metrics (default: wattcap-node)
  --force          replace an existing home's config, keys, store and WAL; the old keys
                   are lost. Refused while a node runs on the home.
  --json           print the result as one JSON object
  -h, --help       show this help
`;

const HINT = "Run 'wattcap init --help'.";

const EXIT_CODES: Record<HomeErrorCode, number> = {
  EXISTS: EXIT_CANT_CREATE,
  IN_USE: EXIT_UNAVAILABLE,
  NOT_FOUND: EXIT_IO,
  NOT_A_DIRECTORY: EXIT_IO,
  PERMISSIONS: EXIT_CONFIG,
  BAD_KEY_FILE: EXIT_DATA,
  WRONG_KEY_TYPE: EXIT_DATA,
  IO: EXIT_IO,
};

/** The CLI form of a home or key-file failure; other errors pass through unchanged. */
export function homeCliError(error: unknown): unknown {
  if (!(error instanceof HomeError)) return error;
  return new CliError(`${error.message} [${error.code}]`, EXIT_CODES[error.code]);
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: false,
    strict: true,
    options: {
      home: { type: "string" },
      moniker: { type: "string", default: "wattcap-node" },
      force: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
}

export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs("init", HINT, USAGE, () => parse(args));
  if (parsed === undefined) return 0;
  const { values } = parsed;
  if (values.home === "") throw new CliError(`init: --home must not be empty. ${HINT}`);
  const home = resolveHome(values.home);
  let result: Awaited<ReturnType<typeof initHome>>;
  try {
    result = await initHome({ home, moniker: values.moniker, force: values.force });
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new CliError(
        `init: --moniker: ${error.problems[0]?.message ?? error.message}. ${HINT}`,
      );
    }
    throw homeCliError(error);
  }
  const summary = {
    home: result.paths.home,
    config: result.paths.config,
    peerId: result.peerId,
    validatorAddress: result.validator.address,
    validatorPublicKey: to0x(result.validator.publicKey),
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      `Initialised a Wattcap home at ${summary.home}\n` +
        `  peer id:              ${summary.peerId}\n` +
        `  validator address:    ${summary.validatorAddress}\n` +
        `  validator public key: ${summary.validatorPublicKey}\n` +
        `Next: place the chain's genesis file at ${result.paths.genesis}, then run\n` +
        `  wattcap start --home ${summary.home}\n`,
    );
  }
  return 0;
}
