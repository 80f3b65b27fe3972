import t from "tap";
import { decodeBlock } from "../../lib/block.js";
import { compareBytes, equalBytes } from "../../lib/bytes.js";
import { decodeCommit, verifyCommit } from "../../lib/commit.js";
import { decodeEvidence } from "../../lib/evidence.js";
import { proposerFor } from "../../lib/validator.js";
import { decodeSignedVote, encodeSignedVote, signVote } from "../../lib/vote.js";
import { decodeProposalEnvelope } from "../../node/consensus-driver.js";
import { buildGenesis } from "../../node/genesis.js";
import { genesisJson, operatorOf, validatorOf } from "../vm/helpers.js";
import {
  FAST_TIMEOUTS,
  hashAt,
  registerHousehold,
  startTestNode,
  testClock,
  waitFor,
} from "./driver-fixtures.js";
import { MemoryHub } from "./memory-network.js";

const genesis1 = buildGenesis(genesisJson([1]));
const genesis4 = buildGenesis(genesisJson([1, 1, 1, 1]));

t.test("one validator produces and commits blocks with the mempool's transactions", async (t) => {
  const hub = new MemoryHub();
  const node = await startTestNode(t, {
    genesis: genesis1,
    hub,
    id: "v0",
    clock: testClock(),
    validator: validatorOf(0, 0),
  });
  const op = operatorOf(0);
  for (const n of [0n, 1n, 2n]) {
    t.ok((await node.mempool.add(registerHousehold(op, n, Number(n)))).ok, `tx ${n} admitted`);
  }
  node.driver.start();
  await waitFor("height 3", () => node.chain.head().height >= 3n);
  t.equal(node.mempool.size, 0, "included transactions leave the mempool");
  let included = 0;
  for (let h = 1n; h <= 3n; h++) {
    const block = decodeBlock(node.store.getBlock(h)!);
    included += block.txs.length;
    const commit = decodeCommit(node.store.getCommit(h)!);
    t.equal(commit.height, h);
    t.ok(verifyCommit(commit, node.chain.validatorSetAt(h), "wattcap-test").ok, `commit ${h}`);
    if (h > 1n) {
      const parent = decodeBlock(node.store.getBlock(h - 1n)!);
      t.ok(block.header.time > parent.header.time, "time increases");
    }
  }
  t.equal(included, 3, "every transaction is in a block");
  t.ok(node.driver.validating);
  t.ok(node.driver.height >= 3n);
});

t.test("four validators and a follower in one process commit the same blocks", async (t) => {
  const hub = new MemoryHub();
  const clock = testClock();
  const validators = [0, 1, 2, 3].map((i) => validatorOf(i, 0));
  const nodes = await Promise.all(
    validators.map((validator, i) =>
      startTestNode(t, { genesis: genesis4, hub, id: `v${i}`, clock, validator }),
    ),
  );
  const follower = await startTestNode(t, { genesis: genesis4, hub, id: "f", clock });
  for (const node of [...nodes, follower]) node.driver.start();
  // A transaction handed to one node reaches the proposers through tx gossip.
  t.ok((await nodes[2]!.mempool.add(registerHousehold(operatorOf(0), 0n, 7))).ok);
  await waitFor("height 4 everywhere", () =>
    [...nodes, follower].every((n) => n.chain.head().height >= 4n),
  );
  for (let h = 1n; h <= 4n; h++) {
    const hashes = new Set([...nodes, follower].map((n) => hashAt(n, h)));
    t.equal(hashes.size, 1, `one block at height ${h}`);
  }
  const txs = [1n, 2n, 3n, 4n].flatMap((h) => decodeBlock(nodes[0]!.store.getBlock(h)!).txs);
  t.equal(txs.length, 1, "the gossiped transaction was included once");
  t.notOk(follower.driver.validating, "the follower never signs");
  t.notOk(
    hub.published.some((p) => p.from === "f" && (p.kind === "vote" || p.kind === "proposal")),
    "the follower sent no vote or proposal",
  );
  // Each block was built by the proposer of its height in the deciding round or an earlier one
  // (a locked block re-proposed later keeps its builder).
  const set = nodes[0]!.chain.validatorSetAt(1n);
  for (let h = 1n; h <= 4n; h++) {
    const { proposer } = decodeBlock(nodes[0]!.store.getBlock(h)!).header;
    const { round } = decodeCommit(nodes[0]!.store.getCommit(h)!);
    const builders = Array.from({ length: round + 1 }, (_, r) => proposerFor(set, h, r).address);
    t.ok(
      builders.some((b) => equalBytes(b, proposer)),
      `block ${h} came from its round's proposer`,
    );
  }
});

t.test(
  "after a restart the WAL's votes are re-sent byte for byte, never contradicted",
  async (t) => {
    const hub = new MemoryHub();
    const clock = testClock();
    // Validator 0 of four alone: height 1 round 0 is proposed by index 1, so it prevotes nil on
    // its propose timeout and can go no further.
    const sorted = [0, 1, 2, 3]
      .map((i) => validatorOf(i, 0))
      .sort((a, b) => compareBytes(a.address, b.address));
    const validator = sorted[0]!;
    const timeouts = { ...FAST_TIMEOUTS, propose: { baseMs: 100n, deltaMs: 50n } };
    const first = await startTestNode(t, {
      genesis: genesis4,
      hub,
      id: "v",
      clock,
      validator,
      timeouts,
    });
    first.driver.start();
    const ownVotes = () =>
      hub.published.filter((p) => p.from === "v" && p.kind === "vote").map((p) => p.data);
    await waitFor("a prevote", () => ownVotes().length > 0);
    const [original] = ownVotes();
    const vote = decodeSignedVote(original!).vote;
    t.equal(vote.type, "prevote");
    t.equal(vote.height, 1n);
    t.equal(vote.round, 0);
    t.equal(vote.blockHash, undefined, "a nil prevote");
    await first.stop();
    const before = hub.published.length;

    const second = await startTestNode(t, {
      genesis: genesis4,
      hub,
      id: "v",
      clock,
      validator,
      timeouts,
      dir: first.dir,
    });
    second.driver.start();
    await waitFor("the vote re-sent", () => hub.published.length > before);
    const resent = hub.published.slice(before).find((p) => p.kind === "vote");
    t.ok(resent && equalBytes(resent.data, original!), "the same signed bytes are sent again");
    // Let its propose timeout pass again: the core must not sign another prevote for round 0.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await second.driver.idle();
    const round0 = hub.published
      .slice(before)
      .filter((p) => p.kind === "vote")
      .map((p) => decodeSignedVote(p.data).vote)
      .filter((v) => v.height === 1n && v.round === 0 && v.type === "prevote");
    t.ok(round0.length >= 1);
    t.ok(
      round0.every((v) => v.blockHash === undefined),
      "every round-0 prevote after the restart is the one signed before",
    );
    await second.stop();
  },
);

t.test("peer input never crashes the driver", async (t) => {
  const hub = new MemoryHub();
  const node = await startTestNode(t, {
    genesis: genesis1,
    hub,
    id: "v0",
    clock: testClock(),
    validator: validatorOf(0, 0),
  });
  node.driver.start();
  await waitFor("height 1", () => node.chain.head().height >= 1n);
  const junk = [new Uint8Array(0), new Uint8Array([0x93, 1, 2, 3]), new Uint8Array(600).fill(7)];
  for (const data of junk) {
    t.equal(await node.driver.onProposal(data, "x"), "reject", "junk proposal rejected");
    t.equal(node.driver.onVote(data, "x"), "reject", "junk vote rejected");
    t.equal(node.driver.onEvidence(data, "x"), "reject", "junk evidence rejected");
  }
  const before = node.chain.head().height;
  await waitFor("two more blocks", () => node.chain.head().height >= before + 2n);
  t.ok(node.driver.height > before, "it kept committing");
});

t.test("two different votes by one validator become evidence, kept and gossiped", async (t) => {
  const hub = new MemoryHub();
  const node = await startTestNode(t, {
    genesis: genesis4,
    hub,
    id: "v",
    clock: testClock(),
    validator: validatorOf(0, 0),
  });
  node.driver.start();
  await node.driver.idle();
  const offender = validatorOf(3, 0);
  const prevote = (fill: number) =>
    encodeSignedVote(
      signVote(
        {
          type: "prevote",
          chainId: "wattcap-test",
          height: 1n,
          round: 0,
          blockHash: new Uint8Array(32).fill(fill),
          validator: offender.address,
        },
        offender.secretKey,
      ),
    );
  t.equal(node.driver.onVote(prevote(1), "peer"), "accept");
  t.equal(node.driver.onVote(prevote(2), "peer"), "accept", "the second vote is kept too");
  t.equal(node.driver.onVote(prevote(2), "peer"), "ignore", "a repeat is not");
  await node.driver.idle();
  t.equal(node.evidence.size, 1, "one piece of evidence is pending");
  const [evidence] = node.evidence.pending();
  t.same(evidence!.value.voteA.vote.validator, offender.address);
  const gossiped = hub.published.filter((p) => p.kind === "evidence");
  t.equal(gossiped.length, 1, "the evidence was gossiped once");
  t.same(decodeEvidence(gossiped[0]!.data), evidence);
  t.equal(node.driver.onEvidence(gossiped[0]!.data, "peer"), "ignore", "known evidence");
  // A vote signed by someone else under the offender's address is refused.
  const forged = decodeSignedVote(prevote(3));
  const bad = encodeSignedVote({ ...forged, signature: new Uint8Array(64).fill(1) });
  t.equal(node.driver.onVote(bad, "peer"), "reject");
});

t.test("three of four validators decide in a later round when the proposer is down", async (t) => {
  const hub = new MemoryHub();
  const clock = testClock();
  const sorted = [0, 1, 2, 3]
    .map((i) => validatorOf(i, 0))
    .sort((a, b) => compareBytes(a.address, b.address));
  // Index 1 proposes height 1 round 0 (proposer = (height + round) mod n); it never starts.
  const live = [sorted[0]!, sorted[2]!, sorted[3]!];
  const nodes = await Promise.all(
    live.map((validator, i) =>
      startTestNode(t, { genesis: genesis4, hub, id: `v${i}`, clock, validator }),
    ),
  );
  for (const node of nodes) node.driver.start();
  await waitFor("height 2 everywhere", () => nodes.every((n) => n.chain.head().height >= 2n));
  const commit = decodeCommit(nodes[0]!.store.getCommit(1n)!);
  t.ok(commit.round >= 1, "height 1 was decided after round 0");
  t.equal(commit.signatures.length, 3, "by the three live validators");
  const header = decodeBlock(nodes[0]!.store.getBlock(1n)!).header;
  t.notSame(header.proposer, sorted[1]!.address, "not by the validator that is down");
  t.equal(new Set(nodes.map((n) => hashAt(n, 2n))).size, 1);
});

t.test(
  "a proposer restarted mid-round gets its proposal back from a peer and re-sends it",
  async (t) => {
    const hub = new MemoryHub();
    const clock = testClock();
    const sorted = [0, 1, 2, 3]
      .map((i) => validatorOf(i, 0))
      .sort((a, b) => compareBytes(a.address, b.address));
    // A peer that only keeps the proposals it is sent, and serves them back by block hash.
    const kept: Uint8Array[] = [];
    hub.join("peer", {
      gossip: (kind, data) => {
        if (kind === "proposal") kept.push(data);
        return "accept";
      },
      status: () => ({ latestHeight: 0n, latestHash: new Uint8Array(32), earliestHeight: 1n }),
      blocksByRange: () => [],
      votes: () => [],
      proposal: ({ blockHash }) =>
        kept.find((data) =>
          equalBytes(decodeProposalEnvelope(data).proposal.proposal.blockHash, blockHash),
        ),
    });
    const options = { genesis: genesis4, hub, id: "p", clock, validator: sorted[1]! };
    const first = await startTestNode(t, options);
    first.driver.start();
    await waitFor("the proposal reached the peer", () => kept.length > 0);
    const original = kept[0]!;
    await first.driver.idle();
    await first.stop();
    const before = hub.published.length;

    const second = await startTestNode(t, { ...options, dir: first.dir });
    second.driver.start();
    await waitFor("the proposal re-sent", () =>
      hub.published.slice(before).some((p) => p.kind === "proposal"),
    );
    const resent = hub.published.slice(before).filter((p) => p.kind === "proposal");
    t.ok(
      resent.every((p) => equalBytes(p.data, original)),
      "the same signed proposal and block, nothing new",
    );
    await second.stop();
  },
);
