// Fuzz target: the RPC server (rpc/server.ts) over real HTTP and WebSocket, on a real node (the
// rpc tests' fixture). Inputs: JSON-RPC requests with random and edge methods, ids and params
// (`__proto__`, `constructor` and other inherited names as keys, huge and non-integral numbers,
// deep nesting), batches (empty, small, over the limit, huge), random text and bytes.
// Promise: every HTTP answer and WebSocket message is a JSON-RPC result or error (or a batch of
// them, or a subscription notification); no input reaches a handler as an internal error
// (-32603 means a handler threw on input the validator let through); the server still answers a
// plain call afterwards; nothing pollutes Object.prototype; connections are released and the
// heap does not grow without bound.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import WebSocket from "ws";
import { toHex } from "../../../lib/bytes.js";
import type { JsonSchema } from "../../../rpc/json.js";
import { methods } from "../../../rpc/methods.js";
import { validate } from "../../../rpc/schema.js";
import { type RpcNode, startNode } from "../../rpc/rpc-fixtures.js";
import { actor, hash32 } from "../../vm/helpers.js";
import { byteInputs, check, FuzzFailure, type FuzzReport, type FuzzTarget } from "./fuzz.js";
import { seedTxs } from "./seeds.js";

// -----------------------------------------------------------------------------------------------
// Request text. A value may hold RAW markers, replaced after JSON.stringify by text no JS value
// serialises to (numbers beyond double range, -0, exponents).

const RAW = "\u0000raw:";
const raw = (text: string) => `${RAW}${text}`;
const RAW_NUMBERS = [
  "1e400",
  "-1e400",
  "123456789012345678901234567890",
  "-0",
  "0.5e-400",
  "18446744073709551616",
  "9007199254740993",
  "1E2",
  "-1",
];

function render(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0000raw:([^"]*)"/g, "$1");
}

const PROTO_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
];
const KEY_NAMES = [...new Set(methods.flatMap((m) => Object.keys(m.params.properties ?? {})))];

const hex = (bytes: Uint8Array) => `0x${toHex(bytes)}`;
const PLAIN = [
  hex(actor(1000).address),
  hex(hash32(1)),
  hex(seedTxs()[0]!),
  "0x",
  "0x0",
  "0xZZ",
  "0",
  "1",
  "3",
  "18446744073709551615",
  "18446744073709551616",
  "-5",
  "",
  "u0",
  "household",
  "trades",
  "heads",
  "buy",
  "x".repeat(10_000),
  0,
  1,
  50,
  -1,
  1.5,
  2 ** 53,
  Number.MAX_VALUE,
  true,
  false,
  null,
];
const scalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...PLAIN),
  fc.constantFrom(...RAW_NUMBERS).map(raw),
  fc.string({ maxLength: 20 }),
  fc.integer(),
);

/** Objects whose keys are parameter names and inherited names, values anything. */
const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("json"), { maxLength: 5 }),
    fc
      .array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...KEY_NAMES, ...PROTO_KEYS), fc.string({ maxLength: 8 })),
          tie("json"),
        ),
        { maxLength: 5 },
      )
      .map(own),
  ),
}));

/** An object with these own properties, `__proto__` included as a plain key. */
function own(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(out, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

/** Nested `depth` deep in arrays or objects. */
function nested(depth: number, kind: "array" | "object"): string {
  return kind === "array"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

const methodName = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(...methods.map((m) => m.name), "tx_send", "tx_send", "tx_send"),
  },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS, "", "rpc.discover", "subscribe ") },
  { weight: 1, arbitrary: json },
);
/** No item most of the time, one sometimes. */
const rarely = <T>(arb: fc.Arbitrary<T>) =>
  fc.option(arb, { freq: 6, nil: undefined }).map((x) => (x === undefined ? [] : [x]));

/**
 * Params for a method: mostly its own parameters (the required ones always) with values that
 * pass their schemas — so requests reach the handlers — and sometimes anything at all.
 */
function paramsFor(method: unknown): fc.Arbitrary<unknown> {
  const spec = methods.find((m) => m.name === method);
  const anything = fc.oneof(
    fc.constant(undefined),
    json,
    fc
      .array(fc.tuple(fc.constantFrom(...KEY_NAMES, ...PROTO_KEYS), json), { maxLength: 6 })
      .map(own),
  );
  if (!spec) return anything;
  const properties = (spec.params.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((spec.params.required ?? []) as string[]);
  const entries = Object.entries(properties).map(([key, schema]) => {
    const fitting = PLAIN.filter((v) => validate(schema, v) === undefined);
    const plausible = fitting.length > 0 ? fc.constantFrom(...fitting) : json;
    const value = fc.oneof(
      // tx_send's transaction: signed and mutated transactions, so the mempool's path is tried.
      { weight: 4, arbitrary: key === "tx" ? byteInputs(seedTxs()).map(hex) : plausible },
      { weight: 1, arbitrary: json },
    );
    const keep = required.has(key) ? fc.constant(true) : fc.boolean();
    return fc.tuple(keep, fc.constant(key), value);
  });
  const fitted = fc
    .tuple(fc.tuple(...entries), rarely(fc.tuple(fc.constantFrom(...PROTO_KEYS), json)))
    .map(([picked, extra]) =>
      own([...picked.filter(([keep]) => keep).map(([, k, v]) => [k, v] as const), ...extra]),
    );
  return fc.oneof({ weight: 6, arbitrary: fitted }, { weight: 1, arbitrary: anything });
}

const id = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(fc.nat(), fc.string({ maxLength: 8 })) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constant(null),
      fc.constant(undefined),
      fc.constantFrom(...RAW_NUMBERS).map(raw),
      json,
    ),
  },
);
const request = methodName
  .chain((method) =>
    fc.record({
      jsonrpc: fc.oneof(
        { weight: 8, arbitrary: fc.constant("2.0") },
        { weight: 1, arbitrary: json },
      ),
      id,
      method: fc.constant(method),
      params: paramsFor(method),
      extra: rarely(fc.tuple(fc.constantFrom(...PROTO_KEYS), json)),
    }),
  )
  .map(({ extra, ...r }) =>
    own([...Object.entries(r).filter(([, v]) => v !== undefined), ...extra]),
  );

/** One message: text, or bytes that need not be UTF-8. */
type Message = string | Uint8Array;
const message: fc.Arbitrary<Message> = fc.oneof(
  { weight: 8, arbitrary: request.map(render) },
  { weight: 3, arbitrary: fc.array(request, { maxLength: 8 }).map(render) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 99, max: 130 })
      .chain((n) => fc.array(request, { minLength: n, maxLength: n }))
      .map(render),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(10, 1000, 100_000)
      .chain((d) => fc.constantFrom(nested(d, "array"), nested(d, "object"))),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(10, 5000)
      .map(
        (d) => `{"jsonrpc":"2.0","id":1,"method":"tx_get","params":{"hash":${nested(d, "array")}}}`,
      ),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 200, unit: "binary" }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: json.map(render) },
);

/** Inputs sent once per run: the big ones, too slow to draw at random. */
function classics(maxBody: number): Message[] {
  const call = (i: number) => ({ jsonrpc: "2.0", id: i, method: "chain_status" });
  return [
    "x".repeat(maxBody + 1),
    JSON.stringify(Array.from({ length: 20_000 }, (_, i) => call(i))),
    JSON.stringify(Array.from({ length: 100 }, (_, i) => call(i))),
    nested(1_000_000, "array"),
    `{"jsonrpc":"2.0","id":1,"method":"account_get","params":{"__proto__":{"polluted":1},"address":"0x00"}}`,
    `[{"__proto__":{"polluted":1},"jsonrpc":"2.0","id":{"__proto__":null},"method":"constructor"}]`,
    `{"jsonrpc":"2.0","id":1e400,"method":"chain_status"}`,
    "[]",
    "",
  ];
}

// -----------------------------------------------------------------------------------------------
// Checking answers.

function isErrorObject(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const { code, message } = e as { code?: unknown; message?: unknown };
  return Number.isInteger(code) && typeof message === "string";
}

function isResponse(r: unknown): boolean {
  if (typeof r !== "object" || r === null || Array.isArray(r)) return false;
  const o = r as Record<string, unknown>;
  if (o.jsonrpc !== "2.0" || !Object.hasOwn(o, "id")) return false;
  const hasResult = Object.hasOwn(o, "result");
  const hasError = Object.hasOwn(o, "error");
  return hasResult !== hasError && (!hasError || isErrorObject(o.error));
}

function isNotification(r: unknown): boolean {
  const o = r as Record<string, unknown>;
  return o?.jsonrpc === "2.0" && o.method === "subscription" && typeof o.params === "object";
}

function expectAnswer(text: string, where: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FuzzFailure(`${where}: not JSON: ${text.slice(0, 200)}`);
  }
  const ok = Array.isArray(parsed)
    ? parsed.length > 0 && parsed.every(isResponse)
    : isResponse(parsed) || isNotification(parsed);
  if (!ok) throw new FuzzFailure(`${where}: not a JSON-RPC answer: ${text.slice(0, 200)}`);
}

const HTTP_STATUSES = new Set([200, 204, 400, 413, 429]);

async function viaHttp(node: RpcNode, body: Message): Promise<void> {
  const response = await fetch(node.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const text = await response.text();
  if (!HTTP_STATUSES.has(response.status)) {
    throw new FuzzFailure(`HTTP ${response.status}: ${text.slice(0, 200)}`);
  }
  if (response.status === 204) {
    if (text !== "") throw new FuzzFailure("HTTP 204 with a body");
    return;
  }
  expectAnswer(text, `HTTP ${response.status}`);
}

/** A WebSocket that checks every message it receives and answers sentinel calls. */
class Socket {
  readonly #waiting = new Map<string, () => void>();
  problem: string | undefined;
  #closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const text = String(data);
      try {
        expectAnswer(text, "WebSocket");
      } catch (error) {
        this.problem ??= (error as Error).message;
      }
      const sentinel = /^\{"jsonrpc":"2\.0","id":"(sentinel-\d+)"/.exec(text)?.[1];
      if (sentinel) this.#waiting.get(sentinel)?.();
    });
    ws.on("close", () => {
      this.#closed = true;
      for (const done of this.#waiting.values()) done();
    });
    ws.on("error", () => undefined);
  }

  static open(url: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once("open", () => resolve(new Socket(ws)));
      ws.once("error", reject);
    });
  }

  get closed(): boolean {
    return this.#closed || this.ws.readyState !== WebSocket.OPEN;
  }

  /** Sends a plain call and resolves when its answer (or the close) arrives; false on close. */
  async sentinel(n: number): Promise<boolean> {
    const key = `sentinel-${n}`;
    const answered = new Promise<void>((resolve) => this.#waiting.set(key, resolve));
    this.ws.send(JSON.stringify({ jsonrpc: "2.0", id: key, method: "chain_status" }));
    await answered;
    this.#waiting.delete(key);
    return !this.#closed;
  }
}

// -----------------------------------------------------------------------------------------------

let gc: (() => void) | undefined;
/** Forces a full collection (so heap figures mean something) without a command-line flag. */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

/** Heap growth over a run that counts as unbounded (the run's own garbage is collected first). */
const MAX_HEAP_GROWTH = 64 * 1024 * 1024;
const MAX_BODY = 256 * 1024;

export const rpcTarget: FuzzTarget = {
  name: "rpc",
  async run(runs: number, seed: number): Promise<FuzzReport> {
    const teardown: Array<() => unknown> = [];
    const internal: string[] = [];
    const node = await startNode(
      { teardown: (fn: () => unknown) => void teardown.push(fn) },
      {
        maxBodyBytes: MAX_BODY,
        onError: (error, method) => internal.push(`${method}: ${String(error)}`),
      },
    );
    try {
      await node.produce();
      let socket = await Socket.open(node.wsUrl);
      let sentinels = 0;
      const send = async (body: Message, over: "http" | "ws") => {
        if (over === "http") await viaHttp(node, body);
        else {
          if (socket.closed) socket = await Socket.open(node.wsUrl);
          socket.ws.send(body);
          // Oversized or broken frames may close the socket; the server must still accept a new one.
          if (!(await socket.sentinel(sentinels++))) socket = await Socket.open(node.wsUrl);
        }
        if (socket.problem) throw new FuzzFailure(socket.problem);
        const errors = internal.splice(0);
        if (errors.length > 0) throw new FuzzFailure(`internal error: ${errors.join("; ")}`);
        if (Object.hasOwn(Object.prototype, "polluted")) {
          throw new FuzzFailure("Object.prototype was polluted");
        }
      };

      for (const body of classics(MAX_BODY)) {
        await send(body, "http");
        await send(body, "ws");
      }
      collectGarbage();
      const heapBefore = process.memoryUsage().heapUsed;
      const report = await check(
        fc.asyncProperty(
          message,
          fc.constantFrom("http" as const, "ws" as const),
          async (body, over) => {
            await send(body, over);
            // The server still answers a plain call over HTTP.
            const status = await node.call("chain_status");
            if (!status.result) throw new FuzzFailure("the server stopped answering");
          },
        ),
        runs,
        seed,
      );
      socket.ws.close();
      collectGarbage();
      const growth = process.memoryUsage().heapUsed - heapBefore;
      const failures = [...report.failures];
      if (growth > MAX_HEAP_GROWTH) failures.push(`heap grew by ${growth} bytes over the run`);
      for (let i = 0; i < 50 && node.server.connections > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (node.server.connections > 0) {
        failures.push(`${node.server.connections} WebSocket connections left open`);
      }
      return { cases: report.cases + 2 * classics(MAX_BODY).length, failures };
    } finally {
      for (const fn of teardown.reverse()) await fn();
    }
  },
};
