// The canonical codec (DESIGN.md §4). Every message has one fixed schema and is written by
// msgpackr as positional arrays whose leaves are bytes, small integers (< 2^32, JS numbers) or
// 64-bit integers (bigint, which msgpackr always writes in 9 bytes). Decoding checks the schema
// and re-encodes: bytes that differ from their re-encoding are rejected, so each value has
// exactly one encoding and hashes of encodings are well defined.
import { Packr } from "msgpackr";
import { asPlain, equalBytes, fromUtf8, utf8 } from "./bytes.js";

/** What a schema lowers a value to before msgpackr writes it. */
export type Wire = Uint8Array | number | bigint | readonly Wire[];

export type CodecErrorCode =
  | "MALFORMED" // not a single well-formed msgpack value
  | "SCHEMA" // well-formed, but not of the message's schema
  | "NON_CANONICAL" // of the schema, but not the canonical encoding of the value
  | "TOO_LARGE"; // over the caller's size limit, rejected before parsing

export class CodecError extends Error {
  override name = "CodecError";
  constructor(
    readonly code: CodecErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Schema<T> {
  /** Shown in error paths, e.g. `Header.height`. */
  readonly name: string;
  /** Lowers a value to its wire form, checking it; throws CodecError("SCHEMA") if it does not fit. */
  toWire(value: T, path: string): Wire;
  /** Lifts a decoded wire value, checking it; throws CodecError("SCHEMA") if it does not fit. */
  fromWire(wire: unknown, path: string): T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function fail(path: string, message: string): never {
  throw new CodecError("SCHEMA", `${path}: ${message}`);
}

export interface BytesOptions {
  /** Exact length. */
  readonly length?: number;
  /** Maximum length (default 1 MiB). */
  readonly max?: number;
}

export function bytes(options: BytesOptions = {}): Schema<Uint8Array> {
  const { length } = options;
  const max = options.max ?? 1 << 20;
  const name = length === undefined ? "bytes" : `bytes${length}`;
  const check = (v: unknown, path: string): Uint8Array => {
    if (!(v instanceof Uint8Array)) fail(path, `expected ${name}`);
    if (length !== undefined && v.length !== length) {
      fail(path, `expected ${length} bytes, got ${v.length}`);
    }
    if (v.length > max) fail(path, `${v.length} bytes is over the limit of ${max}`);
    return asPlain(v);
  };
  return { name, toWire: check, fromWire: check };
}

const LONE_SURROGATE = /\p{Cs}/u;

/** UTF-8 text of at most `max` bytes, written as msgpack bin so the wire holds bytes only. */
export function text(max: number): Schema<string> {
  const raw = bytes({ max });
  return {
    name: "text",
    toWire(v, path) {
      if (typeof v !== "string") fail(path, "expected text");
      const encoded = utf8(v);
      // TextEncoder turns a lone surrogate into U+FFFD, so two strings would share one encoding.
      // Each char below U+0080 is a byte of its own, and no surrogate.
      if (encoded.length !== v.length && LONE_SURROGATE.test(v)) {
        fail(path, "text is not well-formed Unicode");
      }
      return raw.toWire(encoded, path);
    },
    fromWire(w, path) {
      const b = raw.fromWire(w, path);
      try {
        return fromUtf8(b);
      } catch {
        return fail(path, "invalid UTF-8");
      }
    },
  };
}

/** An integer below 2^32 (or a smaller maximum), written as a msgpack int. */
export function uint(max = 0xffffffff): Schema<number> {
  // msgpackr writes a number of 2^32 or more as a float64: such fields must be u64.
  if (!Number.isInteger(max) || max < 0 || max > 0xffffffff) {
    throw new RangeError(`uint: maximum ${max} is not in [0, 2^32 - 1]`);
  }
  const check = (v: unknown, path: string): number => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
      fail(path, `expected an integer in [0, ${max}]`);
    }
    return v;
  };
  return { name: "uint", toWire: check, fromWire: check };
}

export const u32 = uint();

function bigintSchema(name: string, min: bigint, max: bigint): Schema<bigint> {
  const check = (v: unknown, path: string): bigint => {
    if (typeof v !== "bigint" || v < min || v > max) fail(path, `expected ${name}`);
    return v;
  };
  return { name, toWire: check, fromWire: check };
}

/** Unsigned 64-bit: quantities, times, heights; anything that can reach 2^32. */
export const u64 = bigintSchema("u64", 0n, (1n << 64n) - 1n);
/** Signed 64-bit: balances, which penalties may drive below zero. */
export const i64 = bigintSchema("i64", -(1n << 63n), (1n << 63n) - 1n);

export const bool: Schema<boolean> = {
  name: "bool",
  toWire: (v, path) => (typeof v === "boolean" ? (v ? 1 : 0) : fail(path, "expected a boolean")),
  fromWire: (w, path) => (w === 0 ? false : w === 1 ? true : fail(path, "expected 0 or 1")),
};

/** One of a fixed list of names, written as its index. */
export function enumeration<const T extends readonly string[]>(
  name: string,
  values: T,
): Schema<T[number]> {
  const index = new Map<string, number>(values.map((v, i) => [v, i]));
  return {
    name,
    toWire(v, path) {
      const i = index.get(v);
      return i === undefined ? fail(path, `not a ${name}: ${String(v)}`) : i;
    },
    fromWire(w, path) {
      if (typeof w !== "number" || !Number.isInteger(w)) fail(path, `expected a ${name} index`);
      const v = values[w];
      return v === undefined ? fail(path, `unknown ${name} ${w}`) : v;
    },
  };
}

export function list<T>(item: Schema<T>, max: number): Schema<T[]> {
  return {
    name: `list<${item.name}>`,
    toWire(v, path) {
      if (!Array.isArray(v)) fail(path, "expected a list");
      if (v.length > max) fail(path, `${v.length} items is over the limit of ${max}`);
      return v.map((x, i) => item.toWire(x, `${path}[${i}]`));
    },
    fromWire(w, path) {
      if (!Array.isArray(w)) fail(path, "expected a list");
      if (w.length > max) fail(path, `${w.length} items is over the limit of ${max}`);
      return w.map((x, i) => item.fromWire(x, `${path}[${i}]`));
    },
  };
}

/** An optional value, written as a list of zero or one item so its wire type never changes. */
export function optional<T>(item: Schema<T>): Schema<T | undefined> {
  const inner = list(item, 1);
  return {
    name: `optional<${item.name}>`,
    toWire: (v, path) => inner.toWire(v === undefined ? [] : [v], path),
    fromWire: (w, path) => inner.fromWire(w, path)[0],
  };
}

type Fields = Record<string, Schema<unknown>>;
type StructOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

/** A record written as a positional array in the order its fields are declared. */
export function struct<F extends Fields>(name: string, fields: F): Schema<StructOf<F>> {
  const entries = Object.entries(fields);
  return {
    name,
    toWire(v, path) {
      if (typeof v !== "object" || v === null) fail(path, `expected a ${name}`);
      const record = v as Record<string, unknown>;
      return entries.map(([key, schema]) => schema.toWire(record[key], `${path}.${key}`));
    },
    fromWire(w, path) {
      if (!Array.isArray(w) || w.length !== entries.length) {
        fail(path, `expected ${name} as an array of ${entries.length} fields`);
      }
      const out: Record<string, unknown> = {};
      entries.forEach(([key, schema], i) => {
        out[key] = schema.fromWire(w[i], `${path}.${key}`);
      });
      return out as StructOf<F>;
    },
  };
}

type Variants = Record<string, readonly [tag: number, schema: Schema<unknown>]>;
export type UnionOf<V extends Variants> = {
  [K in keyof V]: { kind: K; value: Infer<V[K][1]> };
}[keyof V];

/** A tagged union, written as `[tag, value]`; tags are fixed forever once used on chain. */
export function union<V extends Variants>(name: string, variants: V): Schema<UnionOf<V>> {
  const byTag = new Map<number, [string, Schema<unknown>]>();
  for (const [kind, [tag, schema]] of Object.entries(variants)) {
    if (byTag.has(tag)) throw new Error(`${name}: tag ${tag} used twice`);
    byTag.set(tag, [kind, schema]);
  }
  return {
    name,
    toWire(v, path) {
      if (typeof v !== "object" || v === null) fail(path, `expected a ${name}`);
      const variant = Object.hasOwn(variants, v.kind) ? variants[v.kind] : undefined;
      if (!variant) fail(path, `unknown ${name} kind ${String(v.kind)}`);
      return [variant[0], variant[1].toWire(v.value, `${path}.${String(v.kind)}`)];
    },
    fromWire(w, path) {
      if (!Array.isArray(w) || w.length !== 2 || typeof w[0] !== "number") {
        fail(path, `expected ${name} as [tag, value]`);
      }
      const entry = byTag.get(w[0]);
      if (!entry) fail(path, `unknown ${name} tag ${w[0]}`);
      const [kind, schema] = entry;
      return { kind, value: schema.fromWire(w[1], `${path}.${kind}`) } as UnionOf<V>;
    },
  };
}

// useRecords:false and mapsAsObjects:false keep msgpackr to plain arrays. msgpackr writes every
// bigint as a 64-bit integer (0xd3, or 0xcf at 2^63 and above) and int64AsType reads 64-bit
// integers back as bigint; moreTypes:false makes a bigint beyond 64 bits an error, not an ext.
// copyBuffers:true gives decoded bytes their own memory instead of views into the input, which
// the caller may reuse (network buffers) and which a small field would otherwise keep alive.
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: false,
  int64AsType: "bigint",
  moreTypes: false,
  copyBuffers: true,
});

export function encode<T>(schema: Schema<T>, value: T): Uint8Array {
  // pack returns a view into msgpackr's shared 8 KiB scratch buffer; copy it so an encoding owns
  // exactly its bytes (safe to transfer to a worker, store or keep without pinning the scratch).
  return new Uint8Array(packr.pack(schema.toWire(value, schema.name)));
}

export interface DecodeOptions {
  /** Reject inputs over this many bytes before parsing them. */
  readonly maxBytes?: number;
}

export function decode<T>(schema: Schema<T>, data: Uint8Array, options: DecodeOptions = {}): T {
  if (!(data instanceof Uint8Array)) throw new CodecError("MALFORMED", "expected bytes");
  if (options.maxBytes !== undefined && data.length > options.maxBytes) {
    throw new CodecError(
      "TOO_LARGE",
      `${data.length} bytes is over the limit of ${options.maxBytes}`,
    );
  }
  let wire: unknown;
  try {
    wire = packr.unpack(data);
  } catch (e) {
    throw new CodecError("MALFORMED", `${schema.name}: ${(e as Error).message}`);
  }
  const value = schema.fromWire(wire, schema.name);
  if (!equalBytes(packr.pack(schema.toWire(value, schema.name)), data)) {
    throw new CodecError("NON_CANONICAL", `${schema.name}: not the canonical encoding`);
  }
  return value;
}

/**
 * decode() without the canonical check, for bytes that encode() produced on this node: the
 * world state's values, which only blocks it executed (or a snapshot import, which checks each
 * value with isCanonical) ever wrote. The schema is still checked, so a damaged value is still
 * refused; only re-encoding, most of a small record's decoding cost, is spared. Never for bytes
 * from a peer, a client or a file.
 */
export function decodeOwn<T>(schema: Schema<T>, data: Uint8Array): T {
  let wire: unknown;
  try {
    wire = packr.unpack(data);
  } catch (e) {
    throw new CodecError("MALFORMED", `${schema.name}: ${(e as Error).message}`);
  }
  return schema.fromWire(wire, schema.name);
}

/**
 * Whether `data` is one msgpack value written as msgpackr writes it, whatever its schema. Every
 * schema's fromWire returns a value its toWire lowers back to the very wire it was given (bytes,
 * numbers and bigints as they are, booleans, enumerations and unions by their indexes, text by
 * its UTF-8), so bytes that pass this and a schema's fromWire are that schema's canonical
 * encoding: this check plus decodeOwn accepts exactly what decode accepts. It lets a store vet
 * values it cannot yet name the schemas of (a snapshot's state) before decodeOwn reads them.
 */
export function isCanonical(data: Uint8Array): boolean {
  let wire: unknown;
  try {
    wire = packr.unpack(data);
  } catch {
    return false;
  }
  return equalBytes(packr.pack(wire), data);
}
