import t from "tap";
import { concatBytes, toHex } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import { meterPublicKeyOf, signMeter } from "../../lib/meter-key.js";
import { applyBlock, type BlockTx } from "../../vm/apply.js";
import { type Reading, readingSignBytes } from "../../vm/model/reading.js";
import { meterSignatureKey } from "../../vm/readings/signature.js";
import { at, Harness } from "./fixtures/settlement/harness.js";

const secret = new Uint8Array(32).fill(3);
const meterKey = { type: "p256" as const, publicKey: meterPublicKeyOf("p256", secret) };

function sign(h: Harness, reading: Reading): Reading {
  const message = readingSignBytes(h.chain.chainId, reading);
  return { ...reading, signature: signMeter("p256", secret, message) };
}

/** The host's key for a signed reading's signature. */
function keyOf(h: Harness, reading: Reading): string {
  const message = readingSignBytes(h.chain.chainId, reading);
  return meterSignatureKey("p256", meterKey.publicKey, message, reading.signature!);
}

t.test("meterSignatureKey is hex(sha256(scheme ‖ publicKey ‖ message ‖ signature))", async (t) => {
  const message = Uint8Array.of(1, 2, 3);
  const signature = new Uint8Array(64).fill(5);
  const expected = (scheme: number) =>
    toHex(sha256(concatBytes(Uint8Array.of(scheme), meterKey.publicKey, message, signature)));
  t.equal(meterSignatureKey("secp256k1", meterKey.publicKey, message, signature), expected(0));
  t.equal(meterSignatureKey("p256", meterKey.publicKey, message, signature), expected(1));
});

/** Applies one block on `h` with the host's set of verified signatures, and commits it. */
async function applyWith(h: Harness, seconds: number, txs: BlockTx[], verified: Set<string>) {
  const block = h.chain.blockContext(at(seconds));
  const lookups: string[] = [];
  const result = await applyBlock({
    state: h.chain.state,
    block,
    txs,
    evidence: [],
    verifiedSignatures: {
      has: (key) => {
        lookups.push(key);
        return verified.has(key);
      },
      add: (key) => verified.add(key),
    },
  });
  if (!result.ok) throw new Error(result.code);
  h.chain.state.commit(result.changes);
  h.chain.height = block.height;
  h.chain.time = block.time;
  return { result, lookups };
}

t.test("pre-verified and inline-verified signatures give the same block", async (t) => {
  const make = () => Harness.create({ households: { M: { baselines: 1000n, meterKey } } });
  const [inline, pooled] = [await make(), await make()];
  const good = sign(inline, inline.reading("M", 2, [10n]));
  const bad = { ...sign(inline, inline.reading("M", 3, [11n])), registers: [12n] };
  const key = (r: Reading) => keyOf(inline, r);

  const plain = await inline.batch(4, [good, bad]);
  const { result, lookups } = await applyWith(
    pooled,
    4,
    [pooled.readingsTx([good, bad])],
    new Set([key(good)]),
  );
  t.same(lookups, [key(good), key(bad)], "the vm asked the host's set for each signature");
  t.same(result.receipts, plain.block.receipts);
  t.same(result.receipts[0]!.readingResults, [
    { kind: "accepted", value: {} },
    { kind: "rejected", value: "READING_BAD_SIGNATURE" },
  ]);
  t.same(
    result.changes.map(([k, v]) => [toHex(k), v && toHex(v)]),
    plain.block.changes.map(([k, v]) => [toHex(k), v && toHex(v)]),
  );
});

t.test(
  "a signature the vm verified itself is reported to the host's set; a bad one is not",
  async (t) => {
    const h = await Harness.create({ households: { M: { baselines: 1000n, meterKey } } });
    const good = sign(h, h.reading("M", 2, [10n]));
    const bad = { ...sign(h, h.reading("M", 3, [11n])), registers: [12n] };
    const verified = new Set<string>();
    const { result } = await applyWith(h, 4, [h.readingsTx([good, bad])], verified);
    t.same(result.receipts[0]!.readingResults, [
      { kind: "accepted", value: {} },
      { kind: "rejected", value: "READING_BAD_SIGNATURE" },
    ]);
    t.same([...verified], [keyOf(h, good)], "only the valid signature joined the set");
  },
);
