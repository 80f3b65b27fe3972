import t, { type Test } from "tap";
import { type MeterKeyType, meterPublicKeyOf, signMeter } from "../../lib/meter-key.js";
import type { RejectCode } from "../../vm/codes.js";
import { type Reading, readingSignBytes } from "../../vm/model/reading.js";
import { boundaryTable } from "../../vm/readings/boundary.js";
import { meterStateTable } from "../../vm/readings/meter-state.js";
import { periodTable } from "../../vm/settlement/snapshot.js";
import { tables } from "../../vm/tables.js";
import { Harness, op0, oracle0, oracle1 } from "./fixtures/settlement/harness.js";
import { actor, changesBesidesNonce, codeOf } from "./helpers.js";

const secretKey = (n: number) => {
  const key = new Uint8Array(32);
  key[31] = n;
  return key;
};

function meterKeyOf(type: MeterKeyType, n: number) {
  return { type, publicKey: meterPublicKeyOf(type, secretKey(n)) };
}

function signed(h: Harness, type: MeterKeyType, n: number, reading: Reading): Reading {
  const message = readingSignBytes(h.chain.chainId, reading);
  return { ...reading, signature: signMeter(type, secretKey(n), message) };
}

/** A batch of one reading that must be refused with `code`, changing nothing but the nonce. */
async function expectRefused(
  t: Test,
  h: Harness,
  seconds: number,
  reading: Reading,
  code: RejectCode,
  signer = oracle0,
) {
  const { receipt, block } = await h.batch(seconds, [reading], signer);
  t.equal(codeOf(receipt), "ok", `${code}: the batch itself is fine`);
  t.same(receipt.readingResults, [{ kind: "rejected", value: code }], code);
  t.same(changesBesidesNonce(block, signer), [], `${code}: nothing else changed`);
}

async function twoMeters() {
  const h = await Harness.create({
    households: {
      A: { baselines: 1000n },
      B: { baselines: 1000n, registers: 2 },
      K: { baselines: 1000n, meterKey: meterKeyOf("secp256k1", 7) },
      P: { baselines: 1000n, meterKey: meterKeyOf("p256", 9) },
    },
    secondUtility: true,
  });
  // Settles the period-0 snapshot, so later blocks of period 0 have no end-of-block writes.
  await h.read(2, [
    ["A", 1, [100n]],
    ["B", 1, [10n, 20n]],
  ]);
  return h;
}

t.test("every reading rule refuses with its code and changes nothing", async (t) => {
  const h = await twoMeters();
  const unknown = { ...h.reading("A", 3, [150n]), meterIdHash: new Uint8Array(32).fill(9) };
  await expectRefused(t, h, 4, unknown, "READING_UNKNOWN_METER");
  await expectRefused(t, h, 5, h.reading("A", 3, [150n]), "READING_ORACLE_NOT_AUTHORISED", oracle1);
  await expectRefused(t, h, 6, h.reading("A", 3, [150n, 1n]), "READING_REGISTER_COUNT");
  await expectRefused(t, h, 7, h.reading("B", 3, [150n]), "READING_REGISTER_COUNT");
  await expectRefused(t, h, 8, h.reading("A", 0.5, [150n]), "READING_NOT_AFTER_LAST");
  await expectRefused(t, h, 9, h.reading("A", 1, [150n]), "READING_NOT_AFTER_LAST");
  // Drift 5 s: 14.501 s is beyond a block at 9.5 s + 5 s.
  await expectRefused(t, h, 9.5, h.reading("A", 14.501, [150n]), "READING_BEYOND_DRIFT");
  await expectRefused(t, h, 10, h.reading("A", 3, [99n]), "READING_NOT_MONOTONIC");
  await expectRefused(t, h, 11, h.reading("B", 3, [10n, 19n]), "READING_NOT_MONOTONIC");
  await expectRefused(t, h, 12, h.reading("A", 3, [1n << 48n]), "READING_OUT_OF_RANGE");
  // Interval 1 s: 1.5 s is in the same slot as the reading at 1 s.
  await expectRefused(t, h, 13, h.reading("A", 1.5, [150n]), "READING_TOO_FREQUENT");
  await expectRefused(t, h, 14, h.reading("K", 3, [1n]), "READING_BAD_SIGNATURE");
  await expectRefused(
    t,
    h,
    15,
    signed(h, "secp256k1", 8, h.reading("K", 3, [1n])),
    "READING_BAD_SIGNATURE",
  );
  await expectRefused(
    t,
    h,
    16,
    signed(h, "p256", 7, h.reading("P", 3, [1n])),
    "READING_BAD_SIGNATURE",
  );
  // A signature over other registers does not carry over.
  const forged = { ...signed(h, "p256", 9, h.reading("P", 3, [1n])), registers: [2n] };
  await expectRefused(t, h, 17, forged, "READING_BAD_SIGNATURE");
  // Period 0's readings close at 110 s.
  await h.tick(111);
  await expectRefused(t, h, 112, h.reading("A", 99, [150n]), "READING_PERIOD_FINALISED");
});

t.test("meter signatures of both curves are accepted", async (t) => {
  const h = await twoMeters();
  const { receipt } = await h.batch(21, [
    signed(h, "secp256k1", 7, h.reading("K", 20, [5n])),
    signed(h, "p256", 9, h.reading("P", 20, [6n])),
  ]);
  t.same(receipt.readingResults, [
    { kind: "accepted", value: {} },
    { kind: "accepted", value: {} },
  ]);
  t.same(h.chain.get(meterStateTable, h.member("P").meterIdHash)?.registers, [6n]);
});

t.test("an exact duplicate of the last reading is an idempotent no-op", async (t) => {
  const h = await twoMeters();
  const { receipt, block } = await h.batch(3, [h.reading("A", 1, [100n])]);
  t.same(receipt.readingResults, [{ kind: "duplicate", value: {} }]);
  t.same(changesBesidesNonce(block, oracle0), [], "nothing changed");
  // Same time, other registers: not a duplicate, and not after the last reading.
  const other = await h.batch(4, [h.reading("A", 1, [101n])]);
  t.same(other.receipt.readingResults, [{ kind: "rejected", value: "READING_NOT_AFTER_LAST" }]);
});

t.test("good readings of a batch apply when others are refused", async (t) => {
  const h = await twoMeters();
  const { receipt } = await h.batch(10, [
    h.reading("A", 5, [200n]),
    h.reading("B", 5, [5n, 5n]),
    h.reading("B", 6, [11n, 21n]),
    h.reading("A", 5, [200n]),
    h.reading("A", 7, [250n]),
  ]);
  t.equal(codeOf(receipt), "ok");
  t.same(receipt.readingResults, [
    { kind: "accepted", value: {} },
    { kind: "rejected", value: "READING_NOT_MONOTONIC" },
    { kind: "accepted", value: {} },
    { kind: "duplicate", value: {} },
    { kind: "accepted", value: {} },
  ]);
  const a = h.chain.get(meterStateTable, h.member("A").meterIdHash)!;
  t.equal(a.time, h.reading("A", 7, []).time);
  t.same(a.registers, [250n]);
  t.same(a.previous?.values, [200n], "the reading before the last is kept for estimates");
  t.same(h.chain.get(meterStateTable, h.member("B").meterIdHash)!.registers, [11n, 21n]);
});

t.test("batch-level faults refuse the whole batch", async (t) => {
  const h = await twoMeters();
  const many = Array.from({ length: 101 }, (_, i) => h.reading("A", 2 + i, [100n + BigInt(i)]));
  const { receipt } = await h.batch(3, many);
  t.equal(codeOf(receipt), "BATCH_TOO_LARGE");
  t.equal(receipt.readingResults, undefined);
  const stranger = await h.chain.valid([h.readingsTx([h.reading("A", 3, [150n])], actor(77))], {
    time: h.chain.time + 1000n,
  });
  t.equal(codeOf(stranger.receipts[0]!), "NOT_AUTHORISED");
  t.same(h.chain.get(meterStateTable, h.member("A").meterIdHash)!.registers, [100n]);
});

t.test(
  "the privacy rule: one reading per interval, plus one exactly at each boundary",
  async (t) => {
    const h = await Harness.create({
      households: { A: { baselines: 1000n } },
      policy: { readingInterval: 10_000 },
    });
    const results = await h.read(106, [
      ["A", 92, [10n]],
      ["A", 95, [11n]],
      ["A", 100, [12n]],
      ["A", 100.5, [13n]],
      ["A", 103, [14n]],
      ["A", 109.999, [15n]],
      ["A", 110, [16n]],
    ]);
    t.same(
      results.map((r) => (r.kind === "rejected" ? r.value : r.kind)),
      [
        "accepted",
        "READING_TOO_FREQUENT",
        "accepted", // exactly at start_1
        "accepted", // slot 10: the boundary reading did not use it
        "READING_TOO_FREQUENT",
        "READING_TOO_FREQUENT",
        "accepted", // slot 11
      ],
    );
  },
);

t.test("boundaries: a reading at a boundary is used as is; a gap is interpolated", async (t) => {
  const h = await Harness.create({
    households: { A: { baselines: 1000n }, B: { baselines: 1000n, registers: 2 } },
  });
  await h.read(2, [["A", 0, [0n]]]);
  t.same(await h.read(51, [["B", 50, [1000n, 0n]]]), [{ kind: "accepted", value: {} }]);
  const boundary = (name: string, k: bigint) => h.chain.get(boundaryTable, [h.address(name), k]);
  t.same(boundary("A", 0n), { values: [0n], estimated: false, actual: undefined });
  t.equal(boundary("B", 0n), undefined, "no boundary before the first reading");
  // B: 50 s → 250 s, 2000 and 3 Wh more: every boundary in the gap is interpolated.
  t.same(await h.read(250, [["B", 250, [3000n, 3n]]]), [{ kind: "accepted", value: {} }]);
  // 1000 + ⌊2000 × 50/200⌋ = 1500, 0 + ⌊3 × 50/200⌋ = 0; 1000 + ⌊2000 × 150/200⌋ = 2500,
  // ⌊3 × 150/200⌋ = 2.
  t.same(boundary("B", 1n)?.values, [1500n, 0n]);
  t.same(boundary("B", 2n)?.values, [2500n, 2n]);
  t.equal(boundary("B", 3n), undefined);
  // Period 1 (finalised in that block's end-of-block work) used them: 1000 and 2 Wh.
  const s = h.statement("B", 1n)!;
  t.equal(s.consumption, 1002n);
  t.equal(s.peak, 2n);
  t.equal(h.household("B")?.firstReadingTime, h.reading("B", 50, []).time);
});

t.test("replaceMeter keeps consumption continuous", async (t) => {
  const h = await Harness.create({ households: { A: { baselines: 1000n } } });
  await h.read(2, [["A", 0, [0n]]]);
  await h.read(51, [["A", 50, [500n]]]);
  const old = h.member("A").meterIdHash;
  const fresh = h.newMeterId();
  const payload = {
    household: h.address("A"),
    meterIdHash: fresh,
    meterKey: undefined,
    oldFinal: h.reading("A", 60, [600n]),
    newFirst: { ...h.reading("A", 60, [7n]), meterIdHash: fresh },
  };
  const refusals: Array<[typeof payload, RejectCode]> = [
    [{ ...payload, meterIdHash: old }, "METER_EXISTS"],
    [
      { ...payload, newFirst: { ...payload.newFirst, time: payload.newFirst.time + 1n } },
      "METER_REPLACEMENT_MISMATCH",
    ],
    [
      { ...payload, oldFinal: { ...payload.oldFinal, meterIdHash: fresh } },
      "READING_UNKNOWN_METER",
    ],
    [{ ...payload, oldFinal: h.reading("A", 60, [400n]) }, "READING_NOT_MONOTONIC"],
    [
      { ...payload, newFirst: { ...payload.newFirst, registers: [7n, 1n] } },
      "READING_REGISTER_COUNT",
    ],
  ];
  let second = 61;
  for (const [bad, code] of refusals) {
    const block = await h.chain.valid([h.chain.tx(op0, "replaceMeter", bad)], {
      time: h.reading("A", second++, []).time,
    });
    t.equal(codeOf(block.receipts[0]!), code, code);
    t.same(changesBesidesNonce(block, op0), [], `${code}: nothing else changed`);
  }
  const block = await h.chain.valid([h.chain.tx(op0, "replaceMeter", payload)], {
    time: h.reading("A", 70, []).time,
  });
  t.equal(codeOf(block.receipts[0]!), "ok");
  h.member("A").meterIdHash = fresh;
  t.same(h.household("A")?.meterIdHash, fresh);
  t.same(h.chain.get(tables.meter, fresh), h.address("A"));
  t.equal(h.chain.get(tables.meter, old), undefined);
  t.equal(h.chain.get(meterStateTable, old), undefined);
  // The old meter is no longer read; the new one continues the household's series.
  const stale = await h.submit(75, [{ ...h.reading("A", 74, [700n]), meterIdHash: old }]);
  t.same(stale.readingResults, [{ kind: "rejected", value: "READING_UNKNOWN_METER" }]);
  await h.read(101, [["A", 100, [407n]]]);
  await h.tick(111);
  // 0 → 600 on the old meter, 7 → 407 on the new: 1000 Wh.
  t.equal(h.statement("A", 0n)?.consumption, 1000n);
  t.same(h.chain.get(boundaryTable, [h.address("A"), 1n])?.values, [1000n]);
});

t.test("postCorrection refusals", async (t) => {
  const h = await Harness.create({ households: { A: { baselines: 1000n } } });
  await h.read(2, [["A", 0, [0n]]]);
  const correction = {
    household: h.address("A"),
    period: 0n,
    reason: "meter-fault" as const,
    consumptionDelta: -50n,
    reference: "R-1",
  };
  t.equal(codeOf(await h.operator(3, "postCorrection", correction)), "PERIOD_NOT_SETTLED");
  await h.read(101, [["A", 100, [500n]]]);
  await h.tick(111);
  t.equal(
    codeOf(await h.operator(112, "postCorrection", { ...correction, consumptionDelta: 0n })),
    "BAD_AMOUNT",
  );
  t.equal(codeOf(await h.operator(113, "postCorrection", correction)), "ok");
  t.equal(codeOf(await h.operator(114, "postCorrection", correction)), "DUPLICATE_REFERENCE");
  const pending = h.statement("A", 1n)!;
  t.equal(pending.status, "open");
  t.same(pending.corrections, [
    { period: 0n, reason: "meter-fault", amount: -50n, reference: "R-1" },
  ]);
});

t.test("a closed household's meter is not read, and finalisation skips it", async (t) => {
  const h = await Harness.create({
    households: { A: { baselines: 1000n }, B: { baselines: 1000n } },
  });
  await h.read(2, [
    ["A", 0, [0n]],
    ["B", 0, [0n]],
  ]);
  const closed = await h.blockAt(50, [
    h.chain.tx(op0, "closeHousehold", { household: h.address("B"), reference: "move-out" }),
  ]);
  t.equal(codeOf(closed.receipts[0]!), "ok");
  const results = await h.read(101, [
    ["A", 100, [300n]],
    ["B", 100, [300n]],
  ]);
  t.same(results[1], { kind: "rejected", value: "READING_UNKNOWN_METER" });
  await h.tick(111);
  t.equal(h.statement("A", 0n)?.consumption, 300n);
  t.equal(h.statement("B", 0n), undefined);
  const totals = h.chain.get(periodTable, ["u0", 0n])!.totals;
  t.same([totals.settled, totals.skipped], [1, 1]);
});
