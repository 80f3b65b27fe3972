import fc from "fast-check";
import t from "tap";
import {
  asPlain,
  compareBytes,
  concatBytes,
  equalBytes,
  fromHex,
  fromUtf8,
  HexError,
  readU32be,
  readU64be,
  to0x,
  toHex,
  toHexJs,
  u32be,
  u64be,
  utf8,
} from "../../lib/bytes.js";

t.test("hex round-trips and shows 0x on request", (t) => {
  t.equal(toHex(Uint8Array.of(0, 1, 0xab, 0xff)), "0001abff");
  t.equal(to0x(Uint8Array.of(0xde, 0xad)), "0xdead");
  t.strictSame(fromHex("0001abff"), Uint8Array.of(0, 1, 0xab, 0xff));
  t.strictSame(fromHex("0xDEad"), Uint8Array.of(0xde, 0xad));
  t.strictSame(fromHex("0X00"), Uint8Array.of(0));
  t.strictSame(fromHex(""), new Uint8Array(0));
  t.doesNotThrow(() =>
    fc.assert(fc.property(fc.uint8Array(), (b) => equalBytes(fromHex(toHex(b)), b))),
  );
  t.end();
});

t.test("Node's hex and the browser's give the same string, views included (property)", (t) => {
  t.equal(toHexJs(Uint8Array.of(0, 1, 0xab, 0xff)), "0001abff");
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 9000 }), fc.nat(8), (b, cut) => {
      // A view into a larger buffer: only its own bytes count.
      const view = b.subarray(Math.min(cut, b.length), Math.max(cut, b.length - cut));
      return toHex(b) === toHexJs(b) && toHex(view) === toHexJs(view);
    }),
    { numRuns: 200 },
  );
  t.pass("property held");
  t.end();
});

t.test("fromHex rejects what is not exactly hex", (t) => {
  t.throws(() => fromHex("abc"), HexError, "odd length");
  t.throws(() => fromHex("zz"), HexError, "non-hex digit");
  t.throws(() => fromHex("0x 1"), HexError, "space");
  t.throws(() => fromHex("+1"), HexError, "sign");
  t.throws(() => fromHex("0x0102", 3), /expected 3 bytes, got 2/);
  t.strictSame(fromHex("0x010203", 3), Uint8Array.of(1, 2, 3));
  t.end();
});

t.test("equalBytes and compareBytes", (t) => {
  t.ok(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
  t.notOk(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
  t.notOk(equalBytes(Uint8Array.of(1), Uint8Array.of(1, 0)));
  t.ok(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3)) < 0);
  t.ok(compareBytes(Uint8Array.of(2), Uint8Array.of(1, 0xff)) > 0);
  t.ok(compareBytes(Uint8Array.of(1), Uint8Array.of(1, 0)) < 0, "a prefix sorts first");
  t.equal(compareBytes(Uint8Array.of(0x80), Uint8Array.of(0x80)), 0);
  t.ok(compareBytes(Uint8Array.of(0x7f), Uint8Array.of(0x80)) < 0, "bytes are unsigned");
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        const c = compareBytes(a, b);
        const expected = Buffer.compare(Buffer.from(a), Buffer.from(b));
        return Math.sign(c) === expected && (c === 0) === equalBytes(a, b);
      }),
    ),
  );
  t.end();
});

t.test("concatBytes", (t) => {
  t.strictSame(concatBytes(), new Uint8Array(0));
  t.strictSame(
    concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)),
    Uint8Array.of(1, 2, 3),
  );
  t.end();
});

t.test("utf8 round-trips every well-formed string, a leading BOM included", (t) => {
  t.strictSame(utf8("é€"), Uint8Array.of(0xc3, 0xa9, 0xe2, 0x82, 0xac));
  t.equal(fromUtf8(utf8("\ufeffA")), "\ufeffA", "the BOM is text, not stripped");
  t.doesNotThrow(() =>
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => fromUtf8(utf8(s)) === s)),
  );
  t.end();
});

t.test("fromUtf8 throws on invalid UTF-8 instead of inventing U+FFFD", (t) => {
  t.throws(() => fromUtf8(Uint8Array.of(0xc3, 0x28)));
  t.throws(() => fromUtf8(Uint8Array.of(0xc0, 0x80)), "overlong");
  t.throws(() => fromUtf8(Uint8Array.of(0xed, 0xa0, 0x80)), "surrogate");
  t.throws(() => fromUtf8(Uint8Array.of(0xff)));
  t.end();
});

t.test("asPlain turns a Buffer into a plain view of the same bytes", (t) => {
  const buffer = Buffer.from([1, 2, 3, 4]).subarray(1, 3);
  const plain = asPlain(buffer);
  t.equal(plain.constructor, Uint8Array);
  t.strictSame(plain, Uint8Array.of(2, 3));
  buffer[0] = 9;
  t.equal(plain[0], 9, "a view, not a copy");
  const already = Uint8Array.of(1);
  t.equal(asPlain(already), already, "plain input is returned as is");
  t.end();
});

t.test("u64be and u32be are big-endian and sort like the numbers", (t) => {
  t.equal(toHex(u64be(0x0102030405060708n)), "0102030405060708");
  t.equal(toHex(u64be((1n << 64n) - 1n)), "ffffffffffffffff");
  const first = u64be(1n);
  u64be(2n).fill(9);
  t.equal(toHex(first), "0000000000000001", "each call returns bytes of its own");
  t.equal(toHex(u32be(0x01020304)), "01020304");
  t.throws(() => u64be(-1n), RangeError);
  t.throws(() => u64be(1n << 64n), RangeError);
  t.throws(() => u32be(-1), RangeError);
  t.throws(() => u32be(2 ** 32), RangeError);
  t.throws(() => u32be(1.5), RangeError);
  const padded = Uint8Array.of(0xee, ...u64be(42n), ...u32be(7));
  t.equal(readU64be(padded, 1), 42n, "reads at an offset");
  t.equal(readU32be(padded, 9), 7);
  t.equal(readU64be(padded.subarray(1)), 42n, "reads a subarray at its own offset");
  const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(u64, u64, (a, b) => {
        const order = Math.sign(compareBytes(u64be(a), u64be(b)));
        return readU64be(u64be(a)) === a && order === (a < b ? -1 : a > b ? 1 : 0);
      }),
    ),
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => readU32be(u32be(n)) === n),
    ),
  );
  t.end();
});
