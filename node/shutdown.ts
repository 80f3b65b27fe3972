// Graceful shutdown on SIGINT/SIGTERM. The node registers a closer for each part as it starts
// it; a signal closes them in reverse order (RPC and networking stop before the store and the
// WAL they write to), within one time budget. A closer that fails is logged and the rest still
// run: the WAL and the store must be closed even if the network hangs. A second signal, or an
// exhausted budget, exits at once: everything the node needs after a crash is already fsynced.
import type { Logger } from "../lib/log.js";

export type Closer = () => Promise<void> | void;

export type ShutdownSignal = "SIGINT" | "SIGTERM";
const SIGNALS: readonly ShutdownSignal[] = ["SIGINT", "SIGTERM"];

/** The conventional status of a process ended by a signal: 128 + its number. */
const SIGNAL_EXIT: Record<ShutdownSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** What the handlers attach to; `process` in production. */
export interface SignalSource {
  on(signal: ShutdownSignal, listener: () => void): unknown;
  off(signal: ShutdownSignal, listener: () => void): unknown;
}

export interface ShutdownOptions {
  readonly logger: Logger;
  /** The budget for all closers together. */
  readonly timeoutMs: number;
  /** Ends the process; process.exit by default. */
  readonly exit?: (code: number) => void;
  readonly signals?: SignalSource;
}

export class Shutdown {
  readonly #closers: { name: string; close: Closer }[] = [];
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #exit: (code: number) => void;
  readonly #signals: SignalSource;
  readonly #listeners = new Map<ShutdownSignal, () => void>();
  #running: Promise<number> | undefined;

  constructor(options: ShutdownOptions) {
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs;
    this.#exit = options.exit ?? ((code) => process.exit(code));
    this.#signals = options.signals ?? process;
  }

  /** Adds a part to close; parts close in the reverse of the order they were registered. */
  register(name: string, close: Closer): void {
    if (this.#running) throw new Error(`cannot register ${name}: shutdown has begun`);
    this.#closers.push({ name, close });
  }

  get stopping(): boolean {
    return this.#running !== undefined;
  }

  /** Handles SIGINT and SIGTERM until uninstall(). */
  install(): void {
    for (const signal of SIGNALS) {
      if (this.#listeners.has(signal)) continue;
      const listener = () => this.#onSignal(signal);
      this.#listeners.set(signal, listener);
      this.#signals.on(signal, listener);
    }
  }

  uninstall(): void {
    for (const [signal, listener] of this.#listeners) this.#signals.off(signal, listener);
    this.#listeners.clear();
  }

  /**
   * Closes every part and ends the process: status 0 if all closed in time, 1 if not. Calling it
   * again returns the same run.
   */
  run(reason: string): Promise<number> {
    this.#running ??= this.#closeAll(reason).then((code) => {
      this.#exit(code);
      return code;
    });
    return this.#running;
  }

  #onSignal(signal: ShutdownSignal): void {
    if (this.#running) {
      this.#logger.warn({ signal }, "second signal: exiting without waiting for shutdown");
      this.#exit(SIGNAL_EXIT[signal]);
      return;
    }
    void this.run(signal);
  }

  async #closeAll(reason: string): Promise<number> {
    this.#logger.info({ reason, parts: this.#closers.length }, "shutting down");
    const deadline = performance.now() + this.#timeoutMs;
    let code = 0;
    for (const { name, close } of [...this.#closers].reverse()) {
      const remaining = deadline - performance.now();
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<"expired">((resolve) => {
        timer = setTimeout(() => resolve("expired"), Math.max(0, remaining));
      });
      try {
        const outcome = await Promise.race([Promise.resolve().then(close), expired]);
        if (outcome === "expired") {
          this.#logger.error(
            { part: name, timeoutMs: this.#timeoutMs },
            "shutdown timed out; exiting without closing the remaining parts",
          );
          return 1;
        }
        this.#logger.debug({ part: name }, "closed");
      } catch (error) {
        this.#logger.error({ part: name, err: error }, "closing failed");
        code = 1;
      } finally {
        clearTimeout(timer);
      }
    }
    this.#logger.info({ code }, "shutdown complete");
    return code;
  }
}
