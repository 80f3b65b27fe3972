// Meter signatures are verified as an oracle batch enters the mempool, so executing its block
// (every validator's work on the consensus path) finds them done; a signature that failed, or
// was never seen, is verified inline as before, with the same result, and a valid one verified
// inline joins the cache, so the batch's admission after its block does not verify it again.
import t, { type Test } from "tap";
import { encodeBlock } from "../../lib/block.js";
import { generateMeterSecretKey, meterPublicKeyOf, signMeter } from "../../lib/meter-key.js";
import type { CommittedBlock } from "../../node/chain.js";
import { type Reading, readingSignBytes } from "../../vm/model/reading.js";
import { meterSignatureKey } from "../../vm/readings/signature.js";
import { type RpcNode, startNode } from "../rpc/rpc-fixtures.js";
import { actor, hash32, operatorOf, T0 } from "../vm/helpers.js";
import { CHAIN_ID, signedTx } from "./chain-fixtures.js";

const op0 = operatorOf(0);
const oracle = actor(60);
const meterKey = generateMeterSecretKey("secp256k1");
const publicKey = meterPublicKeyOf("secp256k1", meterKey);

/** A node with a household whose meter has a key, and a registered oracle. */
async function setUp(t: Test): Promise<{ node: RpcNode; setup: CommittedBlock }> {
  const node = await startNode(t);
  for (const [nonce, bytes] of [
    signedTx(op0, 0n, "registerHousehold", {
      household: actor(50).address,
      meterIdHash: hash32(50),
      meterKey: { type: "secp256k1", publicKey },
      registers: 1,
      baselines: Array.from({ length: 12 }, () => 1000n),
    }),
    signedTx(op0, 1n, "registerOracle", { oracle: oracle.address }),
  ].entries()) {
    t.ok((await node.mempool.add(bytes)).ok, `setup ${nonce}`);
  }
  return { node, setup: await node.produce() };
}

function signed(time: bigint, key: Uint8Array): Reading {
  const reading = { meterIdHash: hash32(50), time, registers: [time - T0], signature: undefined };
  return {
    ...reading,
    signature: signMeter("secp256k1", key, readingSignBytes(CHAIN_ID, reading)),
  };
}

const good = signed(T0 + 1500n, meterKey);
const forged = signed(T0 + 1600n, generateMeterSecretKey("secp256k1"));
const cacheKey = (r: Reading) =>
  meterSignatureKey("secp256k1", publicKey, readingSignBytes(CHAIN_ID, r), r.signature!);
const batch = signedTx(oracle, 0n, "submitReadings", { readings: [good, forged] });
const expected = [
  { kind: "accepted", value: {} },
  { kind: "rejected", value: "READING_BAD_SIGNATURE" },
];

t.test("an oracle batch's meter signatures are verified on admission", async (t) => {
  const { node } = await setUp(t);
  t.notOk(node.chain.meterSignatures.has(cacheKey(good)), "nothing verified before");

  t.ok((await node.mempool.add(batch)).ok);
  const proposable = () => node.mempool.reap(100, 1e9).length;
  t.equal(proposable(), 0, "admitted, but left out of blocks while its signatures are verified");
  await node.mempool.preverified();
  t.equal(proposable(), 1, "then proposable");
  t.ok(node.chain.meterSignatures.has(cacheKey(good)), "the good signature is remembered");
  t.notOk(node.chain.meterSignatures.has(cacheKey(forged)), "a bad one is not");

  const block = await node.produce();
  t.same(
    block.receipts[0]?.readingResults,
    expected,
    "the block's results are those of inline verification",
  );
});

t.test("a batch first met in a block is verified inline, and remembered", async (t) => {
  const { node: leader, setup } = await setUp(t);
  const { node: follower } = await setUp(t);
  t.equal(follower.chain.head().hash.join(), setup.hash.join(), "the same chain so far");
  t.ok((await leader.mempool.add(batch)).ok);
  const block = await leader.produce();

  t.notOk(follower.chain.meterSignatures.has(cacheKey(good)), "the follower never saw the batch");
  const verdict = await follower.chain.validateBlock(encodeBlock(block.block));
  t.ok(verdict.ok, "the block is valid");
  if (!verdict.ok) return;
  t.same(verdict.executed.receipts[0]?.readingResults, expected);
  t.ok(
    follower.chain.meterSignatures.has(cacheKey(good)),
    "the signature verified in the block is in the cache: admitting the batch now skips it",
  );
  t.notOk(follower.chain.meterSignatures.has(cacheKey(forged)), "a bad one is not");
});
