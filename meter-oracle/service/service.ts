// The running oracle (docs/oracle.md): every configured meter's source → pipeline → signed by
// the meter → outbox; the submitter drains the outbox onto the chain. Prometheus metrics and
// the status on an optional HTTP port; stop() (SIGINT/SIGTERM in the CLI) ends the feeds and
// the submitter between steps and closes the outbox. A SIGKILL at any point loses nothing: the
// outbox is the only state, and every change to it is one atomic, fsynced write.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { Counter, Gauge, Registry } from "prom-client";
import { silentLogger } from "../../lib/log.js";
import { WattcapClient } from "../../rpc/client/client.js";
import { clientChain, type OracleChain } from "./chain.js";
import type { MeterConfig, OracleConfig, SourceConfig } from "./config.js";
import { feedMeter } from "./feed.js";
import { LondonFiles } from "./london-files.js";
import { type MeterSigner, signerFor } from "./meter-sign.js";
import { Outbox } from "./outbox.js";
import { type OracleStatus, statusOf } from "./status.js";
import { Submitter, TxRefusedError } from "./submitter.js";

export interface OracleMetrics {
  readonly registry: Registry;
  readonly read: Counter;
  readonly submitted: Counter;
  readonly confirmed: Counter<"result">;
  readonly rejected: Counter<"code">;
  readonly txRefused: Counter<"code">;
  readonly faults: Counter;
  readonly backlog: Gauge;
  readonly inFlight: Gauge;
}

export function createOracleMetrics(backlog: () => number, inFlight: () => number): OracleMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    read: new Counter({
      name: "wattcap_oracle_readings_read_total",
      help: "Readings read from sources and queued in the outbox",
      registers,
    }),
    submitted: new Counter({
      name: "wattcap_oracle_readings_submitted_total",
      help: "Readings sent to the chain in a submitReadings transaction",
      registers,
    }),
    confirmed: new Counter({
      name: "wattcap_oracle_readings_confirmed_total",
      help: "Readings the chain holds: accepted, or the duplicate of its last reading",
      labelNames: ["result"] as const,
      registers,
    }),
    rejected: new Counter({
      name: "wattcap_oracle_readings_rejected_total",
      help: "Readings the chain rejected, by reject code",
      labelNames: ["code"] as const,
      registers,
    }),
    txRefused: new Counter({
      name: "wattcap_oracle_tx_refused_total",
      help: "Batches refused by the node or rejected whole on chain (readings queued again)",
      labelNames: ["code"] as const,
      registers,
    }),
    faults: new Counter({
      name: "wattcap_oracle_faults_total",
      help: "Failed rounds (node unreachable, timeouts), each followed by a backoff",
      registers,
    }),
    backlog: new Gauge({
      name: "wattcap_oracle_backlog",
      help: "Readings queued or submitted and not yet settled",
      registers,
      collect() {
        this.set(backlog());
      },
    }),
    inFlight: new Gauge({
      name: "wattcap_oracle_in_flight",
      help: "Transactions sent (or written to send) and not yet settled",
      registers,
      collect() {
        this.set(inFlight());
      },
    }),
  };
}

export interface ServiceOptions {
  /** The oracle's secret key (config.oracleKeyFile, read by the caller). */
  readonly oracleSecretKey: Uint8Array;
  readonly log?: Logger;
  /** The node, for tests; by default the SDK client on config.rpcUrl. */
  readonly chain?: OracleChain;
  /** Chain time now (unix ms), for simulated meters; default the wall clock. */
  readonly now?: () => bigint;
  /** Stop once every source has ended and the backlog is drained (a one-off import). */
  readonly untilDrained?: boolean;
  /** Replaces the sources of these meters (by meter id), for an import. */
  readonly sources?: ReadonlyMap<string, SourceConfig>;
  /** Feed only these meters (all when absent). */
  readonly meters?: readonly MeterConfig[];
}

export class OracleService {
  readonly metrics: OracleMetrics;
  readonly #outbox: Outbox;
  readonly #submitter: Submitter;
  readonly #config: OracleConfig;
  readonly #abort = new AbortController();
  readonly #sourceFaults: string[] = [];
  #server: Server | undefined;
  #done: Promise<void> = Promise.resolve();

  private constructor(
    config: OracleConfig,
    outbox: Outbox,
    submitter: Submitter,
    metrics: OracleMetrics,
  ) {
    this.#config = config;
    this.#outbox = outbox;
    this.#submitter = submitter;
    this.metrics = metrics;
  }

  /**
   * Settles when the service has stopped: by stop(), or, with untilDrained, once drained.
   * Rejects if a source failed (the other meters were still fed and submitted).
   */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Reads the meter keys and opens the outbox (StoreError LOCKED if another oracle holds it), then runs. */
  static async start(config: OracleConfig, options: ServiceOptions): Promise<OracleService> {
    const log = options.log ?? silentLogger();
    const meters = options.meters ?? config.meters;
    const signers: MeterSigner[] = [];
    for (const meter of meters) signers.push(await signerFor(meter.key));
    const outbox = await Outbox.open(config.outboxDir);
    const chain = options.chain ?? clientChain(new WattcapClient({ url: config.rpcUrl }));
    // The submitter's events feed the metrics (declared below: events come only once it runs),
    // and the metrics read its pipeline.
    const submitter: Submitter = new Submitter(outbox, chain, {
      chainId: config.chainId,
      oracleSecretKey: options.oracleSecretKey,
      maxReadings: config.batch.maxReadings,
      maxInFlight: config.batch.maxInFlight,
      retry: config.retry,
      idleMs: config.batch.intervalMs,
      events: {
        submitted: (tx) => {
          metrics.submitted.inc(tx.readings.length);
          log.debug({ tx: tx.id, nonce: tx.nonce, readings: tx.readings.length }, "batch sent");
        },
        settled: (tx, height, outcomes) => {
          for (const o of outcomes) {
            if (o.kind === "rejected") metrics.rejected.inc({ code: o.code });
            else metrics.confirmed.inc({ result: o.kind });
          }
          log.info({ tx: tx.id, height, readings: outcomes.length }, "batch settled");
        },
        txRefused: (tx, code, message, requeued) => {
          metrics.txRefused.inc({ code });
          log.warn(
            { tx: tx.id, nonce: tx.nonce, code, message, requeued: requeued.map((r) => r.id) },
            requeued.length > 0
              ? "batch refused; its readings (and those of the batches it stranded) are queued again"
              : "batch refused; its same bytes go again after the backoff",
          );
        },
        fault: (error, retryInMs) => {
          if (!(error instanceof TxRefusedError)) metrics.faults.inc();
          log.warn({ error: (error as Error).message, retryInMs }, "submission fault; backing off");
        },
      },
    });
    const metrics = createOracleMetrics(
      () => outbox.backlog(),
      () => submitter.inFlight,
    );
    log.info(
      { oracle: submitter.address, meters: meters.length, backlog: outbox.backlog() },
      "oracle starting",
    );

    const service = new OracleService(config, outbox, submitter, metrics);
    if (config.http) {
      try {
        service.#server = await service.#listen(config.http);
      } catch (error) {
        await outbox.close();
        throw error;
      }
    }
    service.#done = service.#run(meters, signers, options, log);
    return service;
  }

  async #run(
    meters: readonly MeterConfig[],
    signers: readonly MeterSigner[],
    options: ServiceOptions,
    log: Logger,
  ): Promise<void> {
    const signal = this.#abort.signal;
    const now = options.now ?? (() => BigInt(Date.now()));
    const londonFiles = new LondonFiles();
    // A broken source stops only its own meter; the others go on.
    const feeds = Promise.all(
      meters.map((meter, i) =>
        feedMeter(this.#outbox, this.#config, meter, signers[i] as MeterSigner, {
          signal,
          now,
          tickMs: this.#config.batch.intervalMs,
          source: options.sources?.get(meter.meterId),
          onQueued: (n) => this.metrics.read.inc(n),
          londonFiles,
        }).then(
          (report) => log.info({ meter: meter.meterId, report }, "source read"),
          (error: unknown) => {
            const message = `${meter.meterId}: ${(error as Error).message}`;
            this.#sourceFaults.push(message);
            log.error({ meter: meter.meterId, error: (error as Error).message }, "source failed");
          },
        ),
      ),
    );
    try {
      if (options.untilDrained) {
        // Submission starts at once: the first batches are on their way while later readings
        // are still read and signed.
        let fed = false;
        await Promise.all([
          feeds.then(() => {
            fed = true;
          }),
          this.#submitter.run(signal, { untilDrained: true, sourcesEnded: () => fed }),
        ]);
      } else {
        await Promise.all([feeds, this.#submitter.run(signal)]);
      }
    } finally {
      await this.#closeServer();
      await this.#outbox.close();
      log.info("oracle stopped");
    }
    if (this.#sourceFaults.length > 0) {
      throw new Error(`source(s) failed: ${this.#sourceFaults.join("; ")}`);
    }
  }

  /** The oracle's account address (EIP-55). */
  get address(): string {
    return this.#submitter.address;
  }

  /** The port the HTTP endpoint listens on, if any. */
  get port(): number | undefined {
    return (this.#server?.address() as AddressInfo | null)?.port;
  }

  status(): Promise<OracleStatus> {
    return statusOf(this.#outbox, this.#config, {
      source: "service",
      lastFault:
        [this.#submitter.lastFault, ...this.#sourceFaults].filter((f) => f).join("; ") || undefined,
    });
  }

  /** Ends the feeds and the submitter (between steps) and closes the outbox. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.done.catch(() => undefined);
  }

  async #listen(listen: { host: string; port: number }): Promise<Server> {
    const server = createServer((req, res) => {
      const path = (req.url ?? "").split("?")[0];
      const reply = (work: Promise<{ type: string; body: string }>) =>
        work.then(
          ({ type, body }) => res.writeHead(200, { "content-type": type }).end(body),
          (error: unknown) => res.writeHead(500).end(`${(error as Error).message}\n`),
        );
      if (req.method !== "GET") res.writeHead(405, { allow: "GET" }).end();
      else if (path === "/metrics") {
        reply(
          this.metrics.registry
            .metrics()
            .then((body) => ({ type: this.metrics.registry.contentType, body })),
        );
      } else if (path === "/status") {
        reply(this.status().then((s) => ({ type: "application/json", body: JSON.stringify(s) })));
      } else res.writeHead(404, { "content-type": "text/plain" }).end("try /metrics or /status\n");
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listen.port, listen.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return server;
  }

  async #closeServer(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
