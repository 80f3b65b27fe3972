import t from "tap";
import { toHex } from "../../lib/bytes.js";
import { encode, list, u64 } from "../../lib/codec.js";
import {
  generateMeterSecretKey,
  meterPublicKeyOf,
  signMeter,
  verifyMeter,
} from "../../lib/meter-key.js";
import { decodeEvent, encodeEvent } from "../../vm/event.js";
import { parsePolicyJson } from "../../vm/genesis.js";
import { readingSignBytes } from "../../vm/model/reading.js";
import { decodeReceipt, encodeReceipt, OK, type Receipt, rejected } from "../../vm/receipt.js";
import {
  decodePayload,
  encodePayload,
  type PayloadOf,
  TX_TYPE_NAMES,
  type TxTypeName,
  txTypeName,
  txTypeNumber,
} from "../../vm/tx/types.js";
import { hash32, policyJson, validatorOf } from "./helpers.js";

const a = new Uint8Array(20).fill(7);
const baselines = Array.from({ length: 12 }, (_, i) => BigInt(100_000 + i));
const reading = { meterIdHash: hash32(1), time: 5n, registers: [1n, 2n], signature: undefined };
const policy = parsePolicyJson(policyJson());

const samples: { [N in TxTypeName]: PayloadOf<N> } = {
  proposeGovernance: {
    action: { kind: "removeValidator", value: { address: validatorOf(0, 0).address } },
  },
  approveGovernance: { proposalId: hash32(9) },
  registerHousehold: {
    household: a,
    meterIdHash: hash32(1),
    meterKey: { type: "p256", publicKey: new Uint8Array(33).fill(2) },
    registers: 2,
    baselines,
  },
  updateBaselines: { household: a, fromPeriod: 3n, baselines },
  replaceMeter: {
    household: a,
    meterIdHash: hash32(2),
    meterKey: undefined,
    oldFinal: reading,
    newFirst: { ...reading, meterIdHash: hash32(2), registers: [0n, 0n] },
  },
  requestKeyRotation: { household: a, newKey: new Uint8Array(20).fill(8) },
  completeKeyRotation: { household: a },
  cancelKeyRotation: { household: a },
  closeHousehold: { household: a, reference: "move-out-1" },
  setExplicitCap: { household: a, period: 4n, cap: 90_000n },
  registerOracle: { oracle: a },
  revokeOracle: { oracle: a },
  setPolicy: { fromPeriod: 7n, policy },
  recordPayment: { household: a, amount: 5_000_000n, reference: "inv-1" },
  recordCharge: { household: a, amount: 4_000_000n, reference: "bill-1" },
  reverseBillRecord: { reference: "inv-1" },
  postCorrection: {
    household: a,
    period: 2n,
    reason: "misread",
    consumptionDelta: -1200n,
    reference: "c-1",
  },
  submitReadings: { readings: [reading, { ...reading, signature: new Uint8Array(64).fill(1) }] },
  placeOrder: { side: "sell", qty: 1000n, price: 150n, expiry: 99n },
  cancelOrder: { orderId: hash32(3) },
  replaceOrder: { orderId: hash32(3), qty: 500n, price: 160n, expiry: 99n },
  setStandingOrder: { household: a, side: "buy", price: 200n },
  clearStandingOrder: { household: a, side: "buy" },
  transferCredits: { to: a, vintage: 2n, qty: 10n },
  delegateAppKey: { appKey: undefined },
};

t.test("type numbers are fixed and distinct", async (t) => {
  const numbers = TX_TYPE_NAMES.map(txTypeNumber);
  t.equal(new Set(numbers).size, numbers.length);
  t.equal(txTypeNumber("proposeGovernance"), 1);
  t.equal(txTypeNumber("registerHousehold"), 10);
  t.equal(txTypeNumber("recordPayment"), 21);
  t.equal(txTypeNumber("submitReadings"), 30);
  t.equal(txTypeNumber("placeOrder"), 40);
  t.equal(txTypeNumber("delegateAppKey"), 46);
  for (const name of TX_TYPE_NAMES) t.equal(txTypeName(txTypeNumber(name)), name);
  t.equal(txTypeName(3), undefined);
});

t.test("every payload round-trips through its canonical encoding", async (t) => {
  for (const name of TX_TYPE_NAMES) {
    const bytes = encodePayload(name, samples[name] as never);
    const decoded = decodePayload(txTypeNumber(name), bytes);
    t.ok(decoded.ok, name);
    if (decoded.ok) {
      t.equal(decoded.payload.type, name);
      t.same(decoded.payload.value, samples[name], name);
    }
  }
});

t.test("unknown types and malformed payloads are typed errors, never exceptions", async (t) => {
  const unknown = decodePayload(999, new Uint8Array([0x90]));
  t.same(unknown.ok ? "ok" : unknown.code, "UNKNOWN_TX_TYPE");
  const cases: Array<[TxTypeName, Uint8Array]> = [
    ["approveGovernance", new Uint8Array([0xc1])], // not msgpack
    ["approveGovernance", new Uint8Array([])],
    ["approveGovernance", encode(list(u64, 2), [1n])], // wrong shape
    ["registerHousehold", encodePayload("updateBaselines", samples.updateBaselines)],
  ];
  for (const [name, bytes] of cases) {
    const r = decodePayload(txTypeNumber(name), bytes);
    t.equal(r.ok ? "ok" : r.code, "PAYLOAD_MALFORMED", `${name} ${toHex(bytes)}`);
  }
});

t.test("payload shapes: 12 baselines, 1 or 2 registers", async (t) => {
  const eleven = { ...samples.updateBaselines, baselines: baselines.slice(0, 11) };
  t.throws(() => encodePayload("updateBaselines", eleven));
  const three = { ...samples.registerHousehold, registers: 3 };
  t.throws(() => encodePayload("registerHousehold", three));
  const noRegisters = { readings: [{ ...reading, registers: [] }] };
  t.throws(() => encodePayload("submitReadings", noRegisters));
});

t.test("a payload with bytes after its value is refused", async (t) => {
  const good = encodePayload("approveGovernance", samples.approveGovernance);
  const padded = new Uint8Array([...good, 0x00]);
  const r = decodePayload(txTypeNumber("approveGovernance"), padded);
  t.equal(r.ok ? "ok" : r.code, "PAYLOAD_MALFORMED");
});

t.test("receipts and events round-trip; unknown reject codes are refused", async (t) => {
  const receipt: Receipt = {
    txId: hash32(1),
    outcome: OK,
    events: [
      { kind: "householdRegistered", value: { household: a, utility: "u0", index: 3 } },
      { kind: "explicitCapSet", value: { household: a, period: 3n, cap: undefined } },
    ],
    readingResults: [
      { kind: "accepted", value: {} },
      { kind: "rejected", value: "READING_NOT_MONOTONIC" },
    ],
  };
  t.same(decodeReceipt(encodeReceipt(receipt)), receipt);
  const refused: Receipt = {
    txId: hash32(2),
    outcome: rejected("NOT_AUTHORISED"),
    events: [],
    readingResults: undefined,
  };
  t.same(decodeReceipt(encodeReceipt(refused)), refused);
  t.throws(() =>
    encodeReceipt({ ...refused, outcome: { kind: "rejected", value: "NOPE" as never } }),
  );
  const event = receipt.events[0]!;
  t.same(decodeEvent(encodeEvent(event)), event);
});

t.test("what a meter signs binds the chain id and every field of the reading", async (t) => {
  const secretKey = generateMeterSecretKey("p256");
  const publicKey = meterPublicKeyOf("p256", secretKey);
  const message = readingSignBytes("wattcap-test", reading);
  const signature = signMeter("p256", secretKey, message);
  t.ok(verifyMeter("p256", publicKey, message, signature));
  const variants = [
    readingSignBytes("wattcap-other", reading),
    readingSignBytes("wattcap-test", { ...reading, time: 6n }),
    readingSignBytes("wattcap-test", { ...reading, registers: [1n, 3n] }),
    readingSignBytes("wattcap-test", { ...reading, meterIdHash: hash32(2) }),
  ];
  for (const other of variants) t.notOk(verifyMeter("p256", publicKey, other, signature));
  // The signature itself is not part of what is signed.
  t.same(readingSignBytes("wattcap-test", { ...reading, signature }), message);
});
