// The meter oracle as a process for tests: `wattcap oracle start --config FILE`, started, SIGKILLed,
// stopped and polled through its status endpoint; and the readings a node holds for a meter.
// Used by test/meter-oracle/oracle-e2e.test.ts (one node) and test/harness/testnet-oracle.ts (an
// oracle inside the multi-process fault runs).
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { to0x } from "../../lib/bytes.js";
import type { OracleStatus } from "../../meter-oracle/service/status.js";
import type { WattcapClient } from "../../rpc/client/index.js";
import type { ResultOf } from "../../rpc/methods.js";

const CLI = fileURLToPath(new URL("../../cli/wattcap.js", import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export interface OracleProcessOptions {
  /** Appends the process's stdout and stderr here; without it stderr is inherited. */
  readonly log?: string;
  readonly logLevel?: string;
}

export class OracleProcess {
  #child: ChildProcess | undefined;

  constructor(
    readonly configFile: string,
    /** The config's `http` endpoint's /status URL. */
    readonly statusUrl: string,
    private readonly options: OracleProcessOptions = {},
  ) {}

  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error("the oracle is already running");
    const args = [CLI, "oracle", "start", "--config", this.configFile];
    args.push("--log-level", this.options.logLevel ?? "warn");
    const log = this.options.log === undefined ? undefined : openSync(this.options.log, "a");
    try {
      const child = spawn(process.execPath, args, {
        stdio: ["ignore", log ?? "ignore", log ?? "inherit"],
      });
      live.add(child);
      child.once("exit", () => live.delete(child));
      this.#child = child;
    } finally {
      if (log !== undefined) closeSync(log);
    }
  }

  async #signal(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.#child;
    if (child === undefined) return null;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    }
    this.#child = undefined;
    return child.exitCode;
  }

  /** A crash: nothing is flushed or closed. */
  async kill(): Promise<void> {
    await this.#signal("SIGKILL");
  }

  /** SIGTERM and wait; the exit code (0 for a clean stop, null if it died by a signal). */
  stop(): Promise<number | null> {
    return this.#signal("SIGTERM");
  }

  /** The last lines of its log file, for a failure report. */
  logTail(lines = 30): string {
    const file = this.options.log;
    let text = "(no log file)";
    try {
      if (file !== undefined) text = readFileSync(file, "utf8");
    } catch {
      text = "(no log)";
    }
    return `--- oracle (${file}) ---\n${text.split("\n").slice(-lines).join("\n")}`;
  }

  /** GET /status, or undefined while it is down or not yet listening. */
  async status(): Promise<OracleStatus | undefined> {
    try {
      const response = await fetch(this.statusUrl, { signal: AbortSignal.timeout(5000) });
      return response.ok ? ((await response.json()) as OracleStatus) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Polls the status until `ok` holds; throws with the last status on timeout. */
  async waitFor(
    what: string,
    ok: (s: OracleStatus) => boolean | Promise<boolean>,
    timeoutMs = 60_000,
    pollMs = 10,
  ): Promise<OracleStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status();
      if (s && (await ok(s))) return s;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
      }
      await sleep(pollMs);
    }
  }
}

export type MeterReadingOnChain = ResultOf<"readings_byMeter">["items"][number];

/** Every reading a node's index holds for a meter (accepted, duplicate or rejected), paged. */
export async function readingsOnChain(
  client: WattcapClient,
  meterIdHash: Uint8Array,
): Promise<MeterReadingOnChain[]> {
  const out: MeterReadingOnChain[] = [];
  let cursor: string | null = null;
  do {
    const page: ResultOf<"readings_byMeter"> = await client.rpc.readings_byMeter({
      meterIdHash: to0x(meterIdHash),
      cursor,
      limit: 100,
    });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

/** Chain times accepted more than once among a meter's readings: a snapshot on chain twice. */
export function acceptedTwice(readings: readonly MeterReadingOnChain[]): string[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const r of readings) {
    if (r.result !== "accepted") continue;
    if (seen.has(r.time)) twice.push(r.time);
    seen.add(r.time);
  }
  return twice;
}
