// Transaction batches on gossip (node/tx-gossip.ts): the wire format and its limits, packing into
// batches, and the verdict a batch earns from what the mempool made of its transactions.
import fc from "fast-check";
import t from "tap";
import { bytes as bytesSchema, CodecError, encode, list } from "../../lib/codec.js";
import { MAX_TX_BYTES } from "../../lib/tx.js";
import { buildGenesis } from "../../node/genesis.js";
import { Mempool } from "../../node/mempool.js";
import { MAX_TX_BATCH_BYTES, MAX_TXS_PER_BATCH } from "../../node/p2p/index.js";
import {
  admitTxBatch,
  decodeTxBatch,
  encodeTxBatch,
  packTxBatches,
  TxBatchError,
} from "../../node/tx-gossip.js";
import { actor, genesisJson, operatorOf } from "../vm/helpers.js";
import { openChain, registration, signedTx } from "./chain-fixtures.js";

const genesis = buildGenesis(genesisJson([1, 1, 1]));
const op = operatorOf(0);
const register = (nonce: bigint, chainId?: string) =>
  signedTx(
    op,
    nonce,
    "registerHousehold",
    registration(actor(2000 + Number(nonce)), Number(nonce) + 50, 1000n),
    chainId,
  );

t.test("a batch round-trips, in order", async (t) => {
  const txs = [register(0n), register(1n), register(2n)];
  t.same(decodeTxBatch(encodeTxBatch(txs)), txs);
});

t.test("bytes that are no batch within the limits do not decode", async (t) => {
  t.throws(() => encodeTxBatch([]), TxBatchError, "an empty batch is never sent");
  t.throws(() => decodeTxBatch(encode(list(bytesSchema(), 1), [])), TxBatchError, "nor read");
  const tooMany = Array.from({ length: MAX_TXS_PER_BATCH + 1 }, () => Uint8Array.of(1));
  t.throws(() => encodeTxBatch(tooMany), CodecError);
  t.throws(() => decodeTxBatch(encode(list(bytesSchema(), 1000), tooMany)), CodecError);
  const big = new Uint8Array(MAX_TX_BYTES);
  t.throws(() => encodeTxBatch([big, big, big]), TxBatchError, "over the byte limit");
  t.throws(() => decodeTxBatch(new Uint8Array(MAX_TX_BATCH_BYTES + 1)), CodecError);
  t.throws(() => decodeTxBatch(Uint8Array.of(0xc1)), CodecError, "not msgpack");
  t.throws(() => decodeTxBatch(encode(bytesSchema(), Uint8Array.of(1))), CodecError, "not a list");
  // A one-item list written with a 16-bit length header: valid msgpack, not canonical.
  t.throws(() => decodeTxBatch(Uint8Array.of(0xdc, 0, 1, 0xc4, 1, 7)), CodecError);
});

t.test("packing keeps order and every batch within both limits", async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.integer({ min: 1, max: 70_000 }), fc.constant(MAX_TX_BYTES)), {
        maxLength: 400,
      }),
      (sizes) => {
        const txs = sizes.map((size, i) => ({ i, bytes: new Uint8Array(size) }));
        const batches = packTxBatches(txs);
        t.same(
          batches.flat().map((x) => x.i),
          txs.map((x) => x.i),
        );
        for (const batch of batches) {
          t.ok(batch.length >= 1 && batch.length <= MAX_TXS_PER_BATCH);
          t.ok(encodeTxBatch(batch.map((x) => x.bytes)).length <= MAX_TX_BATCH_BYTES);
        }
        // Fewest batches: no batch could have taken the next batch's first transaction.
        for (let b = 0; b + 1 < batches.length; b++) {
          const grown = [...batches[b]!, batches[b + 1]![0]!].map((x) => x.bytes);
          t.ok(
            grown.length > MAX_TXS_PER_BATCH ||
              encode(list(bytesSchema(), 1000), grown).length > MAX_TX_BATCH_BYTES,
          );
        }
      },
    ),
    { numRuns: 50 },
  );
});

t.test("a batch's verdict follows what the mempool made of it", async (t) => {
  const { chain } = await openChain(t, genesis);
  const mempool = new Mempool(chain);
  const admit = (tx: Uint8Array) => mempool.add(tx);
  const [a, b] = [register(0n), register(1n)];
  t.equal(await admitTxBatch(encodeTxBatch([a, b]), admit), "accept", "both new");
  t.equal(mempool.size, 2);
  t.equal(
    await admitTxBatch(encodeTxBatch([a, b]), admit),
    "ignore",
    "already known: not forwarded, not blamed",
  );
  const c = register(2n);
  t.equal(await admitTxBatch(encodeTxBatch([a, c]), admit), "accept", "one new is enough");

  const forged = register(3n);
  forged[forged.length - 1]! ^= 1; // the signature's last byte
  t.equal(
    await admitTxBatch(encodeTxBatch([register(3n), forged]), admit),
    "reject",
    "a forged transaction condemns its batch",
  );
  t.equal(
    await admitTxBatch(encodeTxBatch([register(4n, "another-chain")]), admit),
    "reject",
    "so does one of another chain",
  );
  await t.rejects(admitTxBatch(Uint8Array.of(1, 2, 3), admit), CodecError, "no batch at all");
});
