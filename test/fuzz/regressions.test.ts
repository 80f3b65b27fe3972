// Inputs the fuzzers found that broke a promise, kept so the fix stays fixed.
import t from "tap";
import { encodeSignedVote } from "../../lib/vote.js";
import { decodeProposalEnvelope } from "../../node/consensus-driver.js";
import { gossipNode } from "./targets/gossip.js";

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
