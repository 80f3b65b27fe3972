// The RPC server (issue 5): JSON-RPC 2.0 over HTTP POST / and WebSocket /ws on one port, with
// fastify 5 for HTTP and ws 8 for upgrades. Requests are parsed here (not by fastify) so that
// every malformed input gets its JSON-RPC error; params are validated against rpc/methods.ts's
// schemas before any handler runs. Limits answer with a clear error and never crash the node:
// body size (HTTP 413), batch length, a token bucket per IP (HTTP 429; an allow-list and,
// in devnets, loopback are exempt; the map of IPs is bounded), WebSocket connections (in all
// and per IP, refused at the upgrade with HTTP 503) and subscriptions per connection.
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyInstance } from "fastify";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { type AccessPolicy, checkAccess, checkProofAccess, policyNow } from "./access.js";
import type { RpcBackend } from "./backend.js";
import {
  type ErrorObject,
  errorObject,
  INTERNAL_ERROR,
  INVALID_PARAMS,
  INVALID_REQUEST,
  LIMIT_EXCEEDED,
  METHOD_NOT_FOUND,
  PARSE_ERROR,
  RpcError,
} from "./errors.js";
import type { HandlerContext } from "./handlers/context.js";
import { handlers } from "./handlers/index.js";
import { type Json, parseAddressJson, parseBytes } from "./json.js";
import { methodsByName, type ParamsOf } from "./methods.js";
import { openRpcDocument } from "./openrpc.js";
import { validate } from "./schema.js";
import { SessionStore } from "./sessions.js";
import { Client, DigestPayloads, type SubscriptionFilter } from "./subscriptions.js";

export interface RateLimit {
  /** Tokens added per second; each call (each batch entry) takes one. */
  readonly perSecond: number;
  readonly burst: number;
}

export interface RpcServerOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly maxBodyBytes?: number;
  readonly maxBatch?: number;
  /** Off when undefined. */
  readonly rateLimit?: RateLimit;
  /** IPs never rate limited. */
  readonly allowList?: readonly string[];
  /** Loopback clients are not rate limited (devnets). */
  readonly exemptLoopback?: boolean;
  /** How many IPs' buckets are kept; the least recently seen is forgotten first. */
  readonly maxTrackedIps?: number;
  readonly maxConnections?: number;
  readonly maxConnectionsPerIp?: number;
  readonly maxSubscriptionsPerConnection?: number;
  /** Unsent bytes a WebSocket client may fall behind by before it is disconnected. */
  readonly maxBufferedBytes?: number;
  /** Allowed origins ("*" for any); no CORS headers when undefined. */
  readonly cors?: "*" | readonly string[];
  /** Restricts the `personal` methods' household data to signed requests (rpc/access.ts). */
  readonly access?: AccessPolicy;
  /** The version rpc_discover reports. */
  readonly version?: string;
  /** Told about handler failures (internal errors); the client only sees -32603. */
  readonly onError?: (error: unknown, method: string) => void;
  /** Mounts further routes on the same port before it listens (the node's explorer). */
  readonly routes?: (app: FastifyInstance) => void;
}

export const RPC_DEFAULTS = {
  host: "127.0.0.1",
  port: 8545,
  maxBodyBytes: 1024 * 1024,
  maxBatch: 100,
  maxTrackedIps: 10_000,
  maxConnections: 256,
  maxConnectionsPerIp: 32,
  maxSubscriptionsPerConnection: 32,
  maxBufferedBytes: 4 * 1024 * 1024,
} as const;

type Id = string | number | null;

interface Response {
  jsonrpc: "2.0";
  id: Id;
  result?: Json;
  error?: ErrorObject;
}

function failure(id: Id, error: ErrorObject): Response {
  return { jsonrpc: "2.0", id, error };
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** A token bucket per IP in a bounded map kept in least-recently-seen order. */
class RateLimiter {
  readonly #limit: RateLimit;
  readonly #max: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(limit: RateLimit, maxTracked: number) {
    this.#limit = limit;
    this.#max = maxTracked;
  }

  take(ip: string, cost: number): boolean {
    const now = performance.now();
    const bucket = this.#buckets.get(ip) ?? { tokens: this.#limit.burst, at: now };
    this.#buckets.delete(ip);
    bucket.tokens = Math.min(
      this.#limit.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.#limit.perSecond,
    );
    bucket.at = now;
    const ok = bucket.tokens >= cost;
    if (ok) bucket.tokens -= cost;
    this.#buckets.set(ip, bucket);
    if (this.#buckets.size > this.#max) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
    return ok;
  }

  get tracked(): number {
    return this.#buckets.size;
  }
}

type Transport = "http" | "ws";

export class RpcServer {
  readonly #backend: RpcBackend;
  readonly #options: RpcServerOptions;
  readonly #http: FastifyInstance;
  readonly #wss: WebSocketServer;
  readonly #limiter: RateLimiter | undefined;
  readonly #allow: ReadonlySet<string>;
  readonly #clients = new Set<Client>();
  readonly #connectionsByIp = new Map<string, number>();
  readonly #context: HandlerContext;
  #unsubscribe: (() => void) | undefined;

  constructor(backend: RpcBackend, options: RpcServerOptions = {}) {
    this.#backend = backend;
    this.#options = options;
    const maxBody = options.maxBodyBytes ?? RPC_DEFAULTS.maxBodyBytes;
    this.#limiter = options.rateLimit
      ? new RateLimiter(options.rateLimit, options.maxTrackedIps ?? RPC_DEFAULTS.maxTrackedIps)
      : undefined;
    this.#allow = new Set(options.allowList ?? []);
    let document: { [key: string]: Json } | undefined;
    const policy = options.access ?? { auditors: [] };
    const sessions = new SessionStore({
      now: () => policyNow(policy),
      random: (length) => crypto.getRandomValues(new Uint8Array(length)),
      ttlMs: policy.sessionTtlMs === undefined ? undefined : BigInt(policy.sessionTtlMs),
      max: policy.maxSessions,
    });
    this.#context = {
      backend,
      access: { policy, sessions },
      discover: () => {
        document ??= openRpcDocument(options.version ?? "0.1.0");
        return document;
      },
    };

    this.#http = Fastify({ bodyLimit: maxBody, logger: false });
    this.#http.removeAllContentTypeParsers();
    this.#http.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
      done(null, body);
    });
    this.#http.setErrorHandler((error, _request, reply) => {
      const code = (error as { code?: string }).code;
      if (code === "FST_ERR_CTP_BODY_TOO_LARGE") {
        void reply
          .code(413)
          .header("content-type", "application/json")
          .send(
            JSON.stringify(
              failure(null, {
                code: LIMIT_EXCEEDED,
                message: `request body over ${maxBody} bytes`,
                data: { limit: "maxBodyBytes" },
              }),
            ),
          );
        return;
      }
      void reply
        .code(400)
        .header("content-type", "application/json")
        .send(JSON.stringify(failure(null, { code: INVALID_REQUEST, message: "bad request" })));
    });
    this.#http.addHook("onRequest", (request, reply, done) => {
      this.#corsHeaders(request.headers.origin, (name, value) => reply.header(name, value));
      done();
    });
    this.#http.options("/", (_request, reply) => {
      void reply
        .code(204)
        .header("access-control-allow-methods", "POST, OPTIONS")
        .header("access-control-allow-headers", "content-type")
        .send();
    });
    this.#http.post("/", async (request, reply) => {
      const ip = request.ip;
      const text = typeof request.body === "string" ? request.body : "";
      const out = await this.#handleText(text, ip, "http", undefined);
      if (out.limited) reply.code(429);
      if (out.body === undefined) return reply.code(204).send();
      return reply.header("content-type", "application/json").send(out.body);
    });

    options.routes?.(this.#http);

    this.#wss = new WebSocketServer({ noServer: true, maxPayload: maxBody });
    this.#http.server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#upgrade(request, socket, head),
    );
  }

  async listen(): Promise<AddressInfo> {
    await this.#http.listen({
      host: this.#options.host ?? RPC_DEFAULTS.host,
      port: this.#options.port ?? RPC_DEFAULTS.port,
    });
    this.#unsubscribe = this.#backend.onCommitted((digest) => {
      if (this.#clients.size === 0) return;
      const payloads = new DigestPayloads(digest, this.#backend);
      for (const client of this.#clients) client.publish(payloads);
    });
    return this.#http.server.address() as AddressInfo;
  }

  get connections(): number {
    return this.#clients.size;
  }

  async close(): Promise<void> {
    this.#unsubscribe?.();
    for (const socket of this.#wss.clients) socket.terminate();
    this.#wss.close();
    await this.#http.close();
  }

  #corsHeaders(origin: string | undefined, set: (name: string, value: string) => void): void {
    const cors = this.#options.cors;
    if (cors === undefined) return;
    if (cors === "*") set("access-control-allow-origin", "*");
    else if (origin !== undefined && cors.includes(origin)) {
      set("access-control-allow-origin", origin);
      set("vary", "origin");
    }
  }

  #limited(ip: string, cost: number): boolean {
    if (!this.#limiter || this.#allow.has(ip)) return false;
    if (this.#options.exemptLoopback && LOOPBACK.has(ip)) return false;
    return !this.#limiter.take(ip, cost);
  }

  // -------------------------------------------------------------------------------------------
  // Framing.

  /** Handles one HTTP body or WebSocket message; `body` undefined: nothing to send back. */
  async #handleText(
    text: string,
    ip: string,
    transport: Transport,
    client: Client | undefined,
  ): Promise<{ body: string | undefined; limited: boolean }> {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      if (this.#limited(ip, 1)) return this.#rateLimited();
      return {
        body: JSON.stringify(failure(null, { code: PARSE_ERROR, message: "parse error" })),
        limited: false,
      };
    }
    if (Array.isArray(message)) {
      if (this.#limited(ip, Math.max(1, message.length))) return this.#rateLimited();
      if (message.length === 0) {
        const error = { code: INVALID_REQUEST, message: "empty batch" };
        return { body: JSON.stringify(failure(null, error)), limited: false };
      }
      const maxBatch = this.#options.maxBatch ?? RPC_DEFAULTS.maxBatch;
      if (message.length > maxBatch) {
        const error = {
          code: LIMIT_EXCEEDED,
          message: `a batch holds at most ${maxBatch} requests`,
          data: { limit: "maxBatch" },
        };
        return { body: JSON.stringify(failure(null, error)), limited: false };
      }
      const responses = await Promise.all(message.map((m) => this.#call(m, transport, client)));
      const present = responses.filter((r): r is Response => r !== undefined);
      return { body: present.length ? JSON.stringify(present) : undefined, limited: false };
    }
    if (this.#limited(ip, 1)) return this.#rateLimited();
    const response = await this.#call(message, transport, client);
    return { body: response ? JSON.stringify(response) : undefined, limited: false };
  }

  #rateLimited(): { body: string; limited: true } {
    const error = {
      code: LIMIT_EXCEEDED,
      message: "rate limit exceeded",
      data: { limit: "rateLimit" },
    };
    return { body: JSON.stringify(failure(null, error)), limited: true };
  }

  /** One request object: a response, or undefined for a notification. */
  async #call(
    message: unknown,
    transport: Transport,
    client: Client | undefined,
  ): Promise<Response | undefined> {
    if (message === null || typeof message !== "object" || Array.isArray(message)) {
      return failure(null, { code: INVALID_REQUEST, message: "a request is an object" });
    }
    const request = message as Record<string, unknown>;
    const rawId = request.id;
    const validId =
      rawId === undefined ||
      rawId === null ||
      typeof rawId === "string" ||
      (typeof rawId === "number" && Number.isFinite(rawId));
    const id: Id = validId && rawId !== undefined ? (rawId as Id) : null;
    if (!validId) return failure(null, { code: INVALID_REQUEST, message: "bad id" });
    if (request.jsonrpc !== "2.0") {
      return failure(id, { code: INVALID_REQUEST, message: 'jsonrpc must be "2.0"' });
    }
    if (typeof request.method !== "string") {
      return failure(id, { code: INVALID_REQUEST, message: "method must be a string" });
    }
    const notification = !Object.hasOwn(request, "id");
    const response = await this.#dispatch(request.method, request.params, transport, client).then(
      (result): Response => ({ jsonrpc: "2.0", id, result }),
      (error: unknown): Response => {
        if (!(error instanceof RpcError)) this.#options.onError?.(error, String(request.method));
        return failure(id, errorObject(error));
      },
    );
    return notification ? undefined : response;
  }

  async #dispatch(
    method: string,
    rawParams: unknown,
    transport: Transport,
    client: Client | undefined,
  ): Promise<Json> {
    const spec = methodsByName.get(method);
    if (!spec) throw new RpcError(METHOD_NOT_FOUND, `method not found: ${method.slice(0, 64)}`);
    if (spec.websocketOnly && transport !== "ws") {
      throw new RpcError(METHOD_NOT_FOUND, `${method} is only available over WebSocket`, {
        transport: "websocket",
      });
    }
    const params = rawParams === undefined ? {} : rawParams;
    if (params === null || typeof params !== "object" || Array.isArray(params)) {
      throw new RpcError(INVALID_PARAMS, "params must be an object of named parameters");
    }
    const problem = validate(spec.params, params);
    if (problem) {
      throw new RpcError(INVALID_PARAMS, `${problem.path} ${problem.message}`, {
        path: problem.path,
      });
    }
    if (spec.personal && this.#options.access) {
      this.#checkAccess(this.#options.access, method, params);
    }
    // A proof shows the value it proves: household records need the same signed request.
    if (method === "state_getProof" && this.#options.access) {
      const sessions = this.#context.access.sessions;
      const proofParams = params as ParamsOf<"state_getProof">;
      checkProofAccess(this.#backend, this.#options.access, sessions, proofParams);
    }
    if (method === "subscribe" && client) {
      const topic = (params as ParamsOf<"subscribe">).topic;
      // Household events and readings are household data; trades, auctions and heads are public.
      if (this.#options.access && (topic === "household" || topic === "readings")) {
        this.#checkAccess(this.#options.access, method, params);
      }
      return {
        subscription: client.subscribe(subscriptionFilter(params as ParamsOf<"subscribe">)),
      };
    }
    if (method === "unsubscribe" && client) {
      return { removed: client.unsubscribe((params as ParamsOf<"unsubscribe">).subscription) };
    }
    const handler = handlers[spec.name] as
      | ((p: unknown, ctx: HandlerContext) => unknown)
      | undefined;
    if (!handler) throw new RpcError(INTERNAL_ERROR, "internal error");
    return (await handler(params, this.#context)) as Json;
  }

  #checkAccess(policy: AccessPolicy, method: string, params: object): void {
    const sessions = this.#context.access.sessions;
    checkAccess(this.#backend, policy, sessions, method, params as Record<string, unknown>);
  }

  // -------------------------------------------------------------------------------------------
  // WebSocket.

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (request.url ?? "").split("?")[0];
    const ip = request.socket.remoteAddress ?? "unknown";
    if (path !== "/ws") {
      refuseUpgrade(socket, 404, "not found", "WebSocket endpoint is /ws");
      return;
    }
    const maxConnections = this.#options.maxConnections ?? RPC_DEFAULTS.maxConnections;
    const perIp = this.#options.maxConnectionsPerIp ?? RPC_DEFAULTS.maxConnectionsPerIp;
    const fromIp = this.#connectionsByIp.get(ip) ?? 0;
    if (this.#clients.size >= maxConnections || fromIp >= perIp) {
      const which = this.#clients.size >= maxConnections ? "maxConnections" : "maxConnectionsPerIp";
      refuseUpgrade(socket, 503, "service unavailable", `connection limit reached (${which})`);
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#connected(ws, ip, socket));
  }

  #connected(ws: WebSocket, ip: string, stream: Duplex): void {
    const client = new Client(ws, {
      stream,
      maxSubscriptions:
        this.#options.maxSubscriptionsPerConnection ?? RPC_DEFAULTS.maxSubscriptionsPerConnection,
      maxBufferedBytes: this.#options.maxBufferedBytes ?? RPC_DEFAULTS.maxBufferedBytes,
    });
    this.#clients.add(client);
    this.#connectionsByIp.set(ip, (this.#connectionsByIp.get(ip) ?? 0) + 1);
    const gone = () => {
      if (!this.#clients.delete(client)) return;
      client.markClosed();
      const left = (this.#connectionsByIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.#connectionsByIp.delete(ip);
      else this.#connectionsByIp.set(ip, left);
    };
    ws.on("close", gone);
    ws.on("error", () => {
      gone();
      ws.terminate();
    });
    ws.on("message", (data: RawData) => {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString("utf8")
        : Buffer.from(data as ArrayBuffer).toString("utf8");
      this.#handleText(text, ip, "ws", client).then(
        (out) => {
          if (out.body !== undefined) client.send(out.body);
        },
        (error: unknown) => this.#options.onError?.(error, "ws"),
      );
    });
  }
}

function subscriptionFilter(params: ParamsOf<"subscribe">): SubscriptionFilter {
  const filter: {
    topic: SubscriptionFilter["topic"];
    address?: Uint8Array;
    utility?: string;
    meterIdHash?: Uint8Array;
  } = { topic: params.topic };
  try {
    if (params.address !== undefined) filter.address = parseAddressJson(params.address);
    if (params.meterIdHash !== undefined) filter.meterIdHash = parseBytes(params.meterIdHash, 32);
  } catch (e) {
    throw new RpcError(INVALID_PARAMS, (e as Error).message);
  }
  if (params.utility !== undefined) filter.utility = params.utility;
  if (params.topic === "household" && filter.address === undefined) {
    throw new RpcError(INVALID_PARAMS, "params.address is required for the household topic");
  }
  return filter;
}

function refuseUpgrade(socket: Duplex, status: number, text: string, message: string): void {
  const body = JSON.stringify(
    failure(null, {
      code: status === 404 ? METHOD_NOT_FOUND : LIMIT_EXCEEDED,
      message,
      ...(status === 404 ? {} : { data: { limit: message } }),
    }),
  );
  socket.on("error", () => undefined);
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Starts an RPC server over a backend; resolves once it listens. */
export async function startRpcServer(
  backend: RpcBackend,
  options: RpcServerOptions = {},
): Promise<{ server: RpcServer; address: AddressInfo }> {
  const server = new RpcServer(backend, options);
  const address = await server.listen();
  return { server, address };
}
