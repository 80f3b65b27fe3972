// The typed client SDK. Every RPC method is a typed function on `client.rpc`, built from
// rpc/methods.ts's table (so the SDK follows the server's list instead of repeating it), with
// params and results typed by RpcMethods. Subscriptions run over WebSocket and are both
// callback handles and async iterators. Browser-safe.
import type { Header } from "../../lib/block.js";
import type { Commit } from "../../lib/commit.js";
import type { Validator } from "../../lib/validator.js";
import type { Json } from "../json.js";
import {
  type MethodName,
  methods,
  type ParamsOf,
  type ResultOf,
  type SubscriptionTopic,
} from "../methods.js";
import { commitFromJson, headerFromJson, validatorSetFromJson } from "./convert.js";
import type { HeaderSource } from "./light-client.js";
import {
  type HttpOptions,
  HttpTransport,
  type Transport,
  TransportError,
  type WebSocketConstructor,
  WsTransport,
} from "./transport.js";

/** Methods that answer over HTTP as well as WebSocket. */
export type CallName = Exclude<MethodName, "subscribe" | "unsubscribe">;

export type RpcCalls = {
  readonly [M in CallName]: (
    ...params: Record<string, never> extends ParamsOf<M>
      ? [params?: ParamsOf<M>]
      : [params: ParamsOf<M>]
  ) => Promise<ResultOf<M>>;
};

export type SubscriptionFilter = Omit<ParamsOf<"subscribe">, "topic">;

export interface ClientOptions {
  /** The node's HTTP JSON-RPC URL, e.g. http://127.0.0.1:8545. */
  readonly url: string;
  /** The WebSocket URL; default: `url`'s host with ws(s):// and the server's path /ws. */
  readonly wsUrl?: string;
  /** Defaults to the global fetch. */
  readonly fetch?: HttpOptions["fetch"];
  /** Where there is no global WebSocket (Node 20): e.g. the `ws` package's class. */
  readonly WebSocket?: WebSocketConstructor;
  readonly timeoutMs?: number;
  readonly reconnect?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
}

/** A subscription: iterate its events, or pass a handler; close() ends it. */
export interface Subscription<T = Json> extends AsyncIterable<T> {
  close(): Promise<void>;
}

export class WattcapClient {
  readonly rpc: RpcCalls;
  readonly #http: Transport;
  #ws: WsTransport | undefined;

  constructor(readonly options: ClientOptions) {
    this.#http = new HttpTransport(options.url, {
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
    });
    const calls: Record<string, (params?: Json) => Promise<Json>> = {};
    for (const spec of methods) {
      if (spec.websocketOnly) continue;
      calls[spec.name] = (params = {}) => this.#http.request(spec.name, params);
    }
    this.rpc = calls as unknown as RpcCalls;
  }

  /** One call by name; the same as `client.rpc[method](params)`. */
  call<M extends CallName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    return this.#http.request(method, params as unknown as Json) as Promise<ResultOf<M>>;
  }

  get wsUrl(): string {
    if (this.options.wsUrl !== undefined) return this.options.wsUrl;
    const url = new URL(this.options.url);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.pathname = "/ws";
    return url.toString();
  }

  #socket(): WsTransport {
    this.#ws ??= new WsTransport(this.wsUrl, {
      WebSocket: this.options.WebSocket,
      timeoutMs: this.options.timeoutMs,
      reconnect: this.options.reconnect,
    });
    return this.#ws;
  }

  /**
   * Subscribes to a topic (newHeads, household, trades, auctions, readings). With `onEvent`
   * events go to it; otherwise iterate the result. Either way close() ends the subscription.
   */
  async subscribe<T = Json>(
    topic: SubscriptionTopic,
    filter: SubscriptionFilter = {},
    onEvent?: (event: T) => void,
  ): Promise<Subscription<T>> {
    const queue: T[] = [];
    const waiting: ((r: IteratorResult<T>) => void)[] = [];
    let failure: Error | undefined;
    let done = false;
    const wake = () => {
      while (waiting.length > 0 && (queue.length > 0 || done || failure)) {
        const next = waiting.shift()!;
        if (queue.length > 0) next({ value: queue.shift()!, done: false });
        else next({ value: undefined, done: true });
      }
    };
    const end = await this.#socket().subscribe(
      { topic, ...filter } as unknown as Json,
      (event) => {
        if (onEvent) onEvent(event as T);
        else {
          queue.push(event as T);
          wake();
        }
      },
      (error) => {
        failure = error;
        wake();
      },
    );
    const close = async () => {
      done = true;
      wake();
      await end();
    };
    return {
      close,
      [Symbol.asyncIterator]: () => ({
        next: () => {
          if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
          if (failure) return Promise.reject(failure);
          if (done) return Promise.resolve({ value: undefined, done: true });
          return new Promise<IteratorResult<T>>((resolve) => waiting.push(resolve));
        },
        return: async () => {
          await close();
          return { value: undefined, done: true };
        },
      }),
    };
  }

  /** The node as a source of signed headers and sets, which the light client checks. */
  headerSource(): HeaderSource {
    return {
      signedHeader: async (height: bigint): Promise<{ header: Header; commit: Commit }> => {
        const block = await this.rpc.chain_getBlock({ height: height.toString() });
        if (block === null) throw new TransportError("BAD_RESPONSE", `no block ${height}`);
        if (block.commit === null)
          throw new TransportError("BAD_RESPONSE", `block ${height} has no commit yet`);
        return { header: headerFromJson(block.header), commit: commitFromJson(block.commit) };
      },
      validatorSet: async (height: bigint): Promise<Validator[]> => {
        const answer = await this.rpc.chain_getValidators({ height: height.toString() });
        return validatorSetFromJson(answer.validators);
      },
    };
  }

  close(): void {
    this.#http.close();
    this.#ws?.close();
    this.#ws = undefined;
  }
}
