import { createPublicKey, verify as opensslVerify } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import t from "tap";
import { concatBytes, fromHex, toHex, utf8 } from "../../lib/bytes.js";
import { CodecError } from "../../lib/codec.js";
import { domainPrefix } from "../../lib/hash.js";
import { publicKeyOf } from "../../lib/keys.js";
import {
  checkTxStateless,
  decodeTx,
  encodeTx,
  MAX_TX_BYTES,
  type SignedTx,
  signTx,
  type TxBody,
  txId,
  txSignBytes,
  verifyTxSignature,
} from "../../lib/tx.js";

const CHAIN = "wattcap-devnet";
const sk1 = new Uint8Array(32).fill(1);
const pk1 = publicKeyOf(sk1);
const body: TxBody = { chainId: CHAIN, nonce: 7n, type: 3, payload: utf8("hello"), signer: pk1 };

// Cross-implementation vectors: computed once, then pinned byte for byte. The id was checked
// with Python's hashlib, the signature with OpenSSL below.
const GOLDEN = {
  signBytes:
    "776174746361702f74780095c40e776174746361702d6465766e6574d3000000000000000703c40568656c6c6fc421031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f",
  signedTx:
    "9295c40e776174746361702d6465766e6574d3000000000000000703c40568656c6c6fc421031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078fc4405fb57ec266265c96002ec9c064254f9f55fb02236b04ed565093f23e52be3e7f48f14c3797a563544fe299e4042849910c18e7f86d602654a6bf14916b7f3f7e",
  id: "a52c9a127f7a42f701e485384170d8d3695a54220fe780dd24427205442f89d0",
};

t.test("golden vectors", (t) => {
  const tx = signTx(body, sk1);
  const data = encodeTx(tx);
  t.equal(toHex(txSignBytes(body)), GOLDEN.signBytes);
  t.equal(toHex(data), GOLDEN.signedTx);
  t.equal(toHex(txId(data)), GOLDEN.id);
  t.strictSame(decodeTx(fromHex(GOLDEN.signedTx)), tx);
  t.end();
});

t.test("the signature is ECDSA-SHA256 over prefix || body, as OpenSSL checks it", (t) => {
  const tx = signTx(body, sk1);
  const spki = concatBytes(fromHex("3036301006072a8648ce3d020106052b8104000a032200"), pk1);
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  const message = fromHex(GOLDEN.signBytes);
  t.equal(toHex(message.subarray(0, 11)), toHex(domainPrefix("tx")), "wattcap/tx and a zero");
  t.ok(opensslVerify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, tx.signature));
  t.end();
});

t.test("signTx refuses a key that is not the body's signer", (t) => {
  t.throws(() => signTx(body, new Uint8Array(32).fill(2)), /not the public key/);
  t.end();
});

t.test("verifyTxSignature checks every field of the body", (t) => {
  const tx = signTx(body, sk1);
  t.ok(verifyTxSignature(tx));
  const changed: [string, Partial<TxBody>][] = [
    ["chain id", { chainId: "wattcap-other" }],
    ["nonce", { nonce: 8n }],
    ["type", { type: 4 }],
    ["payload", { payload: utf8("hellO") }],
    ["signer", { signer: publicKeyOf(new Uint8Array(32).fill(2)) }],
  ];
  for (const [what, change] of changed) {
    t.notOk(verifyTxSignature({ ...tx, body: { ...body, ...change } }), `another ${what}`);
  }
  t.notOk(verifyTxSignature({ ...tx, body: { ...body, nonce: -1n } }), "an unencodable body");
  t.end();
});

/** The low-s signature's high-s twin (r, n - s): valid ECDSA, but not the canonical encoding. */
function highS(signature: Uint8Array): Uint8Array {
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const s = BigInt(`0x${toHex(signature.subarray(32))}`);
  return concatBytes(signature.subarray(0, 32), fromHex((n - s).toString(16).padStart(64, "0")));
}

const codeOf = (data: Uint8Array, chainId = CHAIN) => {
  const check = checkTxStateless(data, chainId);
  return check.ok ? "OK" : check.code;
};

t.test("checkTxStateless accepts a good transaction and returns its id", (t) => {
  const data = fromHex(GOLDEN.signedTx);
  const check = checkTxStateless(data, CHAIN);
  t.ok(check.ok);
  if (check.ok) {
    t.equal(toHex(check.id), GOLDEN.id);
    t.strictSame(check.tx, signTx(body, sk1));
  }
  t.end();
});

t.test("checkTxStateless gives each failure its stable code", (t) => {
  const data = fromHex(GOLDEN.signedTx);
  const tx = decodeTx(data);
  t.equal(codeOf(new Uint8Array(0)), "TX_MALFORMED", "empty");
  t.equal(codeOf(fromHex("c0")), "TX_MALFORMED", "nil");
  t.equal(codeOf(data.subarray(0, data.length - 1)), "TX_MALFORMED", "truncated");
  t.equal(codeOf(concatBytes(data, Uint8Array.of(0))), "TX_MALFORMED", "trailing byte");
  const nonCanonical = Uint8Array.from(data);
  nonCanonical[18] = 0xcf; // the nonce as uint64 rather than int64
  t.equal(toHex(data.subarray(18, 19)), "d3", "(the nonce's first byte)");
  t.equal(codeOf(nonCanonical), "TX_MALFORMED", "non-canonical nonce");
  t.equal(codeOf(new Uint8Array(MAX_TX_BYTES + 1)), "TX_TOO_LARGE");
  t.equal(codeOf(data, "wattcap-other"), "WRONG_CHAIN_ID");
  const offCurve = concatBytes(Uint8Array.of(2), new Uint8Array(32).fill(0xff));
  const badSigner = { ...tx, body: { ...body, signer: offCurve } };
  t.equal(codeOf(encodeTx(badSigner)), "BAD_SIGNER_KEY");
  const wrongNonce = { ...tx, body: { ...body, nonce: 8n } };
  t.equal(codeOf(encodeTx(wrongNonce)), "BAD_SIGNATURE");
  t.equal(codeOf(encodeTx({ ...tx, signature: highS(tx.signature) })), "BAD_SIGNATURE", "high s");
  t.equal(codeOf(encodeTx({ ...tx, signature: new Uint8Array(64) })), "BAD_SIGNATURE");
  t.end();
});

t.test("checkTxStateless uses the verifier it is given", (t) => {
  let calls = 0;
  const check = checkTxStateless(fromHex(GOLDEN.signedTx), CHAIN, () => {
    calls++;
    return false;
  });
  t.equal(check.ok ? "OK" : check.code, "BAD_SIGNATURE");
  t.equal(calls, 1);
  t.end();
});

t.test("checkTxStateless hands the verifier exactly txSignBytes of the body", (t) => {
  fc.assert(
    fc.property(
      fc.record({
        chainId: fc.constantFrom(CHAIN),
        nonce: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        type: fc.nat(),
        // Lengths across msgpack's bin8, bin16 and bin32 headers.
        payload: fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.nat({ max: 70_000 }).map((n) => new Uint8Array(n).fill(3)),
        ),
        signer: fc.constant(pk1),
      }),
      (generated) => {
        let message: Uint8Array | undefined;
        checkTxStateless(encodeTx(signTx(generated, sk1)), CHAIN, (_key, m) => {
          message = m;
          return true;
        });
        t.equal(toHex(message ?? new Uint8Array()), toHex(txSignBytes(generated)));
      },
    ),
    { numRuns: 100 },
  );
  t.end();
});

t.test("the size limit covers the whole encoding, and the largest tx passes", (t) => {
  const overhead =
    encodeTx(signTx({ ...body, payload: new Uint8Array(70_000) }, sk1)).length - 70_000;
  const largest = { ...body, payload: new Uint8Array(MAX_TX_BYTES - overhead).fill(7) };
  const data = encodeTx(signTx(largest, sk1));
  t.equal(data.length, MAX_TX_BYTES);
  t.equal(codeOf(data), "OK");
  const over = signTx({ ...body, payload: new Uint8Array(MAX_TX_BYTES - overhead + 1) }, sk1);
  t.throws(() => encodeTx(over), { name: "CodecError", code: "TOO_LARGE" });
  t.end();
});

t.test("no single-byte change to a valid transaction passes the checks", (t) => {
  const data = fromHex(GOLDEN.signedTx);
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.nat(data.length - 1), fc.integer({ min: 1, max: 255 }), (at, delta) => {
        const mutated = Uint8Array.from(data);
        mutated[at] = (mutated[at]! + delta) & 0xff;
        return !checkTxStateless(mutated, CHAIN).ok;
      }),
      { numRuns: 300 },
    ),
  );
  t.end();
});

t.test("checkTxStateless never throws on random bytes", (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (data) => !checkTxStateless(data, CHAIN).ok),
      { numRuns: 500 },
    ),
  );
  t.end();
});

t.test("decode(encode(x)) is x for arbitrary signed transactions", (t) => {
  const bytesN = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
  const bodyArb = fc.record(
    {
      chainId: fc.string({ unit: "binary", maxLength: 16 }),
      nonce: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      type: fc.integer({ min: 0, max: 0xffffffff }),
      payload: fc.uint8Array({ maxLength: 300 }),
      signer: bytesN(33),
    },
    { noNullPrototype: true },
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(bodyArb, bytesN(64), (b, signature) => {
        const tx: SignedTx = { body: b, signature };
        return isDeepStrictEqual(decodeTx(encodeTx(tx)), tx);
      }),
      { numRuns: 200 },
    ),
  );
  t.end();
});

t.test("decodeTx throws CodecError, never anything else", (t) => {
  t.throws(() => decodeTx(fromHex("9100")), CodecError);
  t.throws(() => decodeTx(new Uint8Array(MAX_TX_BYTES + 1)), { code: "TOO_LARGE" });
  t.end();
});
