import t, { type Test } from "tap";
import {
  computeEvidenceHash,
  computeLastCommitHash,
  computeTxRoot,
  zeroHash,
} from "../../lib/block.js";
import { toHex } from "../../lib/bytes.js";
import { duplicateVoteEvidence, type Evidence } from "../../lib/evidence.js";
import { proposerFor, type Validator, validatorSetHash } from "../../lib/validator.js";
import { signVote, type VoteType } from "../../lib/vote.js";
import type { ChainOptions } from "../../node/chain.js";
import { buildGenesis, type ChainGenesis } from "../../node/genesis.js";
import { Mempool } from "../../node/mempool.js";
import { Producer, type ProducerOptions } from "../../node/producer.js";
import { governanceModule, utilityModule } from "../../vm/modules.js";
import { HandlerRegistry } from "../../vm/tx/registry.js";
import { actor, genesisJson, hash32, operatorOf, T0 } from "../vm/helpers.js";
import { CHAIN_ID, openChain, secretOf, signCommit, signedTx } from "./chain-fixtures.js";

const op0 = operatorOf(0);
const genesis1 = buildGenesis(genesisJson([1]));
const genesis4 = buildGenesis(genesisJson([1, 1, 1, 1]));

function vote(v: Validator, type: VoteType, height: bigint, blockHash: Uint8Array) {
  return signVote(
    { type, chainId: CHAIN_ID, height, round: 0, blockHash, validator: v.address },
    secretOf(v.address),
  );
}

const register = (nonce: bigint) =>
  signedTx(op0, nonce, "registerHousehold", {
    household: actor(50 + Number(nonce)).address,
    meterIdHash: hash32(50 + Number(nonce)),
    meterKey: undefined,
    registers: 1,
    baselines: Array.from({ length: 12 }, () => 1000n),
  });

/** A chain with a mempool and the producer of the proposer of (height, round 0). */
async function setup(
  t: Test,
  genesis: ChainGenesis,
  options: { chain?: ChainOptions; producer?: Partial<ProducerOptions> } = {},
) {
  const node = await openChain(t, genesis, options.chain);
  const mempool = new Mempool(node.chain);
  const producerFor = (height: bigint, round = 0) =>
    new Producer(node.chain, mempool, {
      proposer: proposerFor(node.chain.validatorSetAt(height), height, round).address,
      ...options.producer,
    });
  return { ...node, mempool, producerFor };
}

t.test("a proposal fills its header and validates elsewhere with the same hash", async (t) => {
  const leader = await setup(t, genesis4);
  const follower = await openChain(t, genesis4);
  for (const n of [0n, 1n, 2n]) t.ok((await leader.mempool.add(register(n))).ok);
  const time = T0 + 2000n;
  const proposal = await leader.producerFor(1n).buildProposal(1n, 0, time);
  const { header } = proposal.block;
  const set = leader.chain.validatorSetAt(1n);
  t.equal(header.height, 1n);
  t.equal(header.time, time);
  t.equal(header.chainId, CHAIN_ID);
  t.same(header.parentHash, zeroHash());
  t.same(header.proposer, proposerFor(set, 1n, 0).address);
  t.same(header.validatorsHash, validatorSetHash(set));
  t.same(header.nextValidatorsHash, validatorSetHash(leader.chain.validatorSetAt(2n)));
  t.same(header.txRoot, computeTxRoot(proposal.block.txs));
  t.same(header.lastCommitHash, computeLastCommitHash(undefined));
  t.same(header.evidenceHash, computeEvidenceHash([]));
  t.equal(proposal.block.txs.length, 3);
  t.same(proposal.dropped, []);
  t.equal(leader.store.head()!.height, 0n, "nothing is written by proposing");

  const own = await leader.chain.validateBlock(proposal.bytes, { round: 0 });
  t.ok(own.ok && own.executed === proposal.executed, "the proposer's own execution is reused");
  follower.clock.set(time);
  const verdict = await follower.chain.validateBlock(proposal.bytes, { round: 0, fresh: true });
  t.ok(verdict.ok && verdict.timely);
  if (verdict.ok) t.same(verdict.executed.stateRoot, header.stateRoot);
});

t.test("only the proposer of (height, round) on head + 1 proposes", async (t) => {
  const node = await setup(t, genesis4);
  const set = node.chain.validatorSetAt(1n);
  const producer = node.producerFor(1n, 0);
  await t.rejects(producer.buildProposal(1n, 1, T0 + 2000n), { code: "NOT_PROPOSER" });
  await t.rejects(producer.buildProposal(2n, 0, T0 + 2000n), { code: "NOT_NEXT" });
  const other = new Producer(node.chain, node.mempool, {
    proposer: proposerFor(set, 1n, 1).address,
  });
  t.ok(await other.buildProposal(1n, 1, T0 + 2000n), "round 1 has its own proposer");
});

t.test("a time not after the parent's is raised to parent + 1 ms", async (t) => {
  const node = await setup(t, genesis1);
  const proposal = await node.producerFor(1n).buildProposal(1n, 0, T0 - 5n);
  t.equal(proposal.block.header.time, T0 + 1n, "the parent of block 1 is genesis time");
});

t.test("the next block is due a target block time after the head's", async (t) => {
  const node = await setup(t, genesis1);
  t.equal(node.producerFor(1n).nextBlockDue(), T0 + 1000n, "default 1 s");
  const slow = new Producer(node.chain, node.mempool, {
    proposer: node.chain.validatorSetAt(1n)[0]!.address,
    targetBlockTimeMs: 5000n,
  });
  t.equal(slow.nextBlockDue(), T0 + 5000n);
});

t.test("proposals stay within the count and size limits", async (t) => {
  const probe = await setup(t, genesis1);
  const empty = await probe.producerFor(1n).buildProposal(1n, 0, T0 + 1n);
  const one = register(0n).length;
  const node = await setup(t, genesis1, { producer: { maxBlockTxs: 2 } });
  for (const n of [0n, 1n, 2n, 3n]) await node.mempool.add(register(n));
  const byCount = await node.producerFor(1n).buildProposal(1n, 0, T0 + 1n);
  t.equal(byCount.block.txs.length, 2, "count limit");

  const maxBlockBytes = empty.bytes.length + 8 + one + 5 + 10;
  const small = await setup(t, genesis1, { producer: { maxBlockBytes } });
  for (const n of [0n, 1n, 2n]) await small.mempool.add(register(n));
  const bySize = await small.producerFor(1n).buildProposal(1n, 0, T0 + 1n);
  t.equal(bySize.block.txs.length, 1, "size limit");
  t.ok(bySize.bytes.length <= maxBlockBytes);
});

t.test("a transaction that breaks the block is dropped and the block rebuilt", async (t) => {
  // The chain runs rules without the money module; the mempool was filled under the full rules.
  const rules = new HandlerRegistry([governanceModule, utilityModule]);
  const node = await setup(t, genesis1, { chain: { registry: rules } });
  await node.mempool.add(register(0n));
  const payment = signedTx(operatorOf(0), 1n, "recordPayment", {
    household: actor(50).address,
    amount: 5n,
    reference: "p",
  });
  const added = await node.mempool.add(payment);
  t.ok(added.ok);
  const proposal = await node.producerFor(1n).buildProposal(1n, 0, T0 + 1n);
  t.equal(proposal.block.txs.length, 1);
  t.same(proposal.dropped.map(toHex), added.ok ? [toHex(added.id)] : []);
  t.equal(node.mempool.size, 1, "the breaking transaction left the mempool");
  const verdict = await node.chain.validateBlock(proposal.bytes);
  t.ok(verdict.ok);
});

t.test("pending evidence is checked, deduplicated and removes the offender at H + 2", async (t) => {
  let pending: Evidence[] = [];
  const leader = await setup(t, genesis4, { producer: { pendingEvidence: () => pending } });
  const follower = await openChain(t, genesis4);
  const commitBoth = async (height: bigint, round = 0) => {
    leader.clock.advance(1000n);
    const proposal = await leader
      .producerFor(height, round)
      .buildProposal(height, round, leader.clock.now());
    const verdict = await follower.chain.validateBlock(proposal.bytes, { round });
    if (!verdict.ok) throw new Error(`${verdict.code}: ${verdict.message}`);
    const commit = signCommit(
      follower.chain.validatorSetAt(height),
      height,
      proposal.executed.hash,
    );
    await leader.chain.commitBlock(proposal.executed, commit);
    return follower.chain.commitBlock(verdict.executed, commit);
  };
  await commitBoth(1n);

  const set = leader.chain.validatorSetAt(1n);
  const offender = set[2]!;
  const good = duplicateVoteEvidence(
    vote(offender, "prevote", 1n, hash32(1)),
    vote(offender, "prevote", 1n, hash32(2)),
  );
  const forged: Evidence = {
    ...good,
    value: { ...good.value, voteB: { ...good.value.voteB, signature: new Uint8Array(64) } },
  };
  pending = [forged, good, good];
  const committed = await commitBoth(2n);
  t.equal(committed.block.evidence.length, 1, "the forged and the repeated copy are left out");
  t.ok(committed.events.some((e) => e.kind === "equivocatorRemoved"));
  t.same(committed.validatorUpdate?.fromHeight, 4n);
  pending = [];
  t.equal(follower.chain.validatorSetAt(3n).length, 4);
  t.equal(follower.chain.validatorSetAt(4n).length, 3, "gone from H + 2");
  await commitBoth(3n);
  await commitBoth(4n);
  t.equal(follower.chain.head().height, 4n);
  t.notOk(
    follower.chain.validatorSetAt(5n).some((v) => toHex(v.address) === toHex(offender.address)),
  );
});
