import fc from "fast-check";
import t from "tap";
import { utf8 } from "../../lib/bytes.js";
import { CodecError, decode, encode } from "../../lib/codec.js";
import { MemoryNodeStore } from "../../state/smt/memory-store.js";
import { type SmtProof, SmtProofSchema, verifyProof } from "../../state/smt/proof.js";
import { EMPTY_ROOT, JellyfishTree } from "../../state/smt/tree.js";

const keyOf = (i: number) => utf8(`account/${i}`);
const valueFor = (i: number, round: number) => utf8(`balance ${i * 7 + round}`);

/**
 * A tree at version 1 with keys 0..n-1 but every third, and at version 2 with key 1 set anew,
 * so proofs cover inclusion, absence and an older version. `expected` is the model.
 */
function sample(n: number): {
  tree: JellyfishTree;
  expected: (k: number, version: bigint) => Uint8Array | undefined;
} {
  const store = new MemoryNodeStore();
  const tree = new JellyfishTree(store);
  const expected = (k: number, version: bigint) => {
    if (version === 2n && k === 1) return valueFor(1, 2);
    return k < n && k % 3 !== 0 ? valueFor(k, 1) : undefined;
  };
  const changes = Array.from({ length: n }, (_, k) => [keyOf(k), expected(k, 1n)] as const);
  store.apply(tree.update(undefined, 1n, changes));
  store.apply(tree.update(1n, 2n, [[keyOf(1), valueFor(1, 2)]]));
  return { tree, expected };
}

/** Through the wire and back, as a proof travels over RPC. */
function roundTrip(proof: SmtProof): SmtProof {
  return decode(SmtProofSchema, encode(SmtProofSchema, proof));
}

t.test("every inclusion and non-inclusion proof verifies, at every version", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.nat({ max: 300 }), (n) => {
        const { tree, expected } = sample(n);
        for (const version of [1n, 2n]) {
          const root = tree.rootHash(version);
          for (let k = 0; k < n + 5; k++) {
            const value = expected(k, version);
            const proof = roundTrip(tree.prove(version, keyOf(k)));
            if (!verifyProof(root, keyOf(k), value, proof)) {
              throw new Error(`key ${k} at version ${version}`);
            }
          }
        }
        return true;
      }),
      { numRuns: 25 },
    ),
  );
});

t.test("the empty tree proves every key absent", async (t) => {
  const store = new MemoryNodeStore();
  const tree = new JellyfishTree(store);
  store.apply(tree.update(undefined, 1n, []));
  const proof = tree.prove(1n, utf8("anything"));
  t.same(proof, { siblings: [] });
  t.ok(verifyProof(EMPTY_ROOT, utf8("anything"), undefined, proof));
  t.notOk(verifyProof(EMPTY_ROOT, utf8("anything"), utf8("x"), proof));
});

t.test("a proof fails for anything it does not prove", async (t) => {
  const { tree, expected } = sample(200);
  const root = tree.rootHash(2n);
  const old = tree.rootHash(1n);
  const flip = (bytes: Uint8Array, i: number) => {
    const out = bytes.slice();
    out[i % out.length]! ^= 1 << (i % 8);
    return out;
  };
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.nat({ max: 199 }), fc.nat({ max: 199 }), fc.nat(), (k, other, noise) => {
        const key = keyOf(k);
        const proof = tree.prove(2n, key);
        const value = expected(k, 2n);
        const claims: Array<[string, Uint8Array, Uint8Array, Uint8Array | undefined, SmtProof]> = [
          ["wrong root", flip(root, noise), key, value, proof],
          [
            "a value for an absent key, or absence of a present one",
            root,
            key,
            value ? undefined : utf8("x"),
            proof,
          ],
        ];
        if (value !== undefined) {
          claims.push(["changed value", root, key, flip(value, noise), proof]);
          claims.push(["older root", old, key, value, proof]);
          if (other !== k) claims.push(["another key", root, keyOf(other), value, proof]);
        }
        if (proof.siblings.length > 0) {
          const i = noise % proof.siblings.length;
          const siblings = proof.siblings.map((s, j) => (j === i ? flip(s, noise) : s));
          claims.push(["tampered sibling", root, key, value, { ...proof, siblings }]);
          claims.push([
            "dropped sibling",
            root,
            key,
            value,
            { ...proof, siblings: proof.siblings.slice(1) },
          ]);
        }
        claims.push([
          "extra sibling",
          root,
          key,
          value,
          { ...proof, siblings: [...proof.siblings, new Uint8Array(32)] },
        ]);
        if (proof.leaf) {
          const leaf = { ...proof.leaf, valueHash: flip(proof.leaf.valueHash, noise) };
          claims.push(["tampered leaf", root, key, value, { ...proof, leaf }]);
          claims.push(["leaf removed", root, key, undefined, { siblings: proof.siblings }]);
        }
        for (const [what, r, kk, v, p] of claims) {
          if (verifyProof(r, kk, v, p)) throw new Error(`accepted: ${what}`);
        }
        return true;
      }),
      { numRuns: 300 },
    ),
  );
});

t.test("another key's leaf proves absence only on the absent key's own path", async (t) => {
  const { tree } = sample(60);
  const root = tree.rootHash(1n);
  const inclusion = tree.prove(1n, keyOf(1));
  t.ok(inclusion.leaf);
  // Claiming key 1's leaf as evidence that some far-away key is absent must fail: the
  // absent key's path does not lead to that leaf.
  let rejected = 0;
  for (let k = 1000; k < 1040; k++) {
    if (!verifyProof(root, keyOf(k), undefined, inclusion)) rejected++;
  }
  t.ok(rejected >= 35, `rejected ${rejected} of 40`);
  t.notOk(
    verifyProof(root, keyOf(1), undefined, inclusion),
    "a key's own leaf never proves its absence",
  );
});

t.test("verifyProof never throws on garbage", async (t) => {
  const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const garbageProof = fc.oneof(
    fc.anything(),
    fc.record({ siblings: fc.array(fc.oneof(hash, fc.anything()), { maxLength: 300 }) }),
    fc.record({
      leaf: fc.oneof(fc.anything(), fc.record({ keyHash: hash, valueHash: fc.anything() })),
      siblings: fc.array(hash, { maxLength: 10 }),
    }),
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        fc.anything(),
        fc.anything(),
        fc.anything(),
        garbageProof,
        (root, key, value, proof) => {
          const args = [root, key, value, proof] as unknown as Parameters<typeof verifyProof>;
          return verifyProof(...args) === false;
        },
      ),
      { numRuns: 500 },
    ),
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        hash,
        fc.uint8Array(),
        fc.option(fc.uint8Array(), { nil: undefined }),
        garbageProof,
        (root, key, value, proof) =>
          typeof verifyProof(root, key, value, proof as SmtProof) === "boolean",
      ),
      { numRuns: 500 },
    ),
  );
  t.notOk(verifyProof(new Uint8Array(32), utf8("k"), undefined, null as unknown as SmtProof));
  t.notOk(
    verifyProof(new Uint8Array(32), utf8("k"), undefined, {
      siblings: Array.from({ length: 257 }, () => new Uint8Array(32)),
    }),
    "deeper than a key hash",
  );
});

t.test("proofs on the wire: compact, canonical and checked", async (t) => {
  const { tree } = sample(120);
  const proof = tree.prove(1n, keyOf(2));
  const bytes = encode(SmtProofSchema, proof);
  const back = decode(SmtProofSchema, bytes);
  t.same(back, proof);
  const absent = tree.prove(1n, keyOf(3));
  t.same(decode(SmtProofSchema, encode(SmtProofSchema, absent)), absent);
  // An empty sibling travels as 2 bytes instead of 34.
  const one = encode(SmtProofSchema, { siblings: [new Uint8Array(32).fill(1)] });
  const empty = encode(SmtProofSchema, { siblings: [new Uint8Array(32)] });
  t.equal(one.length - empty.length, 32);
  t.same(decode(SmtProofSchema, empty), { siblings: [new Uint8Array(32)] });
  // An empty sibling written out as 32 zero bytes is not the canonical encoding.
  const zero = one.slice();
  zero.fill(0, one.length - 32);
  t.throws(() => decode(SmtProofSchema, zero), { name: "CodecError", code: "NON_CANONICAL" });
  t.throws(() => encode(SmtProofSchema, { siblings: [new Uint8Array(31)] }), CodecError);
  t.throws(
    () => decode(SmtProofSchema, encode(SmtProofSchema, { siblings: [] }).subarray(0, 1)),
    CodecError,
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        try {
          decode(SmtProofSchema, junk);
          return true;
        } catch (e) {
          return e instanceof CodecError;
        }
      }),
    ),
  );
});
