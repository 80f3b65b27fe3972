import fc from "fast-check";
import t from "tap";
import { compareBytes } from "../../lib/bytes.js";
import { generateMeterSecretKey, verifyMeter } from "../../lib/meter-key.js";
import { checkTxStateless, decodeTx, MAX_TX_BYTES } from "../../lib/tx.js";
import {
  buildSubmitReadings,
  ENVELOPE_BYTES,
  packBatch,
} from "../../meter-oracle/service/batcher.js";
import { meterSigner, ORACLE_ONLY } from "../../meter-oracle/service/meter-sign.js";
import type { OutboxReading } from "../../meter-oracle/service/outbox.js";
import { readingSignBytes } from "../../vm/model/reading.js";
import { decodePayload } from "../../vm/tx/types.js";

const ORACLE_KEY = new Uint8Array(32).fill(7);
const CHAIN = "wattcap-test";

function meter(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

function signedReading(m: number, time: bigint): OutboxReading {
  const unsigned = { meterIdHash: meter(m), time, registers: [time * 3n, time] };
  return { ...unsigned, signature: new Uint8Array(64).fill(m) };
}

t.test("a batch is (meter, time) ordered and within both limits", async (t) => {
  const arb = fc.array(
    fc.record({ m: fc.integer({ min: 1, max: 5 }), time: fc.bigInt({ min: 1n, max: 1n << 40n }) }),
    { minLength: 0, maxLength: 60 },
  );
  fc.assert(
    fc.property(
      arb,
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 0, max: 4000 }),
      (rs, max, room) => {
        const readings = rs.map(({ m, time }) => signedReading(m, time));
        const maxTxBytes = ENVELOPE_BYTES + room;
        const batch = packBatch(readings, { maxReadings: max, maxTxBytes });
        if (readings.length > 0 && batch.length === 0) return false;
        if (batch.length > max) return false;
        for (let i = 1; i < batch.length; i++) {
          const a = batch[i - 1] as OutboxReading;
          const b = batch[i] as OutboxReading;
          const c = compareBytes(a.meterIdHash, b.meterIdHash);
          if (c > 0 || (c === 0 && a.time > b.time)) return false;
        }
        if (batch.length <= 1) return true;
        const built = buildSubmitReadings(CHAIN, 0n, ORACLE_KEY, batch);
        return built.bytes.length <= maxTxBytes;
      },
    ),
  );
  t.pass("property held");
});

t.test("a full batch of signed readings fits the chain's transaction limit", async (t) => {
  const readings = Array.from({ length: 1500 }, (_, i) => signedReading(1 + (i % 3), BigInt(i)));
  const batch = packBatch(readings, { maxReadings: 1000 });
  t.equal(batch.length, 1000, "the reading limit binds first");
  const built = buildSubmitReadings(CHAIN, 5n, ORACLE_KEY, batch);
  t.ok(built.bytes.length <= MAX_TX_BYTES);
  const check = checkTxStateless(built.bytes, CHAIN);
  t.ok(check.ok, "a valid signed transaction");
  const tx = decodeTx(built.bytes);
  t.equal(tx.body.nonce, 5n);
  const payload = decodePayload(tx.body.type, tx.body.payload);
  t.ok(payload.ok);
  const readingsOut =
    payload.ok && payload.payload.type === "submitReadings" ? payload.payload.value.readings : [];
  t.equal(readingsOut.length, 1000);
  t.same(readingsOut[0]?.meterIdHash, meter(1));
  const small = packBatch(readings, { maxReadings: 10_000, maxTxBytes: 20_000 });
  t.ok(small.length > 1 && small.length < 1500, "the byte limit binds when it is lower");
  t.ok(buildSubmitReadings(CHAIN, 0n, ORACLE_KEY, small).bytes.length <= 20_000);
});

t.test("meters sign what the chain checks; oracle-only leaves readings unsigned", async (t) => {
  for (const keyType of ["secp256k1", "p256"] as const) {
    const secretKey = generateMeterSecretKey(keyType);
    const signer = meterSigner({ keyType, secretKey });
    const unsigned = { meterIdHash: meter(9), time: 1_700_000_000_000n, registers: [12_345n] };
    const signature = signer.sign(CHAIN, unsigned);
    const message = readingSignBytes(CHAIN, { ...unsigned, signature: undefined });
    t.ok(
      signature && signer.publicKey && verifyMeter(keyType, signer.publicKey, message, signature),
      `${keyType} verifies`,
    );
    const other = readingSignBytes("another-chain", { ...unsigned, signature: undefined });
    t.notOk(
      signature && signer.publicKey && verifyMeter(keyType, signer.publicKey, other, signature),
      `${keyType} is bound to the chain id`,
    );
  }
  t.equal(ORACLE_ONLY.sign(CHAIN, { meterIdHash: meter(1), time: 1n, registers: [1n] }), undefined);
});
