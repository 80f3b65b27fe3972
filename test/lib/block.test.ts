import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import t from "tap";
import { addressOf } from "../../lib/address.js";
import {
  type Block,
  blockHash,
  checkBlockStructure,
  computeEvidenceHash,
  computeLastCommitHash,
  computeTxRoot,
  decodeBlock,
  decodeHeader,
  encodeBlock,
  encodeHeader,
  type Header,
  headerHash,
  MAX_BLOCK_BYTES,
  MAX_BLOCK_TXS,
  zeroHash,
} from "../../lib/block.js";
import { compareBytes, concatBytes, fromHex, toHex, utf8 } from "../../lib/bytes.js";
import { type Commit, commitFromPrecommits, commitHash } from "../../lib/commit.js";
import { duplicateVoteEvidence } from "../../lib/evidence.js";
import { sha256 } from "../../lib/hash.js";
import { publicKeyOf } from "../../lib/keys.js";
import { merkleProof, merkleRoot, verifyMerkleProof } from "../../lib/merkle.js";
import { encodeTx, MAX_TX_BYTES, signTx, txId } from "../../lib/tx.js";
import { proposerFor, type Validator, validatorSetHash } from "../../lib/validator.js";
import { signVote, type Vote } from "../../lib/vote.js";

const CHAIN = "wattcap-devnet";
const secretKey = (i: number) => new Uint8Array(32).fill(i);
const fill = (n: number, byte: number) => new Uint8Array(n).fill(byte);
const keyOf = new Map<string, Uint8Array>();

function validator(i: number): Validator {
  const publicKey = publicKeyOf(secretKey(i));
  const address = addressOf(publicKey);
  keyOf.set(toHex(address), secretKey(i));
  return { address, publicKey, operator: fill(20, 0x10 + i), utility: `utility-${i}` };
}

const set = [1, 2, 3, 4].map(validator).sort((a, b) => compareBytes(a.address, b.address));
const vsh = validatorSetHash(set);

function precommit(v: Validator, height: bigint, round: number, hash: Uint8Array | undefined) {
  const unsigned: Vote = {
    type: "precommit",
    chainId: CHAIN,
    height,
    round,
    blockHash: hash,
    validator: v.address,
  };
  return signVote(unsigned, keyOf.get(toHex(v.address))!);
}

const tx = encodeTx(
  signTx(
    {
      chainId: CHAIN,
      nonce: 7n,
      type: 3,
      payload: utf8("hello"),
      signer: publicKeyOf(secretKey(1)),
    },
    secretKey(1),
  ),
);

const header1: Header = {
  version: 1,
  chainId: CHAIN,
  height: 1n,
  time: 1_700_000_000_000n,
  parentHash: zeroHash(),
  proposer: proposerFor(set, 1n, 0).address,
  txRoot: computeTxRoot([tx]),
  stateRoot: fill(32, 0x11),
  receiptsRoot: fill(32, 0x22),
  validatorsHash: vsh,
  nextValidatorsHash: vsh,
  lastCommitHash: zeroHash(),
  evidenceHash: computeEvidenceHash([]),
};
const block1: Block = { header: header1, txs: [tx], lastCommit: undefined, evidence: [] };
const hash1 = blockHash(block1);
const commit1 = commitFromPrecommits(
  set,
  1n,
  0,
  hash1,
  set.slice(1).map((v) => precommit(v, 1n, 0, hash1)),
);
const equivocation = duplicateVoteEvidence(
  precommit(set[0]!, 42n, 1, fill(32, 0xab)),
  precommit(set[0]!, 42n, 1, undefined),
);
const header2: Header = {
  ...header1,
  height: 2n,
  time: 1_700_000_001_000n,
  parentHash: hash1,
  proposer: proposerFor(set, 2n, 0).address,
  txRoot: computeTxRoot([]),
  lastCommitHash: commitHash(commit1),
  evidenceHash: computeEvidenceHash([equivocation]),
};
const block2: Block = { header: header2, txs: [], lastCommit: commit1, evidence: [equivocation] };

// Cross-implementation vectors: computed once, then pinned byte for byte.
const GOLDEN = {
  header1:
    "9d01c40e776174746361702d6465766e6574d30000000000000001d30000018bcfe56800c4200000000000000000000000000000000000000000000000000000000000000000c4143325a78425f17a7e487eb5666b2bfd93abb06c70c420d3046ee6e3219f02642e9e122e41f01ec690acf20fd271ef58e523a321b4b392c4201111111111111111111111111111111111111111111111111111111111111111c4202222222222222222222222222222222222222222222222222222222222222222c42032761d769ba80b6e0565b61069e82f6f120b026bcc7f517027d56797d847b6adc42032761d769ba80b6e0565b61069e82f6f120b026bcc7f517027d56797d847b6adc4200000000000000000000000000000000000000000000000000000000000000000c4209b8050a1c890bc55de59ec0c8afb680bf5980ebcdfeca2e8ad76fa3e10447ca3",
  block1:
    "949d01c40e776174746361702d6465766e6574d30000000000000001d30000018bcfe56800c4200000000000000000000000000000000000000000000000000000000000000000c4143325a78425f17a7e487eb5666b2bfd93abb06c70c420d3046ee6e3219f02642e9e122e41f01ec690acf20fd271ef58e523a321b4b392c4201111111111111111111111111111111111111111111111111111111111111111c4202222222222222222222222222222222222222222222222222222222222222222c42032761d769ba80b6e0565b61069e82f6f120b026bcc7f517027d56797d847b6adc42032761d769ba80b6e0565b61069e82f6f120b026bcc7f517027d56797d847b6adc4200000000000000000000000000000000000000000000000000000000000000000c4209b8050a1c890bc55de59ec0c8afb680bf5980ebcdfeca2e8ad76fa3e10447ca391c4889295c40e776174746361702d6465766e6574d3000000000000000703c40568656c6c6fc421031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078fc4405fb57ec266265c96002ec9c064254f9f55fb02236b04ed565093f23e52be3e7f48f14c3797a563544fe299e4042849910c18e7f86d602654a6bf14916b7f3f7e9090",
  block1Hash: "9a12c1973e118467249a27fb7abb3a8496876f848ba9456d52e674ba00a21f7f",
  block2Hash: "ae14407d1a3ee4963846df5ed9f5557d6d49ccb3d0172dea6d7372420301f945",
  block2EncodingSha256: "6ab55ef83d41910669eb5e23978b19c37980e33d7caf5316411da3d929cbf95c",
  emptyTxRoot: "0baa10544ed3a15102a273f140d9e7fa0b4de10d7fca5792ddbc2252036a2374",
  emptyEvidenceHash: "9b8050a1c890bc55de59ec0c8afb680bf5980ebcdfeca2e8ad76fa3e10447ca3",
};

t.test("golden vectors", (t) => {
  t.equal(toHex(encodeHeader(header1)), GOLDEN.header1);
  t.equal(toHex(encodeBlock(block1)), GOLDEN.block1);
  t.equal(toHex(hash1), GOLDEN.block1Hash);
  t.equal(toHex(blockHash(block2)), GOLDEN.block2Hash);
  t.equal(toHex(sha256(encodeBlock(block2))), GOLDEN.block2EncodingSha256);
  t.equal(toHex(computeTxRoot([])), GOLDEN.emptyTxRoot);
  t.equal(toHex(computeEvidenceHash([])), GOLDEN.emptyEvidenceHash);
  t.strictSame(decodeBlock(fromHex(GOLDEN.block1)), block1);
  t.strictSame(decodeHeader(fromHex(GOLDEN.header1)), header1);
  t.end();
});

t.test("blocks round-trip through their encoding", (t) => {
  t.strictSame(decodeBlock(encodeBlock(block2)), block2);
  t.end();
});

t.test("a block's hash is its header's, and every header field changes it", (t) => {
  t.strictSame(blockHash(block2), headerHash(header2));
  t.strictSame(blockHash({ ...block2, txs: [tx] }), headerHash(header2), "the body is not hashed");
  const changes: Partial<Header>[] = [
    { version: 2 },
    { chainId: "wattcap-other" },
    { height: 3n },
    { time: header2.time + 1n },
    { parentHash: fill(32, 1) },
    { proposer: fill(20, 1) },
    { txRoot: fill(32, 1) },
    { stateRoot: fill(32, 1) },
    { receiptsRoot: fill(32, 1) },
    { validatorsHash: fill(32, 1) },
    { nextValidatorsHash: fill(32, 1) },
    { lastCommitHash: fill(32, 1) },
    { evidenceHash: fill(32, 1) },
  ];
  t.equal(changes.length, Object.keys(header2).length, "one change per field");
  const hashes = new Set(changes.map((c) => toHex(headerHash({ ...header2, ...c }))));
  hashes.add(toHex(headerHash(header2)));
  t.equal(hashes.size, changes.length + 1);
  t.end();
});

t.test("txRoot is the Merkle root of the tx ids, so inclusion can be proven", (t) => {
  const txs = [tx, utf8("not even a tx: the root does not care"), tx.subarray(1)];
  const ids = txs.map(txId);
  t.strictSame(computeTxRoot(txs), merkleRoot("tx-root", ids));
  const proof = merkleProof("tx-root", ids, 1);
  t.ok(verifyMerkleProof("tx-root", computeTxRoot(txs), txId(txs[1]!), proof));
  t.end();
});

t.test("zeroHash and computeLastCommitHash", (t) => {
  const a = zeroHash();
  a[0] = 1;
  t.strictSame(zeroHash(), new Uint8Array(32), "each call is a fresh zero hash");
  t.strictSame(computeLastCommitHash(undefined), new Uint8Array(32));
  t.strictSame(computeLastCommitHash(commit1), commitHash(commit1));
  t.end();
});

const codeOf = (block: Block, chainId = CHAIN) => {
  const check = checkBlockStructure(block, chainId);
  return check.ok ? "OK" : check.code;
};

t.test("checkBlockStructure accepts consistent blocks", (t) => {
  t.equal(codeOf(block1), "OK");
  t.equal(codeOf(block2), "OK");
  const check = checkBlockStructure(block1, CHAIN);
  t.same(
    check.ok ? check.txIds.map(toHex) : [],
    [toHex(txId(tx))],
    "and hands back the transactions' ids it hashed for the root",
  );
  t.end();
});

t.test("checkBlockStructure rejects each inconsistency with its code", (t) => {
  const withHeader = (b: Block, h: Partial<Header>): Block => ({
    ...b,
    header: { ...b.header, ...h },
  });
  t.equal(codeOf(block1, "wattcap-other"), "WRONG_CHAIN_ID");
  t.equal(codeOf(withHeader(block1, { height: 0n })), "BAD_HEIGHT");
  t.equal(codeOf(withHeader(block1, { parentHash: fill(32, 1) })), "BAD_GENESIS_PARENT");
  t.equal(codeOf({ ...block1, lastCommit: commit1 }), "UNEXPECTED_LAST_COMMIT");
  t.equal(codeOf({ ...block2, lastCommit: undefined }), "MISSING_LAST_COMMIT");
  t.equal(codeOf(withHeader(block2, { height: 3n })), "LAST_COMMIT_MISMATCH", "commit height");
  t.equal(
    codeOf(withHeader(block2, { parentHash: fill(32, 1) })),
    "LAST_COMMIT_MISMATCH",
    "commit block",
  );
  t.equal(codeOf({ ...block1, txs: [] }), "BAD_TX_ROOT", "a tx dropped");
  t.equal(codeOf({ ...block1, txs: [tx, tx] }), "BAD_TX_ROOT", "a tx added");
  const fewer: Commit = { ...commit1, signatures: commit1.signatures.slice(1) };
  t.equal(codeOf({ ...block2, lastCommit: fewer }), "BAD_LAST_COMMIT_HASH");
  t.equal(codeOf({ ...block2, evidence: [] }), "BAD_EVIDENCE_HASH");
  const twice = [equivocation, equivocation];
  t.equal(
    codeOf(
      withHeader({ ...block2, evidence: twice }, { evidenceHash: computeEvidenceHash(twice) }),
    ),
    "DUPLICATE_EVIDENCE",
  );
  t.end();
});

t.test("size limits: encode refuses and decode rejects oversized blocks", (t) => {
  const big = new Uint8Array(MAX_TX_BYTES).fill(1);
  const txs = Array.from({ length: Math.ceil(MAX_BLOCK_BYTES / MAX_TX_BYTES) + 1 }, () => big);
  t.throws(() => encodeBlock({ ...block1, txs }), { name: "CodecError", code: "TOO_LARGE" });
  t.throws(() => decodeBlock(new Uint8Array(MAX_BLOCK_BYTES + 1)), { code: "TOO_LARGE" });
  // MAX_BLOCK_TXS + 1 empty txs: small in bytes, but over the list's limit.
  const count = MAX_BLOCK_TXS + 1;
  const txList = concatBytes(
    Uint8Array.of(0xdc, count >> 8, count & 0xff),
    ...Array.from({ length: count }, () => Uint8Array.of(0xc4, 0)),
  );
  const data = concatBytes(Uint8Array.of(0x94), encodeHeader(header1), txList, fromHex("9090"));
  t.throws(() => decodeBlock(data), { code: "SCHEMA", message: /Block\.txs: 10001 items/ });
  t.end();
});

t.test("decode(encode(x)) is x for arbitrary headers", (t) => {
  const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  const arb = fc.record(
    {
      version: fc.integer({ min: 0, max: 0xffffffff }),
      chainId: fc.string({ unit: "binary", maxLength: 16 }),
      height: u64,
      time: u64,
      parentHash: hash,
      proposer: fc.uint8Array({ minLength: 20, maxLength: 20 }),
      txRoot: hash,
      stateRoot: hash,
      receiptsRoot: hash,
      validatorsHash: hash,
      nextValidatorsHash: hash,
      lastCommitHash: hash,
      evidenceHash: hash,
    },
    { noNullPrototype: true },
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        arb,
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 4 }),
        (header, txs) => {
          const block: Block = { header, txs, lastCommit: undefined, evidence: [] };
          return (
            isDeepStrictEqual(decodeHeader(encodeHeader(header)), header) &&
            isDeepStrictEqual(decodeBlock(encodeBlock(block)), block)
          );
        },
      ),
      { numRuns: 200 },
    ),
  );
  t.end();
});
