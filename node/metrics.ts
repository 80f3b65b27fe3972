// Prometheus metrics (prom-client). Each node owns a Registry, so several nodes in one process
// (tests, simulations) keep separate numbers. Heights are bigints in the node; gauges hold
// float64, exact up to 2^53, which no height will reach.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface NodeMetrics {
  readonly registry: Registry;
  /** wattcap_height: the last committed height. */
  readonly height: Gauge;
  /** wattcap_round: the consensus round at the current height (0 when all goes well). */
  readonly round: Gauge;
  /** wattcap_block_interval_seconds: time between consecutive commits (the block time). */
  readonly blockInterval: Histogram;
  /** wattcap_peers: connected libp2p peers. */
  readonly peers: Gauge;
  /** wattcap_mempool_txs and wattcap_mempool_bytes: what waits to be included. */
  readonly mempoolTxs: Gauge;
  readonly mempoolBytes: Gauge;
  /** wattcap_committed_txs_total: committed transactions; rate() of it is tx/s. */
  readonly committedTxs: Counter;
  /**
   * wattcap_cursor_progress_ratio{job}: how far the current pass of a resumable per-household
   * job (finalisation, compliance, clearing, ...) has got, 0 to 1 (DESIGN §6, bounded work).
   */
  readonly cursorProgress: Gauge<"job">;
  /** wattcap_sync_progress_ratio: synced height over the best known height, 0 to 1. */
  readonly syncProgress: Gauge;
  /** wattcap_sync_target_height: the best height peers report. */
  readonly syncTargetHeight: Gauge;
}

export interface MetricsOptions {
  /** Also export process metrics (CPU, memory, event-loop lag, GC); default true. */
  readonly processMetrics?: boolean;
  /** Labels on every series, e.g. { moniker }. */
  readonly labels?: Readonly<Record<string, string>>;
}

export function createMetrics(options: MetricsOptions = {}): NodeMetrics {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels({ ...options.labels });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    height: new Gauge({ name: "wattcap_height", help: "Last committed height", registers }),
    round: new Gauge({
      name: "wattcap_round",
      help: "Consensus round at the current height",
      registers,
    }),
    blockInterval: new Histogram({
      name: "wattcap_block_interval_seconds",
      help: "Time between consecutive commits",
      buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60],
      registers,
    }),
    peers: new Gauge({ name: "wattcap_peers", help: "Connected peers", registers }),
    mempoolTxs: new Gauge({
      name: "wattcap_mempool_txs",
      help: "Transactions in the mempool",
      registers,
    }),
    mempoolBytes: new Gauge({
      name: "wattcap_mempool_bytes",
      help: "Bytes of transactions in the mempool",
      registers,
    }),
    committedTxs: new Counter({
      name: "wattcap_committed_txs_total",
      help: "Committed transactions",
      registers,
    }),
    cursorProgress: new Gauge({
      name: "wattcap_cursor_progress_ratio",
      help: "Progress of the current pass of a resumable per-household job (0 to 1)",
      labelNames: ["job"] as const,
      registers,
    }),
    syncProgress: new Gauge({
      name: "wattcap_sync_progress_ratio",
      help: "Synced height over the best height known from peers (0 to 1)",
      registers,
    }),
    syncTargetHeight: new Gauge({
      name: "wattcap_sync_target_height",
      help: "Best height known from peers",
      registers,
    }),
  };
}

/** The exposition a scrape gets, for a server that mounts it on its own route. */
export async function exposition(
  registry: Registry,
): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export interface MetricsServerOptions {
  /** Served as JSON at GET /status when given (the node's head, round and peers). */
  readonly status?: () => unknown;
  /** Runs before each scrape, to refresh gauges that are sampled rather than pushed. */
  readonly beforeScrape?: () => void;
}

/** A small HTTP server answering GET /metrics (and GET /status, if given) on the metrics port. */
export class MetricsServer {
  private constructor(
    private readonly server: Server,
    /** The bound port (the chosen one when started with port 0). */
    readonly port: number,
  ) {}

  static async start(
    registry: Registry,
    listen: { readonly host: string; readonly port: number },
    options: MetricsServerOptions = {},
  ): Promise<MetricsServer> {
    const { status, beforeScrape } = options;
    const send = (res: ServerResponse, head: boolean, type: string, body: string) => {
      res.writeHead(200, { "content-type": type });
      res.end(head ? undefined : body);
    };
    const fail = (res: ServerResponse, error: unknown) =>
      res.writeHead(500, { "content-type": "text/plain" }).end(`${(error as Error).message}\n`);
    const server = createServer((req, res) => {
      const path = (req.url ?? "").split("?")[0];
      const head = req.method === "HEAD";
      if (req.method !== "GET" && !head) {
        res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end();
        return;
      }
      if (path === "/status" && status) {
        try {
          send(res, head, "application/json", `${JSON.stringify(status())}\n`);
        } catch (error) {
          fail(res, error);
        }
        return;
      }
      if (path !== "/metrics") {
        const routes = status ? "/metrics or /status" : "/metrics";
        res.writeHead(404, { "content-type": "text/plain" }).end(`not found; try ${routes}\n`);
        return;
      }
      beforeScrape?.();
      exposition(registry).then(
        ({ contentType, body }) => send(res, head, contentType, body),
        (error: unknown) => fail(res, error),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listen.port, listen.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new MetricsServer(server, (server.address() as AddressInfo).port);
  }

  /** Stops listening and drops open scrape connections (Prometheus keeps them alive). */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
