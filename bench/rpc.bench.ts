// The RPC server (issue 5): account_get requests per second against a bare fastify handler
// answering a fixed body, loaded by the same client in the same run; and the fan-out of newHeads
// to 1,000 WebSocket subscribers, from the block's commit to each subscriber's receipt.
//
// The node is real (test/rpc/manual-chain.ts): a Chain over a Store in a temporary directory
// with the indexes on its commit hook, a Mempool, and households registered and paid in blocks
// produced in-process and committed with the validator's signature. The clients run in a worker thread (rpc-load.ts) so
// that the server keeps a core to itself, as it would on a machine of its own.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import Fastify from "fastify";
import { buildGenesis } from "../node/genesis.js";
import { nodeRpcBackend } from "../node/rpc-backend.js";
import { startRpcServer } from "../rpc/server.js";
import { signedTx } from "../test/node/chain-fixtures.js";
import { openManualChain } from "../test/rpc/manual-chain.js";
import { actor, genesisJson, hash32, operatorOf } from "../test/vm/helpers.js";
import { type BenchGroup, type Measurement, single } from "./harness.js";
import { type LoadReply, type LoadRequest, wallClock } from "./rpc-load.js";

const HOUSEHOLDS = 1_000;
const CONNECTIONS = 50;
const RUN_MS = 2_000;
const WARMUP_MS = 1_000;
const SUBSCRIBERS = 1_000;
const HEADS = 80;
/** Between heads: deliveries of one head never queue behind the next. */
const HEAD_SPACING_MS = 200;

/** The load worker: one request at a time, answered in order. */
class LoadClient {
  readonly #worker = new Worker(new URL("./rpc-load.js", import.meta.url));

  send<K extends LoadReply["kind"]>(
    request: LoadRequest,
  ): Promise<Extract<LoadReply, { kind: K }>> {
    return new Promise((resolve, reject) => {
      const failed = (error: Error) => {
        this.#worker.off("message", answered);
        reject(error);
      };
      const answered = (reply: Extract<LoadReply, { kind: K }>) => {
        this.#worker.off("error", failed);
        resolve(reply);
      };
      this.#worker.once("message", answered);
      this.#worker.once("error", failed);
      this.#worker.postMessage(request);
    });
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }
}

async function startChain() {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-bench-rpc-"));
  const node = await openManualChain(dir, buildGenesis(genesisJson([1])), {
    mempool: { maxTxsPerAccount: 4 * HOUSEHOLDS },
  });
  const close = async () => {
    await node.store.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { ...node, close };
}

type Node = Awaited<ReturnType<typeof startChain>>;

/** Registers the households and pays each a balance, so account_get reads real records. */
async function populate(node: Node): Promise<string[]> {
  const operator = operatorOf(0);
  let nonce = 0n;
  const addresses: string[] = [];
  for (let i = 0; i < HOUSEHOLDS; i++) {
    const household = actor(10_000 + i);
    addresses.push(household.hex);
    const register = signedTx(operator, nonce++, "registerHousehold", {
      household: household.address,
      meterIdHash: hash32(10_000 + i),
      meterKey: undefined,
      registers: 1,
      baselines: Array.from({ length: 12 }, () => 1000n),
    });
    const pay = signedTx(operator, nonce++, "recordPayment", {
      household: household.address,
      amount: BigInt(1000 + i),
      reference: `bench-${i}`,
    });
    for (const tx of [register, pay]) {
      const added = await node.mempool.add(tx);
      if (!added.ok) throw new Error(`set-up: ${added.code}`);
    }
  }
  while (node.mempool.size > 0) await node.produce();
  return addresses;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function rpc(): Promise<BenchGroup> {
  return {
    title: "RPC server (JSON-RPC over HTTP, WebSocket fan-out)",
    description:
      `account_get on a node with ${HOUSEHOLDS.toLocaleString("en-US")} registered households against a bare fastify handler ` +
      `answering the same response as a fixed body, each loaded by the same node:http keep-alive client over ${CONNECTIONS} ` +
      `connections in a worker thread (runs of ${RUN_MS / 1000} s, interleaved); newHeads fan-out: ${SUBSCRIBERS.toLocaleString("en-US")} ` +
      `WebSocket subscribers in a worker thread, latency from the block's commit to each subscriber's receipt over ${HEADS} heads`,
    targets: [
      {
        description: "account_get at least 40% of bare fastify's request rate",
        check: (r) =>
          (r.get("rpc.account_get")?.rate ?? 0) >= 0.4 * (r.get("rpc.fastify")?.rate ?? Infinity),
      },
      {
        description: `newHeads fan-out to ${SUBSCRIBERS.toLocaleString("en-US")} subscribers: p99 within 100 ms`,
        check: (r) => (r.get("rpc.fanout.p99")?.rate ?? Infinity) <= 100,
      },
    ],
    async run(): Promise<Measurement[]> {
      const node = await startChain();
      const load = new LoadClient();
      const commitTimes = new Map<string, number>();
      // Registered before the server's own listener, so it runs first on every commit.
      node.chain.on("committed", (block) => commitTimes.set(block.height.toString(), wallClock()));
      const backend = nodeRpcBackend({
        chain: node.chain,
        mempool: node.mempool,
        indexes: node.indexes,
      });
      const { server, address } = await startRpcServer(backend, {
        host: "127.0.0.1",
        port: 0,
        maxConnections: SUBSCRIBERS + 100,
        maxConnectionsPerIp: SUBSCRIBERS + 100,
      });
      const bare = Fastify({ logger: false });
      try {
        const addresses = await populate(node);
        const bodies = addresses.map((a, i) =>
          JSON.stringify({ jsonrpc: "2.0", id: i, method: "account_get", params: { address: a } }),
        );
        const url = `http://127.0.0.1:${address.port}/`;
        const sample = await (await fetch(url, { method: "POST", body: bodies[0] })).text();
        if (!sample.includes('"result"')) throw new Error(`account_get failed: ${sample}`);
        bare.post("/", (_request, reply) => {
          void reply.header("content-type", "application/json").send(sample);
        });
        await bare.listen({ host: "127.0.0.1", port: 0 });
        const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}/`;

        const run = async (target: string, durationMs: number) => {
          const reply = await load.send<"http">({
            kind: "http",
            url: target,
            bodies,
            connections: CONNECTIONS,
            durationMs,
          });
          if (reply.errors > 0) throw new Error(`${reply.errors} failed requests to ${target}`);
          return (reply.requests * 1000) / reply.ms;
        };
        await run(bareUrl, WARMUP_MS);
        await run(url, WARMUP_MS);
        const bareRates: number[] = [];
        const ourRates: number[] = [];
        for (let i = 0; i < 3; i++) {
          bareRates.push(await run(bareUrl, RUN_MS));
          ourRates.push(await run(url, RUN_MS));
        }

        await load.send<"subscribed">({
          kind: "subscribe",
          url: `ws://127.0.0.1:${address.port}/ws`,
          clients: SUBSCRIBERS,
        });
        for (let i = 0; i < 3; i++) await node.produce();
        await new Promise((resolve) => setTimeout(resolve, HEAD_SPACING_MS));
        await load.send<"deliveries">({ kind: "deliveries" });
        for (let i = 0; i < HEADS; i++) {
          await node.produce();
          await new Promise((resolve) => setTimeout(resolve, HEAD_SPACING_MS));
        }
        const { byHeight } = await load.send<"deliveries">({ kind: "deliveries" });
        const latencies: number[] = [];
        let missing = 0;
        for (const [height, times] of Object.entries(byHeight)) {
          const committed = commitTimes.get(height);
          if (committed === undefined) continue;
          missing += SUBSCRIBERS - times.length;
          for (const at of times) latencies.push(at - committed);
        }
        missing += (HEADS - Object.keys(byHeight).length) * SUBSCRIBERS;
        latencies.sort((a, b) => a - b);
        const note = missing === 0 ? "every head to every subscriber" : `${missing} not delivered`;
        return [
          {
            id: "rpc.fastify",
            label: "bare fastify, fixed JSON body (baseline)",
            rate: median(bareRates),
            unit: "req/s",
            runs: bareRates,
          },
          {
            id: "rpc.account_get",
            label: "RpcServer account_get",
            rate: median(ourRates),
            unit: "req/s",
            runs: ourRates,
            baseline: "rpc.fastify",
          },
          single(
            "rpc.fanout.p50",
            "newHeads commit → delivery, p50",
            percentile(latencies, 50),
            "ms",
            {
              note,
            },
          ),
          single(
            "rpc.fanout.p99",
            "newHeads commit → delivery, p99",
            percentile(latencies, 99),
            "ms",
            {
              note: `${latencies.length.toLocaleString("en-US")} deliveries`,
            },
          ),
        ];
      } finally {
        await load.send<"closed">({ kind: "close" });
        await load.terminate();
        await bare.close();
        await server.close();
        await node.close();
      }
    },
  };
}
