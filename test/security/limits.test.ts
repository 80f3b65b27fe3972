// The limits docs/security.md promises, at the vm level, where the existing vm tests do not
// already show them (the document links those): an operator cannot act on another utility's
// households; a household cannot act for another; a delegated app key can set and clear its
// household's standing orders and nothing else; a signed transaction replayed — later on the
// same chain, or on another chain — is refused. Each refusal has its specific reject code and
// changes nothing but the signer's nonce.
import t, { type Test } from "tap";
import { meterPublicKeyOf, signMeter } from "../../lib/meter-key.js";
import { checkTxStateful, checkTxStateless } from "../../vm/check.js";
import type { RejectCode } from "../../vm/codes.js";
import { type Reading, readingSignBytes } from "../../vm/model/reading.js";
import type { PayloadOf, TxTypeName } from "../../vm/tx/types.js";
import { registration } from "../node/chain-fixtures.js";
import {
  type Actor,
  actor,
  codeOf,
  expectRefused,
  genesisJson,
  hash32,
  operatorOf,
  T0,
  TestChain,
} from "../vm/helpers.js";

const op0 = operatorOf(0);
const op1 = operatorOf(1);
/** a and b are households of utility u0, c of u1. */
const [a, b, c] = [actor(31), actor(32), actor(33)];
const app = actor(90);
const MAX = (1n << 64n) - 1n;

async function setup(chainId = "wattcap-test"): Promise<TestChain> {
  const chain = new TestChain(genesisJson([1, 1], { chainId }));
  const block = await chain.valid([
    chain.tx(op0, "registerHousehold", registration(a, 1)),
    chain.tx(op0, "registerHousehold", registration(b, 2)),
    chain.tx(op1, "registerHousehold", registration(c, 3)),
    chain.tx(op0, "registerOracle", { oracle: actor(60).address }),
  ]);
  for (const r of block.receipts) if (codeOf(r) !== "ok") throw new Error(`setup: ${codeOf(r)}`);
  return chain;
}

/** A transaction type with a payload of that type. */
type Action = { [N in TxTypeName]: readonly [N, PayloadOf<N>] }[TxTypeName];

/** Runs each action as `signer`, expecting `code` and no change but the nonce. */
async function refuseAll(
  t: Test,
  chain: TestChain,
  signer: Actor,
  code: RejectCode,
  actions: readonly Action[],
): Promise<void> {
  for (const [type, payload] of actions) {
    await expectRefused(t, chain, signer, type, payload as PayloadOf<typeof type>, code);
  }
}

t.test("an operator cannot act on another utility's households", async (t) => {
  const chain = await setup();
  const reading = (time: bigint, meter: number) => ({
    meterIdHash: hash32(meter),
    time,
    registers: [0n],
    signature: undefined,
  });
  const household = a.address;
  await refuseAll(t, chain, op1, "NOT_AUTHORISED", [
    ["closeHousehold", { household, reference: "move-out" }],
    [
      "replaceMeter",
      {
        household,
        meterIdHash: hash32(9),
        meterKey: undefined,
        oldFinal: reading(T0 + 5000n, 1),
        newFirst: reading(T0 + 5000n, 9),
      },
    ],
    ["recordCharge", { household, amount: 100n, reference: "bill-1" }],
    [
      "postCorrection",
      { household, period: 0n, reason: "other", consumptionDelta: 5n, reference: "c" },
    ],
    ["completeKeyRotation", { household }],
  ]);
  // Bill references are each utility's own: u1 cannot reverse u0's payment.
  const paid = await chain.run(op0, "recordPayment", { household, amount: 100n, reference: "p" });
  t.equal(codeOf(paid.receipt), "ok", "the household's own utility may bill it");
  await refuseAll(t, chain, op1, "UNKNOWN_REFERENCE", [["reverseBillRecord", { reference: "p" }]]);
  // The control: its own utility may close it.
  const closed = await chain.run(op0, "closeHousehold", { household, reference: "m" });
  t.equal(codeOf(closed.receipt), "ok", "the household's own utility may close it");
});

t.test("a household cannot act for another household or take a utility's role", async (t) => {
  const chain = await setup();
  const reading = {
    meterIdHash: hash32(1),
    time: T0 + 1500n,
    registers: [0n],
    signature: undefined,
  };
  await refuseAll(t, chain, b, "NOT_AUTHORISED", [
    ["clearStandingOrder", { household: a.address, side: "sell" }],
  ]);
  await refuseAll(t, chain, c, "NOT_AUTHORISED", [
    ["setStandingOrder", { household: a.address, side: "buy", price: 100n }],
  ]);
  await refuseAll(t, chain, a, "NOT_AUTHORISED", [
    ["recordPayment", { household: a.address, amount: 1_000_000n, reference: "self" }],
    ["submitReadings", { readings: [reading] }],
    ["requestKeyRotation", { household: b.address, newKey: a.address }],
  ]);
});

t.test("a delegated app key sets standing orders and does nothing else", async (t) => {
  const chain = await setup();
  t.equal(codeOf((await chain.run(a, "delegateAppKey", { appKey: app.address })).receipt), "ok");
  const set = await chain.run(app, "setStandingOrder", {
    household: a.address,
    side: "sell",
    price: 100n,
  });
  t.equal(codeOf(set.receipt), "ok", "its household's standing order");
  await refuseAll(t, chain, app, "NOT_AUTHORISED", [
    ["placeOrder", { side: "sell", qty: 1n, price: 100n, expiry: MAX }],
    ["cancelOrder", { orderId: hash32(1) }],
    ["replaceOrder", { orderId: hash32(1), qty: 1n, price: 100n, expiry: MAX }],
    ["transferCredits", { to: b.address, vintage: 1n, qty: 1n }],
    ["delegateAppKey", { appKey: actor(91).address }],
    ["cancelKeyRotation", { household: a.address }],
    ["setStandingOrder", { household: b.address, side: "sell", price: 100n }],
  ]);
});

t.test("a signed transaction replayed later on the same chain is refused", async (t) => {
  const chain = await setup();
  const tx = chain.tx(op0, "recordPayment", { household: a.address, amount: 5n, reference: "r1" });
  const first = await chain.valid([tx]);
  t.equal(codeOf(first.receipts[0]!), "ok");

  // The mempool refuses the same bytes …
  const checked = checkTxStateless(tx.encoded, chain.chainId);
  t.ok(checked.ok, "still well-formed and signed");
  if (checked.ok) {
    const again = checkTxStateful(chain.state, checked.tx, chain.blockContext());
    t.same(again.ok ? "ok" : again.code, "NONCE_TOO_LOW", "the mempool refuses the replay");
  }
  // … and a block that carries them is invalid, so no validator can include them.
  const before = chain.state.dump();
  const replay = await chain.block([{ id: tx.id, body: tx.body }]);
  t.equal(replay.ok ? "ok" : replay.code, "NONCE_TOO_LOW");
  t.same(chain.state.dump(), before, "the replay changed nothing");
});

t.test("a signed transaction replayed on another chain is refused", async (t) => {
  const home = await setup();
  const other = await setup("wattcap-other");
  const tx = home.tx(op0, "recordPayment", { household: a.address, amount: 5n, reference: "r1" });
  t.equal(codeOf((await home.valid([tx])).receipts[0]!), "ok", "accepted where it was signed");

  // The same keys, households and nonces exist on the other chain: only the chain id differs.
  t.equal(other.nonceOf(op0.address), home.nonceOf(op0.address) - 1n, "the nonce would fit");
  const checked = checkTxStateless(tx.encoded, other.chainId);
  t.equal(checked.ok ? "ok" : checked.code, "WRONG_CHAIN_ID", "the mempool refuses it");
  const before = other.state.dump();
  const replay = await other.block([{ id: tx.id, body: tx.body }]);
  t.equal(replay.ok ? "ok" : replay.code, "WRONG_CHAIN_ID", "a block carrying it is invalid");
  t.same(other.state.dump(), before, "the replay changed nothing");
});

t.test("a meter reading signed for another chain does not verify here", async (t) => {
  const chain = await setup();
  const secret = new Uint8Array(32).fill(3);
  const meterKey = { type: "p256" as const, publicKey: meterPublicKeyOf("p256", secret) };
  const keyed = actor(34);
  const registered = await chain.run(op0, "registerHousehold", {
    ...registration(keyed, 4),
    meterKey,
  });
  t.equal(codeOf(registered.receipt), "ok");
  const reading = (seconds: bigint, chainId: string): Reading => {
    const r: Reading = {
      meterIdHash: hash32(4),
      time: T0 + seconds,
      registers: [7n],
      signature: undefined,
    };
    return { ...r, signature: signMeter("p256", secret, readingSignBytes(chainId, r)) };
  };
  const oracle = actor(60);
  const replayed = await chain.run(oracle, "submitReadings", {
    readings: [reading(3500n, "wattcap-other")],
  });
  t.same(replayed.receipt.readingResults, [{ kind: "rejected", value: "READING_BAD_SIGNATURE" }]);
  const own = await chain.run(oracle, "submitReadings", {
    readings: [reading(4500n, chain.chainId)],
  });
  t.same(own.receipt.readingResults, [{ kind: "accepted", value: {} }], "signed for this chain");
});
