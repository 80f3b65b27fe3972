import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { appendFile, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";
import t, { type Test } from "tap";
import { concatBytes, equalBytes, u32be } from "../../lib/bytes.js";
import { signProposal, signVote, verifyVote } from "../../lib/vote.js";
import { signStepOf, Wal, type WalEntry, walLockHolder, wireBytesOf } from "../../node/wal.js";
import { proposal, SECRET_KEY, signer, tempDir, vote } from "./fixtures/signing.js";

const HEADER_LENGTH = 28;

function voteEntry(height: bigint, round: number, value: number | null): WalEntry {
  return { kind: "vote", signed: signVote(vote(height, round, "prevote", value), SECRET_KEY) };
}

function proposalEntry(height: bigint, round: number, value: number): WalEntry {
  return { kind: "proposal", signed: signProposal(proposal(height, round, value), SECRET_KEY) };
}

function sameEntries(t: Test, actual: readonly WalEntry[], expected: readonly WalEntry[]) {
  t.equal(actual.length, expected.length, "record count");
  for (let i = 0; i < expected.length; i++) {
    t.ok(equalBytes(wireBytesOf(actual[i]!), wireBytesOf(expected[i]!)), `record ${i} intact`);
  }
}

t.test("records round-trip through a reopen, in order, with their steps", async (t) => {
  const path = join(await tempDir(t), "wal", "signing.wal");
  const written = [
    proposalEntry(1n, 0, 1),
    voteEntry(1n, 0, 1),
    { kind: "vote", signed: signVote(vote(1n, 0, "precommit", 1), SECRET_KEY) } as WalEntry,
    voteEntry(2n, 3, null),
  ];
  const wal = await Wal.open(path);
  t.same(wal.records(), [], "a new WAL is empty");
  t.equal(wal.floor, 0n);
  for (const e of written) await wal.append(e);
  await wal.close();

  const info = await stat(path);
  t.equal(info.mode & 0o777, 0o600, "the WAL file is 0600");
  t.equal((await stat(join(path, ".."))).mode & 0o777, 0o700, "its directory is 0700");

  const reopened = await Wal.openWithReport(path);
  t.teardown(() => reopened.wal.close());
  t.equal(reopened.truncatedBytes, 0, "an intact WAL is not truncated");
  sameEntries(t, reopened.wal.records(), written);
  sameEntries(t, reopened.wal.records(2n), written.slice(3));
  const precommit = reopened.wal.get({ height: 1n, round: 0, step: "precommit" });
  t.ok(precommit && equalBytes(wireBytesOf(precommit), wireBytesOf(written[2]!)));
  t.equal(reopened.wal.get({ height: 1n, round: 1, step: "prevote" }), undefined);
  t.same(signStepOf(written[0]!), { height: 1n, round: 0, step: "propose" });
});

t.test("an identical record is a no-op; a different one for the same step conflicts", async (t) => {
  const path = join(await tempDir(t), "signing.wal");
  const wal = await Wal.open(path);
  t.teardown(() => wal.close());
  await wal.append(voteEntry(5n, 1, 1));
  const size = (await stat(path)).size;
  await wal.append(voteEntry(5n, 1, 1));
  t.equal((await stat(path)).size, size, "nothing written for a repeat");
  // The same vote with another signature (a signer with random nonces) is the same value.
  const resigned = voteEntry(5n, 1, 1);
  await wal.append({
    ...resigned,
    signed: { ...resigned.signed, signature: new Uint8Array(64).fill(1) },
  } as WalEntry);
  t.equal((await stat(path)).size, size, "nothing written for a re-signed repeat");
  t.ok(
    equalBytes(wireBytesOf(wal.records()[0]!), wireBytesOf(resigned)),
    "the first signature is kept",
  );
  await t.rejects(wal.append(voteEntry(5n, 1, 2)), { code: "CONFLICT" });
  await t.rejects(wal.append(voteEntry(5n, 1, null)), { code: "CONFLICT" }, "nil differs too");
  t.equal((await stat(path)).size, size, "nothing written for a conflict");
  t.equal(wal.records().length, 1);
});

t.test("a torn last record is truncated on open, whatever prefix of it landed", async (t) => {
  const dir = await tempDir(t);
  const kept = [voteEntry(1n, 0, 1), proposalEntry(2n, 0, 2)];
  const torn = voteEntry(2n, 0, 2);
  const base = join(dir, "base.wal");
  const wal = await Wal.open(base);
  for (const e of kept) await wal.append(e);
  await wal.append(torn);
  await wal.close();
  const full = await readFile(base);
  // Walk the frames (length-prefixed) to find where the last record starts.
  const lastStart = (() => {
    let offset = HEADER_LENGTH;
    let last = offset;
    while (offset < full.length) {
      last = offset;
      offset += 8 + full.readUInt32BE(offset);
    }
    return last;
  })();
  const frameLength = full.length - lastStart;
  let cases = 0;
  for (let cut = 1; cut < frameLength; cut += 7) {
    const path = join(dir, `cut-${cut}.wal`);
    await writeFile(path, full.subarray(0, lastStart + cut), { mode: 0o600 });
    const { wal: reopened, truncatedBytes } = await Wal.openWithReport(path);
    t.equal(truncatedBytes, cut, `cut at ${cut}: the partial record is dropped`);
    sameEntries(t, reopened.records(), kept);
    // The WAL continues cleanly after the repair.
    await reopened.append(torn);
    await reopened.close();
    const again = await Wal.open(path);
    sameEntries(t, again.records(), [...kept, torn]);
    await again.close();
    cases++;
  }
  t.ok(cases > 5);

  // The file was extended but the record's bytes never landed: zeros.
  const zeros = join(dir, "zeros.wal");
  await writeFile(zeros, concatBytes(full.subarray(0, lastStart), new Uint8Array(frameLength)), {
    mode: 0o600,
  });
  const z = await Wal.openWithReport(zeros);
  t.equal(z.truncatedBytes, frameLength, "a zero-filled tail is a torn write");
  sameEntries(t, z.wal.records(), kept);
  await z.wal.close();

  // The whole record landed but its last bytes did not: the checksum fails on the last record.
  const flipped = join(dir, "flipped.wal");
  const bytes = new Uint8Array(full);
  bytes[bytes.length - 1]! ^= 0xff;
  await writeFile(flipped, bytes, { mode: 0o600 });
  const f = await Wal.openWithReport(flipped);
  t.equal(f.truncatedBytes, frameLength);
  sameEntries(t, f.wal.records(), kept);
  await f.wal.close();
});

t.test("damage before the last record refuses to open and changes nothing", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "signing.wal");
  const wal = await Wal.open(path);
  await wal.append(voteEntry(1n, 0, 1));
  await wal.append(voteEntry(2n, 0, 2));
  await wal.close();
  const good = await readFile(path);

  const bitRot = new Uint8Array(good);
  bitRot[HEADER_LENGTH + 8 + 3]! ^= 0x01; // inside the first record's payload
  await writeFile(path, bitRot);
  await t.rejects(Wal.open(path), { code: "CORRUPT", message: /damaged at byte 28/ });
  t.ok(equalBytes(await readFile(path), bitRot), "a corrupt WAL is left as it was");
  t.equal(walLockHolder(path), undefined, "a failed open releases the lock");

  const badLength = new Uint8Array(good);
  badLength.set(u32be(0xffff), HEADER_LENGTH);
  await writeFile(path, badLength);
  await t.rejects(Wal.open(path), { code: "CORRUPT" });

  await writeFile(path, "not a wal at all, just some text that is long enough\n");
  await t.rejects(Wal.open(path), { code: "CORRUPT", message: /not a Wattcap signing WAL/ });

  const otherVersion = new Uint8Array(good);
  otherVersion.set(u32be(2), 12);
  await writeFile(path, otherVersion);
  await t.rejects(Wal.open(path), { code: "CORRUPT", message: /header checksum/ });
  otherVersion.set(u32be(crc32(otherVersion.subarray(0, HEADER_LENGTH - 4))), HEADER_LENGTH - 4);
  await writeFile(path, otherVersion);
  await t.rejects(Wal.open(path), { code: "INCOMPATIBLE", message: /format version 2/ });

  // A valid record that is not a signed message (good checksum, bad payload).
  const junkPayload = new Uint8Array([0x93, 1, 2, 3]);
  const length = u32be(junkPayload.length);
  const frame = concatBytes(length, u32be(crc32(junkPayload, crc32(length))), junkPayload);
  await writeFile(
    path,
    concatBytes(good.subarray(0, HEADER_LENGTH), frame, good.subarray(HEADER_LENGTH)),
  );
  await t.rejects(Wal.open(path), { code: "CORRUPT", message: /does not decode/ });
});

t.test("one process at a time: the lock file", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "signing.wal");
  const wal = await Wal.open(path);
  await t.rejects(Wal.open(path), { code: "LOCKED" }, "a second open in this process");
  t.equal(walLockHolder(path), process.pid);
  await wal.close();
  t.equal(walLockHolder(path), undefined);
  await wal.close(); // idempotent
  await t.rejects(wal.append(voteEntry(1n, 0, 1)), { code: "CLOSED" });

  // A live process (our parent) holds it.
  await writeFile(`${path}.lock`, `${process.ppid}\n`);
  await t.rejects(Wal.open(path), { code: "LOCKED", message: new RegExp(`${process.ppid}`) });
  t.equal(walLockHolder(path), process.ppid);

  // A process that is gone: a fresh child that has exited.
  const child = spawn(process.execPath, ["-e", ""]);
  await once(child, "exit");
  await writeFile(`${path}.lock`, `${child.pid}\n`);
  const taken = await Wal.open(path);
  t.equal((await readFile(`${path}.lock`, "utf8")).trim(), `${process.pid}`, "stale lock taken");
  await taken.close();

  // Our own pid, left by an earlier incarnation (a restarted container's pid 1).
  await writeFile(`${path}.lock`, `${process.pid}\n`);
  const own = await Wal.open(path);
  await own.close();
  // Garbage in a lock file: a process that died before writing its pid.
  await writeFile(`${path}.lock`, "");
  const empty = await Wal.open(path);
  await empty.close();
});

t.test("compaction drops old heights, raises the floor and survives a reopen", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "signing.wal");
  const wal = await Wal.open(path);
  const entries = [1n, 2n, 3n, 4n].map((h) => voteEntry(h, 0, Number(h)));
  for (const e of entries) await wal.append(e);
  await wal.compact(3n);
  t.equal(wal.floor, 3n);
  sameEntries(t, wal.records(), entries.slice(2));
  await t.rejects(wal.append(voteEntry(2n, 1, 9)), { code: "BELOW_FLOOR" });
  await wal.compact(2n);
  t.equal(wal.floor, 3n, "a lower floor is a no-op");
  const after = voteEntry(5n, 0, 5);
  await wal.append(after);
  await wal.close();

  const reopened = await Wal.open(path);
  t.equal(reopened.floor, 3n, "the floor is durable");
  sameEntries(t, reopened.records(), [...entries.slice(2), after]);
  await reopened.close();

  // A crash during compaction before its rename leaves the temporary beside the intact WAL.
  const before = await readFile(path);
  await writeFile(`${path}.new`, "half a compacted file");
  const recovered = await Wal.open(path);
  sameEntries(t, recovered.records(), [...entries.slice(2), after]);
  await recovered.close();
  t.ok(equalBytes(await readFile(path), before), "the WAL is untouched");
  await t.rejects(stat(`${path}.new`), { code: "ENOENT" }, "the temporary is removed");
});

t.test("appends are serialised: concurrent appends all land, in call order", async (t) => {
  const path = join(await tempDir(t), "signing.wal");
  const wal = await Wal.open(path);
  const entries = Array.from({ length: 12 }, (_, i) => voteEntry(BigInt(i + 1), 0, i + 1));
  await Promise.all(entries.map((e) => wal.append(e)));
  await wal.close();
  const reopened = await Wal.open(path);
  sameEntries(t, reopened.records(), entries);
  await reopened.close();
});

// ---------------------------------------------------------------------------------------------
// A writer SIGKILLed at random moments: every signature it reported (after the fsync) must be
// in the WAL, intact, unless a compaction it had started dropped its height.

const WRITER = fileURLToPath(new URL("./fixtures/wal-writer.js", import.meta.url));
const CYCLES = 6;

interface Progress {
  resume?: bigint;
  signed?: bigint;
  compacting?: bigint;
  compacted?: bigint;
}

async function startWriter(path: string): Promise<{ child: ChildProcess; progress: Progress }> {
  const child = spawn(process.execPath, [WRITER, path], { stdio: ["ignore", "pipe", "pipe"] });
  const progress: Progress = {};
  let stderr = "";
  let pending = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const [word, n] = line.split(" ") as [keyof Progress, string];
        progress[word] = BigInt(n);
        if (word === "resume") resolve();
      }
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`writer exited (${code ?? signal}) before resuming: ${stderr}`)),
    );
  });
  return { child, progress };
}

t.test("a writer killed at random moments loses no reported signature", async (t) => {
  const path = join(await tempDir(t), "signing.wal");
  let x = 0x2545f491;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
  let expectedResume = 1n;
  let compactions = 0;
  // The floor persists across cycles, so it is bounded by the highest compaction any writer began.
  let begun = 0n;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const { child, progress } = await startWriter(path);
    t.teardown(() => {
      child.kill("SIGKILL");
    });
    t.ok(
      progress.resume! >= expectedResume,
      `cycle ${cycle}: resumes at or after ${expectedResume}`,
    );
    await sleep(50 + Math.floor(next() * 400));
    const exited = once(child, "close");
    child.kill("SIGKILL");
    await exited;

    const wal = await Wal.open(path);
    const records = wal.records();
    const floor = wal.floor;
    t.ok(floor >= (progress.compacted ?? 0n), `cycle ${cycle}: no finished compaction is lost`);
    if (progress.compacting !== undefined && progress.compacting > begun) {
      begun = progress.compacting;
    }
    t.ok(floor <= begun, `cycle ${cycle}: no compaction that never began`);
    const heights = new Set(records.map((r) => signStepOf(r).height));
    for (let h = floor > 1n ? floor : 1n; h <= (progress.signed ?? 0n); h++) {
      t.ok(heights.has(h), `cycle ${cycle}: reported signature at height ${h} survived`);
    }
    for (const r of records) {
      t.equal(r.kind, "vote");
      if (r.kind === "vote") {
        t.ok(verifyVote(r.signed, signer.publicKey), `height ${r.signed.vote.height} verifies`);
      }
    }
    let top = 0n;
    for (const r of records) if (signStepOf(r).height > top) top = signStepOf(r).height;
    t.ok(top <= (progress.signed ?? 0n) + 1n, "nothing beyond the one signature in flight");
    if (progress.compacted !== undefined) compactions++;
    expectedResume = top + 1n;
    await wal.close();
  }
  t.ok(compactions > 0, "some cycle compacted");
});

t.test("bytes appended by another writer after the last record are a torn tail", async (t) => {
  const path = join(await tempDir(t), "signing.wal");
  const wal = await Wal.open(path);
  await wal.append(voteEntry(1n, 0, 1));
  await wal.close();
  await appendFile(path, new Uint8Array([0, 0, 0, 40, 1, 2]));
  const { wal: reopened, truncatedBytes } = await Wal.openWithReport(path);
  t.equal(truncatedBytes, 6);
  t.equal(reopened.records().length, 1);
  await reopened.close();
});
