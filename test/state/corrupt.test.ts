import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { concatBytes, toHex, u64be, utf8 } from "../../lib/bytes.js";
import { encode, struct, text, uint } from "../../lib/codec.js";
import { buckets } from "../../state/buckets.js";
import { Db, WriteBatch } from "../../state/db.js";
import { rootNodeKey } from "../../state/smt/node.js";
import { Store } from "../../state/store.js";
import { commitHeight, heightWrites } from "./fixtures/chain.js";
import { tempDir } from "./fixtures/temp.js";

const CLI = fileURLToPath(new URL("../../cli/wattcap.js", import.meta.url));
const HEIGHT = 4n;

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A healthy store at HEIGHT, closed. */
async function healthy(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const dir = await tempDir(t);
  const store = await Store.open(dir);
  for (let h = 1n; h <= HEIGHT; h++) await commitHeight(store, h, heightWrites(3, h, 30));
  await store.close();
  return dir;
}

const key = (bucket: { prefix: number }, ...parts: Uint8Array[]) =>
  concatBytes(Uint8Array.of(bucket.prefix), ...parts);
const headKey = key(buckets.meta, utf8("head"));
const formatKey = key(buckets.meta, utf8("format"));
const rootRefKey = key(buckets.smtRoot, u64be(HEIGHT));

/** Changes the closed store's raw records, then returns a dump of every entry. */
async function tamper(dir: string, edit: (db: Db, batch: WriteBatch) => void): Promise<string[]> {
  const db = await Db.open(dir);
  try {
    const batch = new WriteBatch();
    edit(db, batch);
    await db.write(batch, { sync: true });
    return await dump(db);
  } finally {
    await db.close();
  }
}

async function dump(db: Db): Promise<string[]> {
  return (await db.range({})).map(([k, v]) => `${toHex(k)}=${toHex(v)}`);
}

/** The head's root node's database key. */
function rootNode(db: Db): Uint8Array {
  const ref = db.getSync(rootRefKey)!;
  return key(buckets.smtNode, rootNodeKey(ref.subarray(32, 40)));
}

const damages: Array<[string, (db: Db, batch: WriteBatch) => void, RegExp]> = [
  [
    "garbage in the root node",
    (db, b) => b.put(rootNode(db), Uint8Array.of(0xde, 0xad)),
    /wrong kind|not an internal/,
  ],
  [
    "a flipped bit in the root node's child hashes",
    (db, b) => {
      const node = db.getSync(rootNode(db))!.slice();
      node[node.length - 1]! ^= 1;
      b.put(rootNode(db), node);
    },
    /does not match its hash/,
  ],
  ["a missing root node", (db, b) => b.del(rootNode(db)), /not in the store/],
  ["a missing root ref", (_, b) => b.del(rootRefKey), /no state tree is kept for version 4/],
  [
    "a truncated root ref",
    (db, b) => b.put(rootRefKey, db.getSync(rootRefKey)!.subarray(0, 20)),
    /malformed/,
  ],
  [
    "garbage in the head record",
    (_, b) => b.put(headKey, utf8("garbage")),
    /bad value in bucket meta/,
  ],
  [
    "a truncated head record",
    (db, b) => b.put(headKey, db.getSync(headKey)!.subarray(0, 10)),
    /bad value in bucket meta/,
  ],
  ["a missing head record", (_, b) => b.del(headKey), /head record is missing/],
  [
    "a head whose state root is another",
    (db, b) => {
      const head = db.getSync(headKey)!.slice();
      head[head.length - 1]! ^= 1;
      b.put(headKey, head);
    },
    /does not match the head's state root/,
  ],
  ["a missing head block", (_, b) => b.del(key(buckets.block, u64be(HEIGHT))), /head block 4/],
  ["garbage in the format record", (_, b) => b.put(formatKey, Uint8Array.of(0xc1)), /bucket meta/],
];

for (const [name, edit, message] of damages) {
  t.test(`${name}: the store refuses to open with CORRUPT and writes nothing`, async (t) => {
    const dir = await healthy(t);
    const before = await tamper(dir, edit);
    await t.rejects(Store.open(dir), { name: "StoreError", code: "CORRUPT", message });
    const db = await Db.open(dir);
    t.same(await dump(db), before, "the failed open changed nothing");
    await db.close();
  });
}

t.test("wattcap state check: ok on a healthy store, one clear line on a corrupt one", async (t) => {
  const dir = await healthy(t);
  const ok = await cli("state", "check", "--db", dir);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /^height: 4$/m);
  t.match(ok.stdout, /^stateRoot: "0x[0-9a-f]{64}"$/m);
  t.match(ok.stdout, /^integrity: "ok"$/m);

  await tamper(dir, (db, b) => b.put(rootNode(db), Uint8Array.of(1, 2, 3)));
  const bad = await cli("state", "check", "--db", dir);
  t.equal(bad.code, 65, "EXIT_DATA");
  t.equal(bad.stderr.trim().split("\n").length, 1, "one line");
  t.match(bad.stderr, /^wattcap: .*state tree of version 4.*\[CORRUPT\]$/m);
  t.notMatch(bad.stderr, /at .*\.js/, "no stack trace");
});

t.test(
  "wattcap state check: a missing directory or a file is a clear error and creates nothing",
  async (t) => {
    const dir = await tempDir(t);
    const missing = join(dir, "missing");
    const gone = await cli("state", "check", "--db", missing);
    t.equal(gone.code, 74);
    t.match(gone.stderr, /no database at .*missing \[NOT_FOUND\]/);
    t.notOk(existsSync(missing), "nothing was created");
    const file = join(dir, "file");
    await writeFile(file, "x");
    const notDir = await cli("state", "check", "--db", file);
    t.equal(notDir.code, 74);
    t.match(notDir.stderr, /is not a directory \[NOT_A_DIRECTORY\]/);
    const usage = await cli("state", "check");
    t.equal(usage.code, 64);
    t.match(usage.stderr, /--db DIR is required/);
    const unknown = await cli("state", "check", "--db", dir, "--bogus");
    t.equal(unknown.code, 64);
    const help = await cli("state", "--help");
    t.equal(help.code, 0);
    t.match(help.stdout, /wattcap state check --db DIR/);
  },
);

t.test("a LevelDB that is not a Wattcap store, or of another format, is refused", async (t) => {
  const foreign = await tempDir(t);
  const db = await Db.open(foreign);
  const batch = new WriteBatch();
  batch.put(utf8("someone else's"), utf8("data"));
  await db.write(batch, { sync: false });
  await db.close();
  await t.rejects(Store.open(foreign), { code: "CORRUPT", message: /not a Wattcap store/ });

  const dir = await healthy(t);
  const Format = struct("StoreFormat", { name: text(32), version: uint() });
  await tamper(dir, (_, b) =>
    b.put(formatKey, encode(Format, { name: "wattcap-store", version: 9 })),
  );
  await t.rejects(Store.open(dir), { code: "INCOMPATIBLE", message: /format 9/ });
  const run = await cli("state", "check", "--db", dir);
  t.equal(run.code, 65);
  t.match(run.stderr, /\[INCOMPATIBLE\]/);
});
