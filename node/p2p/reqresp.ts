// Request/response: one protocol per method, `/wattcap/<chainId>/req/<method>/1`, one stream per
// request. The requester writes one length-prefixed request; the responder writes zero or more
// item frames and one end frame with a status (messages.ts). Every frame has a size limit checked
// before it is read, every request a deadline, and both sides a cap on requests in flight: a
// responder over its cap answers "busy" at once, a requester over its cap fails at once.

import type { Connection, Libp2p, Stream } from "@libp2p/interface";
import { lpStream } from "@libp2p/utils";
import { CodecError, decode, encode, type Schema } from "../../lib/codec.js";
import type { Logger } from "../../lib/log.js";
import { MAX_VALIDATORS } from "../../lib/validator.js";
import { MAX_VOTE_BYTES } from "../../lib/vote.js";
import { countBits } from "./bitmap.js";
import type { PeerIdStr } from "./events.js";
import {
  type BlocksByRangeRequest,
  BlocksByRangeRequestSchema,
  type BlockWithCommit,
  BlockWithCommitSchema,
  EncodedVoteSchema,
  type HaveVotes,
  HaveVotesSchema,
  MAX_RANGE_RESPONSE_BYTES,
  ProposalMessageSchema,
  type ProposalRequest,
  ProposalRequestSchema,
  type ResponseChunk,
  type ResponseStatus,
  responseChunkSchema,
  type Status,
  StatusSchema,
  type VotesRequest,
  VotesRequestSchema,
} from "./messages.js";
import { toPeerId } from "./peer-id.js";
import type { PenaltyReason } from "./peers.js";
import { Slots } from "./queue.js";
import {
  MAX_BLOCK_WITH_COMMIT_BYTES,
  MAX_PROPOSAL_MESSAGE_BYTES,
  type MethodName,
  protocolId,
} from "./topics.js";

type Awaitable<T> = T | Promise<T>;
type Items<T> = Awaitable<Iterable<T>> | AsyncIterable<T>;

/** Our bitmaps for one (height, round). */
export interface VoteBitmaps {
  readonly prevotes: Uint8Array;
  readonly precommits: Uint8Array;
}

/**
 * What the host serves. `signal` aborts when the requester's deadline passes; a handler that
 * throws is answered with "serverError" and logged, and the node carries on.
 */
export interface ReqRespHandlers {
  /** Our chain status, sent with our status requests and in reply to the peer's. */
  status(): Awaitable<Status>;
  /** Blocks from startHeight upward, in order, each with its commit; may stop early. */
  blocksByRange(
    request: BlocksByRangeRequest,
    peer: PeerIdStr,
    signal: AbortSignal,
  ): Items<BlockWithCommit>;
  /** Encoded signed votes of (height, round) whose bits are set in the request. */
  votes(request: VotesRequest, peer: PeerIdStr, signal: AbortSignal): Items<Uint8Array>;
  /** The proposal message (signed proposal + block) for a block hash, if we have it. */
  proposal(
    request: ProposalRequest,
    peer: PeerIdStr,
    signal: AbortSignal,
  ): Awaitable<Uint8Array | undefined>;
  /** Which votes we hold for (height, round), or undefined if we keep none for it. */
  voteBitmaps(height: bigint, round: number): VoteBitmaps | undefined;
}

export type RequestErrorCode =
  | "TIMEOUT"
  | "ABORTED"
  | "DIAL_FAILED"
  | "TOO_MANY_REQUESTS"
  | "STREAM_CLOSED"
  | "RESPONSE_TOO_LARGE"
  | "INVALID_RESPONSE"
  /** The responder's status: our request did not decode or broke a limit. */
  | "INVALID_REQUEST"
  /** The responder's status: its handler failed. */
  | "SERVER_ERROR"
  /** The responder's status: it had too many requests in flight. */
  | "BUSY";

export class RequestError extends Error {
  override name = "RequestError";
  constructor(
    readonly code: RequestErrorCode,
    readonly method: MethodName,
    readonly peer: PeerIdStr,
    message: string,
  ) {
    super(`${method} to ${peer}: ${code}: ${message}`);
  }
}

const REMOTE_STATUS: Readonly<Record<Exclude<ResponseStatus, "ok">, RequestErrorCode>> = {
  invalidRequest: "INVALID_REQUEST",
  serverError: "SERVER_ERROR",
  busy: "BUSY",
};

/** The wire rules of one method. */
interface MethodSpec<Req, Item> {
  readonly method: MethodName;
  readonly request: Schema<Req>;
  readonly chunk: Schema<ResponseChunk<Item>>;
  readonly maxRequestBytes: number;
  /** The largest frame, item or end, of a response. */
  readonly maxChunkBytes: number;
  /** The most bytes of all frames of one response. */
  readonly maxResponseBytes: number;
  readonly minItems: number;
  maxItems(request: Req): number;
  /** Concurrent inbound streams of this method per connection. */
  readonly maxInboundStreams: number;
  /** Long-running: uses the range deadline. */
  readonly range: boolean;
}

/** Above every request encoding (the largest, HaveVotes, is under 60 bytes). */
const MAX_REQUEST_BYTES = 256;
/** An honest requester writes its request as soon as the stream opens. */
const REQUEST_READ_TIMEOUT_MS = 5000;
/** Room for the union tag and the end frame around an item. */
const CHUNK_OVERHEAD = 512;

function spec<Req, Item>(
  method: MethodName,
  request: Schema<Req>,
  item: Schema<Item>,
  maxItemBytes: number,
  rules: Pick<MethodSpec<Req, Item>, "minItems" | "maxItems" | "maxInboundStreams" | "range"> & {
    readonly maxResponseBytes?: number;
  },
): MethodSpec<Req, Item> {
  const maxChunkBytes = maxItemBytes + CHUNK_OVERHEAD;
  return {
    method,
    request,
    chunk: responseChunkSchema(method, item),
    maxRequestBytes: MAX_REQUEST_BYTES,
    maxChunkBytes,
    maxResponseBytes: rules.maxResponseBytes ?? maxChunkBytes * 2,
    minItems: rules.minItems,
    maxItems: rules.maxItems,
    maxInboundStreams: rules.maxInboundStreams,
    range: rules.range,
  };
}

const one = () => 1;

export const METHOD_SPECS = {
  status: spec("status", StatusSchema, StatusSchema, 256, {
    minItems: 1,
    maxItems: one,
    maxInboundStreams: 4,
    range: false,
  }),
  blocksByRange: spec(
    "blocksByRange",
    BlocksByRangeRequestSchema,
    BlockWithCommitSchema,
    MAX_BLOCK_WITH_COMMIT_BYTES,
    {
      minItems: 0,
      maxItems: (r: BlocksByRangeRequest) => r.count,
      maxInboundStreams: 2,
      range: true,
      maxResponseBytes: MAX_RANGE_RESPONSE_BYTES,
    },
  ),
  votes: spec("votes", VotesRequestSchema, EncodedVoteSchema, MAX_VOTE_BYTES, {
    minItems: 0,
    maxItems: (r: VotesRequest) => countBits(r.prevotes) + countBits(r.precommits),
    maxInboundStreams: 8,
    range: false,
    maxResponseBytes: (2 * MAX_VALIDATORS + 1) * (MAX_VOTE_BYTES + CHUNK_OVERHEAD),
  }),
  proposal: spec(
    "proposal",
    ProposalRequestSchema,
    ProposalMessageSchema,
    MAX_PROPOSAL_MESSAGE_BYTES,
    {
      minItems: 0,
      maxItems: one,
      maxInboundStreams: 2,
      range: false,
    },
  ),
  haveVotes: spec("haveVotes", HaveVotesSchema, HaveVotesSchema, 256, {
    minItems: 1,
    maxItems: one,
    maxInboundStreams: 4,
    range: false,
  }),
} as const;

export interface ReqRespLimits {
  readonly requestTimeoutMs: number;
  /** The deadline of blocksByRange, which moves megabytes. */
  readonly rangeRequestTimeoutMs: number;
  /** Inbound requests being served at once, over all peers and methods. */
  readonly maxInboundRequests: number;
  /** Outbound requests in flight at once. */
  readonly maxOutboundRequests: number;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
  /** Overrides the method's default deadline. */
  readonly timeoutMs?: number;
}

export interface ReqRespDeps {
  readonly libp2p: Pick<Libp2p, "handle" | "unhandle" | "dialProtocol">;
  readonly chainId: string;
  readonly handlers: ReqRespHandlers;
  readonly limits: ReqRespLimits;
  readonly log: Logger;
  isBanned(peer: PeerIdStr): boolean;
  penalize(peer: PeerIdStr, reason: PenaltyReason): void;
  onStatus(peer: PeerIdStr, status: Status): void;
  onHaveVotes(peer: PeerIdStr, have: HaveVotes): void;
}

type Serve<Req, Item> = (request: Req, peer: PeerIdStr, signal: AbortSignal) => AsyncIterable<Item>;

async function* flatten<T>(items: Items<T>): AsyncIterable<T> {
  yield* await items;
}

/** The promise's outcome, or the signal's reason if it aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function emptyBitmaps(): VoteBitmaps {
  return { prevotes: new Uint8Array(0), precommits: new Uint8Array(0) };
}

/** libp2p errors are told apart by name: instanceof fails across the copies npm may install. */
function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "";
}

const TOO_LARGE_ERRORS = new Set([
  "InvalidDataLengthError",
  "InvalidDataLengthLengthError",
  "StreamBufferError",
]);

export class ReqResp {
  readonly #inbound: Slots;
  readonly #outbound: Slots;
  readonly #registered: string[] = [];

  constructor(private readonly deps: ReqRespDeps) {
    this.#inbound = new Slots(deps.limits.maxInboundRequests);
    this.#outbound = new Slots(deps.limits.maxOutboundRequests);
  }

  /** Registers the responders; call before libp2p starts so identify announces them. */
  async register(): Promise<void> {
    const { deps } = this;
    const { handlers } = deps;
    await this.#serve(METHOD_SPECS.status, async function* (request, peer) {
      deps.onStatus(peer, request);
      yield await handlers.status();
    });
    await this.#serve(METHOD_SPECS.blocksByRange, (request, peer, signal) =>
      flatten(handlers.blocksByRange(request, peer, signal)),
    );
    await this.#serve(METHOD_SPECS.votes, (request, peer, signal) =>
      flatten(handlers.votes(request, peer, signal)),
    );
    await this.#serve(METHOD_SPECS.proposal, async function* (request, peer, signal) {
      const found = await handlers.proposal(request, peer, signal);
      if (found !== undefined) yield found;
    });
    await this.#serve(METHOD_SPECS.haveVotes, async function* (request, peer) {
      deps.onHaveVotes(peer, request);
      const mine = handlers.voteBitmaps(request.height, request.round) ?? emptyBitmaps();
      yield { height: request.height, round: request.round, ...mine };
    });
  }

  async unregister(): Promise<void> {
    await this.deps.libp2p.unhandle(this.#registered.splice(0));
  }

  /** Requests of ours now waiting for their answers (at most limits.maxOutboundRequests). */
  get outboundInFlight(): number {
    return this.#outbound.used;
  }

  /** Exchanges chain status: sends ours, returns the peer's. */
  async status(peer: PeerIdStr, options: RequestOptions = {}): Promise<Status> {
    const mine = await this.deps.handlers.status();
    const [theirs] = await this.#request(METHOD_SPECS.status, peer, mine, options);
    this.deps.onStatus(peer, theirs!);
    return theirs!;
  }

  /** Up to `count` blocks from startHeight with their commits; fewer if the peer stops early. */
  blocksByRange(
    peer: PeerIdStr,
    request: BlocksByRangeRequest,
    options: RequestOptions = {},
  ): Promise<BlockWithCommit[]> {
    return this.#request(METHOD_SPECS.blocksByRange, peer, request, options);
  }

  /** The encoded signed votes the peer has among those whose bits are set. */
  votes(
    peer: PeerIdStr,
    request: VotesRequest,
    options: RequestOptions = {},
  ): Promise<Uint8Array[]> {
    return this.#request(METHOD_SPECS.votes, peer, request, options);
  }

  /** The proposal message for a block hash, or undefined if the peer does not have it. */
  async proposal(
    peer: PeerIdStr,
    blockHash: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Uint8Array | undefined> {
    const [found] = await this.#request(METHOD_SPECS.proposal, peer, { blockHash }, options);
    return found;
  }

  /** Tells the peer which votes of (height, round) we have; returns which it has. */
  async haveVotes(
    peer: PeerIdStr,
    mine: HaveVotes,
    options: RequestOptions = {},
  ): Promise<HaveVotes> {
    const [theirs] = await this.#request(METHOD_SPECS.haveVotes, peer, mine, options);
    if (theirs!.height !== mine.height || theirs!.round !== mine.round) {
      this.deps.penalize(peer, "invalidResponse");
      throw new RequestError("INVALID_RESPONSE", "haveVotes", peer, "answered another round");
    }
    this.deps.onHaveVotes(peer, theirs!);
    return theirs!;
  }

  #timeoutMs<Req, Item>(spec: MethodSpec<Req, Item>): number {
    return spec.range ? this.deps.limits.rangeRequestTimeoutMs : this.deps.limits.requestTimeoutMs;
  }

  async #serve<Req, Item>(spec: MethodSpec<Req, Item>, serve: Serve<Req, Item>): Promise<void> {
    const protocol = protocolId(this.deps.chainId, spec.method);
    await this.deps.libp2p.handle(
      protocol,
      (stream, connection) => this.#respond(spec, serve, stream, connection),
      { maxInboundStreams: spec.maxInboundStreams },
    );
    this.#registered.push(protocol);
  }

  async #respond<Req, Item>(
    spec: MethodSpec<Req, Item>,
    serve: Serve<Req, Item>,
    stream: Stream,
    connection: Connection,
  ): Promise<void> {
    const peer = connection.remotePeer.toString();
    if (this.deps.isBanned(peer)) {
      stream.abort(new Error("banned"));
      return;
    }
    // The handler stops at the deadline, or as soon as the requester goes away.
    const gone = new AbortController();
    stream.addEventListener("close", () => gone.abort(), { once: true });
    const signal = AbortSignal.any([AbortSignal.timeout(this.#timeoutMs(spec)), gone.signal]);
    const lp = lpStream(stream, {
      maxDataLength: spec.maxRequestBytes,
      maxBufferSize: spec.maxRequestBytes + 64,
    });
    const end = async (status: ResponseStatus, message = "") => {
      await lp.write(encode(spec.chunk, { kind: "end", value: { status, message } }), { signal });
    };
    let request: Req;
    try {
      const frame = await lp.read({
        signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_READ_TIMEOUT_MS)]),
      });
      request = decode(spec.request, frame.subarray(), { maxBytes: spec.maxRequestBytes });
    } catch (error) {
      if (error instanceof CodecError || TOO_LARGE_ERRORS.has(errorName(error))) {
        this.deps.penalize(peer, "invalidRequest");
        const reason = error instanceof Error ? error.message.slice(0, 200) : "";
        await end("invalidRequest", reason).catch(() => {});
        await closeOrAbort(stream);
      } else {
        stream.abort(error instanceof Error ? error : new Error(String(error)));
      }
      return;
    }
    // The slot is taken only for a well-formed request, so a peer that opens streams and sends
    // nothing holds no more than its per-connection stream limit, not the handlers' capacity.
    if (!this.#inbound.tryAcquire()) {
      await end("busy", "too many requests in flight").catch(() => {});
      await closeOrAbort(stream);
      return;
    }
    try {
      const maxItems = spec.maxItems(request);
      let count = 0;
      let total = 0;
      let failure: string | undefined;
      const items = serve(request, peer, signal)[Symbol.asyncIterator]();
      try {
        for (;;) {
          // Raced with the deadline, so a handler that ignores its signal cannot hold the slot.
          const next = await abortable(items.next(), signal);
          if (next.done || count >= maxItems) break;
          const item = next.value;
          let frame: Uint8Array;
          try {
            frame = encode(spec.chunk, { kind: "item", value: item });
          } catch (error) {
            failure = `response rejected: ${(error as Error).message}`.slice(0, 200);
            break;
          }
          if (frame.length > spec.maxChunkBytes) {
            failure = "response too large";
            break;
          }
          if (total + frame.length > spec.maxResponseBytes - CHUNK_OVERHEAD && count > 0) break;
          await lp.write(frame, { signal });
          total += frame.length;
          count++;
        }
      } catch (error) {
        if (signal.aborted) {
          stream.abort(new Error(`${spec.method} handler passed its deadline`));
          return;
        }
        this.deps.log.warn({ err: error, method: spec.method, peer }, "request handler failed");
        failure = "handler failed";
      } finally {
        // Lets a database iterator behind the handler close; a handler still busy ends on its own.
        items.return?.().catch(() => {});
      }
      if (failure === undefined && count < spec.minItems) failure = "handler returned nothing";
      await end(failure === undefined ? "ok" : "serverError", failure ?? "");
      await closeOrAbort(stream);
    } catch (error) {
      // A write failed: the requester went away or the deadline passed mid-response.
      stream.abort(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#inbound.release();
    }
  }

  async #request<Req, Item>(
    spec: MethodSpec<Req, Item>,
    peer: PeerIdStr,
    request: Req,
    options: RequestOptions,
  ): Promise<Item[]> {
    const fail = (code: RequestErrorCode, message: string, penalty?: PenaltyReason) => {
      if (penalty) this.deps.penalize(peer, penalty);
      return new RequestError(code, spec.method, peer, message);
    };
    const body = encode(spec.request, request);
    if (!this.#outbound.tryAcquire()) {
      throw fail("TOO_MANY_REQUESTS", `${this.#outbound.size} requests already in flight`);
    }
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs(spec));
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const aborted = () =>
      timeout.aborted
        ? fail("TIMEOUT", "deadline passed", "unresponsive")
        : fail("ABORTED", "aborted by the caller");
    let stream: Stream | undefined;
    try {
      try {
        stream = await this.deps.libp2p.dialProtocol(
          toPeerId(peer),
          protocolId(this.deps.chainId, spec.method),
          { signal },
        );
      } catch (error) {
        throw signal.aborted ? aborted() : fail("DIAL_FAILED", (error as Error).message);
      }
      // Frames arrive while an earlier one is still being read: the buffer may hold up to a
      // whole response, which maxResponseBytes bounds anyway.
      const lp = lpStream(stream, {
        maxDataLength: spec.maxChunkBytes,
        maxBufferSize: spec.maxResponseBytes + 64,
      });
      const items: Item[] = [];
      let total = 0;
      try {
        await lp.write(body, { signal });
        for (;;) {
          const frame = await lp.read({ signal });
          total += frame.byteLength;
          if (total > spec.maxResponseBytes) {
            throw fail(
              "RESPONSE_TOO_LARGE",
              `over ${spec.maxResponseBytes} bytes`,
              "invalidResponse",
            );
          }
          let chunk: ResponseChunk<Item>;
          try {
            chunk = decode(spec.chunk, frame.subarray(), { maxBytes: spec.maxChunkBytes });
          } catch (error) {
            throw fail("INVALID_RESPONSE", (error as Error).message, "invalidResponse");
          }
          if (chunk.kind === "item") {
            if (items.length >= spec.maxItems(request)) {
              throw fail("INVALID_RESPONSE", "more items than asked for", "invalidResponse");
            }
            items.push(chunk.value);
            continue;
          }
          const { status, message } = chunk.value;
          if (status !== "ok") throw fail(REMOTE_STATUS[status], message);
          if (items.length < spec.minItems) {
            throw fail("INVALID_RESPONSE", "too few items", "invalidResponse");
          }
          await closeOrAbort(stream);
          return items;
        }
      } catch (error) {
        if (error instanceof RequestError) throw error;
        if (signal.aborted) throw aborted();
        if (TOO_LARGE_ERRORS.has(errorName(error))) {
          throw fail("RESPONSE_TOO_LARGE", (error as Error).message, "invalidResponse");
        }
        throw fail("STREAM_CLOSED", (error as Error).message, "unresponsive");
      }
    } catch (error) {
      stream?.abort(error as Error);
      throw error;
    } finally {
      this.#outbound.release();
    }
  }
}

/** Closes gracefully, or aborts if the close does not finish within a second. */
async function closeOrAbort(stream: Stream): Promise<void> {
  try {
    await stream.close({ signal: AbortSignal.timeout(1000) });
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
  }
}
