import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import t from "tap";
import { addressOf } from "../../lib/address.js";
import { concatBytes, fromHex, toHex } from "../../lib/bytes.js";
import { CodecError } from "../../lib/codec.js";
import { domainPrefix } from "../../lib/hash.js";
import { publicKeyOf } from "../../lib/keys.js";
import { sign } from "../../lib/signature.js";
import {
  decodeSignedProposal,
  decodeSignedVote,
  encodeSignedProposal,
  encodeSignedVote,
  MAX_VOTE_BYTES,
  type Proposal,
  proposalSignBytes,
  type SignedVote,
  signProposal,
  signVote,
  type Vote,
  verifyProposal,
  verifyVote,
  voteSignBytes,
} from "../../lib/vote.js";

const CHAIN = "wattcap-devnet";
const sk1 = new Uint8Array(32).fill(1);
const pk1 = publicKeyOf(sk1);
const pk2 = publicKeyOf(new Uint8Array(32).fill(2));
const addr1 = addressOf(pk1);
const block = new Uint8Array(32).fill(0xab);

const vote: Vote = {
  type: "precommit",
  chainId: CHAIN,
  height: 42n,
  round: 1,
  blockHash: block,
  validator: addr1,
};
const nilVote: Vote = { ...vote, type: "prevote", blockHash: undefined };
const proposal: Proposal = {
  chainId: CHAIN,
  height: 42n,
  round: 1,
  polRound: 0,
  blockHash: block,
  proposer: addr1,
};

// Cross-implementation vectors: computed once, then pinned byte for byte. Signatures are
// deterministic (RFC 6979), so they are pinned too.
const GOLDEN = {
  voteSignBytes:
    "776174746361702f766f7465009601c40e776174746361702d6465766e6574d3000000000000002a0191c420ababababababababababababababababababababababababababababababababc4141a642f0e3c3af545e7acbd38b07251b3990914f1",
  signedVote:
    "929601c40e776174746361702d6465766e6574d3000000000000002a0191c420ababababababababababababababababababababababababababababababababc4141a642f0e3c3af545e7acbd38b07251b3990914f1c440e2586e257cd3e001a0309a3b48b7c86cd4c56ceb0b9944eed40816763c74311f0b6fc9acc20c59aaaa342a8c7bf99ab27abfe97c9f9a24b0d6709b966f01643b",
  nilPrevote:
    "929600c40e776174746361702d6465766e6574d3000000000000002a0190c4141a642f0e3c3af545e7acbd38b07251b3990914f1c440816a96585c526f48d76a01c3a794dc0965767c7eb19b7df7efe82ef33eacbf4e78adc061deb703c9c6f0c2e1127529970c45822ace3f2beca28e96c484bd907b",
  signedProposal:
    "9296c40e776174746361702d6465766e6574d3000000000000002a019100c420ababababababababababababababababababababababababababababababababc4141a642f0e3c3af545e7acbd38b07251b3990914f1c44010846650b1997adecca43a4311376e730df820247b532397a2e26c7fd462813528fe6bd2761d1f248c2ee9a08adcf7d62fca5b7027c76e086d083811a6240ee6",
};

t.test("golden vectors", (t) => {
  t.equal(toHex(voteSignBytes(vote)), GOLDEN.voteSignBytes);
  t.equal(toHex(encodeSignedVote(signVote(vote, sk1))), GOLDEN.signedVote);
  t.equal(toHex(encodeSignedVote(signVote(nilVote, sk1))), GOLDEN.nilPrevote);
  t.equal(toHex(encodeSignedProposal(signProposal(proposal, sk1))), GOLDEN.signedProposal);
  t.strictSame(decodeSignedVote(fromHex(GOLDEN.signedVote)).vote, vote);
  t.strictSame(decodeSignedProposal(fromHex(GOLDEN.signedProposal)).proposal, proposal);
  t.end();
});

t.test("sign bytes are the domain prefix and the canonical encoding", (t) => {
  t.equal(toHex(voteSignBytes(vote)).slice(0, 26), toHex(domainPrefix("vote")));
  t.equal(toHex(proposalSignBytes(proposal)).slice(0, 34), toHex(domainPrefix("proposal")));
  t.end();
});

t.test("a signed vote verifies with its key and nothing else", (t) => {
  const signed = signVote(vote, sk1);
  t.ok(verifyVote(signed, pk1));
  t.notOk(verifyVote(signed, pk2), "another key");
  const changed: [string, Partial<Vote>][] = [
    ["type", { type: "prevote" }],
    ["chain id", { chainId: "wattcap-other" }],
    ["height", { height: 43n }],
    ["round", { round: 2 }],
    ["nil instead of a block", { blockHash: undefined }],
    ["block", { blockHash: new Uint8Array(32).fill(0xac) }],
    ["validator", { validator: new Uint8Array(20) }],
  ];
  for (const [what, change] of changed) {
    t.notOk(verifyVote({ ...signed, vote: { ...vote, ...change } }, pk1), `another ${what}`);
  }
  t.ok(verifyVote(signVote(nilVote, sk1), pk1), "a nil vote");
  t.end();
});

t.test("a signed proposal verifies with its key and nothing else", (t) => {
  const signed = signProposal(proposal, sk1);
  t.ok(verifyProposal(signed, pk1));
  t.notOk(verifyProposal(signed, pk2));
  t.notOk(verifyProposal({ ...signed, proposal: { ...proposal, polRound: undefined } }, pk1));
  t.notOk(verifyProposal({ ...signed, proposal: { ...proposal, round: 0 } }, pk1));
  t.ok(verifyProposal(signProposal({ ...proposal, polRound: undefined }, sk1), pk1));
  t.end();
});

t.test("signatures do not cross domains", (t) => {
  // A signature over the vote's encoding in the proposal domain must not pass as a vote.
  const encodingOnly = voteSignBytes(vote).subarray(domainPrefix("vote").length);
  const wrongDomain = sign(sk1, concatBytes(domainPrefix("proposal"), encodingOnly));
  t.notOk(verifyVote({ vote, signature: wrongDomain }, pk1));
  t.notOk(verifyVote({ vote, signature: sign(sk1, encodingOnly) }, pk1), "no domain at all");
  t.end();
});

t.test("verification never throws on garbage", (t) => {
  const signed = signVote(vote, sk1);
  t.notOk(verifyVote({ ...signed, signature: new Uint8Array(64) }, pk1));
  t.notOk(verifyVote({ ...signed, signature: new Uint8Array(63) }, pk1));
  t.notOk(verifyVote(signed, new Uint8Array(33)));
  t.notOk(verifyVote(signed, new Uint8Array(0)));
  const invalid = { ...vote, round: -1 } as Vote;
  t.notOk(verifyVote({ vote: invalid, signature: signed.signature }, pk1), "an unencodable vote");
  t.notOk(
    verifyProposal(
      { proposal: { ...proposal, height: 1 } as unknown as Proposal, signature: signed.signature },
      pk1,
    ),
  );
  t.end();
});

t.test("a custom verifier is used when given", (t) => {
  const signed = signVote(vote, sk1);
  const calls: Uint8Array[] = [];
  const spy = (_pk: Uint8Array, message: Uint8Array) => {
    calls.push(message);
    return true;
  };
  t.ok(verifyVote({ ...signed, signature: new Uint8Array(64) }, pk1, spy));
  t.strictSame(calls, [voteSignBytes(vote)]);
  t.end();
});

t.test("decoding rejects bad signed votes with a specific code", (t) => {
  const good = encodeSignedVote(signVote(vote, sk1));
  const codeOf = (data: Uint8Array) => {
    try {
      decodeSignedVote(data);
      return "ACCEPTED";
    } catch (e) {
      return e instanceof CodecError ? e.code : "OTHER";
    }
  };
  t.equal(codeOf(good), "ACCEPTED");
  t.equal(codeOf(good.subarray(0, good.length - 1)), "MALFORMED", "truncated");
  t.equal(codeOf(concatBytes(good, Uint8Array.of(0))), "MALFORMED", "trailing byte");
  // Shorten the signature to 63 bytes: c440 + 64 bytes -> c43f + 63 bytes.
  const short = concatBytes(
    good.subarray(0, good.length - 66),
    fromHex("c43f"),
    good.subarray(-63),
  );
  t.equal(codeOf(short), "SCHEMA", "a 63-byte signature");
  t.equal(codeOf(new Uint8Array(MAX_VOTE_BYTES + 1)), "TOO_LARGE");
  const typeAt = 2; // 92 96 <type>
  const unknownType = Uint8Array.from(good);
  unknownType[typeAt] = 2;
  t.equal(codeOf(unknownType), "SCHEMA", "an unknown vote type");
  t.end();
});

const bytesN = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const voteArb = fc.record(
  {
    type: fc.constantFrom("prevote" as const, "precommit" as const),
    chainId: fc.string({ unit: "binary", maxLength: 16 }),
    height: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    round: fc.integer({ min: 0, max: 0xffffffff }),
    blockHash: fc.option(bytesN(32), { nil: undefined }),
    validator: bytesN(20),
  },
  { noNullPrototype: true },
);

t.test("decode(encode(x)) is x for arbitrary votes and proposals", (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(voteArb, bytesN(64), (v, signature) => {
        const signed: SignedVote = { vote: v, signature };
        return isDeepStrictEqual(decodeSignedVote(encodeSignedVote(signed)), signed);
      }),
      { numRuns: 200 },
    ),
  );
  const proposalArb = fc.record(
    {
      chainId: fc.string({ unit: "binary", maxLength: 16 }),
      height: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      round: fc.integer({ min: 0, max: 0xffffffff }),
      polRound: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
      blockHash: bytesN(32),
      proposer: bytesN(20),
    },
    { noNullPrototype: true },
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(proposalArb, bytesN(64), (p, signature) => {
        const signed = { proposal: p, signature };
        return isDeepStrictEqual(decodeSignedProposal(encodeSignedProposal(signed)), signed);
      }),
      { numRuns: 200 },
    ),
  );
  t.end();
});
