// Meter signatures are verified as an oracle batch enters the mempool, so executing its block
// (every validator's work on the consensus path) finds them done; a signature that failed, or
// was never seen, is verified inline as before, with the same result.
import t from "tap";
import { generateMeterSecretKey, meterPublicKeyOf, signMeter } from "../../lib/meter-key.js";
import { type Reading, readingSignBytes } from "../../vm/model/reading.js";
import { meterSignatureKey } from "../../vm/readings/signature.js";
import { startNode } from "../rpc/rpc-fixtures.js";
import { actor, hash32, operatorOf, T0 } from "../vm/helpers.js";
import { CHAIN_ID, signedTx } from "./chain-fixtures.js";

t.test("an oracle batch's meter signatures are verified on admission", async (t) => {
  const node = await startNode(t);
  const op0 = operatorOf(0);
  const oracle = actor(60);
  const meterKey = generateMeterSecretKey("secp256k1");
  const publicKey = meterPublicKeyOf("secp256k1", meterKey);
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
  await node.produce();

  const signed = (time: bigint, key: Uint8Array): Reading => {
    const reading = { meterIdHash: hash32(50), time, registers: [time - T0], signature: undefined };
    return {
      ...reading,
      signature: signMeter("secp256k1", key, readingSignBytes(CHAIN_ID, reading)),
    };
  };
  const good = signed(T0 + 1500n, meterKey);
  const forged = signed(T0 + 1600n, generateMeterSecretKey("secp256k1"));
  const cacheKey = (r: Reading) =>
    meterSignatureKey("secp256k1", publicKey, readingSignBytes(CHAIN_ID, r), r.signature!);
  t.notOk(node.chain.meterSignatures.has(cacheKey(good)), "nothing verified before");

  const added = await node.mempool.add(
    signedTx(oracle, 0n, "submitReadings", { readings: [good, forged] }),
  );
  t.ok(added.ok);
  t.ok(node.chain.meterSignatures.has(cacheKey(good)), "the good signature is remembered");
  t.notOk(node.chain.meterSignatures.has(cacheKey(forged)), "a bad one is not");

  const block = await node.produce();
  t.same(
    block.receipts[0]?.readingResults,
    [
      { kind: "accepted", value: {} },
      { kind: "rejected", value: "READING_BAD_SIGNATURE" },
    ],
    "the block's results are those of inline verification",
  );
});
