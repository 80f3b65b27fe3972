// JSON-RPC 2.0 transports for the client SDK: HTTP through fetch, and WebSocket through the
// global WebSocket (browsers, Node ≥ 22) or a constructor the caller passes in (`ws` on
// Node 20). The WebSocket reconnects with a capped backoff and re-subscribes what was live, so
// a subscriber sees a gap at worst, never a silent end. Browser-safe.
import type { ErrorObject } from "../errors.js";
import type { Json } from "../json.js";

/** The node answered with a JSON-RPC error: `code` is one of rpc/errors.ts's. */
export class RpcClientError extends Error {
  override name = "RpcClientError";
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Json,
  ) {
    super(message);
  }

  /** The vm reject code a refused transaction carries in data.reject, if any. */
  get reject(): string | undefined {
    const data = this.data;
    if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
    const reject = data.reject;
    return typeof reject === "string" ? reject : undefined;
  }
}

export type TransportErrorCode = "UNREACHABLE" | "BAD_RESPONSE" | "TIMEOUT" | "CLOSED";

/** The node could not be asked, or its answer was not JSON-RPC. */
export class TransportError extends Error {
  override name = "TransportError";
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Transport {
  request(method: string, params: Json): Promise<Json>;
  close(): void;
}

export type FetchFn = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

interface Response {
  id?: unknown;
  result?: Json;
  error?: ErrorObject;
}

function settle(response: Response): Json {
  if (response.error !== undefined) {
    const { code, message, data } = response.error;
    throw new RpcClientError(
      typeof code === "number" ? code : -32603,
      typeof message === "string" ? message : "error",
      data,
    );
  }
  if (!("result" in response)) throw new TransportError("BAD_RESPONSE", "no result and no error");
  return response.result as Json;
}

function parseResponse(text: string): Response {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TransportError("BAD_RESPONSE", "the answer is not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new TransportError("BAD_RESPONSE", "the answer is not a JSON-RPC response");
  }
  return json as Response;
}

export interface HttpOptions {
  /** Per request; default 30 s. */
  readonly timeoutMs?: number;
  /** Defaults to the global fetch. */
  readonly fetch?: FetchFn;
}

export class HttpTransport implements Transport {
  #nextId = 1;
  readonly #fetch: FetchFn;
  readonly #timeoutMs: number;

  constructor(
    readonly url: string,
    options: HttpOptions = {},
  ) {
    const global = (globalThis as { fetch?: FetchFn }).fetch;
    // Browsers refuse a fetch called as a method of another object ("Illegal invocation").
    const fetchFn = options.fetch ?? global?.bind(globalThis);
    if (fetchFn === undefined) throw new TransportError("UNREACHABLE", "no fetch in this runtime");
    this.#fetch = fetchFn;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async request(method: string, params: Json): Promise<Json> {
    const id = this.#nextId++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    let text: string;
    try {
      const response = await this.#fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        signal: controller.signal,
      });
      text = await response.text();
      if (!response.ok && text.length === 0) {
        throw new TransportError("BAD_RESPONSE", `HTTP ${response.status} from ${this.url}`);
      }
    } catch (e) {
      if (e instanceof TransportError) throw e;
      if (controller.signal.aborted) {
        throw new TransportError(
          "TIMEOUT",
          `${method}: no answer from ${this.url} in ${this.#timeoutMs} ms`,
        );
      }
      throw new TransportError("UNREACHABLE", `cannot reach ${this.url}: ${causeOf(e)}`);
    } finally {
      clearTimeout(timer);
    }
    return settle(parseResponse(text));
  }

  close(): void {}
}

function causeOf(e: unknown): string {
  const error = e as { message?: string; cause?: { code?: string; message?: string } };
  return error.cause?.code ?? error.cause?.message ?? error.message ?? String(e);
}

// The part of the WebSocket API this module uses, so `ws`'s class fits as well as the DOM's.
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string): void;
  close(): void;
}
export type WebSocketConstructor = new (url: string) => SocketLike;

export interface WsOptions {
  readonly WebSocket?: WebSocketConstructor;
  readonly timeoutMs?: number;
  /** Reconnect backoff: first delay, doubling up to maxDelayMs. */
  readonly reconnect?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
}

interface Pending {
  resolve(value: Json): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** A live subscription: its params (to re-subscribe), its current server id, its handler. */
interface Live {
  readonly params: Json;
  serverId: string | undefined;
  readonly onEvent: (event: Json) => void;
  readonly onError: (error: Error) => void;
}

const OPEN = 1;

export class WsTransport implements Transport {
  #socket: SocketLike | undefined;
  #opening: Promise<SocketLike> | undefined;
  #nextId = 1;
  #closed = false;
  #delay: number;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #pending = new Map<number, Pending>();
  readonly #live = new Set<Live>();
  readonly #ctor: WebSocketConstructor;
  readonly #timeoutMs: number;
  readonly #initialDelay: number;
  readonly #maxDelay: number;

  constructor(
    readonly url: string,
    options: WsOptions = {},
  ) {
    const ctor =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (ctor === undefined) {
      throw new TransportError("UNREACHABLE", "no WebSocket in this runtime: pass one in");
    }
    this.#ctor = ctor;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#initialDelay = options.reconnect?.initialDelayMs ?? 250;
    this.#maxDelay = options.reconnect?.maxDelayMs ?? 10_000;
    this.#delay = this.#initialDelay;
  }

  #open(): Promise<SocketLike> {
    if (this.#closed) return Promise.reject(new TransportError("CLOSED", "the client is closed"));
    if (this.#socket?.readyState === OPEN) return Promise.resolve(this.#socket);
    this.#opening ??= new Promise<SocketLike>((resolve, reject) => {
      const socket = new this.#ctor(this.url);
      let opened = false;
      socket.onopen = () => {
        opened = true;
        this.#socket = socket;
        this.#opening = undefined;
        this.#delay = this.#initialDelay;
        resolve(socket);
        void this.#resubscribe();
      };
      socket.onmessage = (event) => this.#receive(event.data);
      socket.onerror = () => {};
      socket.onclose = () => {
        this.#opening = undefined;
        if (this.#socket === socket) this.#socket = undefined;
        for (const [id, p] of this.#pending) {
          clearTimeout(p.timer);
          p.reject(new TransportError("CLOSED", "the connection closed"));
          this.#pending.delete(id);
        }
        for (const live of this.#live) live.serverId = undefined;
        if (!opened) reject(new TransportError("UNREACHABLE", `cannot connect to ${this.url}`));
        this.#scheduleReconnect();
      };
    });
    return this.#opening;
  }

  /** Only live subscriptions need the link back; plain requests reconnect on demand. */
  #scheduleReconnect(): void {
    if (this.#closed || this.#live.size === 0) return;
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#maxDelay);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#open().catch(() => {});
    }, delay);
  }

  async #resubscribe(): Promise<void> {
    for (const live of this.#live) {
      if (live.serverId !== undefined) continue;
      try {
        live.serverId = await this.#subscribeOnce(live.params);
      } catch (e) {
        live.onError(e as Error);
      }
    }
  }

  #receive(data: unknown): void {
    if (typeof data !== "string") data = String(data);
    let message: Response & { method?: string; params?: { subscription?: string; result?: Json } };
    try {
      message = parseResponse(data as string);
    } catch {
      return;
    }
    if (message.method === "subscription" && message.params) {
      const { subscription, result } = message.params;
      for (const live of this.#live) {
        if (live.serverId === subscription && result !== undefined) live.onEvent(result);
      }
      return;
    }
    if (typeof message.id !== "number") return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    clearTimeout(pending.timer);
    try {
      pending.resolve(settle(message));
    } catch (e) {
      pending.reject(e as Error);
    }
  }

  async request(method: string, params: Json): Promise<Json> {
    const socket = await this.#open();
    const id = this.#nextId++;
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TransportError("TIMEOUT", `${method}: no answer in ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
  }

  async #subscribeOnce(params: Json): Promise<string> {
    const result = await this.request("subscribe", params);
    const id = (result as { subscription?: unknown } | null)?.subscription;
    if (typeof id !== "string") throw new TransportError("BAD_RESPONSE", "subscribe: no id");
    return id;
  }

  /**
   * Subscribes and keeps the subscription across reconnects. The returned function ends it.
   * `onError` hears of a re-subscription that failed after a reconnect.
   */
  async subscribe(
    params: Json,
    onEvent: (event: Json) => void,
    onError: (error: Error) => void = () => {},
  ): Promise<() => Promise<void>> {
    const live: Live = { params, serverId: undefined, onEvent, onError };
    live.serverId = await this.#subscribeOnce(params);
    this.#live.add(live);
    return async () => {
      if (!this.#live.delete(live)) return;
      const id = live.serverId;
      if (id !== undefined && this.#socket?.readyState === OPEN) {
        await this.request("unsubscribe", { subscription: id }).catch(() => {});
      }
    };
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    this.#live.clear();
    this.#socket?.close();
    this.#socket = undefined;
  }
}
