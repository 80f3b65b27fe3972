import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import t from "tap";
import { concatBytes, u64be, utf8 } from "../../lib/bytes.js";
import { struct, text, u64 } from "../../lib/codec.js";
import { allBuckets, buckets, NODE_PREFIX_MAX, NODE_PREFIX_MIN } from "../../state/buckets.js";
import { Db, WriteBatch } from "../../state/db.js";
import { StoreError } from "../../state/errors.js";
import {
  fixedBytes,
  prefixEnd,
  Repository,
  rawBytes,
  schemaCodec,
  u64Codec,
} from "../../state/repository.js";
import { tempDir } from "./fixtures/temp.js";

const Account = struct("Account", { name: text(32), balance: u64 });

t.test("bucket prefixes are distinct single bytes; node buckets stay in their range", async (t) => {
  const prefixes = allBuckets.map((b) => b.prefix);
  t.equal(new Set(prefixes).size, prefixes.length, "no prefix is used twice");
  t.equal(new Set(allBuckets.map((b) => b.name)).size, allBuckets.length, "names are unique");
  for (const b of allBuckets) {
    t.ok(Number.isInteger(b.prefix) && b.prefix > 0 && b.prefix < 0xff, `${b.name} is one byte`);
    const inNodeRange = b.prefix >= NODE_PREFIX_MIN && b.prefix <= NODE_PREFIX_MAX;
    t.equal(inNodeRange, b.owner === "node", `${b.name} is in the node range iff owned by node`);
  }
});

t.test("typed values round-trip through a batch and getSync", async (t) => {
  const db = await Db.open(await tempDir(t));
  t.teardown(() => db.close());
  const accounts = new Repository(db, buckets.state, fixedBytes(4), schemaCodec(Account));
  const batch = new WriteBatch();
  accounts.put(batch, utf8("alic"), { name: "alice", balance: 2n ** 63n });
  accounts.put(batch, utf8("bobb"), { name: "bob", balance: 0n });
  t.equal(accounts.get(utf8("alic")), undefined, "nothing is visible before the batch is written");
  await db.write(batch, { sync: false });
  t.same(accounts.get(utf8("alic")), { name: "alice", balance: 2n ** 63n });
  t.ok(accounts.has(utf8("bobb")));
  const del = new WriteBatch();
  accounts.del(del, utf8("bobb"));
  await db.write(del, { sync: true });
  t.equal(accounts.get(utf8("bobb")), undefined);
  t.throws(() => accounts.put(new WriteBatch(), utf8("toolong"), { name: "x", balance: 1n }));
});

t.test("ranges stay inside their bucket and follow numeric order of u64 keys", async (t) => {
  const db = await Db.open(await tempDir(t));
  t.teardown(() => db.close());
  // Two buckets with adjacent prefixes and the same key codec must not see each other's keys.
  const blocks = new Repository(db, buckets.block, u64Codec, rawBytes);
  const hashes = new Repository(db, buckets.blockHash, u64Codec, rawBytes);
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 30 }),
      async (heights) => {
        const batch = new WriteBatch();
        for (const h of heights) {
          blocks.put(batch, h, u64be(h));
          hashes.put(batch, h, utf8("other"));
        }
        await db.write(batch, { sync: false });
        const got = (await blocks.range()).map(([h]) => h);
        const want = [...new Set([...heights, ...got])].sort((a, b) =>
          a < b ? -1 : a > b ? 1 : 0,
        );
        t.same(got, want);
        for (const [h, v] of await blocks.range()) t.same(v, u64be(h));
        for (const [, v] of await hashes.range()) t.same(v, utf8("other"));
      },
    ),
    { numRuns: 20 },
  );
  const all = (await blocks.range()).map(([h]) => h);
  const mid = all[Math.floor(all.length / 2)];
  if (mid !== undefined) {
    const above = await blocks.range({ gt: mid });
    t.ok(above.every(([h]) => h > mid));
    const fromMid = await blocks.range({ gte: mid, limit: 2 });
    t.equal(fromMid[0]?.[0], mid);
    t.ok(fromMid.length <= 2);
    const down = await blocks.range({ reverse: true, limit: 3 });
    t.same(
      down.map(([h]) => h),
      all.slice(-3).reverse(),
    );
  }
});

t.test("bytes that do not decode are reported as CORRUPT, never thrown raw", async (t) => {
  const db = await Db.open(await tempDir(t));
  t.teardown(() => db.close());
  const accounts = new Repository(db, buckets.state, fixedBytes(4), schemaCodec(Account));
  const heights = new Repository(db, buckets.blockHeight, fixedBytes(4), u64Codec);
  const batch = new WriteBatch();
  batch.put(concatBytes(Uint8Array.of(buckets.state.prefix), utf8("junk")), Uint8Array.of(0xc1));
  batch.put(concatBytes(Uint8Array.of(buckets.state.prefix), utf8("tail")), Uint8Array.of(0x92));
  batch.put(concatBytes(Uint8Array.of(buckets.blockHeight.prefix), utf8("abcd")), u64be(7n));
  batch.put(concatBytes(Uint8Array.of(buckets.blockHeight.prefix), utf8("wxyz")), Uint8Array.of(1));
  batch.put(concatBytes(Uint8Array.of(buckets.blockHeight.prefix), utf8("toolong")), u64be(1n));
  await db.write(batch, { sync: false });
  for (const key of ["junk", "tail"]) {
    t.throws(() => accounts.get(utf8(key)), new StoreError("CORRUPT", "x"), "a StoreError");
    t.throws(() => accounts.get(utf8(key)), {
      code: "CORRUPT",
      message: /bad value in bucket state/,
    });
  }
  t.equal(heights.get(utf8("abcd")), 7n);
  t.throws(() => heights.get(utf8("wxyz")), { code: "CORRUPT" });
  await t.rejects(heights.range(), { code: "CORRUPT", message: /bad key in bucket blockHeight/ });
});

t.test("prefixEnd is the least key above every key with the prefix", async (t) => {
  t.same(prefixEnd(Uint8Array.of(1, 2)), Uint8Array.of(1, 3));
  t.same(prefixEnd(Uint8Array.of(1, 0xff, 0xff)), Uint8Array.of(2));
  t.equal(prefixEnd(Uint8Array.of(0xff)), undefined);
  t.equal(prefixEnd(new Uint8Array()), undefined);
});

t.test("opening a file or a missing database without create fails with a clear code", async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, "file");
  await writeFile(file, "not a database");
  await t.rejects(Db.open(file), { code: "NOT_A_DIRECTORY", message: /is not a directory/ });
  await t.rejects(Db.open(join(dir, "missing"), { create: false }), { code: "NOT_FOUND" });
  await t.rejects(
    Db.open(dir, { create: false }),
    { code: "NOT_FOUND" },
    "a directory without a database",
  );
});

t.test("a second open of the same directory reports LOCKED", async (t) => {
  const dir = await tempDir(t);
  const db = await Db.open(dir);
  t.teardown(() => db.close());
  await t.rejects(Db.open(dir), {
    code: "LOCKED",
    message: `database ${dir} is in use by another process (LOCK held)`,
  });
});

t.test("a closed database reports CLOSED", async (t) => {
  const db = await Db.open(await tempDir(t));
  await db.close();
  t.throws(() => db.getSync(Uint8Array.of(1)), { code: "CLOSED" });
});
