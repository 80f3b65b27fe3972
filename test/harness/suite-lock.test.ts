// The multi-process suites' lock: exclusive across processes, reentrant within one, and taken
// over from an owner that died holding it.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, stat, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { SuiteLock } from "./suite-lock.js";

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** A child process that takes the lock at `path`, prints "held", and keeps it until killed. */
function holder(path: string) {
  const module = new URL("./suite-lock.js", import.meta.url).href;
  const code = `const { SuiteLock } = await import(${JSON.stringify(module)});
    await new SuiteLock(${JSON.stringify(path)}).acquire();
    console.log("held");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const held = new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  return { child, held };
}

t.test("a lock held by another process waits; its holder's death frees it", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-lock-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "lock");
  const other = holder(path);
  t.teardown(() => other.child.kill("SIGKILL"));
  await other.held;

  let taken = false;
  const waiting = new SuiteLock(path).acquire().then((release) => {
    taken = true;
    return release;
  });
  await new Promise((r) => setTimeout(r, 600));
  t.notOk(taken, "not taken while the other process holds it");

  other.child.kill("SIGKILL"); // dies holding it: no release
  const release = await waiting;
  t.ok(taken, "taken over from the dead owner");
  await release();
  t.notOk(await exists(path), "released: the lock directory is gone");
});

t.test("reentrant within a process: released when the last holder releases", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-lock-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "lock");
  const lock = new SuiteLock(path);
  const [a, b] = await Promise.all([lock.acquire(), lock.acquire()]);
  await a();
  await a();
  t.ok(await exists(path), "still held by the second holder (a second release does nothing)");
  await b();
  t.notOk(await exists(path), "free once both released");
});

t.test("a lock directory left without an owner is taken over after a while", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-lock-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "lock");
  await mkdir(path);
  const lock = new SuiteLock(path);
  let taken = false;
  const waiting = lock.acquire().then((release) => {
    taken = true;
    return release;
  });
  await new Promise((r) => setTimeout(r, 600));
  t.notOk(taken, "a fresh lock without an owner may be a taker between two calls: wait");
  // Age the directory past the orphan limit.
  const old = new Date(Date.now() - 60_000);
  await utimes(path, old, old);
  await (await waiting)();
  t.ok(taken, "an old ownerless lock is taken over");
});
