// The RPC benchmark's clients, run in a worker thread so that they use the second core and the
// server under test keeps the first: an HTTP load generator (node:http with a keep-alive Agent,
// N connections each sending its next POST as soon as the last is answered) and a crowd of
// WebSocket subscribers to newHeads that note when each head arrives. The same client code
// loads our server and the bare fastify baseline.
import http from "node:http";
import { performance } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";
import WebSocket from "ws";

export type LoadRequest =
  | {
      readonly kind: "http";
      readonly url: string;
      /** Request bodies, sent round-robin. */
      readonly bodies: readonly string[];
      readonly connections: number;
      readonly durationMs: number;
    }
  | { readonly kind: "subscribe"; readonly url: string; readonly clients: number }
  | { readonly kind: "deliveries" }
  | { readonly kind: "close" };

export type LoadReply =
  | {
      readonly kind: "http";
      readonly requests: number;
      readonly ms: number;
      readonly errors: number;
    }
  | { readonly kind: "subscribed"; readonly clients: number }
  /** Per head height: the wall-clock ms (timeOrigin-based) at which each subscriber got it. */
  | { readonly kind: "deliveries"; readonly byHeight: Record<string, number[]> }
  | { readonly kind: "closed" };

/** Milliseconds since the epoch with sub-ms precision, comparable across threads. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

async function httpLoad(
  request: Extract<LoadRequest, { kind: "http" }>,
): Promise<Extract<LoadReply, { kind: "http" }>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: request.connections });
  const url = new URL(request.url);
  let requests = 0;
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const deadline = start + request.durationMs;
  const one = (body: string) =>
    new Promise<void>((resolve) => {
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.on("data", () => {});
          res.on("end", () => {
            if (res.statusCode === 200) requests++;
            else errors++;
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const loop = async () => {
    while (performance.now() < deadline) {
      await one(request.bodies[next++ % request.bodies.length]!);
    }
  };
  await Promise.all(Array.from({ length: request.connections }, loop));
  const ms = performance.now() - start;
  agent.destroy();
  return { kind: "http", requests, ms, errors };
}

const sockets: WebSocket[] = [];
const byHeight = new Map<string, number[]>();

function subscriber(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    sockets.push(socket);
    socket.once("error", reject);
    socket.once("open", () => {
      socket.send(
        JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "subscribe",
          params: { topic: "newHeads" },
        }),
      );
    });
    socket.on("message", (data) => {
      const at = wallClock();
      const message = JSON.parse(String(data)) as {
        id?: number;
        params?: { result?: { height?: string } };
      };
      if (message.id === 1) {
        resolve();
        return;
      }
      const height = message.params?.result?.height;
      if (height === undefined) return;
      const times = byHeight.get(height) ?? [];
      times.push(at);
      byHeight.set(height, times);
    });
  });
}

async function handle(request: LoadRequest): Promise<LoadReply> {
  switch (request.kind) {
    case "http":
      return httpLoad(request);
    case "subscribe":
      // In groups, so the server's accept queue is never the thing measured.
      for (let i = 0; i < request.clients; i += 50) {
        const group = Math.min(50, request.clients - i);
        await Promise.all(Array.from({ length: group }, () => subscriber(request.url)));
      }
      return { kind: "subscribed", clients: sockets.length };
    case "deliveries": {
      const out = Object.fromEntries(byHeight);
      byHeight.clear();
      return { kind: "deliveries", byHeight: out };
    }
    case "close":
      for (const s of sockets.splice(0)) s.terminate();
      return { kind: "closed" };
  }
}

parentPort?.on("message", (request: LoadRequest) => {
  void handle(request).then((reply) => parentPort?.postMessage(reply));
});
