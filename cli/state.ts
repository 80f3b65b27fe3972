// `wattcap state check --db DIR`: opens a store without creating or writing anything, prints
// its head and runs the start-up integrity check, so an operator can vet a data directory (or
// a restored backup) before starting a node on it.
import { parseArgs } from "node:util";
import { to0x } from "../lib/bytes.js";
import { StoreError, type StoreErrorCode } from "../state/errors.js";
import { Store } from "../state/store.js";
import {
  CliError,
  commandArgs,
  EXIT_DATA,
  EXIT_IO,
  EXIT_SOFTWARE,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
} from "./usage.js";

const USAGE = `Usage: wattcap state check --db DIR

Prints the store's head (height, block hash, state root) and checks that the head's state tree
matches its root. Exits 0 if the store is sound, non-zero with one line saying why if not.
`;

const HINT = "Run 'wattcap state --help'.";

const EXIT_CODES: Partial<Record<StoreErrorCode, number>> = {
  LOCKED: EXIT_UNAVAILABLE,
  CORRUPT: EXIT_DATA,
  INCOMPATIBLE: EXIT_DATA,
  NOT_FOUND: EXIT_IO,
  NOT_A_DIRECTORY: EXIT_IO,
  IO: EXIT_IO,
};

function cliError(error: unknown): unknown {
  if (!(error instanceof StoreError)) return error;
  return new CliError(`${error.message} [${error.code}]`, EXIT_CODES[error.code] ?? EXIT_SOFTWARE);
}

async function check(dir: string): Promise<number> {
  let store: Store;
  try {
    store = await Store.open(dir, { create: false });
  } catch (error) {
    throw cliError(error);
  }
  try {
    const head = store.head();
    const out = process.stdout;
    out.write(`db: ${JSON.stringify(dir)}\n`);
    if (head) {
      out.write(`height: ${head.height}\n`);
      out.write(`blockHash: "${to0x(head.blockHash)}"\n`);
      out.write(`stateRoot: "${to0x(head.stateRoot)}"\n`);
    } else {
      out.write("height: none\n");
    }
    store.checkIntegrity();
    out.write(`integrity: "ok"\n`);
    return 0;
  } catch (error) {
    throw cliError(error);
  } finally {
    await store.close();
  }
}

export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs("state", HINT, USAGE, () => parse(args));
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  const [action, ...rest] = positionals;
  if (action !== "check" || rest.length > 0) {
    throw new CliError(`state: expected 'check'. ${HINT}`, EXIT_USAGE);
  }
  if (values.db === undefined || values.db === "") {
    throw new CliError(`state check: --db DIR is required. ${HINT}`, EXIT_USAGE);
  }
  return check(values.db);
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { db: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
}
