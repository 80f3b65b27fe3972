// `wattcap snapshot export|import`: moves a node's state at its head to a new node, which then
// starts there instead of replaying history (DESIGN §5 "Followers").
//
// A snapshot is one file in the canonical codec: the head block (whose header's stateRoot the
// state must hash to), the commit that decided it, and every key/value of the state after it.
// Import trusts nothing in the file: the state must rebuild to the header's stateRoot, the
// header's validatorsHash must name the set the state schedules for that height, and the commit
// must carry a quorum of that set's signatures. What it cannot check without history is that
// this set descends from genesis: an operator imports snapshots from a source they trust to be
// on the right chain (the usual weak-subjectivity rule), and the genesis hash must match.
//
// Both commands need the node stopped: the store is opened exclusively.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { blockHash, decodeBlock, MAX_BLOCK_BYTES } from "../lib/block.js";
import { compareBytes, equalBytes, to0x, toHex } from "../lib/bytes.js";
import {
  bytes,
  CodecError,
  decode,
  encode,
  type Infer,
  isCanonical,
  list,
  struct,
  text,
  u32,
  u64,
} from "../lib/codec.js";
import { decodeCommit, MAX_COMMIT_BYTES, verifyCommit } from "../lib/commit.js";
import { validatorSetHash } from "../lib/validator.js";
import { ConfigError, loadConfig, resolveHome } from "../node/config.js";
import { encodeGenesisBlock, GenesisLoadError, loadGenesisFile } from "../node/genesis.js";
import { createFileExclusive, HomeError, homePaths } from "../node/home.js";
import { WriteBatch } from "../state/db.js";
import { StoreError } from "../state/errors.js";
import type { Change } from "../state/overlay.js";
import { Store } from "../state/store.js";
import { setAt } from "../vm/governance/validator-set.js";
import { tables } from "../vm/tables.js";
import { homeCliError } from "./init.js";
import {
  CliError,
  commandArgs,
  EXIT_CANT_CREATE,
  EXIT_CONFIG,
  EXIT_DATA,
  EXIT_IO,
  EXIT_UNAVAILABLE,
} from "./usage.js";

const USAGE = `Usage: wattcap snapshot export [--home DIR] --out FILE
       wattcap snapshot import [--home DIR] --file FILE

export  writes the state at the node's head, with the head block and its commit, to FILE
        (never overwriting it).
import  verifies FILE (the state rebuilds to the block's state root; the commit is signed by
        a quorum of the validator set that state names) and writes it into the home's empty
        store, so 'wattcap start' begins at that height without replaying history.

The node must be stopped. The home's genesis must be the snapshot's chain.

Options:
  --home DIR    the home directory (default: $WATTCAP_HOME, else ~/.wattcap)
  --out FILE    export: the snapshot file to create
  --file FILE   import: the snapshot file to read
  --json        print the result as one JSON object
  -h, --help    show this help
`;

const HINT = "Run 'wattcap snapshot --help'.";
const FORMAT = "wattcap-snapshot";
const FORMAT_VERSION = 1;
/** Far above any state this chain keeps; a bound the decoder needs. */
const MAX_ENTRIES = 1 << 26;
const SCAN_PAGE = 10_000;

const EntrySchema = struct("SnapshotEntry", {
  key: bytes({ max: 1024 }),
  value: bytes({ max: 16 * 1024 * 1024 }),
});

export const SnapshotSchema = struct("Snapshot", {
  format: text(32),
  version: u32,
  chainId: text(64),
  genesisHash: bytes({ length: 32 }),
  height: u64,
  /** The encoded head block: its header's stateRoot anchors `entries`. */
  block: bytes({ max: MAX_BLOCK_BYTES }),
  /** The encoded commit that decided it. */
  commit: bytes({ max: MAX_COMMIT_BYTES }),
  /** The state after the block, ascending by key. */
  entries: list(EntrySchema, MAX_ENTRIES),
});
export type Snapshot = Infer<typeof SnapshotSchema>;

export type SnapshotErrorCode =
  | "EMPTY_CHAIN"
  | "MALFORMED"
  | "WRONG_CHAIN"
  | "BLOCK_MISMATCH"
  | "STATE_ROOT_MISMATCH"
  | "VALIDATORS_MISMATCH"
  | "BAD_COMMIT"
  | "NOT_EMPTY";

export class SnapshotError extends Error {
  override name = "SnapshotError";
  constructor(
    readonly code: SnapshotErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The snapshot of an open store at its head. */
export async function takeSnapshot(store: Store): Promise<Snapshot> {
  const head = store.head();
  if (!head || head.height === 0n) {
    throw new SnapshotError("EMPTY_CHAIN", "the store holds no block after genesis");
  }
  const block = store.getBlock(head.height);
  const commit = store.getCommit(head.height);
  const genesisHash = store.chain.getBlockHash(0n);
  if (!block || !commit || !genesisHash) {
    throw new SnapshotError("EMPTY_CHAIN", `the store lacks block ${head.height} or its commit`);
  }
  const entries: { key: Uint8Array; value: Uint8Array }[] = [];
  const state = store.state();
  let after: Uint8Array | undefined;
  for (;;) {
    const page = await state.scan(new Uint8Array(0), {
      ...(after ? { after } : {}),
      limit: SCAN_PAGE,
    });
    for (const [key, value] of page) entries.push({ key, value });
    if (page.length < SCAN_PAGE) break;
    after = page[page.length - 1]![0];
  }
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    chainId: decodeBlock(block).header.chainId,
    genesisHash,
    height: head.height,
    block,
    commit,
    entries,
  };
}

export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  return encode(SnapshotSchema, snapshot);
}

export function decodeSnapshot(data: Uint8Array): Snapshot {
  let snapshot: Snapshot;
  try {
    snapshot = decode(SnapshotSchema, data);
  } catch (error) {
    if (error instanceof CodecError) throw new SnapshotError("MALFORMED", error.message);
    throw error;
  }
  if (snapshot.format !== FORMAT || snapshot.version !== FORMAT_VERSION) {
    throw new SnapshotError(
      "MALFORMED",
      `not a ${FORMAT} ${FORMAT_VERSION} file (${snapshot.format} ${snapshot.version})`,
    );
  }
  return snapshot;
}

/**
 * Verifies a snapshot for the chain with `genesisHash` and writes it into an empty store: the
 * head block and commit at the snapshot's height, the state as that height's version, and the
 * genesis record the chain checks on open. Throws SnapshotError; writes nothing unless valid.
 */
export async function restoreSnapshot(
  store: Store,
  snapshot: Snapshot,
  genesis: { readonly chainId: string; readonly hash: Uint8Array; readonly block: Uint8Array },
): Promise<void> {
  if (snapshot.chainId !== genesis.chainId || !equalBytes(snapshot.genesisHash, genesis.hash)) {
    throw new SnapshotError(
      "WRONG_CHAIN",
      `the snapshot is of chain ${snapshot.chainId} (genesis ${to0x(snapshot.genesisHash)}); ` +
        `this home's is ${genesis.chainId} (genesis ${to0x(genesis.hash)})`,
    );
  }
  if (store.head() !== undefined) {
    throw new SnapshotError("NOT_EMPTY", "the store already holds a chain; import into a new home");
  }
  let header: ReturnType<typeof decodeBlock>["header"];
  let commit: ReturnType<typeof decodeCommit>;
  let hash: Uint8Array;
  try {
    const block = decodeBlock(snapshot.block);
    header = block.header;
    hash = blockHash(block);
    commit = decodeCommit(snapshot.commit);
  } catch (error) {
    if (error instanceof CodecError) throw new SnapshotError("MALFORMED", error.message);
    throw error;
  }
  const { height } = snapshot;
  if (header.height !== height || header.chainId !== genesis.chainId) {
    throw new SnapshotError("BLOCK_MISMATCH", `the block is not block ${height} of this chain`);
  }
  if (commit.height !== height || !equalBytes(commit.blockHash, hash)) {
    throw new SnapshotError("BLOCK_MISMATCH", "the commit decides another block");
  }
  const changes: Change[] = [];
  for (const [i, { key, value }] of snapshot.entries.entries()) {
    const previous = changes[i - 1];
    if (previous && compareBytes(previous[0], key) >= 0) {
      throw new SnapshotError("MALFORMED", `entry ${i} is not in ascending key order`);
    }
    // The vm reads state values without re-checking their encoding (lib/codec.ts decodeOwn),
    // trusting that its own store holds only what encode() wrote: this is where values from
    // elsewhere are held to that.
    if (!isCanonical(value)) {
      throw new SnapshotError("MALFORMED", `entry ${i}'s value is not in the canonical encoding`);
    }
    changes.push([key, value]);
  }
  // Rebuilding the tree from every entry is what ties the whole state to the header.
  const { rootHash, treeBatch } = store.computeStateRoot(changes, height);
  if (!equalBytes(rootHash, header.stateRoot)) {
    throw new SnapshotError(
      "STATE_ROOT_MISMATCH",
      `the state hashes to ${toHex(rootHash)}, the header says ${toHex(header.stateRoot)}`,
    );
  }
  const scheduled = snapshot.entries.find((e) => equalBytes(e.key, tables.validators.key));
  if (!scheduled) throw new SnapshotError("VALIDATORS_MISMATCH", "the state has no validator set");
  let schedule: Infer<typeof tables.validators.schema>;
  try {
    schedule = decode(tables.validators.schema, scheduled.value);
  } catch (error) {
    if (error instanceof CodecError) throw new SnapshotError("MALFORMED", error.message);
    throw error;
  }
  const set = setAt(schedule, height);
  if (!equalBytes(validatorSetHash(set), header.validatorsHash)) {
    throw new SnapshotError(
      "VALIDATORS_MISMATCH",
      "the validator set the state schedules is not the one the header names",
    );
  }
  const check = verifyCommit(commit, set, genesis.chainId);
  if (!check.ok) throw new SnapshotError("BAD_COMMIT", `${check.code}: ${check.message}`);

  await store.commitBlock({
    height,
    blockHash: hash,
    block: snapshot.block,
    commit: snapshot.commit,
    // The head block's receipts are not part of a snapshot; its transactions are not indexed.
    txIds: [],
    receipts: [],
    changes,
    treeBatch,
  });
  // The chain recognises its store by the genesis record at height 0.
  const batch = new WriteBatch();
  store.chain.write(batch, {
    height: 0n,
    blockHash: genesis.hash,
    block: genesis.block,
    commit: new Uint8Array(0),
    txIds: [],
    receipts: [],
  });
  await store.db.write(batch, { sync: true });
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      home: { type: "string" },
      out: { type: "string" },
      file: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
}

function cliError(error: unknown): unknown {
  if (error instanceof CliError) return error;
  if (error instanceof SnapshotError) {
    return new CliError(`snapshot: ${error.message} [${error.code}]`, EXIT_DATA);
  }
  if (error instanceof StoreError) {
    const code =
      error.code === "LOCKED" ? EXIT_UNAVAILABLE : error.code === "IO" ? EXIT_IO : EXIT_DATA;
    const hint = error.code === "LOCKED" ? " (stop the node first)" : "";
    return new CliError(`snapshot: ${error.message}${hint} [${error.code}]`, code);
  }
  if (error instanceof ConfigError || error instanceof GenesisLoadError) {
    return new CliError(`snapshot: ${error.message}`, EXIT_CONFIG);
  }
  if (error instanceof HomeError && error.code === "EXISTS") {
    return new CliError(`snapshot: ${error.message}`, EXIT_CANT_CREATE);
  }
  return homeCliError(error);
}

async function withStore<T>(path: string, create: boolean, run: (s: Store) => Promise<T>) {
  const store = await Store.open(path, { create });
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs("snapshot", HINT, USAGE, () => parse(args));
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  const [action, ...extra] = positionals;
  if (extra.length > 0 || (action !== "export" && action !== "import")) {
    throw new CliError(`snapshot: expected 'export' or 'import'. ${HINT}`);
  }
  const paths = homePaths(resolveHome(values.home));
  const report = (summary: Record<string, unknown>, text: string) => {
    process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : `${text}\n`);
  };
  try {
    if (action === "export") {
      if (!values.out) throw new CliError(`snapshot export: --out FILE is required. ${HINT}`);
      const out = values.out;
      const snapshot = await withStore(paths.data, false, takeSnapshot);
      await createFileExclusive(out, encodeSnapshot(snapshot));
      const header = decodeBlock(snapshot.block).header;
      report(
        {
          file: out,
          height: Number(snapshot.height),
          stateRoot: to0x(header.stateRoot),
          entries: snapshot.entries.length,
        },
        `Wrote the state at height ${snapshot.height} (${snapshot.entries.length} entries, ` +
          `state root ${to0x(header.stateRoot)}) to ${out}`,
      );
      return 0;
    }
    if (!values.file) throw new CliError(`snapshot import: --file FILE is required. ${HINT}`);
    const config = await loadConfig({ home: paths.home });
    const genesis = await loadGenesisFile(config.genesisFile);
    let data: Uint8Array;
    try {
      data = await readFile(values.file);
    } catch (error) {
      throw new CliError(
        `snapshot: cannot read ${values.file}: ${(error as Error).message}`,
        EXIT_IO,
      );
    }
    const snapshot = decodeSnapshot(data);
    await withStore(paths.data, true, (store) =>
      restoreSnapshot(store, snapshot, {
        chainId: genesis.chainId,
        hash: genesis.hash,
        block: encodeGenesisBlock(genesis),
      }),
    );
    report(
      { home: paths.home, height: Number(snapshot.height) },
      `Imported the state at height ${snapshot.height} into ${paths.home}; ` +
        `'wattcap start --home ${paths.home}' continues from there`,
    );
    return 0;
  } catch (error) {
    throw cliError(error);
  }
}
