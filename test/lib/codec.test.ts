import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import t from "tap";
import { BlockSchema } from "../../lib/block.js";
import { equalBytes, fromHex, toHex } from "../../lib/bytes.js";
import {
  bool,
  bytes,
  CodecError,
  type CodecErrorCode,
  decode,
  decodeOwn,
  encode,
  enumeration,
  i64,
  isCanonical,
  list,
  optional,
  type Schema,
  struct,
  text,
  u32,
  u64,
  uint,
  union,
} from "../../lib/codec.js";
import { CommitSchema } from "../../lib/commit.js";
import { EvidenceSchema } from "../../lib/evidence.js";
import { SignedTxSchema } from "../../lib/tx.js";
import { ValidatorSetSchema } from "../../lib/validator.js";
import { SignedProposalSchema, SignedVoteSchema } from "../../lib/vote.js";

const Color = enumeration("Color", ["red", "green", "blue"]);
const Shape = union("Shape", { dot: [0, u32], line: [1, bytes({ length: 2 })] });
const Pair = struct("Pair", { a: u32, b: bytes() });

/** The CodecError code that decoding `hex` throws, or "ACCEPTED"; other errors propagate. */
function codeOf<T>(schema: Schema<T>, hex: string, maxBytes?: number): CodecErrorCode | "ACCEPTED" {
  try {
    decode(schema, fromHex(hex), maxBytes === undefined ? {} : { maxBytes });
    return "ACCEPTED";
  } catch (e) {
    if (e instanceof CodecError) return e.code;
    throw e;
  }
}

/** A thunk encoding a value the schema's type would not admit, to check the runtime checks. */
function encodeAny(schema: Schema<unknown>, value: unknown): () => Uint8Array {
  return () => encode(schema, value);
}

t.test("every schema kind writes its golden bytes and reads them back", (t) => {
  const cases: [Schema<unknown>, unknown, string][] = [
    [bytes(), new Uint8Array(0), "c400"],
    [bytes(), Uint8Array.of(1, 2, 3), "c403010203"],
    [bytes({ length: 2 }), Uint8Array.of(0xab, 0xcd), "c402abcd"],
    [u32, 0, "00"],
    [u32, 127, "7f"],
    [u32, 128, "cc80"],
    [u32, 255, "ccff"],
    [u32, 256, "cd0100"],
    [u32, 65535, "cdffff"],
    [u32, 65536, "ce00010000"],
    [u32, 0xffffffff, "ceffffffff"],
    [uint(9), 9, "09"],
    [u64, 0n, "d30000000000000000"],
    [u64, 5n, "d30000000000000005"],
    [u64, 1n << 63n, "cf8000000000000000"],
    [u64, (1n << 64n) - 1n, "cfffffffffffffffff"],
    [i64, -1n, "d3ffffffffffffffff"],
    [i64, -(1n << 63n), "d38000000000000000"],
    [i64, (1n << 63n) - 1n, "d37fffffffffffffff"],
    [bool, false, "00"],
    [bool, true, "01"],
    [text(8), "", "c400"],
    [text(8), "é", "c402c3a9"],
    [text(8), "\ufeffA", "c404efbbbf41"],
    [Color, "blue", "02"],
    [list(u32, 3), [], "90"],
    [list(u32, 3), [1, 2], "920102"],
    [optional(u32), undefined, "90"],
    [optional(u32), 5, "9105"],
    [Pair, { a: 1, b: new Uint8Array(0) }, "9201c400"],
    [Shape, { kind: "dot", value: 5 }, "920005"],
    [Shape, { kind: "line", value: Uint8Array.of(1, 2) }, "9201c4020102"],
  ];
  for (const [schema, value, hex] of cases) {
    const data = encode(schema, value);
    t.equal(toHex(data), hex, `${schema.name} ${String(value)} encodes to ${hex}`);
    t.strictSame(decode(schema, data), value, `${schema.name} ${hex} decodes back`);
  }
  const long = new Uint8Array(300).fill(7);
  t.equal(toHex(encode(bytes(), long)).slice(0, 6), "c5012c", "bin16 from 256 bytes on");
  t.end();
});

t.test("encodings are plain Uint8Arrays that own their memory", (t) => {
  const data = encode(Pair, { a: 1, b: Uint8Array.of(9) });
  t.equal(data.constructor, Uint8Array);
  t.equal(data.buffer.byteLength, data.length, "not a view into msgpackr's scratch buffer");
  const again = encode(Pair, { a: 2, b: Uint8Array.of(8) });
  t.equal(toHex(data), "9201c40109", "a later encode leaves an earlier result alone");
  t.not(data.buffer, again.buffer);
  t.end();
});

t.test("decoded bytes do not alias the input", (t) => {
  const data = fromHex("9201c4020102");
  const value = decode(Pair, data);
  data[4] = 0xff;
  t.strictSame(value.b, Uint8Array.of(1, 2));
  t.equal(value.b.constructor, Uint8Array);
  t.end();
});

t.test("malformed input is MALFORMED", (t) => {
  t.equal(codeOf(u32, ""), "MALFORMED", "empty input");
  t.equal(codeOf(Pair, "9201c403aabb"), "MALFORMED", "bin shorter than its length");
  t.equal(codeOf(Pair, "9201c40000"), "MALFORMED", "trailing byte");
  t.equal(codeOf(u32, "0500"), "MALFORMED", "two values");
  t.equal(codeOf(u32, "d40a00"), "MALFORMED", "unknown extension type");
  const good = encode(Shape, { kind: "line", value: Uint8Array.of(1, 2) });
  for (let n = 0; n < good.length; n++) {
    t.equal(codeOf(Shape, toHex(good.subarray(0, n))), "MALFORMED", toHex(good.subarray(0, n)));
  }
  t.throws(() => decode(u32, "05" as unknown as Uint8Array), { code: "MALFORMED" });
  const deep = new Uint8Array(200_000).fill(0x91);
  t.throws(() => decode(list(u32, 1), deep), { code: "MALFORMED" }, "deep nesting is caught");
  t.end();
});

t.test("values of the wrong type are SCHEMA", (t) => {
  t.equal(codeOf(u64, "05"), "SCHEMA", "u64 written as a small int");
  t.equal(codeOf(u32, "d30000000000000005"), "SCHEMA", "u32 written as int64");
  t.equal(codeOf(u32, "cb3ff8000000000000"), "SCHEMA", "1.5");
  t.equal(codeOf(u64, "cb4014000000000000"), "SCHEMA", "5.0 where a bigint belongs");
  t.equal(codeOf(Pair, "80"), "SCHEMA", "empty map");
  t.equal(codeOf(Pair, "81a16101"), "SCHEMA", "{a: 1}");
  t.equal(codeOf(bytes(), "a3616263"), "SCHEMA", "str where bin belongs");
  t.equal(codeOf(text(8), "a3616263"), "SCHEMA", "text is bin on the wire too");
  t.equal(codeOf(bytes(), "c0"), "SCHEMA", "nil");
  t.equal(codeOf(optional(u32), "c0"), "SCHEMA", "c0");
  t.equal(codeOf(u32, "c0"), "SCHEMA", "c0");
  t.equal(codeOf(Pair, "9101"), "SCHEMA", "too few fields");
  t.equal(codeOf(Pair, "9301c40000"), "SCHEMA", "too many fields");
  t.equal(codeOf(Shape, "920905"), "SCHEMA", "unknown union tag");
  t.equal(codeOf(Shape, "9100"), "SCHEMA", "a union is a [tag, value] pair");
  t.equal(codeOf(Shape, "92c4010005"), "SCHEMA", "tag not a number");
  t.equal(codeOf(list(u32, 2), "93010203"), "SCHEMA", "over the list's max");
  t.equal(codeOf(optional(u32), "920102"), "SCHEMA", "an optional holds at most one");
  t.equal(codeOf(bytes({ max: 2 }), "c403010203"), "SCHEMA", "c403010203");
  t.equal(codeOf(bytes({ length: 2 }), "c401ff"), "SCHEMA", "c401ff");
  t.equal(codeOf(bytes({ length: 2 }), "c403ffffff"), "SCHEMA", "c403ffffff");
  t.equal(codeOf(u64, "d3ffffffffffffffff"), "SCHEMA", "negative u64");
  t.equal(codeOf(i64, "cf8000000000000000"), "SCHEMA", "2^63 is beyond i64");
  t.equal(codeOf(u32, "ff"), "SCHEMA", "negative fixint");
  t.equal(codeOf(u32, "d0fb"), "SCHEMA", "-5 as int8");
  t.equal(codeOf(uint(9), "0a"), "SCHEMA", "above the uint's max");
  t.equal(codeOf(text(8), "c402c328"), "SCHEMA", "invalid UTF-8");
  t.equal(codeOf(text(8), "c402c080"), "SCHEMA", "overlong encoding");
  t.equal(codeOf(text(8), "c403eda080"), "SCHEMA", "an encoded surrogate");
  t.equal(codeOf(text(2), "c403616263"), "SCHEMA", "over the byte limit");
  t.equal(codeOf(bool, "02"), "SCHEMA", "02");
  t.equal(codeOf(bool, "c3"), "SCHEMA", "msgpack true is not the chain's bool");
  t.equal(codeOf(Color, "03"), "SCHEMA", "03");
  t.equal(codeOf(Color, "c0"), "SCHEMA", "c0");
  t.equal(codeOf(u32, "d6ffffffffff"), "SCHEMA", "timestamp extension");
  t.equal(codeOf(u32, "c1"), "SCHEMA", "the never-used byte");
  t.end();
});

t.test("non-minimal encodings are NON_CANONICAL", (t) => {
  t.equal(codeOf(u32, "cd0005"), "NON_CANONICAL", "cd0005");
  t.equal(codeOf(u32, "cc05"), "NON_CANONICAL", "cc05");
  t.equal(codeOf(u32, "ce00000005"), "NON_CANONICAL", "ce00000005");
  t.equal(codeOf(u32, "d005"), "NON_CANONICAL", "int8");
  t.equal(codeOf(u32, "cb4014000000000000"), "NON_CANONICAL", "5 as a float64");
  t.equal(codeOf(u32, "ca40a00000"), "NON_CANONICAL", "5 as a float32");
  t.equal(codeOf(u64, "cf0000000000000005"), "NON_CANONICAL", "uint64 below 2^63");
  t.equal(codeOf(bytes(), "c5000101"), "NON_CANONICAL", "bin16 for one byte");
  t.equal(codeOf(bytes(), "c600000000"), "NON_CANONICAL", "bin32 for none");
  t.equal(codeOf(list(u32, 3), "dc000101"), "NON_CANONICAL", "array16 for one item");
  t.equal(codeOf(list(u32, 3), "dd0000000101"), "NON_CANONICAL", "array32");
  t.equal(codeOf(text(8), "c50004efbbbf41"), "NON_CANONICAL", "text in a bin16");
  t.end();
});

t.test("isCanonical plus decodeOwn accept exactly what decode accepts", (t) => {
  const cases: Array<[Schema<unknown>, string]> = [
    [u32, "05"],
    [u32, "cd0005"],
    [u32, "cc05"],
    [u32, "d005"],
    [u32, "cb4014000000000000"],
    [u32, "0501"],
    [u64, "d30000000000000005"],
    [u64, "cf0000000000000005"],
    [u64, "05"],
    [bytes(), "c40101"],
    [bytes(), "c5000101"],
    [list(u32, 3), "9101"],
    [list(u32, 3), "dc000101"],
    [text(8), "c40141"],
    [text(8), "c50004efbbbf41"],
    [bool, "c3"],
    [Color, "03"],
    [Shape as Schema<unknown>, "920105"],
    [Pair as Schema<unknown>, "9205c40101"],
    [Pair as Schema<unknown>, "9205c5000101"],
  ];
  for (const [schema, hex] of cases) {
    const data = fromHex(hex);
    const own = (() => {
      try {
        return isCanonical(data) ? { value: decodeOwn(schema, data) } : "refused";
      } catch {
        return "refused";
      }
    })();
    t.same(
      own,
      codeOf(schema, hex) === "ACCEPTED" ? { value: decode(schema, data) } : "refused",
      hex,
    );
  }
  t.end();
});

t.test("inputs over maxBytes are TOO_LARGE before parsing", (t) => {
  t.equal(codeOf(bytes(), "c403010203", 4), "TOO_LARGE", "5 bytes over a limit of 4");
  t.strictSame(decode(bytes(), fromHex("c403010203"), { maxBytes: 5 }), Uint8Array.of(1, 2, 3));
  t.equal(codeOf(bytes(), "ffffffffff", 4), "TOO_LARGE", "garbage is not even looked at");
  t.end();
});

t.test("encode refuses values outside the schema", (t) => {
  t.throws(encodeAny(u32, 2 ** 32), { code: "SCHEMA" });
  t.throws(encodeAny(u32, -1), { code: "SCHEMA" });
  t.throws(encodeAny(u32, 1.5), { code: "SCHEMA" });
  t.throws(encodeAny(u32, 5n), { code: "SCHEMA" });
  t.throws(encodeAny(u64, 5), { code: "SCHEMA" });
  t.throws(encodeAny(u64, -1n), { code: "SCHEMA" });
  t.throws(encodeAny(u64, 1n << 64n), { code: "SCHEMA" });
  t.throws(encodeAny(i64, 1n << 63n), { code: "SCHEMA" });
  t.throws(encodeAny(bool, 1), { code: "SCHEMA" });
  t.throws(encodeAny(bytes({ length: 2 }), Uint8Array.of(1)), { code: "SCHEMA" });
  t.throws(encodeAny(bytes(), [1, 2]), { code: "SCHEMA" });
  t.throws(encodeAny(text(3), "abcd"), { code: "SCHEMA" });
  t.throws(encodeAny(text(8), "\ud800"), { code: "SCHEMA" });
  t.throws(encodeAny(text(8), "a\udc00b"), { code: "SCHEMA" });
  t.throws(encodeAny(Color, "purple"), { code: "SCHEMA" });
  t.throws(encodeAny(list(u32, 1), [1, 2]), { code: "SCHEMA" });
  t.throws(encodeAny(Pair, null), { code: "SCHEMA" });
  t.throws(encodeAny(Pair, { a: 1 }), { code: "SCHEMA" });
  t.throws(encodeAny(Shape, { kind: "toString", value: 1 }), { code: "SCHEMA" });
  t.throws(encodeAny(Shape, { kind: "dot", value: -1 }), { code: "SCHEMA" });
  t.throws(() => uint(2 ** 32), RangeError, "a uint never reaches 2^32");
  t.throws(() => union("Twice", { a: [0, u32], b: [0, u64] }), /tag 0 used twice/);
  t.end();
});

t.test("errors name the path of the offending field", (t) => {
  const Outer = struct("Outer", { inner: list(Pair, 2) });
  t.throws(() => decode(Outer, fromHex("919192c0c400")), {
    code: "SCHEMA",
    message: /^Outer\.inner\[0\]\.a: /,
  });
  t.end();
});

const Sample = struct("Sample", {
  a: u32,
  b: u64,
  c: i64,
  d: bool,
  e: text(32),
  f: bytes({ max: 64 }),
  g: list(uint(1000), 8),
  h: optional(bytes({ length: 4 })),
  i: Color,
  j: Shape,
});

const sampleArb = fc.record(
  {
    a: fc.integer({ min: 0, max: 0xffffffff }),
    b: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    c: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    d: fc.boolean(),
    e: fc.string({ unit: "binary", maxLength: 8 }),
    f: fc.uint8Array({ maxLength: 64 }),
    g: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 8 }),
    h: fc.option(fc.uint8Array({ minLength: 4, maxLength: 4 }), { nil: undefined }),
    i: fc.constantFrom("red", "green", "blue" as const),
    j: fc.oneof(
      fc.integer({ min: 0, max: 0xffffffff }).map((value) => ({ kind: "dot" as const, value })),
      fc
        .uint8Array({ minLength: 2, maxLength: 2 })
        .map((value) => ({ kind: "line" as const, value })),
    ),
  },
  { noNullPrototype: true },
);

t.test("decode(encode(x)) is x for arbitrary values", (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(sampleArb, (x) => {
        const data = encode(Sample, x);
        const back = decode(Sample, data);
        return isDeepStrictEqual(back, x) && equalBytes(encode(Sample, back), data);
      }),
      { numRuns: 300 },
    ),
  );
  t.end();
});

const wireSchemas: Schema<unknown>[] = [
  Sample,
  SignedTxSchema,
  BlockSchema,
  SignedVoteSchema,
  SignedProposalSchema,
  CommitSchema,
  EvidenceSchema,
  ValidatorSetSchema,
];

/** Throws whatever decode throws unless it is a CodecError. */
function decodeOrCodecError(schema: Schema<unknown>, data: Uint8Array): void {
  try {
    decode(schema, data, { maxBytes: 1 << 16 });
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
  }
}

t.test("decoding random bytes throws nothing but CodecError", (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.constantFrom(...wireSchemas), fc.uint8Array({ maxLength: 300 }), (s, data) =>
        decodeOrCodecError(s, data),
      ),
      { numRuns: 2000 },
    ),
  );
  t.end();
});

t.test("decoding mutated valid encodings throws nothing but CodecError", (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        sampleArb,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom("set", "insert", "delete"),
        (x, at, byte, how) => {
          const data = Array.from(encode(Sample, x));
          const i = at % data.length;
          if (how === "set") data[i] = byte;
          else if (how === "insert") data.splice(i, 0, byte);
          else data.splice(i, 1);
          decodeOrCodecError(Sample, Uint8Array.from(data));
        },
      ),
      { numRuns: 1000 },
    ),
  );
  t.end();
});
