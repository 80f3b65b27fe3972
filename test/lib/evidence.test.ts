import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import t from "tap";
import { addressOf } from "../../lib/address.js";
import { compareBytes, concatBytes, fromHex, toHex } from "../../lib/bytes.js";
import {
  checkEvidence,
  decodeEvidence,
  duplicateVoteEvidence,
  type Evidence,
  encodeEvidence,
  evidenceHash,
  MAX_EVIDENCE_BYTES,
} from "../../lib/evidence.js";
import { publicKeyOf } from "../../lib/keys.js";
import type { Validator } from "../../lib/validator.js";
import { type SignedVote, signVote, type Vote } from "../../lib/vote.js";

const CHAIN = "wattcap-devnet";
const block = new Uint8Array(32).fill(0xab);
const secretKey = (i: number) => new Uint8Array(32).fill(i);

function validator(i: number): Validator {
  const publicKey = publicKeyOf(secretKey(i));
  return {
    address: addressOf(publicKey),
    publicKey,
    operator: new Uint8Array(20).fill(0x10 + i),
    utility: `utility-${i}`,
  };
}

const set = [1, 2, 3, 4].map(validator).sort((a, b) => compareBytes(a.address, b.address));

function vote(i: number, change: Partial<Vote> = {}, signer = i): SignedVote {
  const unsigned: Vote = {
    type: "precommit",
    chainId: CHAIN,
    height: 42n,
    round: 1,
    blockHash: block,
    validator: validator(i).address,
    ...change,
  };
  return signVote(unsigned, secretKey(signer));
}

const forBlock = vote(1);
const forNil = vote(1, { blockHash: undefined });
const evidence = duplicateVoteEvidence(forBlock, forNil);

const codeOf = (ev: Evidence, validators: Validator[] = set, chainId = CHAIN) => {
  const check = checkEvidence(ev, validators, chainId);
  return check.ok ? "OK" : check.code;
};
const raw = (voteA: SignedVote, voteB: SignedVote): Evidence => ({
  kind: "duplicateVote",
  value: { voteA, voteB },
});

// Cross-implementation vectors: computed once, then pinned byte for byte.
const GOLDEN = {
  evidence:
    "920092929601c40e776174746361702d6465766e6574d3000000000000002a0190c4141a642f0e3c3af545e7acbd38b07251b3990914f1c4409f25d78c4ee73a23dfab4784a1c14801658b4777e9985ee322e3695537e374e9574ec80f4b2690c6e25c97bb7112b0ba4881d167b937911a4794272f751cdd88929601c40e776174746361702d6465766e6574d3000000000000002a0191c420ababababababababababababababababababababababababababababababababc4141a642f0e3c3af545e7acbd38b07251b3990914f1c440e2586e257cd3e001a0309a3b48b7c86cd4c56ceb0b9944eed40816763c74311f0b6fc9acc20c59aaaa342a8c7bf99ab27abfe97c9f9a24b0d6709b966f01643b",
  hash: "72b13b45a1fef2b7e1256232913487515682f69fec48b8537bdae0afd43bac57",
};

t.test("golden vectors", (t) => {
  t.equal(toHex(encodeEvidence(evidence)), GOLDEN.evidence);
  t.equal(toHex(evidenceHash(evidence)), GOLDEN.hash);
  t.strictSame(decodeEvidence(fromHex(GOLDEN.evidence)), evidence);
  t.end();
});

t.test("one equivocation has one encoding, whatever the order the votes came in", (t) => {
  const swapped = duplicateVoteEvidence(forNil, forBlock);
  t.equal(toHex(encodeEvidence(swapped)), GOLDEN.evidence);
  t.equal(evidence.value.voteA, forNil, "a nil vote sorts before any block");
  const low = vote(1, { blockHash: new Uint8Array(32).fill(0x01) });
  t.equal(duplicateVoteEvidence(forBlock, low).value.voteA, low);
  t.equal(duplicateVoteEvidence(low, forBlock).value.voteA, low);
  t.end();
});

t.test("checkEvidence accepts a real equivocation and names the offender", (t) => {
  const check = checkEvidence(evidence, set, CHAIN);
  t.ok(check.ok);
  if (check.ok) t.strictSame(check.offender, validator(1));
  t.equal(
    codeOf(
      duplicateVoteEvidence(
        vote(2, { type: "prevote" }),
        vote(2, { type: "prevote", blockHash: new Uint8Array(32) }),
      ),
    ),
    "OK",
    "two prevotes",
  );
  t.end();
});

t.test("checkEvidence rejects each fault with its code", (t) => {
  t.equal(codeOf(evidence, set, "wattcap-other"), "WRONG_CHAIN_ID");
  t.equal(
    codeOf(duplicateVoteEvidence(forNil, vote(1, { chainId: "wattcap-other" }))),
    "WRONG_CHAIN_ID",
  );
  t.equal(codeOf(duplicateVoteEvidence(forNil, vote(2))), "DIFFERENT_VALIDATOR");
  t.equal(
    codeOf(duplicateVoteEvidence(forNil, vote(1, { height: 43n }))),
    "DIFFERENT_STEP",
    "height",
  );
  t.equal(codeOf(duplicateVoteEvidence(forNil, vote(1, { round: 2 }))), "DIFFERENT_STEP", "round");
  t.equal(
    codeOf(duplicateVoteEvidence(forNil, vote(1, { type: "prevote" }))),
    "DIFFERENT_STEP",
    "type",
  );
  t.equal(codeOf(raw(forBlock, vote(1))), "SAME_BLOCK_HASH");
  t.equal(codeOf(raw(forNil, forNil)), "SAME_BLOCK_HASH", "the same vote twice");
  t.equal(codeOf(raw(forBlock, forNil)), "NOT_CANONICAL_ORDER");
  t.equal(
    codeOf(
      evidence,
      set.filter((v) => v.utility !== "utility-1"),
    ),
    "UNKNOWN_VALIDATOR",
  );
  t.equal(codeOf(duplicateVoteEvidence(forNil, vote(1, {}, 2))), "BAD_SIGNATURE", "forged");
  const garbled = { ...forBlock, signature: new Uint8Array(64) };
  t.equal(codeOf(duplicateVoteEvidence(forNil, garbled)), "BAD_SIGNATURE");
  t.end();
});

t.test("checkEvidence uses the verifier it is given", (t) => {
  let calls = 0;
  const check = checkEvidence(evidence, set, CHAIN, () => {
    calls++;
    return true;
  });
  t.ok(check.ok);
  t.equal(calls, 2);
  t.end();
});

t.test("decoding rejects bad evidence with a specific code", (t) => {
  const data = fromHex(GOLDEN.evidence);
  t.throws(() => decodeEvidence(data.subarray(0, data.length - 1)), { code: "MALFORMED" });
  t.throws(() => decodeEvidence(concatBytes(data, Uint8Array.of(0))), { code: "MALFORMED" });
  const unknownKind = Uint8Array.from(data);
  unknownKind[1] = 1; // the union tag
  t.throws(() => decodeEvidence(unknownKind), {
    code: "SCHEMA",
    message: /unknown Evidence tag 1/,
  });
  t.throws(() => decodeEvidence(new Uint8Array(MAX_EVIDENCE_BYTES + 1)), { code: "TOO_LARGE" });
  t.ok(encodeEvidence(evidence).length <= MAX_EVIDENCE_BYTES);
  t.end();
});

t.test("decode(encode(x)) is x for arbitrary evidence", (t) => {
  const bytesN = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
  const signedVote = fc.record(
    {
      vote: fc.record(
        {
          type: fc.constantFrom("prevote" as const, "precommit" as const),
          chainId: fc.string({ unit: "binary", maxLength: 16 }),
          height: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          round: fc.integer({ min: 0, max: 0xffffffff }),
          blockHash: fc.option(bytesN(32), { nil: undefined }),
          validator: bytesN(20),
        },
        { noNullPrototype: true },
      ),
      signature: bytesN(64),
    },
    { noNullPrototype: true },
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(signedVote, signedVote, (a, b) => {
        const ev = duplicateVoteEvidence(a, b);
        return isDeepStrictEqual(decodeEvidence(encodeEvidence(ev)), ev);
      }),
      { numRuns: 200 },
    ),
  );
  t.end();
});
