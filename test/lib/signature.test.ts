import { spawnSync } from "node:child_process";
import { createPublicKey, generateKeyPairSync, sign as opensslSign } from "node:crypto";
import fc from "fast-check";
import t, { type Test } from "tap";
import { concatBytes, fromHex, toHex, utf8 } from "../../lib/bytes.js";
import { generateSecretKey, publicKeyOf } from "../../lib/keys.js";
import {
  hasOpenSsl,
  isCanonicalSignature,
  normalizeSignature,
  rememberingVerify,
  sign,
  type VerifyFn,
  verify,
  verifyJs,
} from "../../lib/signature.js";

// secp256k1 constants, written out independently of noble.
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
const HALF_N = N >> 1n;

const scalar = (n: bigint): Uint8Array => fromHex(n.toString(16).padStart(64, "0"));
const rOf = (sig: Uint8Array): bigint => BigInt(`0x${toHex(sig.subarray(0, 32))}`);
const sOf = (sig: Uint8Array): bigint => BigInt(`0x${toHex(sig.subarray(32))}`);
const sigOf = (r: bigint, s: bigint): Uint8Array => concatBytes(scalar(r), scalar(s));
const point = (prefix: number, x: bigint): Uint8Array =>
  concatBytes(new Uint8Array([prefix]), scalar(x));

/** Both paths must give the expected answer, and so each other's. */
function agree(
  t: Test,
  name: string,
  pk: Uint8Array,
  msg: Uint8Array,
  sig: Uint8Array,
  expected: boolean,
): void {
  t.equal(verify(pk, msg, sig), expected, `verify: ${name}`);
  t.equal(verifyJs(pk, msg, sig), expected, `verifyJs: ${name}`);
}

t.test("node:crypto is reached, so the agreement tests compare two real paths", async (t) => {
  t.ok(hasOpenSsl);
});

t.test("without node:crypto (the browser) verify falls back to noble", async (t) => {
  const sk = generateSecretKey();
  const pk = publicKeyOf(sk);
  const msg = utf8("browser");
  const sig = sign(sk, msg);
  const twin = sigOf(rOf(sig), N - sOf(sig));
  const url = new URL("../../lib/signature.js", import.meta.url).href;
  const hex = (b: Uint8Array) => JSON.stringify(toHex(b));
  const program = `
    delete process.getBuiltinModule;
    const { hasOpenSsl, verify } = await import(${JSON.stringify(url)});
    const { fromHex } = await import(${JSON.stringify(new URL("../../lib/bytes.js", import.meta.url).href)});
    const [pk, msg, sig, twin] = [${hex(pk)}, ${hex(msg)}, ${hex(sig)}, ${hex(twin)}].map((h) => fromHex(h));
    console.log(JSON.stringify([hasOpenSsl, verify(pk, msg, sig), verify(pk, msg, twin)]));`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", program], {
    encoding: "utf8",
    timeout: 60_000,
  });
  t.equal(run.status, 0, run.stderr);
  t.equal(run.stdout.trim(), "[false,true,false]");
});

t.test("RFC 6979 vectors (secret key 1, SHA-256)", async (t) => {
  const one = scalar(1n);
  t.equal(
    toHex(sign(one, utf8("Satoshi Nakamoto"))),
    "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8" +
      "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5",
  );
  t.equal(
    toHex(
      sign(one, utf8("All those moments will be lost in time, like tears in rain. Time to die...")),
    ),
    "8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b" +
      "547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21",
  );
});

t.test("sign: deterministic, 64 bytes, low-s; throws KeyError on a bad key", async (t) => {
  const sk = generateSecretKey();
  const msg = utf8("meter reading");
  const sig = sign(sk, msg);
  t.equal(sig.length, 64);
  t.equal(toHex(sign(sk, msg)), toHex(sig));
  t.ok(sOf(sig) <= HALF_N);
  t.ok(isCanonicalSignature(sig));
  t.throws(() => sign(scalar(0n), msg), { name: "KeyError", code: "INVALID_SECRET_KEY" });
  t.throws(() => sign(scalar(N), msg), { code: "INVALID_SECRET_KEY" });
  t.throws(() => sign(new Uint8Array(31), msg), { code: "INVALID_SECRET_KEY" });
});

t.test("vectors: verify and verifyJs accept exactly the same", async (t) => {
  const sk = generateSecretKey();
  const pk = publicKeyOf(sk);
  const other = publicKeyOf(generateSecretKey());
  const msg = utf8("transfer 5 credits");
  const sig = sign(sk, msg);
  const r = rOf(sig);
  const s = sOf(sig);
  const flipped = msg.slice();
  flipped[0]! ^= 1;
  const x = BigInt(`0x${toHex(pk.subarray(1))}`);
  const uncompressed = fromHex(createPublicKeyHex(pk));

  agree(t, "valid", pk, msg, sig, true);
  agree(
    t,
    "same signature given as a Buffer",
    Buffer.from(pk),
    Buffer.from(msg),
    Buffer.from(sig),
    true,
  );
  agree(t, "high-s twin (r, n - s)", pk, msg, sigOf(r, N - s), false);
  agree(t, "r = 0", pk, msg, sigOf(0n, s), false);
  agree(t, "s = 0", pk, msg, sigOf(r, 0n), false);
  agree(t, "r = n", pk, msg, sigOf(N, s), false);
  agree(t, "s = n", pk, msg, sigOf(r, N), false);
  agree(t, "r = 2^256 - 1", pk, msg, sigOf(2n ** 256n - 1n, s), false);
  agree(t, "s = n + 1", pk, msg, sigOf(r, N + 1n), false);
  agree(t, "s = n - 1 (high)", pk, msg, sigOf(r, N - 1n), false);
  agree(t, "63-byte signature", pk, msg, sig.subarray(0, 63), false);
  agree(t, "65-byte signature", pk, msg, concatBytes(sig, new Uint8Array(1)), false);
  agree(t, "65-byte recovered form [v, r, s]", pk, msg, concatBytes(new Uint8Array(1), sig), false);
  agree(t, "empty signature", pk, msg, new Uint8Array(0), false);
  agree(t, "wrong message (one bit)", pk, flipped, sig, false);
  agree(t, "wrong message (extra byte)", pk, concatBytes(msg, new Uint8Array(1)), sig, false);
  agree(t, "empty message", pk, new Uint8Array(0), sig, false);
  agree(t, "another key", other, msg, sig, false);
  agree(t, "key with the other parity", point(pk[0] === 2 ? 3 : 2, x), msg, sig, false);
  agree(t, "off-curve key x = 5", point(0x02, 5n), msg, sig, false);
  agree(t, "key x = p + 1", point(0x02, P + 1n), msg, sig, false);
  agree(t, "key with prefix 04", point(0x04, x), msg, sig, false);
  agree(t, "key with prefix 05", point(0x05, x), msg, sig, false);
  agree(t, "32-byte key", pk.subarray(1), msg, sig, false);
  agree(t, "65-byte uncompressed key (the right point)", uncompressed, msg, sig, false);
  agree(t, "all-zero signature", pk, msg, new Uint8Array(64), false);
  agree(t, "random signature bytes", pk, msg, crypto.getRandomValues(new Uint8Array(64)), false);
});

/** The uncompressed form of a compressed key, via OpenSSL so the test does not use lib/keys. */
function createPublicKeyHex(pk: Uint8Array): string {
  const spki = concatBytes(fromHex("3036301006072a8648ce3d020106052b8104000a032200"), pk);
  const jwk = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }).export({
    format: "jwk",
  });
  const b = (s: string | undefined) => toHex(Buffer.from(s!, "base64url"));
  return `04${b(jwk.x)}${b(jwk.y)}`;
}

t.test("isCanonicalSignature bounds", async (t) => {
  t.ok(isCanonicalSignature(sigOf(1n, 1n)));
  t.ok(isCanonicalSignature(sigOf(N - 1n, HALF_N)));
  t.notOk(isCanonicalSignature(sigOf(1n, HALF_N + 1n)));
  t.notOk(isCanonicalSignature(sigOf(N, 1n)));
  t.notOk(isCanonicalSignature(sigOf(0n, 1n)));
  t.notOk(isCanonicalSignature(sigOf(1n, 0n)));
  t.notOk(isCanonicalSignature(new Uint8Array(65)));
  t.notOk(isCanonicalSignature("00" as unknown as Uint8Array));
});

t.test("OpenSSL-made signatures: high-s rejected by both paths until normalized", async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "secp256k1" });
  const jwk = publicKey.export({ format: "jwk" });
  const y = Buffer.from(jwk.y!, "base64url");
  const pk = concatBytes(new Uint8Array([y[31]! & 1 ? 3 : 2]), Buffer.from(jwk.x!, "base64url"));
  const msg = utf8("signed by OpenSSL");
  let high = 0;
  let low = 0;
  // OpenSSL picks s at random in either half, so 40 signatures see both kinds (p ≈ 1 - 2^-39).
  for (let i = 0; i < 40; i++) {
    const sig = new Uint8Array(
      opensslSign("sha256", msg, { key: privateKey, dsaEncoding: "ieee-p1363" }),
    );
    const isHigh = sOf(sig) > HALF_N;
    if (isHigh) high++;
    else low++;
    agree(t, `OpenSSL signature ${i} (${isHigh ? "high" : "low"}-s)`, pk, msg, sig, !isHigh);
    const normal = normalizeSignature(sig);
    agree(t, `normalized signature ${i}`, pk, msg, normal, true);
    t.equal(toHex(normal) === toHex(sig), !isHigh, "only high-s signatures change");
  }
  t.ok(high > 0 && low > 0, "saw both halves");
});

t.test("never throws on junk", async (t) => {
  const junk: unknown[] = [
    undefined,
    null,
    0,
    "",
    "00".repeat(64),
    [1, 2],
    {},
    new Uint16Array(32),
  ];
  const pk = publicKeyOf(generateSecretKey());
  const sig = new Uint8Array(64).fill(1);
  for (const j of junk) {
    const u = j as Uint8Array;
    for (const f of [verify, verifyJs]) {
      t.equal(f(u, utf8("m"), sig), false);
      t.equal(f(pk, u, sig), false);
      t.equal(f(pk, utf8("m"), u), false);
    }
    t.equal(normalizeSignature(u), u);
  }
});

t.test("property: random bytes get the same answer from both paths", async (t) => {
  const pk = publicKeyOf(generateSecretKey());
  const keyArb = fc.oneof(
    fc.constant(pk),
    fc.uint8Array({ minLength: 33, maxLength: 33 }).map((b) => {
      b[0] = 2 + (b[0]! & 1);
      return b;
    }),
    fc.uint8Array({ minLength: 0, maxLength: 66 }),
  );
  const sigArb = fc.oneof(
    fc.uint8Array({ minLength: 64, maxLength: 64 }),
    fc.uint8Array({ minLength: 0, maxLength: 80 }),
  );
  fc.assert(
    fc.property(keyArb, fc.uint8Array({ maxLength: 40 }), sigArb, (key, msg, sig) => {
      return verify(key, msg, sig) === verifyJs(key, msg, sig);
    }),
    { numRuns: 300 },
  );
  t.pass("property held");
});

t.test("property: valid signatures verify in both; their high-s twins in neither", async (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 200 }),
      (sk, msg) => {
        fc.pre(sk.some((b) => b !== 0) && BigInt(`0x${toHex(sk)}`) < N);
        const pk = publicKeyOf(sk);
        const sig = sign(sk, msg);
        const twin = sigOf(rOf(sig), N - sOf(sig));
        return (
          verify(pk, msg, sig) &&
          verifyJs(pk, msg, sig) &&
          !verify(pk, msg, twin) &&
          !verifyJs(pk, msg, twin)
        );
      },
    ),
    { numRuns: 25 },
  );
  t.pass("property held");
});

t.test("property: one flipped bit anywhere gets the same answer from both", async (t) => {
  const sk = generateSecretKey();
  const pk = publicKeyOf(sk);
  const msg = utf8("a message of some length");
  const sig = sign(sk, msg);
  const all = concatBytes(pk, msg, sig);
  fc.assert(
    fc.property(fc.nat({ max: all.length * 8 - 1 }), (bit) => {
      const bytes = all.slice();
      bytes[bit >> 3]! ^= 1 << (bit & 7);
      const k = bytes.subarray(0, 33);
      const m = bytes.subarray(33, 33 + msg.length);
      const s = bytes.subarray(33 + msg.length);
      const a = verify(k, m, s);
      return a === verifyJs(k, m, s) && a === false;
    }),
    { numRuns: 60 },
  );
  t.pass("property held");
});

t.test(
  "rememberingVerify: a success is remembered, a failure or a different message is not",
  async (t) => {
    const secretKey = generateSecretKey();
    const publicKey = publicKeyOf(secretKey);
    const messages = [0, 1, 2].map((i) => utf8(`vote ${i}`));
    const signatures = messages.map((m) => sign(secretKey, m));
    const calls: string[] = [];
    const counted: VerifyFn = (pk, m, s) => {
      calls.push(new TextDecoder().decode(m));
      return verify(pk, m, s);
    };
    const remembering = rememberingVerify(2, counted);

    t.ok(remembering(publicKey, messages[0]!, signatures[0]!));
    t.ok(remembering(publicKey, messages[0]!, signatures[0]!), "again");
    t.same(calls, ["vote 0"], "verified once");

    t.notOk(remembering(publicKey, messages[1]!, signatures[0]!), "another message");
    t.notOk(remembering(publicKey, messages[1]!, signatures[0]!), "still refused");
    t.same(calls.length, 3, "a failure is verified every time");
    t.notOk(
      remembering(publicKeyOf(generateSecretKey()), messages[0]!, signatures[0]!),
      "another key",
    );

    t.ok(remembering(publicKey, messages[1]!, signatures[1]!));
    t.ok(remembering(publicKey, messages[2]!, signatures[2]!));
    calls.length = 0;
    t.ok(remembering(publicKey, messages[0]!, signatures[0]!), "verified again once forgotten");
    t.same(calls, ["vote 0"], "the cache keeps the last two");

    const junk = "not bytes" as unknown as Uint8Array;
    t.notOk(remembering(junk, messages[0]!, signatures[0]!), "junk is passed through, not cached");
  },
);
