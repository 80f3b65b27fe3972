// A real node for the RPC tests: a Chain over a temporary Store with a one-validator genesis,
// the node indexes on its commit hook, a Mempool, blocks produced in-process and committed
// with the validator's signature, and the real RPC server on 127.0.0.1 port 0.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Test } from "tap";
import WebSocket from "ws";
import { proposerFor } from "../../lib/validator.js";
import type { Chain, CommittedBlock } from "../../node/chain.js";
import { Chain as ChainClass } from "../../node/chain.js";
import { ManualClock } from "../../node/clock.js";
import { buildGenesis } from "../../node/genesis.js";
import { NodeIndexes } from "../../node/indexes/indexes.js";
import { Mempool } from "../../node/mempool.js";
import { Producer } from "../../node/producer.js";
import { nodeRpcBackend } from "../../node/rpc-backend.js";
import type { RpcServer, RpcServerOptions } from "../../rpc/server.js";
import { startRpcServer } from "../../rpc/server.js";
import { Store } from "../../state/store.js";
import { signCommit } from "../node/chain-fixtures.js";
import { genesisJson, T0 } from "../vm/helpers.js";

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
  const store = await Store.open(dir);
  let chainRef: Chain | undefined;
  const indexes = new NodeIndexes(store, {
    validatorSetAt: (h) => {
      try {
        return chainRef?.validatorSetAt(h);
      } catch {
        return undefined;
      }
    },
  });
  const clock = new ManualClock(T0 + 1000n);
  const chain = await ChainClass.open(store, genesis, { clock, indexHooks: [indexes.hook] });
  chainRef = chain;
  const mempool = new Mempool(chain);
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
    async produce() {
      clock.advance(1000n);
      const height = chain.head().height + 1n;
      const proposer = proposerFor(chain.validatorSetAt(height), height, 0).address;
      const proposal = await new Producer(chain, mempool, { proposer }).buildProposal(
        height,
        0,
        clock.now(),
      );
      const commit = signCommit(chain.validatorSetAt(height), height, proposal.executed.hash);
      const committed = await chain.commitBlock(proposal.executed, commit);
      mempool.update(committed);
      return committed;
    },
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
