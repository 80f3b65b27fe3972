import { generateKeyPairSync, sign as opensslSign } from "node:crypto";
import fc from "fast-check";
import t from "tap";
import { concatBytes, fromHex, toHex, utf8 } from "../../lib/bytes.js";
import { publicKeyOf } from "../../lib/keys.js";
import {
  generateMeterSecretKey,
  isValidMeterPublicKey,
  type MeterKeyType,
  meterPublicKeyOf,
  normalizeMeterSignature,
  signMeter,
  verifyMeter,
  verifyMeterJs,
} from "../../lib/meter-key.js";
import { sign } from "../../lib/signature.js";

// Curve constants, written out independently of noble.
const CURVES = {
  secp256k1: {
    n: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn,
    onCurveX: 1n, // x = 1 is on the curve, so x = p + 1 tests the range check alone
    offCurveX: 5n,
    openSslName: "secp256k1",
  },
  p256: {
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    onCurveX: 0n,
    offCurveX: 1n,
    openSslName: "prime256v1",
  },
} as const;
const TYPES: readonly MeterKeyType[] = ["secp256k1", "p256"];

const scalar = (n: bigint): Uint8Array => fromHex(n.toString(16).padStart(64, "0"));
const rOf = (sig: Uint8Array): bigint => BigInt(`0x${toHex(sig.subarray(0, 32))}`);
const sOf = (sig: Uint8Array): bigint => BigInt(`0x${toHex(sig.subarray(32))}`);
const sigOf = (r: bigint, s: bigint): Uint8Array => concatBytes(scalar(r), scalar(s));
const point = (prefix: number, x: bigint): Uint8Array =>
  concatBytes(new Uint8Array([prefix]), scalar(x));

t.test("RFC 6979 A.2.5: P-256, SHA-256, message 'sample'", async (t) => {
  const { n } = CURVES.p256;
  const sk = fromHex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
  // Ux = 60FED4BA…, Uy = 7903FE10…2299 is odd, hence prefix 03.
  const pk = fromHex("0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6");
  const r = 0xefd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716n;
  const s = 0xf7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8n; // high-s
  const msg = utf8("sample");
  t.equal(toHex(meterPublicKeyOf("p256", sk)), toHex(pk));
  const ours = signMeter("p256", sk, msg);
  t.equal(toHex(ours), toHex(sigOf(r, n - s)), "the RFC signature with s flipped to low-s");
  t.equal(verifyMeter("p256", pk, msg, sigOf(r, s)), false, "the RFC's high-s form is rejected");
  t.equal(verifyMeterJs("p256", pk, msg, sigOf(r, s)), false);
  t.equal(toHex(normalizeMeterSignature("p256", sigOf(r, s))), toHex(ours));
  t.ok(verifyMeter("p256", pk, msg, ours));
  t.ok(verifyMeterJs("p256", pk, msg, ours));
});

t.test("secp256k1 meter keys are the chain's own keys", async (t) => {
  const sk = generateMeterSecretKey("secp256k1");
  const msg = utf8("reading");
  t.equal(toHex(meterPublicKeyOf("secp256k1", sk)), toHex(publicKeyOf(sk)));
  t.equal(toHex(signMeter("secp256k1", sk, msg)), toHex(sign(sk, msg)));
});

for (const type of TYPES) {
  const { n, p, onCurveX, offCurveX } = CURVES[type];
  const other: MeterKeyType = type === "p256" ? "secp256k1" : "p256";

  t.test(`${type} vectors: verifyMeter and verifyMeterJs agree`, async (t) => {
    const sk = generateMeterSecretKey(type);
    const pk = meterPublicKeyOf(type, sk);
    const msg = utf8("meter 17: 1234 Wh");
    const sig = signMeter(type, sk, msg);
    const r = rOf(sig);
    const s = sOf(sig);
    const x = BigInt(`0x${toHex(pk.subarray(1))}`);
    const flipped = msg.slice();
    flipped[3]! ^= 0x80;
    t.equal(sig.length, 64);
    t.ok(s <= n >> 1n, "signs low-s");
    t.ok(isValidMeterPublicKey(type, pk));
    t.ok(
      isValidMeterPublicKey(type, point(0x02, onCurveX)) ||
        isValidMeterPublicKey(type, point(0x03, onCurveX)),
    );

    const vectors: [string, Uint8Array, Uint8Array, Uint8Array, boolean][] = [
      ["valid", pk, msg, sig, true],
      ["high-s twin", pk, msg, sigOf(r, n - s), false],
      ["r = 0", pk, msg, sigOf(0n, s), false],
      ["s = 0", pk, msg, sigOf(r, 0n), false],
      ["r = n", pk, msg, sigOf(n, s), false],
      ["s = n", pk, msg, sigOf(r, n), false],
      ["r = 2^256 - 1", pk, msg, sigOf(2n ** 256n - 1n, s), false],
      ["63 bytes", pk, msg, sig.subarray(0, 63), false],
      ["65 bytes", pk, msg, concatBytes(sig, new Uint8Array(1)), false],
      ["wrong message", pk, flipped, sig, false],
      ["other parity key", point(pk[0] === 2 ? 3 : 2, x), msg, sig, false],
      ["off-curve key", point(0x02, offCurveX), msg, sig, false],
      ["x = p + on-curve x", point(0x02, p + onCurveX), msg, sig, false],
      ["x = p + on-curve x, odd", point(0x03, p + onCurveX), msg, sig, false],
      ["prefix 04", point(0x04, x), msg, sig, false],
      ["prefix 05", point(0x05, x), msg, sig, false],
      ["32-byte key", pk.subarray(1), msg, sig, false],
      ["65-byte key", concatBytes(pk, new Uint8Array(32)), msg, sig, false],
      ["random signature", pk, msg, crypto.getRandomValues(new Uint8Array(64)), false],
    ];
    for (const [name, key, m, sg, expected] of vectors) {
      t.equal(verifyMeter(type, key, m, sg), expected, `verifyMeter: ${name}`);
      t.equal(verifyMeterJs(type, key, m, sg), expected, `verifyMeterJs: ${name}`);
    }
    t.notOk(isValidMeterPublicKey(type, point(0x02, offCurveX)));
    t.notOk(isValidMeterPublicKey(type, point(0x02, p + onCurveX)));
    t.notOk(isValidMeterPublicKey(type, point(0x03, p + onCurveX)));
    t.equal(verifyMeter(other, pk, msg, sig), false, `not valid as ${other}`);
    t.equal(verifyMeterJs(other, pk, msg, sig), false);
  });

  t.test(`${type}: OpenSSL signatures, as a real meter makes them`, async (t) => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", {
      namedCurve: CURVES[type].openSslName,
    });
    const jwk = publicKey.export({ format: "jwk" });
    const y = Buffer.from(jwk.y!, "base64url");
    const pk = concatBytes(new Uint8Array([y[31]! & 1 ? 3 : 2]), Buffer.from(jwk.x!, "base64url"));
    const msg = utf8("reading from a secure element");
    let high = 0;
    // s lands in either half at random: 40 signatures see both (p ≈ 1 - 2^-39).
    for (let i = 0; i < 40; i++) {
      const sig = new Uint8Array(
        opensslSign("sha256", msg, { key: privateKey, dsaEncoding: "ieee-p1363" }),
      );
      const isHigh = sOf(sig) > n >> 1n;
      if (isHigh) high++;
      t.equal(verifyMeter(type, pk, msg, sig), !isHigh, `signature ${i}`);
      t.equal(verifyMeterJs(type, pk, msg, sig), !isHigh);
      const normal = normalizeMeterSignature(type, sig);
      t.ok(verifyMeter(type, pk, msg, normal) && verifyMeterJs(type, pk, msg, normal));
    }
    t.ok(high > 0 && high < 40, "saw both halves");
  });

  t.test(`${type} property: random inputs get the same answer from both paths`, async (t) => {
    const pk = meterPublicKeyOf(type, generateMeterSecretKey(type));
    const keyArb = fc.oneof(
      fc.constant(pk),
      fc.uint8Array({ minLength: 33, maxLength: 33 }).map((b) => {
        b[0] = 2 + (b[0]! & 1);
        return b;
      }),
      fc.uint8Array({ maxLength: 66 }),
    );
    fc.assert(
      fc.property(
        keyArb,
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ minLength: 63, maxLength: 65 }),
        (key, msg, sig) => verifyMeter(type, key, msg, sig) === verifyMeterJs(type, key, msg, sig),
      ),
      { numRuns: 200 },
    );
    t.pass("property held");
  });

  t.test(`${type} property: valid signatures pass both paths, twins neither`, async (t) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (msg) => {
        const sk = generateMeterSecretKey(type);
        const pk = meterPublicKeyOf(type, sk);
        const sig = signMeter(type, sk, msg);
        const twin = sigOf(rOf(sig), n - sOf(sig));
        return (
          verifyMeter(type, pk, msg, sig) &&
          verifyMeterJs(type, pk, msg, sig) &&
          !verifyMeter(type, pk, msg, twin) &&
          !verifyMeterJs(type, pk, msg, twin)
        );
      }),
      { numRuns: 20 },
    );
    t.pass("property held");
  });

  t.test(`${type}: bad secret keys throw KeyError`, async (t) => {
    for (const bad of [scalar(0n), scalar(n), new Uint8Array(31), new Uint8Array(33)]) {
      t.throws(() => meterPublicKeyOf(type, bad), { name: "KeyError", code: "INVALID_SECRET_KEY" });
      t.throws(() => signMeter(type, bad, utf8("m")), { code: "INVALID_SECRET_KEY" });
    }
  });
}

t.test("unknown key types are invalid, never a crash", async (t) => {
  const pk = meterPublicKeyOf("p256", generateMeterSecretKey("p256"));
  for (const bad of ["ed25519", "__proto__", "toString", "", undefined]) {
    const type = bad as unknown as MeterKeyType;
    t.equal(verifyMeter(type, pk, utf8("m"), new Uint8Array(64)), false);
    t.equal(verifyMeterJs(type, pk, utf8("m"), new Uint8Array(64)), false);
    t.equal(isValidMeterPublicKey(type, pk), false);
    t.throws(() => signMeter(type, new Uint8Array(32).fill(1), utf8("m")), {
      name: "KeyError",
      code: "UNKNOWN_KEY_TYPE",
    });
    t.throws(() => generateMeterSecretKey(type), { code: "UNKNOWN_KEY_TYPE" });
  }
});
