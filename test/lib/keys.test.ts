import fc from "fast-check";
import t from "tap";
import { fromHex, toHex } from "../../lib/bytes.js";
import {
  generateSecretKey,
  isValidPublicKey,
  isValidSecretKey,
  KeyError,
  LruCache,
  PUBLIC_KEY_LENGTH,
  publicKeyOf,
  SECRET_KEY_LENGTH,
  SIGNATURE_LENGTH,
  uncompressedPublicKey,
} from "../../lib/keys.js";

// secp256k1 constants, written out independently of noble.
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
const G_COMPRESSED = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
const G_UNCOMPRESSED =
  "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
  "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";

const scalar = (n: bigint): Uint8Array => fromHex(n.toString(16).padStart(64, "0"));
const point = (prefix: number, x: bigint): Uint8Array => {
  const out = new Uint8Array(33);
  out[0] = prefix;
  out.set(scalar(x), 1);
  return out;
};

t.test("lengths", async (t) => {
  t.equal(PUBLIC_KEY_LENGTH, 33);
  t.equal(SIGNATURE_LENGTH, 64);
  t.equal(SECRET_KEY_LENGTH, 32);
});

t.test("generateSecretKey gives distinct valid 32-byte keys", async (t) => {
  const a = generateSecretKey();
  const b = generateSecretKey();
  t.equal(a.length, 32);
  t.ok(isValidSecretKey(a));
  t.not(toHex(a), toHex(b));
});

t.test("publicKeyOf: secret key 1 gives the generator G", async (t) => {
  t.equal(toHex(publicKeyOf(scalar(1n))), G_COMPRESSED);
  const nMinus1 = publicKeyOf(scalar(N - 1n)); // -G: same x, odd y
  t.equal(toHex(nMinus1), `03${G_COMPRESSED.slice(2)}`);
});

t.test("secret key bounds", async (t) => {
  t.ok(isValidSecretKey(scalar(1n)));
  t.ok(isValidSecretKey(scalar(N - 1n)));
  for (const bad of [
    scalar(0n),
    scalar(N),
    scalar(N + 1n),
    new Uint8Array(31),
    new Uint8Array(33),
  ]) {
    t.notOk(isValidSecretKey(bad), `rejects ${toHex(bad)}`);
    t.throws(() => publicKeyOf(bad), { name: "KeyError", code: "INVALID_SECRET_KEY" });
  }
  t.notOk(isValidSecretKey(fromHex("01".padStart(66, "0"))), "33 bytes encoding 1");
  t.ok(new KeyError("INVALID_SECRET_KEY", "x") instanceof Error);
});

t.test("public key validity", async (t) => {
  const g = fromHex(G_COMPRESSED);
  t.ok(isValidPublicKey(g));
  t.equal(toHex(uncompressedPublicKey(g)!), G_UNCOMPRESSED);
  t.ok(isValidPublicKey(point(0x02, 1n)), "x = 1 is on the curve");
  const rejected: Record<string, Uint8Array> = {
    "x = p + 1 (same point as x = 1 mod p)": point(0x02, P + 1n),
    "x = 5 (not on the curve)": point(0x02, 5n),
    "x = 0": point(0x03, 0n),
    "prefix 04 on 33 bytes": point(0x04, 1n),
    "prefix 05": point(0x05, 1n),
    "prefix 00": point(0x00, 1n),
    "65-byte uncompressed G": fromHex(G_UNCOMPRESSED),
    "32 bytes": g.subarray(1),
    "34 bytes": fromHex(`${G_COMPRESSED}00`),
    empty: new Uint8Array(0),
  };
  for (const [name, pk] of Object.entries(rejected)) {
    t.notOk(isValidPublicKey(pk), name);
    t.equal(uncompressedPublicKey(pk), undefined, name);
  }
  for (const junk of [undefined, null, "02", [2, 3], 42]) {
    t.notOk(isValidPublicKey(junk as unknown as Uint8Array), `never throws on ${String(junk)}`);
  }
});

t.test("random valid secret keys give valid compressed keys", async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (sk) => {
      fc.pre(isValidSecretKey(sk));
      const pk = publicKeyOf(sk);
      return pk.length === 33 && (pk[0] === 2 || pk[0] === 3) && isValidPublicKey(pk);
    }),
    { numRuns: 40 },
  );
  t.pass("property held");
});

t.test("LruCache forgets the least recently used entry", async (t) => {
  const cache = new LruCache<number>(2);
  cache.set("a", 1);
  cache.set("b", 2);
  t.equal(cache.get("a"), 1); // a is now the most recent
  cache.set("c", 3);
  t.equal(cache.size, 2);
  t.equal(cache.get("b"), undefined);
  t.equal(cache.get("a"), 1);
  t.equal(cache.get("c"), 3);
  cache.set("c", 4); // overwrite keeps the size
  t.equal(cache.size, 2);
  t.equal(cache.get("c"), 4);
});

t.test("LruCache keeps a key read between writes however many others pass through", async (t) => {
  const cache = new LruCache<number>(8);
  cache.set("hot", 0);
  for (let i = 0; i < 100; i++) {
    cache.set(`cold${i}`, i);
    t.equal(cache.get("hot"), 0, `still held after ${i + 1} other writes`);
  }
  t.equal(cache.size, 8);
  t.equal(cache.get("cold0"), undefined, "an entry never read again is forgotten");
});

t.test("LruCache behaves as a list in order of use, cut at its capacity (property)", async (t) => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("set" as const), key: fc.nat(12), value: fc.nat() }),
    fc.record({ kind: fc.constant("get" as const), key: fc.nat(12) }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.array(op, { maxLength: 80 }),
      (capacity, ops) => {
        const cache = new LruCache<number>(capacity);
        // The model: [key, value] pairs, most recently used last.
        let model: [number, number][] = [];
        for (const o of ops) {
          const at = model.findIndex(([k]) => k === o.key);
          if (o.kind === "get") {
            const expected = at < 0 ? undefined : model[at]![1];
            if (cache.get(String(o.key)) !== expected) return false;
            if (at >= 0) model.push(...model.splice(at, 1));
          } else {
            cache.set(String(o.key), o.value);
            if (at >= 0) model.splice(at, 1);
            model.push([o.key, o.value]);
            if (model.length > capacity) model = model.slice(1);
          }
          if (cache.size !== model.length) return false;
        }
        return model.every(([k, v]) => cache.get(String(k)) === v);
      },
    ),
    { numRuns: 300 },
  );
  t.pass("property held");
});
