// The signing WAL (DESIGN §5, crash safety): every proposal and vote this validator signs is
// appended here and fsynced before it may leave the process. After a crash the node replays the
// file, re-sends what it signed for the current height, and never signs a different value for
// the same (height, round, step).
//
// File layout:
//   header  "wattcap/wal\0" | version u32 | floor u64 | crc32 u32            (28 bytes)
//   record  length u32 | crc32(length || payload) u32 | payload             (repeated)
// All integers are big-endian. A payload is the canonical encoding of a WalEntry (a signed
// proposal or vote, exactly the bytes gossiped). `floor` is the compaction height: records
// below it were dropped, and the signer refuses to sign below it, since it could no longer tell
// whether it signed there before.
//
// A record is written with one positional write and then fsynced, and the next write waits for
// that fsync, so only the last record can be torn by a crash. Opening truncates such a torn
// tail; damage anywhere else means records this validator signed may be unreadable, and the WAL
// refuses to open rather than risk signing twice. The header is only ever written by an atomic
// replace (write a new file, fsync, rename, fsync the directory), as is compaction.
//
// A lock file next to the WAL (holding the owner's pid) keeps a second process from signing with
// the same WAL; a lock left by a process that no longer runs is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { type FileHandle, mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { crc32 } from "node:zlib";
import type { Step } from "../consensus/types.js";
import { concatBytes, equalBytes, readU32be, readU64be, u32be, u64be, utf8 } from "../lib/bytes.js";
import { CodecError, decode, encode, union } from "../lib/codec.js";
import {
  encodeSignedProposal,
  encodeSignedVote,
  ProposalSchema,
  type SignedProposal,
  SignedProposalSchema,
  type SignedVote,
  SignedVoteSchema,
  VoteSchema,
} from "../lib/vote.js";

export type WalErrorCode =
  | "LOCKED" // another live process holds the WAL
  | "CORRUPT" // damaged other than by a torn last write, or not a WAL at all
  | "INCOMPATIBLE" // a WAL of another format version
  | "CONFLICT" // a different record for a (height, round, step) already recorded
  | "BELOW_FLOOR" // a record below the compaction height
  | "FAILED" // an earlier write or fsync failed: nothing more may be written or trusted
  | "IO" // the file system refused
  | "CLOSED";

export class WalError extends Error {
  override name = "WalError";
  constructor(
    readonly code: WalErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One signed consensus message, as gossiped. */
export type WalEntry =
  | { readonly kind: "proposal"; readonly signed: SignedProposal }
  | { readonly kind: "vote"; readonly signed: SignedVote };

/** The (height, round, step) a message was signed for: at most one value is signed for each. */
export interface SignStep {
  readonly height: bigint;
  readonly round: number;
  readonly step: Step;
}

export function signStepOf(entry: WalEntry): SignStep {
  if (entry.kind === "proposal") {
    const { height, round } = entry.signed.proposal;
    return { height, round, step: "propose" };
  }
  const { height, round, type } = entry.signed.vote;
  return { height, round, step: type };
}

/** The bytes to gossip for an entry: the wire encoding of the signed message. */
export function wireBytesOf(entry: WalEntry): Uint8Array {
  return entry.kind === "proposal"
    ? encodeSignedProposal(entry.signed)
    : encodeSignedVote(entry.signed);
}

const EntrySchema = union("WalEntry", {
  proposal: [0, SignedProposalSchema],
  vote: [1, SignedVoteSchema],
});

function encodeEntry(entry: WalEntry): Uint8Array {
  return encode(
    EntrySchema,
    entry.kind === "proposal"
      ? { kind: "proposal", value: entry.signed }
      : { kind: "vote", value: entry.signed },
  );
}

function decodeEntry(payload: Uint8Array): WalEntry {
  const decoded = decode(EntrySchema, payload, { maxBytes: MAX_PAYLOAD });
  return decoded.kind === "proposal"
    ? { kind: "proposal", signed: decoded.value }
    : { kind: "vote", signed: decoded.value };
}

const MAGIC = utf8("wattcap/wal\0");
const VERSION = 1;
const HEADER_LENGTH = MAGIC.length + 4 + 8 + 4;
const FRAME_HEADER = 8;
/** Far above the largest signed proposal or vote (about 200 bytes). */
const MAX_PAYLOAD = 1024;
const MAX_FRAME = FRAME_HEADER + MAX_PAYLOAD;

function checksum(...parts: Uint8Array[]): number {
  let crc = 0;
  for (const p of parts) crc = crc32(p, crc);
  return crc;
}

function header(floor: bigint): Uint8Array {
  const body = concatBytes(MAGIC, u32be(VERSION), u64be(floor));
  return concatBytes(body, u32be(checksum(body)));
}

function frame(payload: Uint8Array): Uint8Array {
  const length = u32be(payload.length);
  return concatBytes(length, u32be(checksum(length, payload)), payload);
}

function keyOf(s: SignStep): string {
  return `${s.height}/${s.round}/${s.step}`;
}

/** The message an entry signs, without its signature: what "the same value" compares. */
function messageOf(entry: WalEntry): Uint8Array {
  return entry.kind === "proposal"
    ? encode(ProposalSchema, entry.signed.proposal)
    : encode(VoteSchema, entry.signed.vote);
}

// A signer with random nonces (an HSM, say) gives the same message a new signature each time;
// that is not a second value, so entries compare by message.
function sameEntry(a: WalEntry, b: WalEntry): boolean {
  return a.kind === b.kind && equalBytes(messageOf(a), messageOf(b));
}

interface Scan {
  readonly floor: bigint;
  readonly entries: WalEntry[];
  /** Where the intact records end; bytes after it are a torn last write. */
  readonly end: number;
}

/** Parses a whole WAL file. Throws WalError CORRUPT/INCOMPATIBLE; tolerates one torn tail. */
function scan(data: Uint8Array, path: string): Scan {
  const corrupt = (offset: number, why: string) =>
    new WalError(
      "CORRUPT",
      `signing WAL ${path} is damaged at byte ${offset} (${why}); it is not a torn last write, ` +
        "so records this validator signed may be lost. Restore the file from a backup; do not " +
        "delete it while this validator may still sign at the heights it covers",
    );
  if (data.length < HEADER_LENGTH || !equalBytes(data.subarray(0, MAGIC.length), MAGIC)) {
    throw corrupt(0, "not a Wattcap signing WAL");
  }
  const body = data.subarray(0, HEADER_LENGTH - 4);
  if (readU32be(data, HEADER_LENGTH - 4) !== checksum(body)) throw corrupt(0, "header checksum");
  const version = readU32be(data, MAGIC.length);
  if (version !== VERSION) {
    throw new WalError(
      "INCOMPATIBLE",
      `signing WAL ${path} has format version ${version}; this release reads ${VERSION}`,
    );
  }
  const floor = readU64be(data, MAGIC.length + 4);
  const entries: WalEntry[] = [];
  let offset = HEADER_LENGTH;
  while (offset < data.length) {
    // Only the last write can be torn, and a write is at most one frame long.
    const mayBeTorn = data.length - offset <= MAX_FRAME;
    if (data.length - offset < FRAME_HEADER) break;
    const length = readU32be(data, offset);
    if (length === 0 || length > MAX_PAYLOAD) {
      // A crash can leave the file extended with zeros where the record never landed.
      if (mayBeTorn && data.subarray(offset).every((b) => b === 0)) break;
      throw corrupt(offset, `record length ${length}`);
    }
    const end = offset + FRAME_HEADER + length;
    // A record cut short; since length <= MAX_PAYLOAD, this can only happen within MAX_FRAME of
    // the end of the file, i.e. in the last write.
    if (end > data.length) break;
    const payload = data.subarray(offset + FRAME_HEADER, end);
    if (readU32be(data, offset + 4) !== checksum(data.subarray(offset, offset + 4), payload)) {
      // A bad checksum on the very last record is a write that did not fully land; anything
      // after it proves the record had been fsynced, so then it is damage.
      if (end === data.length) break;
      throw corrupt(offset, "record checksum");
    }
    let entry: WalEntry;
    try {
      entry = decodeEntry(payload);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      throw corrupt(offset, `record does not decode: ${error.message}`);
    }
    entries.push(entry);
    offset = end;
  }
  return { floor, entries, end: offset };
}

/** Makes a directory's entries (new, renamed or removed files) survive a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * mkdir -p with mode 0700, durably: each directory it creates is fsynced into its parent, so a
 * power loss cannot take away a directory that files were then fsynced into.
 */
export async function makeDirectory(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await syncDirectory(dirname(d));
    if (d === first) break;
  }
}

/** Replaces `path` with `data` so that a crash leaves either the old file or the new one. */
async function replaceAtomically(path: string, data: Uint8Array): Promise<void> {
  const temp = `${path}.new`;
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await syncDirectory(dirname(path));
}

function ioError(path: string, error: unknown): WalError {
  if (error instanceof WalError) return error;
  return new WalError("IO", `signing WAL ${path}: ${(error as Error).message}`, { cause: error });
}

// Locks held by this process, so a lock file naming our own pid can be told apart from one left
// by an earlier process that had the same pid (after a container restart, typically pid 1).
const heldLocks = new Set<string>();

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLockPid(lockPath: string): number | undefined {
  try {
    const text = readFileSync(lockPath, "utf8").trim();
    return /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

function lockPathOf(walPath: string): string {
  return `${walPath}.lock`;
}

/** The pid of a live process holding the WAL at `walPath`, if any. */
export function walLockHolder(walPath: string): number | undefined {
  const lockPath = lockPathOf(resolve(walPath));
  if (heldLocks.has(lockPath)) return process.pid;
  const pid = readLockPid(lockPath);
  return pid !== undefined && pid !== process.pid && isRunning(pid) ? pid : undefined;
}

function lockedError(lockPath: string, pid: number | undefined): WalError {
  return new WalError(
    "LOCKED",
    `signing WAL is in use by process ${pid ?? "unknown"} (${lockPath}); ` +
      "if no Wattcap node is running on this home, remove the lock file",
  );
}

function acquireLock(lockPath: string): void {
  if (heldLocks.has(lockPath)) throw lockedError(lockPath, process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, "wx", 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      heldLocks.add(lockPath);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const pid = readLockPid(lockPath);
    if (pid !== undefined && pid !== process.pid && isRunning(pid)) {
      throw lockedError(lockPath, pid);
    }
    // Left by a process that is gone (or died before writing its pid): take it over.
    try {
      unlinkSync(lockPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  throw lockedError(lockPath, readLockPid(lockPath));
}

function releaseLock(lockPath: string): void {
  heldLocks.delete(lockPath);
  try {
    unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release.
  }
}

export interface WalOpenResult {
  readonly wal: Wal;
  /** Bytes of a torn last write that opening removed (0 when the file was intact). */
  readonly truncatedBytes: number;
}

export class Wal {
  readonly #entries: WalEntry[];
  readonly #index = new Map<string, WalEntry>();
  #handle: FileHandle | undefined;
  #size: number;
  #floor: bigint;
  #queue: Promise<unknown> = Promise.resolve();
  #failed: WalError | undefined;

  private constructor(
    readonly path: string,
    handle: FileHandle,
    scanned: Scan,
  ) {
    this.#handle = handle;
    this.#size = scanned.end;
    this.#floor = scanned.floor;
    this.#entries = [];
    for (const entry of scanned.entries) this.#remember(entry);
  }

  /**
   * Opens (creating if absent) the WAL at `path`, replays its records and truncates a torn tail.
   * Throws WalError LOCKED, CORRUPT, INCOMPATIBLE or IO.
   */
  static async open(path: string): Promise<Wal> {
    return (await Wal.openWithReport(path)).wal;
  }

  /** As open, also saying how many bytes of a torn last write were cut off (for the log). */
  static async openWithReport(path: string): Promise<WalOpenResult> {
    const file = resolve(path);
    const lockPath = lockPathOf(file);
    try {
      await makeDirectory(dirname(file));
      acquireLock(lockPath);
    } catch (error) {
      throw ioError(file, error);
    }
    let handle: FileHandle | undefined;
    try {
      // A replacement that a crash interrupted before its rename; the old file is intact.
      await rm(`${file}.new`, { force: true });
      try {
        handle = await open(file, "r+");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        await replaceAtomically(file, header(0n));
        handle = await open(file, "r+");
      }
      const data = await handle.readFile();
      const scanned = scan(data, file);
      // Built before the repair, so a WAL found corrupt while indexing is left untouched.
      const wal = new Wal(file, handle, scanned);
      const truncatedBytes = data.length - scanned.end;
      if (truncatedBytes > 0) {
        await handle.truncate(scanned.end);
        await handle.sync();
      }
      return { wal, truncatedBytes };
    } catch (error) {
      await handle?.close();
      releaseLock(lockPath);
      throw ioError(file, error);
    }
  }

  /** Records below this height were compacted away; nothing may be recorded below it. */
  get floor(): bigint {
    return this.#floor;
  }

  /** Durable records at or above `fromHeight`, in the order they were appended. */
  records(fromHeight = 0n): readonly WalEntry[] {
    return this.#entries.filter((e) => signStepOf(e).height >= fromHeight);
  }

  /** The record for (height, round, step), if one is durable. */
  get(step: SignStep): WalEntry | undefined {
    return this.#index.get(keyOf(step));
  }

  /**
   * Appends a record and resolves once it is fsynced; only then may the message be sent.
   * Recording an identical entry again is a no-op; a different one for the same step throws
   * CONFLICT. A failed write or fsync fails this call and every later one (FAILED): after an
   * fsync error the kernel may have dropped the data, so nothing written since can be trusted.
   */
  append(entry: WalEntry): Promise<void> {
    return this.#serialize(async () => {
      const handle = this.#usable();
      const step = signStepOf(entry);
      if (step.height < this.#floor) {
        throw new WalError(
          "BELOW_FLOOR",
          `height ${step.height} is below the WAL's compaction height ${this.#floor}`,
        );
      }
      const existing = this.#index.get(keyOf(step));
      if (existing) {
        if (sameEntry(existing, entry)) return;
        throw new WalError(
          "CONFLICT",
          `a different ${step.step} is already recorded for height ${step.height} round ${step.round}`,
        );
      }
      const bytes = frame(encodeEntry(entry));
      try {
        const { bytesWritten } = await handle.write(bytes, 0, bytes.length, this.#size);
        if (bytesWritten !== bytes.length) throw new Error("short write");
        await handle.sync();
      } catch (error) {
        this.#failed = new WalError(
          "FAILED",
          `signing WAL ${this.path}: a write failed (${(error as Error).message}); restart the node`,
          { cause: error },
        );
        throw this.#failed;
      }
      this.#size += bytes.length;
      this.#remember(entry);
    });
  }

  /**
   * Drops every record below `belowHeight` (once those heights are committed) and raises the
   * floor to it, by an atomic replace of the file. A crash at any point leaves the old WAL or
   * the new one, both valid. Lowering the floor is a no-op.
   */
  compact(belowHeight: bigint): Promise<void> {
    return this.#serialize(async () => {
      const old = this.#usable();
      if (belowHeight <= this.#floor) return;
      const kept = this.#entries.filter((e) => signStepOf(e).height >= belowHeight);
      const bytes = concatBytes(header(belowHeight), ...kept.map((e) => frame(encodeEntry(e))));
      try {
        await replaceAtomically(this.path, bytes);
        this.#handle = await open(this.path, "r+");
      } catch (error) {
        this.#failed = new WalError(
          "FAILED",
          `signing WAL ${this.path}: compaction failed (${(error as Error).message}); restart the node`,
          { cause: error },
        );
        throw this.#failed;
      }
      await old.close();
      this.#size = bytes.length;
      this.#floor = belowHeight;
      this.#entries.length = 0;
      this.#index.clear();
      for (const entry of kept) this.#remember(entry);
    });
  }

  /** Waits for pending writes, closes the file and releases the lock. Idempotent. */
  close(): Promise<void> {
    return this.#serialize(async () => {
      const handle = this.#handle;
      if (!handle) return;
      this.#handle = undefined;
      try {
        await handle.close();
      } finally {
        releaseLock(lockPathOf(this.path));
      }
    }).catch((error: unknown) => {
      throw ioError(this.path, error);
    });
  }

  #remember(entry: WalEntry): void {
    const key = keyOf(signStepOf(entry));
    const existing = this.#index.get(key);
    if (existing) {
      if (sameEntry(existing, entry)) return;
      throw new WalError(
        "CORRUPT",
        `signing WAL ${this.path} holds two different records for ${key}: this key signed twice`,
      );
    }
    this.#index.set(key, entry);
    this.#entries.push(entry);
  }

  #usable(): FileHandle {
    if (this.#failed) throw this.#failed;
    if (!this.#handle) throw new WalError("CLOSED", `signing WAL ${this.path} is closed`);
    return this.#handle;
  }

  /** Runs operations one at a time, in call order, whether or not earlier ones failed. */
  #serialize<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation, operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
