// A round-0 proposer waits a little for oracle batches whose meter signatures are still being
// verified, so a batch that arrives just before its turn fills this block instead of waiting a
// whole height behind an empty one; and the wait is bounded, so a batch that takes longer
// never stops the chain. Verification here lasts exactly as long as the test says.
import t, { type Test } from "tap";
import { decodeBlock } from "../../lib/block.js";
import { generateMeterSecretKey, meterPublicKeyOf, signMeter } from "../../lib/meter-key.js";
import { buildGenesis } from "../../node/genesis.js";
import { readingSignBytes } from "../../vm/model/reading.js";
import { actor, genesisJson, hash32, operatorOf, T0, validatorOf } from "../vm/helpers.js";
import { CHAIN_ID } from "./chain-fixtures.js";
import { signedTx, startTestNode, type TestNode, testClock, waitFor } from "./driver-fixtures.js";
import { MemoryHub } from "./memory-network.js";

const TARGET_MS = 1000n;
const op = operatorOf(0);
const oracle = actor(61);
const meterKey = generateMeterSecretKey("secp256k1");

/** One validator whose meter verification waits for `gate` before it starts. */
async function setUp(t: Test): Promise<{ node: TestNode; release: () => void }> {
  const node = await startTestNode(t, {
    genesis: buildGenesis(genesisJson([1])),
    hub: new MemoryHub(),
    id: "v0",
    clock: testClock(),
    validator: validatorOf(0, 0),
    targetBlockTimeMs: TARGET_MS,
  });
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const preverify = node.chain.preverifyMeterSignatures.bind(node.chain);
  node.chain.preverifyMeterSignatures = (tx) =>
    tx.type === "submitReadings" ? gate.then(() => preverify(tx)) : undefined;

  for (const bytes of [
    signedTx(op, 0n, "registerHousehold", {
      household: actor(51).address,
      meterIdHash: hash32(51),
      meterKey: { type: "secp256k1", publicKey: meterPublicKeyOf("secp256k1", meterKey) },
      registers: 1,
      baselines: Array.from({ length: 12 }, () => 1000n),
    }),
    signedTx(op, 1n, "registerOracle", { oracle: oracle.address }),
  ]) {
    t.ok((await node.mempool.add(bytes)).ok, "setup admitted");
  }
  node.driver.start();
  await waitFor("the setup in a block", () => node.mempool.size === 0);
  return { node, release };
}

function batch(): Uint8Array {
  const reading = {
    meterIdHash: hash32(51),
    time: T0 + 1500n,
    registers: [500n],
    signature: undefined,
  };
  const signature = signMeter("secp256k1", meterKey, readingSignBytes(CHAIN_ID, reading));
  return signedTx(oracle, 0n, "submitReadings", { readings: [{ ...reading, signature }] });
}

/** Admits the batch right after a commit; resolves with the height then being decided. */
async function admitAfterCommit(t: Test, node: TestNode): Promise<bigint> {
  const head = node.chain.head().height;
  await waitFor("a commit", () => node.chain.head().height > head);
  t.ok((await node.mempool.add(batch())).ok, "the batch is admitted");
  t.equal(node.mempool.verifying, 1, "and is verifying");
  return node.chain.head().height + 1n;
}

const txsAt = (node: TestNode, height: bigint) =>
  decodeBlock(node.store.getBlock(height)!).txs.length;

t.test("a batch verified while the proposer waits goes in its block", async (t) => {
  const { node, release } = await setUp(t);
  const next = await admitAfterCommit(t, node);
  // The height starts TARGET_MS after the commit; the proposer then waits (up to 750 ms, half
  // the propose timeout) for the batch.
  await waitFor("the next height", () => node.driver.height === next);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(node.chain.head().height, next - 1n, "nothing proposed yet: the proposer is waiting");
  release();
  await waitFor("the next block", () => node.chain.head().height >= next);
  t.equal(txsAt(node, next), 1, "the block of that height carries the batch");
  t.equal(node.mempool.size, 0);
});

t.test("a batch that outlasts the wait is left for a later block", async (t) => {
  const { node, release } = await setUp(t);
  const next = await admitAfterCommit(t, node);
  await waitFor("two more blocks", () => node.chain.head().height >= next + 1n);
  t.equal(txsAt(node, next), 0, "the chain went on without it");
  t.equal(node.mempool.verifying, 1, "still verifying");
  release();
  await waitFor("the batch in a block", () => node.mempool.size === 0);
  t.equal(txsAt(node, node.chain.head().height), 1, "then it is proposed");
});
