// Inputs the fuzzers found that broke a promise, kept so the fix stays fixed.
import t from "tap";
import { encode } from "../../lib/codec.js";
import { encodeSignedVote } from "../../lib/vote.js";
import { decodeProposalEnvelope } from "../../node/consensus-driver.js";
import { NEW_ACCOUNT } from "../../vm/model/account.js";
import { tables } from "../../vm/tables.js";
import { brokenInvariants } from "../vm/fixtures/trading/invariants.js";
import { at, operatorOf } from "../vm/helpers.js";
import { gossipNode } from "./targets/gossip.js";
import { runBlocks } from "./targets/vm.js";
import { World } from "./targets/world.js";

const I64_MAX = (1n << 63n) - 1n;

// gossip, seed 1: node.ts creates the network (which may deliver gossip) before it starts the
// consensus driver. A proposal that arrived in that window reached proposerIndex with an empty
// validator set ("RangeError: Division by zero", swallowed by onProposal's catch-all and lost),
// and a vote was fed to a core that start-height then reset, so it was never counted.
t.test("gossip that arrives before the driver starts is kept for its height", async (t) => {
  const node = await gossipNode(t, { start: false });
  const { driver, proposal, votes, height } = node;
  t.equal(await driver.onProposal(proposal, "peer"), "accept", "the proposal is kept");
  t.equal(driver.onVote(encodeSignedVote(votes[0]!), "peer"), "accept", "the vote is kept");
  await driver.idle();
  t.same(node.caught, [], "no handler failed");

  driver.start();
  await driver.idle();
  t.equal(driver.height, height);
  t.same(node.caught, [], "starting fed them without a failure");
  const { blockHash } = decodeProposalEnvelope(proposal).proposal.proposal;
  t.same(driver.proposal({ blockHash }), proposal, "the proposal was executed and kept");
  t.equal(await driver.onProposal(proposal, "peer"), "ignore", "the proposal is already held");
  t.equal(driver.onVote(encodeSignedVote(votes[0]!), "peer"), "ignore", "the vote is already held");
});

// vm, seed 555403460: an operator charged household b the largest 64-bit amount; at compliance
// its penalty would take the balance below the 64-bit range. The Reject escaped the settlement
// scheduler, so applyBlock threw on every later block: the chain would halt. Now that
// household's step is discarded, an event names it, and everything else settles.
t.test(
  "a penalty beyond the 64-bit range skips one household's compliance, not the block",
  async (t) => {
    const world = await World.create();
    const { chain } = world.harness;
    const b = world.harness.address("b");
    const charge = { household: b, amount: I64_MAX, reference: "" };
    const { receipt } = await chain.run(operatorOf(0), "recordCharge", charge, { time: at(221) });
    t.equal(receipt.outcome.kind, "ok", "the charge itself fits");
    const balance = chain.get(tables.account, b)?.balance;

    const skipped: unknown[] = [];
    for (const s of [230, 234, 238, 239, 240]) {
      const block = await chain.valid([], { time: at(s) });
      for (const e of block.events) if (e.kind === "settlementStepSkipped") skipped.push(e.value);
    }
    t.same(skipped, [
      { utility: "u0", stage: "compliance", period: 1n, household: b, reason: "BAD_AMOUNT" },
    ]);
    t.equal(chain.get(tables.account, b)?.balance, balance, "b's balance was left as it was");
    t.same(await brokenInvariants(chain.state), [], "money and credits still add up");
    await runBlocks([{ step: 10, txs: [] }], world);
    t.pass("later blocks run");
  },
);

// The same bound in the batch auction: a fill that would carry the seller's balance past the
// 64-bit range used to throw out of the end-of-block job. Now that utility's clearing is
// skipped for the block, an event says so, and the orders rest untouched.
t.test("a fill beyond the 64-bit range skips one utility's auction, not the block", async (t) => {
  const world = await World.create();
  const h = world.harness;
  // A seller near the top of the range, balanced by a utility deep in the red (as if it had
  // paid out huge buy-backs), so every money invariant still holds.
  const a = h.address("a");
  const shift = I64_MAX - h.balance("a");
  const account = h.chain.get(tables.account, a) ?? NEW_ACCOUNT;
  const utility = h.chain.get(tables.utility, "u0")!;
  h.chain.state.commit([
    [tables.account.key(a), encode(tables.account.schema, { ...account, balance: I64_MAX })],
    [
      tables.utility.key("u0"),
      encode(tables.utility.schema, { ...utility, balance: utility.balance - shift }),
    ],
  ]);
  t.same(await brokenInvariants(h.chain.state), [], "the crafted state keeps the invariants");
  t.equal((await h.place("a", "sell", 100n, 100n, 212)).receipt.outcome.kind, "ok");
  const buy = await h.place("b", "buy", 100n, 100n, 213);
  t.equal(buy.receipt.outcome.kind, "ok", "the crossing buy is accepted");
  const skipped = buy.block.events.filter((e) => e.kind === "auctionSkipped");
  t.same(
    skipped.map((e) => e.value),
    [{ utility: "u0", reason: "BAD_AMOUNT" }],
  );
  t.notOk(
    buy.block.events.some((e) => e.kind === "orderFilled"),
    "no fill of the skipped clearing",
  );
  t.equal(h.balance("a"), I64_MAX, "the seller's balance is as it was");
  t.same(await world.openOrders().then((ids) => ids.length), 2, "both orders rest");
  t.same(await brokenInvariants(h.chain.state), [], "money and credits still add up");
});
