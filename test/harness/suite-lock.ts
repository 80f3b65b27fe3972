// DESIGN.md §9: multi-process suites run one at a time. tap runs two test files at once on 2
// cores; two networks of node processes side by side would starve each other's consensus
// timeouts and fail for reasons no user meets. Every test that starts a network of processes
// holds this lock (Testnet.create takes it for its callers); other tests run beside it.
//
// The lock is a directory (mkdir is atomic) holding its owner's pid. It is reentrant within a
// process, and a lock whose owner died without releasing it (SIGKILL, a crash) is taken over.
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A lock directory without an owner file this long is a taker that died between two calls. */
const ORPHAN_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SuiteLock {
  #holders = 0;
  #taking: Promise<void> | undefined;
  readonly #owner: string;

  constructor(readonly path: string) {
    this.#owner = join(path, "pid");
  }

  /** Waits for the lock; resolves to its release (which may be called more than once). */
  async acquire(): Promise<() => Promise<void>> {
    if (this.#holders === 0) {
      this.#taking ??= this.#take().finally(() => {
        this.#taking = undefined;
      });
      await this.#taking;
    }
    this.#holders++;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.#holders--;
      if (this.#holders === 0) await rm(this.path, { recursive: true, force: true });
    };
  }

  async #take(): Promise<void> {
    for (;;) {
      try {
        await mkdir(this.path);
        await writeFile(this.#owner, String(process.pid));
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      if (await this.#abandoned()) await rm(this.path, { recursive: true, force: true });
      else await sleep(250);
    }
  }

  async #abandoned(): Promise<boolean> {
    const pid = await readFile(this.#owner, "utf8").then(Number, () => Number.NaN);
    if (!Number.isInteger(pid) || pid <= 0) {
      try {
        return Date.now() - (await stat(this.path)).mtimeMs > ORPHAN_MS;
      } catch {
        return false; // released in the meantime: the next mkdir tries again
      }
    }
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ESRCH";
    }
  }
}

const suite = new SuiteLock(join(tmpdir(), "wattcap-multiprocess-suite.lock"));

/** The lock every multi-process test shares. */
export const acquireSuiteLock = (): Promise<() => Promise<void>> => suite.acquire();

/** For a tap test: holds the lock until the test's teardown. */
export async function holdSuiteLock(t: { teardown(fn: () => unknown): void }): Promise<void> {
  t.teardown(await acquireSuiteLock());
}
