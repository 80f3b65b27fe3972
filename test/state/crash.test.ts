// A writer process is SIGKILLed at random moments while it commits a deterministic stream of
// blocks. After every kill the store must reopen at the last complete height (one the writer
// had started, and no earlier than the last it reported done), pass its integrity check, and
// hold exactly the state of a fresh recomputation of heights 1..h; the writer then resumes at
// h + 1.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import t from "tap";
import { toHex } from "../../lib/bytes.js";
import { Store } from "../../state/store.js";
import { blockOf, freshRoot, modelState } from "./fixtures/chain.js";
import { tempDir } from "./fixtures/temp.js";

const WRITER = fileURLToPath(new URL("./fixtures/writer.js", import.meta.url));
const CLI = fileURLToPath(new URL("../../cli/wattcap.js", import.meta.url));
const SEED = 5;
const WRITES = 200;
const KEEP = 4;
const CYCLES = 10;
const KILL_SEED = 0x5eed;

/** xorshift32: the kill moments are pseudo-random but replayable from KILL_SEED. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

interface Progress {
  resume?: bigint;
  started?: bigint;
  done?: bigint;
}

/** Starts the writer and resolves once it has opened the store and said where it resumes. */
async function startWriter(dir: string): Promise<{ child: ChildProcess; progress: Progress }> {
  const child = spawn(process.execPath, [WRITER, dir, `${SEED}`, `${WRITES}`, `${KEEP}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const progress: Progress = {};
  let stderr = "";
  let pending = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const resumed = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const [word, n] = line.split(" ");
        if (word === "resume" || word === "start" || word === "done") {
          const height = BigInt(n!);
          if (word === "resume") {
            progress.resume = height;
            resolve();
          } else if (word === "start") progress.started = height;
          else progress.done = height;
        }
      }
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`writer exited (${code ?? signal}) before resuming: ${stderr}`)),
    );
  });
  await resumed;
  return { child, progress };
}

function cli(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stderr });
    });
  });
}

t.test("a store killed at random moments reopens at the last complete height", async (t) => {
  const dir = await tempDir(t);
  const next = random(KILL_SEED);
  let head = 0n;
  let midCommit = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const { child, progress } = await startWriter(dir);
    t.teardown(() => {
      child.kill("SIGKILL");
    });
    t.equal(progress.resume, head + 1n, `cycle ${cycle}: the writer resumes after the head`);
    if (cycle === 0) {
      await t.rejects(Store.open(dir), {
        code: "LOCKED",
        message: `database ${dir} is in use by another process (LOCK held)`,
      });
      const check = await cli("state", "check", "--db", dir);
      t.equal(check.code, 69, "state check on a store in use exits EXIT_UNAVAILABLE");
      t.match(
        check.stderr,
        /^wattcap: database .* is in use by another process \(LOCK held\) \[LOCKED\]\n$/,
      );
    }
    // Mostly short runs, so kills land early in a run as well as deep into it.
    await sleep(Math.floor(next() ** 2 * 2000));
    const exited = once(child, "close");
    child.kill("SIGKILL");
    await exited;

    const store = await Store.open(dir, { keepVersions: KEEP });
    try {
      const h = store.head()?.height ?? 0n;
      const { started, done } = progress;
      t.ok(h >= (done ?? head), `cycle ${cycle}: head ${h} is not before the last done ${done}`);
      t.ok(
        h <= (started ?? head),
        `cycle ${cycle}: head ${h} is not after the last started ${started}`,
      );
      if (started !== undefined && h === started && done !== started) midCommit++;
      t.doesNotThrow(() => store.checkIntegrity(), `cycle ${cycle}: integrity holds`);
      if (h > 0n) {
        const model = modelState(SEED, h, WRITES);
        t.equal(
          toHex(store.head()!.stateRoot),
          toHex(freshRoot(model)),
          `cycle ${cycle}: the root at ${h} equals a fresh recomputation`,
        );
        t.same(store.head()!.blockHash, blockOf(h).blockHash);
        const flat = await store.state().scan(new Uint8Array());
        t.same(
          flat.map(([k, v]) => `${toHex(k)}=${toHex(v)}`),
          [...model].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${toHex(v)}`),
          `cycle ${cycle}: the flat state equals the recomputed state`,
        );
      }
      head = h;
    } finally {
      await store.close();
    }
  }
  t.ok(head > BigInt(CYCLES), `the writer made progress across kills (head ${head})`);
  t.comment(
    `final head ${head}; ${midCommit} kills landed between a commit's write and its report`,
  );
});
