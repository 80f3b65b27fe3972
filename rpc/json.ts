// The RPC's JSON forms, shared by the server and the client SDK. JSON has no integers beyond
// 2^53 and no bytes, so the chain's values travel as strings with one fixed form each:
//   bigint (money, energy, heights, nonces)  → decimal string, "-" for negatives: "12345"
//   bytes and hashes                          → 0x + lower-case hex: "0x00ab…"
//   addresses (20 bytes)                      → EIP-55 checksummed: "0xAbC…"
//   times (unix ms)                           → decimal string, like every bigint
//   enums                                     → their string names
//   absent optionals                          → null
// Every 20-byte value in the chain's schemas is an address (accounts, validators, operators,
// oracles), which is what lets toJson tell an address from other bytes without a schema.
import { parseAddress, toChecksumAddress } from "../lib/address.js";
import { fromHex, to0x } from "../lib/bytes.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const ADDRESS_BYTES = 20;

export function bigintJson(value: bigint): string {
  return value.toString(10);
}

export function bytesJson(value: Uint8Array): string {
  return to0x(value);
}

export function addressJson(value: Uint8Array): string {
  return toChecksumAddress(value);
}

/** Unix milliseconds, as a decimal string. */
export function timeJson(ms: bigint): string {
  return ms.toString(10);
}

export function optionalJson<T>(value: T | undefined, form: (v: T) => Json): Json {
  return value === undefined ? null : form(value);
}

/**
 * A decoded chain value in its JSON form: bigints as decimal strings, 20-byte arrays as
 * checksummed addresses, other bytes as 0x-hex, undefined as null, objects and arrays walked.
 * Tagged unions ({kind, value}) keep their shape, with the value converted.
 */
export function toJson(value: unknown): Json {
  if (value === undefined || value === null) return null;
  if (typeof value === "bigint") return bigintJson(value);
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (value instanceof Uint8Array) {
    return value.length === ADDRESS_BYTES ? addressJson(value) : bytesJson(value);
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === "object") {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJson(v);
    return out;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Parsing: the server runs these only on params its schemas already accepted, so a failure here
// means a value the pattern allows but the domain does not (a checksum typo): JsonFormError.

export class JsonFormError extends Error {
  override name = "JsonFormError";
}

const U64_MAX = (1n << 64n) - 1n;

export function parseU64(text: string): bigint {
  if (!/^(0|[1-9][0-9]{0,19})$/.test(text)) throw new JsonFormError(`not a u64: ${text}`);
  const value = BigInt(text);
  if (value > U64_MAX) throw new JsonFormError(`over 2^64 - 1: ${text}`);
  return value;
}

export function parseBytes(text: string, length?: number): Uint8Array {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(text)) throw new JsonFormError("not 0x-prefixed hex bytes");
  const bytes = fromHex(text);
  if (length !== undefined && bytes.length !== length) {
    throw new JsonFormError(`expected ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** All-lower or all-upper hex is accepted as is; mixed case must be the EIP-55 checksum. */
export function parseAddressJson(text: string): Uint8Array {
  try {
    return parseAddress(text);
  } catch (e) {
    throw new JsonFormError((e as Error).message);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON Schema fragments for these forms, used by rpc/methods.ts.

export type JsonSchema = { [key: string]: Json };

export const jsonSchemas = {
  u64: { type: "string", pattern: "^(0|[1-9][0-9]{0,19})$", description: "decimal u64" },
  i64: { type: "string", pattern: "^(0|-?[1-9][0-9]{0,18})$", description: "decimal i64" },
  time: { type: "string", pattern: "^(0|[1-9][0-9]{0,19})$", description: "unix ms, decimal" },
  hash: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$", description: "32 bytes, 0x-hex" },
  address: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$", description: "EIP-55 address" },
  bytes: { type: "string", pattern: "^0x([0-9a-fA-F]{2})*$", description: "0x-hex bytes" },
  utility: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,31}$", description: "utility id" },
} as const satisfies Record<string, JsonSchema>;

export function nullable(schema: JsonSchema): JsonSchema {
  return { oneOf: [schema, { type: "null" }] };
}
