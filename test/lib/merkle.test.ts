import fc from "fast-check";
import t from "tap";
import { concatBytes, equalBytes, toHex, utf8 } from "../../lib/bytes.js";
import { domainHash } from "../../lib/hash.js";
import {
  type MerkleDomain,
  merkleLeafHash,
  merkleProof,
  merkleRoot,
  verifyMerkleProof,
} from "../../lib/merkle.js";

// RFC 6962 §2.1 written as the RFC states it, recursively: the reference the iterative code must
// match for every size.
function referenceRoot(domain: MerkleDomain, leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return domainHash(domain);
  if (leaves.length === 1) return domainHash(domain, Uint8Array.of(0), leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  const left = referenceRoot(domain, leaves.slice(0, k));
  const right = referenceRoot(domain, leaves.slice(k));
  return domainHash(domain, Uint8Array.of(1), left, right);
}

/** RFC 6962 §2.1.1 PATH(m, D[n]). */
function referencePath(domain: MerkleDomain, m: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k
    ? [...referencePath(domain, m, leaves.slice(0, k)), referenceRoot(domain, leaves.slice(k))]
    : [...referencePath(domain, m - k, leaves.slice(k)), referenceRoot(domain, leaves.slice(0, k))];
}

const leavesOf = (n: number): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => utf8(`leaf ${i}`));

// The golden roots were computed independently (Python hashlib, RFC 6962 by hand).
t.test("golden roots", (t) => {
  t.equal(
    toHex(merkleRoot("tx-root", [])),
    toHex(domainHash("tx-root")),
    "the empty tree hashes the domain prefix alone",
  );
  t.equal(
    toHex(merkleRoot("tx-root", [])),
    "0baa10544ed3a15102a273f140d9e7fa0b4de10d7fca5792ddbc2252036a2374",
  );
  t.equal(
    toHex(merkleRoot("tx-root", [utf8("a")])),
    "c848d1262788652e1e471912eefe2b33878a1625f37a2271e4b49250d3fbd3ca",
  );
  t.equal(
    toHex(merkleRoot("tx-root", [utf8("a"), utf8("b"), utf8("c")])),
    "a9d3d04fc5f31df915a1a928c4424fa2fed1c6b221ed1a17b6294b6c88f31d38",
  );
  t.end();
});

t.test("matches the recursive RFC 6962 definition for every size up to 40", (t) => {
  for (let n = 0; n <= 40; n++) {
    const leaves = leavesOf(n);
    t.strictSame(merkleRoot("tx-root", leaves), referenceRoot("tx-root", leaves), `n = ${n}`);
  }
  t.end();
});

t.test("domains, leaves and nodes are kept apart", (t) => {
  const leaves = leavesOf(3);
  t.notSame(merkleRoot("tx-root", leaves), merkleRoot("receipts-root", leaves));
  const [a, b] = leavesOf(2) as [Uint8Array, Uint8Array];
  const root = merkleRoot("tx-root", [a, b]);
  const l = merkleLeafHash("tx-root", a);
  const r = merkleLeafHash("tx-root", b);
  t.notSame(merkleRoot("tx-root", [concatBytes(l, r)]), root, "an inner node is no leaf");
  t.strictSame(root, domainHash("tx-root", Uint8Array.of(1), l, r));
  t.end();
});

t.test("every leaf of every tree up to 33 has a valid proof, as RFC 6962 builds it", (t) => {
  for (let n = 1; n <= 33; n++) {
    const leaves = leavesOf(n);
    const root = merkleRoot("tx-root", leaves);
    for (let i = 0; i < n; i++) {
      const proof = merkleProof("tx-root", leaves, i);
      const same = proof.siblings.length === referencePath("tx-root", i, leaves).length;
      const ok = verifyMerkleProof("tx-root", root, leaves[i]!, proof);
      if (!ok || !same) t.fail(`n = ${n}, i = ${i}`);
      t.strictSame(proof.siblings, referencePath("tx-root", i, leaves));
    }
  }
  t.end();
});

t.test("a proof fails for anything it does not prove", (t) => {
  const leaves = leavesOf(7);
  const root = merkleRoot("tx-root", leaves);
  const proof = merkleProof("tx-root", leaves, 4);
  const leaf = leaves[4]!;
  t.ok(verifyMerkleProof("tx-root", root, leaf, proof));
  t.notOk(verifyMerkleProof("tx-root", root, leaves[3]!, proof), "another leaf");
  t.notOk(verifyMerkleProof("receipts-root", root, leaf, proof), "another domain");
  t.notOk(verifyMerkleProof("tx-root", merkleRoot("tx-root", leavesOf(8)), leaf, proof), "root");
  t.notOk(verifyMerkleProof("tx-root", root, leaf, { ...proof, index: 5 }), "another index");
  t.notOk(verifyMerkleProof("tx-root", root, leaf, { ...proof, size: 5 }), "a smaller tree");
  const siblings = proof.siblings;
  t.notOk(
    verifyMerkleProof("tx-root", root, leaf, { ...proof, siblings: siblings.slice(1) }),
    "a sibling missing",
  );
  t.notOk(
    verifyMerkleProof("tx-root", root, leaf, { ...proof, siblings: [...siblings, root] }),
    "a sibling too many",
  );
  const flipped = siblings.map((s) => Uint8Array.from(s));
  flipped[0]![0]! ^= 1;
  t.notOk(verifyMerkleProof("tx-root", root, leaf, { ...proof, siblings: flipped }), "tampered");
  t.end();
});

t.test("proof edge cases", (t) => {
  const [only] = leavesOf(1) as [Uint8Array];
  const root = merkleRoot("tx-root", [only]);
  t.strictSame(merkleProof("tx-root", [only], 0).siblings, [], "a single leaf is the root");
  t.ok(verifyMerkleProof("tx-root", root, only, { index: 0, size: 1, siblings: [] }));
  t.throws(() => merkleProof("tx-root", leavesOf(3), 3), RangeError);
  t.throws(() => merkleProof("tx-root", leavesOf(3), -1), RangeError);
  t.throws(() => merkleProof("tx-root", [], 0), RangeError);
  t.end();
});

t.test("verifyMerkleProof never throws on garbage", (t) => {
  const anything = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constant(Number.NaN),
    fc.constant(undefined),
    fc.string(),
  );
  const hash = fc.uint8Array({ minLength: 0, maxLength: 40 });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        hash,
        hash,
        anything,
        anything,
        fc.oneof(fc.array(fc.oneof(hash, anything), { maxLength: 8 }), anything),
        (root, leaf, index, size, siblings) => {
          const proof = { index, size, siblings } as never;
          return typeof verifyMerkleProof("tx-root", root, leaf, proof) === "boolean";
        },
      ),
      { numRuns: 500 },
    ),
  );
  t.end();
});

t.test("a random proof verifies exactly when it is the real one", (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.nat(), fc.nat(), (n, i, j) => {
        const leaves = leavesOf(n);
        const root = merkleRoot("tx-root", leaves);
        const proof = merkleProof("tx-root", leaves, i % n);
        const other = j % n;
        const ok = verifyMerkleProof("tx-root", root, leaves[other]!, proof);
        return ok === (other === i % n || equalBytes(leaves[other]!, leaves[i % n]!));
      }),
      { numRuns: 200 },
    ),
  );
  t.end();
});
