import fc from "fast-check";
import t from "tap";
import { concatBytes, equalBytes, toHex, utf8 } from "../../lib/bytes.js";
import {
  type Domain,
  domainHash,
  domainPrefix,
  keccak256,
  sha256,
  sha256Js,
} from "../../lib/hash.js";

const domains: Domain[] = [
  "tx",
  "block-header",
  "vote",
  "proposal",
  "evidence",
  "evidence-list",
  "commit",
  "validator-set",
  "tx-root",
  "receipt",
  "receipts-root",
  "meter-reading",
  "smt-leaf",
  "smt-node",
  "smt-key",
];

t.test("sha256 known vectors (FIPS 180-2)", (t) => {
  const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const twoBlocks = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  const msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  for (const [name, f] of [
    ["sha256", sha256],
    ["sha256Js", sha256Js],
  ] as const) {
    t.equal(toHex(f(new Uint8Array(0))), empty, `${name}("")`);
    t.equal(toHex(f(utf8("abc"))), abc, `${name}("abc")`);
    t.equal(toHex(f(utf8(msg))), twoBlocks, `${name} of a two-block message`);
  }
  t.end();
});

t.test("sha256 (OpenSSL when on Node) equals the pure-JS sha256", (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) =>
        equalBytes(sha256(data), sha256Js(data)),
      ),
      { numRuns: 300 },
    ),
  );
  t.end();
});

t.test("sha256 returns a plain 32-byte Uint8Array", (t) => {
  const h = sha256(utf8("abc"));
  t.equal(h.constructor, Uint8Array);
  t.equal(h.length, 32);
  t.end();
});

t.test("keccak256 is Ethereum's keccak, not FIPS sha3", (t) => {
  t.equal(
    toHex(keccak256(new Uint8Array(0))),
    "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
  );
  t.equal(
    toHex(keccak256(utf8("abc"))),
    "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
  );
  t.end();
});

t.test("domainPrefix is wattcap/<domain> and a zero byte", (t) => {
  t.equal(toHex(domainPrefix("tx")), `${toHex(utf8("wattcap/tx"))}00`);
  t.equal(domainPrefix("vote"), domainPrefix("vote"), "memoised");
  t.end();
});

t.test("no domain's prefix is a prefix of another's", (t) => {
  for (const a of domains) {
    for (const b of domains) {
      if (a === b) continue;
      const pa = domainPrefix(a);
      const pb = domainPrefix(b);
      t.notOk(pa.length <= pb.length && equalBytes(pa, pb.subarray(0, pa.length)), `${a} vs ${b}`);
    }
  }
  t.end();
});

t.test("domainHash hashes the prefix and the parts in order", (t) => {
  const a = utf8("left");
  const b = utf8("right");
  t.strictSame(domainHash("tx", a, b), sha256(concatBytes(domainPrefix("tx"), a, b)));
  t.strictSame(domainHash("tx", concatBytes(a, b)), domainHash("tx", a, b));
  t.strictSame(domainHash("tx"), sha256(domainPrefix("tx")));
  t.equal(
    toHex(domainHash("tx", utf8("abc"))),
    "010e9516536254996f87841bb6ffec1fad4d2efba6afb5fe53ca7329e09686e9",
    "golden (computed independently with Python hashlib)",
  );
  const hashes = new Set(domains.map((d) => toHex(domainHash(d, a))));
  t.equal(hashes.size, domains.length, "the same bytes hash differently in every domain");
  t.end();
});
