// The explorer's view of the RPC: the client SDK's typed calls, plus live subscriptions that
// pages can start and stop synchronously (the SDK's subscribe is async; a page may be gone
// before its subscription is confirmed, and must then end it at once).

import type { Subscription, WattcapClient } from "../../rpc/client/index.js";
import type { SubscriptionTopic } from "../../rpc/methods.js";

export type { Api } from "./session.js";

export interface SubscribeParams {
  readonly topic: SubscriptionTopic;
  readonly address?: string;
  readonly utility?: string;
  readonly meterIdHash?: string;
  /** A session token, for the household and readings topics. */
  readonly auth?: { readonly session: string };
}

export type LiveState = "connecting" | "open" | "failed";

/** Live updates over the client's WebSocket, which reconnects with backoff on its own. */
export class Live {
  readonly #client: WattcapClient;
  readonly #listeners = new Set<(state: LiveState) => void>();

  constructor(client: WattcapClient) {
    this.#client = client;
  }

  onState(listener: (state: LiveState) => void): void {
    this.#listeners.add(listener);
  }

  #emit(state: LiveState): void {
    for (const l of this.#listeners) l(state);
  }

  /** Subscribes; the returned function ends it, whether or not it was confirmed yet. */
  subscribe(params: SubscribeParams, onResult: (result: unknown) => void): () => void {
    let ended = false;
    let subscription: Subscription | undefined;
    const { topic, ...filter } = params;
    this.#emit("connecting");
    this.#client
      .subscribe(topic, filter, (event) => {
        if (!ended) onResult(event);
      })
      .then((s) => {
        subscription = s;
        if (ended) void s.close();
        else this.#emit("open");
      })
      .catch(() => this.#emit("failed"));
    return () => {
      ended = true;
      void subscription?.close();
    };
  }
}

/** Where the RPC is: `?rpc=` beats config.json (written by serve.ts), which beats same-origin. */
export async function rpcUrl(location: Location, fetcher: typeof fetch): Promise<string> {
  const fromQuery = new URLSearchParams(location.search).get("rpc");
  if (fromQuery && /^https?:\/\//.test(fromQuery)) return fromQuery;
  try {
    const res = await fetcher(new URL("config.json", location.href), { cache: "no-cache" });
    if (res.ok) {
      const config = (await res.json()) as { rpc?: unknown };
      if (typeof config.rpc === "string" && /^https?:\/\//.test(config.rpc)) return config.rpc;
    }
  } catch {
    // No config.json: served by a node, whose RPC is this origin.
  }
  return `${location.origin}/`;
}

/** The server takes WebSocket upgrades at /ws on the RPC's port. */
export function wsUrlOf(rpc: string): string {
  const url = new URL(rpc);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/$/, "")}/ws`;
  return url.toString();
}
