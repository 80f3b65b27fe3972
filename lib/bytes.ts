// Byte helpers shared by every layer. Browser-safe: no Node-only imports.

export type Bytes = Uint8Array;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** A hex digit's value by its character code; -1 for every other ASCII character. */
const NIBBLES = Int8Array.from({ length: 128 }, (_, code) => {
  const c = String.fromCharCode(code);
  return /[0-9a-fA-F]/.test(c) ? Number.parseInt(c, 16) : -1;
});

/** The char codes of each byte's two hex digits. */
const HEX_CODES = Uint16Array.from({ length: 512 }, (_, i) => HEX[i >> 1]!.charCodeAt(i & 1));
/** Bytes turned into hex a chunk at a time: fromCharCode takes its chars as arguments. */
const HEX_CHUNK = 4096;

/** Node's Buffer, where there is one; reached through globalThis so browsers never need it. */
const NodeBuffer = (
  globalThis as {
    Buffer?: {
      from(
        buffer: ArrayBufferLike,
        offset: number,
        length: number,
      ): { toString(encoding: "hex"): string };
    };
  }
).Buffer;

/**
 * Lower-case hex. Node's native encoder is five to eight times faster for the short ids and
 * keys hashed into Map keys on every transaction's path (toHex was 3-9% of a loaded validator);
 * the browser gets the same string from toHexJs.
 */
export const toHex: (bytes: Uint8Array) => string = NodeBuffer
  ? (bytes) => NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")
  : toHexJs;

// The digits' char codes, then one string: appending a pair per byte made a string per byte.
export function toHexJs(bytes: Uint8Array): string {
  let out = "";
  for (let start = 0; start < bytes.length; start += HEX_CHUNK) {
    const end = Math.min(bytes.length, start + HEX_CHUNK);
    const codes = new Uint16Array(2 * (end - start));
    for (let i = start, j = 0; i < end; i++, j += 2) {
      const b = bytes[i]!;
      codes[j] = HEX_CODES[2 * b]!;
      codes[j + 1] = HEX_CODES[2 * b + 1]!;
    }
    out += String.fromCharCode.apply(null, codes as unknown as number[]);
  }
  return out;
}

/**
 * The bytes as a string of one char (U+0000-U+00FF) per byte: the cheapest Map key for short
 * byte strings, and strings compare by code unit, so these order exactly as the bytes do.
 */
export function byteString(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** Hex with a `0x` prefix, the form the RPC and the explorer show. */
export function to0x(bytes: Uint8Array): string {
  return `0x${toHex(bytes)}`;
}

export class HexError extends Error {
  override name = "HexError";
}

/** Parses hex with or without `0x`; rejects odd lengths and non-hex digits instead of guessing. */
export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  const s = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
  if (s.length % 2 !== 0) throw new HexError("hex string has an odd number of digits");
  const out = new Uint8Array(s.length / 2);
  // Digit by digit through a table: a transaction arrives over RPC as hex, and slicing and
  // parsing each pair allocated a string per byte.
  for (let i = 0; i < out.length; i++) {
    const high = NIBBLES[s.charCodeAt(2 * i)] ?? -1;
    const low = NIBBLES[s.charCodeAt(2 * i + 1)] ?? -1;
    if (high < 0 || low < 0) throw new HexError("hex string has a non-hex character");
    out[i] = (high << 4) | low;
  }
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new HexError(`expected ${expectedLength} bytes, got ${out.length}`);
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic order of unsigned bytes: the order of LevelDB keys and of the state tree. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in the output; by default TextDecoder strips it, so text that
// starts with one would not survive an encode/decode round trip.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// Short ASCII text (utility ids, job names, references) is most of what the chain encodes, and
// for it a loop is several times cheaper than a call into TextEncoder or TextDecoder.
const SHORT_TEXT = 64;

export function utf8(s: string): Uint8Array {
  if (s.length <= SHORT_TEXT) {
    const out = new Uint8Array(s.length);
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      out[i] = c;
    }
    if (i === s.length) return out;
  }
  return encoder.encode(s);
}

/** Decodes UTF-8, throwing on invalid sequences rather than inventing replacement characters. */
export function fromUtf8(bytes: Uint8Array): string {
  if (bytes.length <= SHORT_TEXT) {
    let ascii = true;
    for (let i = 0; i < bytes.length && ascii; i++) ascii = bytes[i]! < 0x80;
    if (ascii) return byteString(bytes);
  }
  return decoder.decode(bytes);
}

/** A plain Uint8Array view, so Buffers from Node APIs compare and serialise like browser bytes. */
export function asPlain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const U64_LIMIT = 1n << 64n;
// One DataView over scratch bytes: state keys and codecs write u64s by the ten thousand a block,
// and a DataView per call cost more than the write itself.
const u64Scratch = new Uint8Array(8);
const u64View = new DataView(u64Scratch.buffer);

/** Big-endian unsigned 64-bit encoding: sorts like the number in LevelDB keys. */
export function u64be(value: bigint): Uint8Array {
  if (value < 0n || value >= U64_LIMIT) throw new RangeError("u64 out of range");
  u64View.setBigUint64(0, value);
  return u64Scratch.slice();
}

/** u64be(value) written into `out` at `offset`, for builders of longer keys. */
export function writeU64be(out: Uint8Array, offset: number, value: bigint): void {
  if (value < 0n || value >= U64_LIMIT) throw new RangeError("u64 out of range");
  u64View.setBigUint64(0, value);
  out.set(u64Scratch, offset);
}

export function readU64be(bytes: Uint8Array, offset = 0): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset);
}

/** Big-endian unsigned 32-bit encoding for small integers in keys. */
export function u32be(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError("u32 out of range");
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

export function readU32be(bytes: Uint8Array, offset = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset);
}
