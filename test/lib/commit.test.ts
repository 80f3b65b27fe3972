import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import t from "tap";
import { addressOf } from "../../lib/address.js";
import { compareBytes, concatBytes, fromHex, toHex } from "../../lib/bytes.js";
import {
  type Commit,
  commitFromPrecommits,
  commitHash,
  commitVote,
  decodeCommit,
  encodeCommit,
  MAX_COMMIT_BYTES,
  verifyCommit,
} from "../../lib/commit.js";
import { publicKeyOf } from "../../lib/keys.js";
import { MAX_VALIDATORS, type Validator } from "../../lib/validator.js";
import { type SignedVote, signVote, type Vote } from "../../lib/vote.js";

const CHAIN = "wattcap-devnet";
const block = new Uint8Array(32).fill(0xab);
const secretKeys = new Map<string, Uint8Array>();

function validator(i: number): Validator {
  const secretKey = new Uint8Array(32).fill(i);
  const publicKey = publicKeyOf(secretKey);
  const address = addressOf(publicKey);
  secretKeys.set(toHex(address), secretKey);
  const operator = new Uint8Array(20).fill(0x10 + i);
  return { address, publicKey, operator, utility: `utility-${i}` };
}

const set = [1, 2, 3, 4].map(validator).sort((a, b) => compareBytes(a.address, b.address));

function vote(v: Validator, change: Partial<Vote> = {}): SignedVote {
  const unsigned: Vote = {
    type: "precommit",
    chainId: CHAIN,
    height: 42n,
    round: 1,
    blockHash: block,
    validator: v.address,
    ...change,
  };
  return signVote(unsigned, secretKeys.get(toHex(v.address))!);
}

const commitOf = (members: Validator[]) =>
  commitFromPrecommits(
    set,
    42n,
    1,
    block,
    members.map((v) => vote(v)),
  );

const codeOf = (commit: Commit, chainId = CHAIN) => {
  const check = verifyCommit(commit, set, chainId);
  return check.ok ? "OK" : check.code;
};

// Cross-implementation vectors: computed once, then pinned byte for byte.
const GOLDEN = {
  commit:
    "94d3000000000000002a01c420abababababababababababababababababababababababababababababababab9392c4141a642f0e3c3af545e7acbd38b07251b3990914f1c440e2586e257cd3e001a0309a3b48b7c86cd4c56ceb0b9944eed40816763c74311f0b6fc9acc20c59aaaa342a8c7bf99ab27abfe97c9f9a24b0d6709b966f01643b92c4143325a78425f17a7e487eb5666b2bfd93abb06c70c44059b3cf4c97eaa9b1424ade9c0e03fadaacc22c8cf5b103a8f4e2934629bae30a5ae47ece2598a559ab086fa2d4f18487c85436372356d5058bc2419ab82ad8e492c4145050a4f4b3f9338c3472dcc01a87c76a144b3c9cc440a41129195db822ed4cdee58173488b327210fc7fd59e5e9434bfcb79b49d6bbf5a70b0b8b2a3f0c6ec47571f437b71bee756e59cabca3e98277036bd0ef0b7d1",
  hash: "d7c29d5d7b0641b7964432833b2763648c58b3f55633c7b137ed09ff57482706",
};

t.test("golden vectors", (t) => {
  const commit = commitOf(set.slice(0, 3));
  t.equal(toHex(encodeCommit(commit)), GOLDEN.commit);
  t.equal(toHex(commitHash(commit)), GOLDEN.hash);
  t.strictSame(decodeCommit(fromHex(GOLDEN.commit)), commit);
  t.end();
});

t.test("commitFromPrecommits keeps matching precommits by members, in set order", (t) => {
  const [a, b, c, d] = set as [Validator, Validator, Validator, Validator];
  const outsider = validator(9);
  const commit = commitFromPrecommits(set, 42n, 1, block, [
    vote(d),
    vote(b),
    vote(b),
    vote(a, { type: "prevote" }),
    vote(a, { round: 2 }),
    vote(a, { height: 41n }),
    vote(a, { blockHash: undefined }),
    vote(c, { blockHash: new Uint8Array(32) }),
    vote(outsider),
  ]);
  t.strictSame(
    commit.signatures.map((s) => toHex(s.validator)),
    [b, d].map((v) => toHex(v.address)),
  );
  t.strictSame(commit.signatures[0]!.signature, vote(b).signature);
  t.equal(commit.height, 42n);
  t.equal(commit.round, 1);
  t.end();
});

t.test("a commit by a quorum verifies", (t) => {
  t.equal(codeOf(commitOf(set.slice(0, 3))), "OK", "3 of 4");
  t.equal(codeOf(commitOf(set)), "OK", "4 of 4");
  t.equal(codeOf(commitOf(set.slice(1))), "OK", "any 3 of 4");
  t.end();
});

t.test("verifyCommit rejects each fault with its code", (t) => {
  const good = commitOf(set.slice(0, 3));
  const [s0, s1, s2] = good.signatures as [
    Commit["signatures"][0],
    Commit["signatures"][0],
    Commit["signatures"][0],
  ];
  t.equal(codeOf(commitOf(set.slice(0, 2))), "NOT_ENOUGH_SIGNATURES", "2 of 4");
  t.equal(codeOf({ ...good, signatures: [] }), "NOT_ENOUGH_SIGNATURES", "none");
  const outsider = validator(9);
  const foreign = { validator: outsider.address, signature: vote(outsider).signature };
  t.equal(codeOf({ ...good, signatures: [s0, s1, s2, foreign] }), "UNKNOWN_VALIDATOR");
  t.equal(codeOf({ ...good, signatures: [s0, s1, s1, s2] }), "DUPLICATE_SIGNATURE");
  t.equal(codeOf({ ...good, signatures: [s1, s0, s2] }), "SIGNATURES_OUT_OF_ORDER");
  const prevote = vote(set[2]!, { type: "prevote" }).signature;
  t.equal(
    codeOf({ ...good, signatures: [s0, s1, { ...s2, signature: prevote }] }),
    "BAD_SIGNATURE",
    "a prevote",
  );
  t.equal(
    codeOf({ ...good, signatures: [s0, s1, { ...s2, signature: s1.signature }] }),
    "BAD_SIGNATURE",
    "another's signature",
  );
  t.equal(codeOf(good, "wattcap-other"), "BAD_SIGNATURE", "another chain");
  t.equal(codeOf({ ...good, round: 0 }), "BAD_SIGNATURE", "another round");
  t.equal(codeOf({ ...good, height: 43n }), "BAD_SIGNATURE", "another height");
  t.equal(codeOf({ ...good, blockHash: new Uint8Array(32) }), "BAD_SIGNATURE", "another block");
  const check = verifyCommit(commitOf(set.slice(0, 2)), set, CHAIN);
  t.match(check, { ok: false, message: /2 of 4 signatures; 3 are needed/ });
  t.end();
});

t.test("cheap checks run before any signature is verified", (t) => {
  let calls = 0;
  const counting = () => {
    calls++;
    return true;
  };
  const short = commitOf(set.slice(0, 2));
  t.equal(verifyCommit(short, set, CHAIN, counting).ok, false);
  t.equal(calls, 0, "too few signatures costs no verification");
  t.equal(verifyCommit(commitOf(set), set, CHAIN, counting).ok, true);
  t.equal(calls, 4, "one verification per signature, with the given verifier");
  t.end();
});

t.test("commitVote rebuilds the precommit each signature signs", (t) => {
  const commit = commitOf(set.slice(0, 3));
  const v = set[1]!;
  t.strictSame(commitVote(commit, CHAIN, v.address), vote(v).vote);
  t.end();
});

t.test("decoding bounds and rejects", (t) => {
  const data = fromHex(GOLDEN.commit);
  t.throws(() => decodeCommit(data.subarray(0, 40)), { code: "MALFORMED" });
  t.throws(() => decodeCommit(concatBytes(data, Uint8Array.of(0))), { code: "MALFORMED" });
  t.throws(() => decodeCommit(new Uint8Array(MAX_COMMIT_BYTES + 1)), { code: "TOO_LARGE" });
  const full: Commit = {
    height: (1n << 64n) - 1n,
    round: 0xffffffff,
    blockHash: block,
    signatures: Array.from({ length: MAX_VALIDATORS }, () => ({
      validator: new Uint8Array(20),
      signature: new Uint8Array(64),
    })),
  };
  t.ok(encodeCommit(full).length <= MAX_COMMIT_BYTES, "the largest commit fits the limit");
  t.strictSame(decodeCommit(encodeCommit(full)), full);
  t.throws(() => encodeCommit({ ...full, signatures: [...full.signatures, full.signatures[0]!] }), {
    code: "SCHEMA",
  });
  t.end();
});

t.test("decode(encode(x)) is x for arbitrary commits", (t) => {
  const bytesN = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
  const arb = fc.record(
    {
      height: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      round: fc.integer({ min: 0, max: 0xffffffff }),
      blockHash: bytesN(32),
      signatures: fc.array(
        fc.record({ validator: bytesN(20), signature: bytesN(64) }, { noNullPrototype: true }),
        { maxLength: 8 },
      ),
    },
    { noNullPrototype: true },
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(arb, (c) => isDeepStrictEqual(decodeCommit(encodeCommit(c)), c)),
      { numRuns: 200 },
    ),
  );
  t.end();
});
