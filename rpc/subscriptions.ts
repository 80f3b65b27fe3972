// WebSocket subscriptions (issue 5): newHeads, household (one address's events), trades,
// auctions and readings, each sent as a JSON-RPC notification
// {"jsonrpc":"2.0","method":"subscription","params":{"subscription":id,"result":…}}.
//
// Every client has a bounded send buffer: a client that does not read fast enough to keep its
// socket's unsent bytes under the bound is disconnected (close code SLOW_CONSUMER), so no
// client can make the node's memory grow.
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { equalBytes } from "../lib/bytes.js";
import { decode } from "../lib/codec.js";
import { eventNames } from "../node/indexes/extract.js";
import { tables } from "../vm/tables.js";
import type { CommittedDigest, RpcBackend } from "./backend.js";
import { LIMIT_EXCEEDED, RpcError } from "./errors.js";
import { headerJson } from "./handlers/context.js";
import { addressJson, bigintJson, bytesJson, type Json, toJson } from "./json.js";
import { SUBSCRIPTION_NOTIFICATION, type SubscriptionTopic } from "./methods.js";

/** Close code for a client whose unsent data passed the bound (4000-4999: application codes). */
export const SLOW_CONSUMER = 4008;

export interface SubscriptionFilter {
  readonly topic: SubscriptionTopic;
  readonly address?: Uint8Array;
  readonly utility?: string;
  readonly meterIdHash?: Uint8Array;
}

export interface ClientOptions {
  readonly maxSubscriptions: number;
  /** Unsent bytes allowed on the socket before the client is dropped. */
  readonly maxBufferedBytes: number;
  /**
   * The connection's TCP stream, corked while a loop iteration's answers are sent so that they
   * leave in one write: under load a node answers hundreds of requests per second on one
   * connection, and a write system call each cost more than building the answers.
   */
  readonly stream?: Duplex;
}

/** One WebSocket client: its subscriptions and its guarded send. */
export class Client {
  readonly #socket: WebSocket;
  readonly #options: ClientOptions;
  readonly #subscriptions = new Map<string, SubscriptionFilter>();
  #next = 1;
  #closed = false;
  #corked = false;

  constructor(socket: WebSocket, options: ClientOptions) {
    this.#socket = socket;
    this.#options = options;
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  subscribe(filter: SubscriptionFilter): string {
    if (this.#subscriptions.size >= this.#options.maxSubscriptions) {
      throw new RpcError(
        LIMIT_EXCEEDED,
        `at most ${this.#options.maxSubscriptions} subscriptions per connection`,
        { limit: "maxSubscriptionsPerConnection" },
      );
    }
    const id = `0x${(this.#next++).toString(16)}`;
    this.#subscriptions.set(id, filter);
    return id;
  }

  unsubscribe(id: string): boolean {
    return this.#subscriptions.delete(id);
  }

  /**
   * Sends a text frame unless the client is too far behind, in which case it is disconnected.
   * A notification comes as UTF-8 bytes encoded once for every client that gets it.
   */
  send(text: string | Buffer): void {
    if (this.#closed) return;
    if (this.#socket.bufferedAmount + text.length > this.#options.maxBufferedBytes) {
      this.drop(SLOW_CONSUMER, "slow consumer: send buffer full");
      return;
    }
    const stream = this.#options.stream;
    if (stream && !this.#corked) {
      this.#corked = true;
      stream.cork();
      setImmediate(() => {
        this.#corked = false;
        stream.uncork();
      });
    }
    this.#socket.send(text, { binary: false });
  }

  drop(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriptions.clear();
    this.#socket.close(code, reason);
    // A client that does not read will not read the close frame either.
    const socket = this.#socket;
    setTimeout(() => socket.terminate(), 1000).unref();
  }

  markClosed(): void {
    this.#closed = true;
    this.#subscriptions.clear();
  }

  /** Notifications for one block, as the subscriptions select them. */
  publish(payloads: DigestPayloads): void {
    for (const [id, filter] of this.#subscriptions) {
      for (const result of payloads.select(filter)) {
        if (this.#closed) return;
        this.send(payloads.notification(id, result));
      }
    }
  }
}

/** A block's notification payloads, converted to JSON once however many clients want them. */
export class DigestPayloads {
  readonly #digest: CommittedDigest;
  readonly #backend: RpcBackend;
  #head: Json | undefined;
  /** Notification bytes by result, then by subscription id: most clients share both. */
  readonly #encoded = new Map<Json, Map<string, Buffer>>();

  constructor(digest: CommittedDigest, backend: RpcBackend) {
    this.#digest = digest;
    this.#backend = backend;
  }

  /**
   * The notification of `result` to subscription `id`, serialised once per (result, id). With
   * a thousand subscribers to newHeads this is one JSON.stringify and one UTF-8 encoding per
   * block instead of a thousand of each (ids are per connection, so they mostly coincide).
   */
  notification(id: string, result: Json): Buffer {
    const byId = this.#encoded.get(result) ?? new Map<string, Buffer>();
    this.#encoded.set(result, byId);
    let bytes = byId.get(id);
    if (!bytes) {
      bytes = Buffer.from(
        JSON.stringify({
          jsonrpc: "2.0",
          method: SUBSCRIPTION_NOTIFICATION,
          params: { subscription: id, result },
        }),
      );
      byId.set(id, bytes);
    }
    return bytes;
  }

  select(filter: SubscriptionFilter): Json[] {
    const d = this.#digest;
    switch (filter.topic) {
      case "newHeads":
        this.#head ??= {
          height: bigintJson(d.height),
          hash: bytesJson(d.hash),
          txCount: d.txCount,
          header: headerJson(d.header) as unknown as Json,
        };
        return [this.#head];
      case "household": {
        const address = filter.address;
        if (!address) return [];
        return d.events
          .filter((e) => eventNames(e.event, address))
          .map((e) => ({
            height: bigintJson(d.height),
            tx: e.txId ? bytesJson(e.txId) : null,
            event: toJson(e.event),
          }));
      }
      case "trades":
        return d.trades
          .filter((t) => filter.utility === undefined || t.utility === filter.utility)
          .map((t) => ({
            utility: t.utility,
            height: bigintJson(t.height),
            time: bigintJson(t.time),
            order: bytesJson(t.order),
            household: addressJson(t.household),
            side: t.side,
            qty: bigintJson(t.qty),
            price: bigintJson(t.price),
          }));
      case "auctions":
        return d.auctions
          .filter((a) => filter.utility === undefined || a.utility === filter.utility)
          .map((a) => toJson(a));
      case "readings":
        return d.readings
          .filter(
            (r) =>
              (filter.meterIdHash === undefined || equalBytes(r.meterIdHash, filter.meterIdHash)) &&
              (filter.utility === undefined || this.#oracleUtility(r.oracle) === filter.utility),
          )
          .map((r) => ({
            meterIdHash: bytesJson(r.meterIdHash),
            oracle: addressJson(r.oracle),
            height: bigintJson(r.height),
            tx: bytesJson(r.txId),
            index: r.index,
            time: bigintJson(r.time),
            registers: r.registers.map(bigintJson),
            result: r.result,
            reject: r.reject ?? null,
          }));
    }
  }

  #oracleUtility(oracle: Uint8Array): string | undefined {
    const bytes = this.#backend.state().get(tables.oracle.key(oracle));
    if (bytes === undefined) return undefined;
    try {
      return decode(tables.oracle.schema, bytes).utility;
    } catch {
      return undefined;
    }
  }
}
