// A real node for the RPC tests: a Chain over a temporary Store with a one-validator genesis,
// the node indexes on its commit hook, a Mempool, blocks produced in-process and committed
// with the validator's signature, and the real RPC server on 127.0.0.1 port 0.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Test } from "tap";
import WebSocket from "ws";
import type { Chain, CommittedBlock } from "../../node/chain.js";
import type { ManualClock } from "../../node/clock.js";
import { buildGenesis } from "../../node/genesis.js";
import type { NodeIndexes } from "../../node/indexes/indexes.js";
import type { Mempool } from "../../node/mempool.js";
import { nodeRpcBackend } from "../../node/rpc-backend.js";
import type { RpcServer, RpcServerOptions } from "../../rpc/server.js";
import { startRpcServer } from "../../rpc/server.js";
import type { Store } from "../../state/store.js";
import { genesisJson } from "../vm/helpers.js";
import { openManualChain } from "./manual-chain.js";

export interface RpcNode {
  readonly chain: Chain;
  readonly store: Store;
  readonly mempool: Mempool;
  readonly indexes: NodeIndexes;
  readonly server: RpcServer;
  readonly clock: ManualClock;
  readonly url: string;
  readonly wsUrl: string;
  /** Produces and commits the next block from the mempool, 1 s after the last. */
  produce(): Promise<CommittedBlock>;
  /** One JSON-RPC call over HTTP: the whole response object. */
  call(method: string, params?: unknown, id?: number | string): Promise<RpcResponse>;
  /** POSTs a raw body: status and parsed JSON (undefined for an empty body). */
  post(body: string | Uint8Array): Promise<{ status: number; json: unknown; headers: Headers }>;
  /** A WebSocket client, open. */
  ws(): Promise<WsClient>;
}

export interface RpcResponse {
  jsonrpc: string;
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export async function startNode(
  t: Pick<Test, "teardown">,
  options: RpcServerOptions = {},
  genesis = buildGenesis(genesisJson([1])),
): Promise<RpcNode> {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-rpc-"));
  const { chain, store, mempool, indexes, clock, produce } = await openManualChain(dir, genesis);
  const backend = nodeRpcBackend({ chain, mempool, indexes });
  const { server, address } = await startRpcServer(backend, {
    host: "127.0.0.1",
    port: 0,
    ...options,
  });
  const sockets = new Set<WebSocket>();
  t.teardown(async () => {
    for (const s of sockets) s.terminate();
    await server.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${address.port}/`;
  const wsUrl = `ws://127.0.0.1:${address.port}/ws`;

  const post = async (body: string | Uint8Array) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const text = await response.text();
    return {
      status: response.status,
      json: text ? JSON.parse(text) : undefined,
      headers: response.headers,
    };
  };
  return {
    chain,
    store,
    mempool,
    indexes,
    server,
    clock,
    url,
    wsUrl,
    produce,
    async call(method, params, id = 1) {
      const { json } = await post(
        JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) }),
      );
      return json as RpcResponse;
    },
    post,
    async ws() {
      const client = await openWs(wsUrl);
      sockets.add(client.socket);
      return client;
    },
  };
}

/** A WebSocket client that queues what it receives. */
export class WsClient {
  readonly messages: unknown[] = [];
  readonly #waiters: Array<() => void> = [];
  #nextId = 1;

  constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      this.messages.push(JSON.parse(String(data)));
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** The first queued message matching `pick`, waiting up to 5 s; it is removed. */
  async next<T = RpcResponse>(pick: (m: RpcResponse) => boolean = () => true): Promise<T> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const i = this.messages.findIndex((m) => pick(m as RpcResponse));
      if (i >= 0) return this.messages.splice(i, 1)[0] as T;
      if (Date.now() > deadline) throw new Error("no matching WebSocket message in 5 s");
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async call(method: string, params?: unknown): Promise<RpcResponse> {
    const id = this.#nextId++;
    this.socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, ...(params ? { params } : {}) }));
    return this.next((m) => m.id === id);
  }

  notification(
    subscription: string,
  ): Promise<{ params: { subscription: string; result: Record<string, unknown> } }> {
    return this.next(
      (m) =>
        (m as unknown as { method?: string }).method === "subscription" &&
        (m as unknown as { params: { subscription: string } }).params.subscription === subscription,
    );
  }

  close(): void {
    this.socket.close();
  }
}

export function openWs(url: string): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const client = new WsClient(socket);
    socket.once("open", () => resolve(client));
    socket.once("error", reject);
  });
}
