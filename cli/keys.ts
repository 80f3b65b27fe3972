// `wattcap keys`: creates secp256k1 keys for validators, utility operators, oracles and
// households, and shows a key file's public identity. Key files are the JSON form node/home.ts
// reads, {"type", "secretKey"}, written 0600 and never over an existing file.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { to0x, toHex } from "../lib/bytes.js";
import { generateSecretKey } from "../lib/keys.js";
import { identityOf, type KeyFile, type KeyType, readKeyFile, writeKeyFile } from "../node/home.js";
import { homeCliError } from "./init.js";
import { CliError, commandArgs, EXIT_USAGE } from "./usage.js";

const CREATABLE = ["validator", "operator", "oracle", "household"] as const satisfies KeyType[];

const USAGE = `Usage: wattcap keys create --type TYPE [--out FILE] [--json]
       wattcap keys show --file FILE [--json]

create  makes a new key of TYPE (${CREATABLE.join(", ")}). With --out it is written to
        FILE (mode 0600; an existing file is never overwritten) and only the public key and
        address are printed. Without --out the SECRET KEY is printed: keep it out of logs.
show    prints a key file's type, address and public key (and a node key's peer id). The
        file must not be readable by other users (chmod 600).

Options:
  --type TYPE   the key's purpose: ${CREATABLE.join(", ")}
  --out FILE    where to write the new key file
  --file FILE   the key file to show
  --json        print one JSON object
  -h, --help    show this help
`;

const HINT = "Run 'wattcap keys --help'.";

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      type: { type: "string" },
      out: { type: "string" },
      file: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
}

type Values = ReturnType<typeof parse>["values"];

function usage(message: string): CliError {
  return new CliError(`keys: ${message}. ${HINT}`, EXIT_USAGE);
}

function isCreatable(type: string): type is (typeof CREATABLE)[number] {
  return (CREATABLE as readonly string[]).includes(type);
}

function describe(key: KeyFile): Record<string, string> {
  const id = identityOf(key);
  return {
    type: id.type,
    address: id.address,
    publicKey: to0x(id.publicKey),
    ...(id.peerId === undefined ? {} : { peerId: id.peerId }),
  };
}

function print(fields: Record<string, string>, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(fields)}\n`);
    return;
  }
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  for (const [k, v] of Object.entries(fields)) {
    process.stdout.write(`${`${k}:`.padEnd(width + 1)} ${v}\n`);
  }
}

async function create(values: Values): Promise<number> {
  if (values.file !== undefined) throw usage("create takes --out, not --file");
  if (values.type === undefined) throw usage("create needs --type");
  if (!isCreatable(values.type)) {
    throw usage(`--type must be one of ${CREATABLE.join(", ")}, got '${values.type}'`);
  }
  if (values.out === "") throw usage("--out must not be empty");
  const key: KeyFile = { type: values.type, secretKey: generateSecretKey() };
  if (values.out === undefined) {
    if (!values.json) {
      process.stderr.write("warning: printing a secret key; use --out FILE to keep it in a file\n");
    }
    print({ ...describe(key), secretKey: toHex(key.secretKey) }, values.json);
    return 0;
  }
  const out = resolve(values.out);
  try {
    await writeKeyFile(out, key);
  } catch (error) {
    throw homeCliError(error);
  }
  print({ ...describe(key), file: out }, values.json);
  return 0;
}

async function show(values: Values): Promise<number> {
  if (values.type !== undefined || values.out !== undefined) {
    throw usage("show takes only --file and --json");
  }
  if (values.file === undefined || values.file === "") throw usage("show needs --file FILE");
  let key: KeyFile;
  try {
    key = await readKeyFile(resolve(values.file));
  } catch (error) {
    throw homeCliError(error);
  }
  print(describe(key), values.json);
  return 0;
}

export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs("keys", HINT, USAGE, () => parse(args));
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  const [action, ...rest] = positionals;
  if (rest.length > 0) throw usage(`unexpected argument '${rest[0]}'`);
  if (action === "create") return create(values);
  if (action === "show") return show(values);
  throw usage(action === undefined ? "expected 'create' or 'show'" : `unknown action '${action}'`);
}
