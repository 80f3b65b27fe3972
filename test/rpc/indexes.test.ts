// The node's indexes: written by the commit hook in the block's batch, and rebuilt from stored
// blocks and receipts to the same entries.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import type { Block } from "../../lib/block.js";
import { decode } from "../../lib/codec.js";
import { duplicateVoteEvidence } from "../../lib/evidence.js";
import { signVote } from "../../lib/vote.js";
import { Chain } from "../../node/chain.js";
import { ManualClock } from "../../node/clock.js";
import { buildGenesis } from "../../node/genesis.js";
import { NodeIndexes, rebuildIndexes } from "../../node/indexes/indexes.js";
import { Mempool } from "../../node/mempool.js";
import { Producer } from "../../node/producer.js";
import { WriteBatch } from "../../state/db.js";
import { Store } from "../../state/store.js";
import { tables } from "../../vm/tables.js";
import { registration, signCommit, signedTx } from "../node/chain-fixtures.js";
import { actor, genesisJson, hash32, operatorOf, T0, validatorOf } from "../vm/helpers.js";
import { type RpcNode, startNode } from "./rpc-fixtures.js";

const op0 = operatorOf(0);
const household = actor(50);
const oracle = actor(60);

async function snapshot(node: RpcNode) {
  const page = { limit: 100 };
  const ix = node.indexes;
  const validator = node.chain.validatorSetAt(1n)[0]!.address;
  return {
    operator: await ix.txsByAddress(op0.address, page),
    household: await ix.txsByAddress(household.address, page),
    readings: await ix.readingsByMeter(hash32(50), page),
    policy: await ix.policyHistory("u0", page),
    oracle: ix.oracleStats(oracle.address),
    liveness: await ix.liveness(validator),
  };
}

t.test("the hook's entries and a rebuild from stored blocks agree", async (t) => {
  const node = await startNode(t);
  await node.mempool.add(
    signedTx(op0, 0n, "registerHousehold", {
      household: household.address,
      meterIdHash: hash32(50),
      meterKey: undefined,
      registers: 1,
      baselines: Array.from({ length: 12 }, () => 1000n),
    }),
  );
  await node.mempool.add(signedTx(op0, 1n, "registerOracle", { oracle: oracle.address }));
  await node.produce();
  const utility = decode(tables.utility.schema, node.chain.state().get(tables.utility.key("u0"))!);
  await node.mempool.add(
    signedTx(oracle, 0n, "submitReadings", {
      readings: [
        { meterIdHash: hash32(50), time: T0 + 2500n, registers: [10n], signature: undefined },
        { meterIdHash: hash32(50), time: T0 + 2500n, registers: [10n], signature: undefined },
        { meterIdHash: hash32(50), time: T0 + 2600n, registers: [9n], signature: undefined },
      ],
    }),
  );
  await node.mempool.add(
    signedTx(op0, 2n, "setPolicy", {
      fromPeriod: 4n,
      policy: { ...utility.policy, floorPrice: 20n },
    }),
  );
  await node.produce();
  await node.produce();

  const live = await snapshot(node);
  t.equal(live.operator.items.length, 3);
  t.equal(live.household.items.length, 1);
  t.same(
    live.readings.items.map((r) => r.result),
    ["rejected", "duplicate", "accepted"],
    "newest first: the decreasing register, the repeat, the first",
  );
  t.equal(live.oracle.readings, 3n);
  t.equal(live.oracle.batches, 1n);
  t.equal(live.oracle.rejections.length, 1);
  t.equal(live.policy.items[0]?.fromPeriod, 4n);
  t.equal(live.liveness.signed, 2n, "blocks 2 and 3 carried commits of 1 and 2");
  t.equal(live.liveness.lastSigned, 2n);

  const result = await rebuildIndexes(node.store, {
    validatorSetAt: (h) => node.chain.validatorSetAt(h),
  });
  t.equal(result.blocks, 3);
  t.same(await snapshot(node), live, "the rebuilt indexes hold the same entries");

  await t.rejects(
    node.indexes.txsByAddress(op0.address, { limit: 1, after: Uint8Array.of(0x41) }),
    RangeError,
    "a cursor of another list",
  );
});

t.test("a block whose indexing fails still commits, without entries", async (t) => {
  const errors: bigint[] = [];
  const dir = await mkdtemp(join(tmpdir(), "wattcap-idx-"));
  const store = await Store.open(dir);
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const indexes = new NodeIndexes(store, {
    validatorSetAt: () => {
      throw new Error("no sets today");
    },
    onError: (_e, height) => errors.push(height),
  });
  const clock = new ManualClock(T0 + 1000n);
  const chain = await Chain.open(store, buildGenesis(genesisJson([1])), {
    clock,
    indexHooks: [indexes.hook],
  });
  const mempool = new Mempool(chain);
  const proposer = chain.validatorSetAt(1n)[0]!.address;
  for (const nonce of [0n, 1n]) {
    await mempool.add(
      signedTx(op0, nonce, "registerOracle", { oracle: actor(80 + Number(nonce)).address }),
    );
    clock.advance(1000n);
    const height = chain.head().height + 1n;
    const proposal = await new Producer(chain, mempool, { proposer }).buildProposal(
      height,
      0,
      clock.now(),
    );
    const committed = await chain.commitBlock(
      proposal.executed,
      signCommit(chain.validatorSetAt(height), height, proposal.executed.hash),
    );
    mempool.update(committed);
  }
  t.equal(chain.head().height, 2n, "both blocks committed");
  t.same(errors, [2n], "block 2 (the first with a last commit) could not be indexed");
  const refs = await indexes.txsByAddress(op0.address, { limit: 10 });
  t.same(
    refs.items.map((r) => r.height),
    [1n],
    "block 1's entries are there, none of block 2's",
  );
});

t.test("liveness counts absences from the set and evidence names the validator", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-idx-"));
  const store = await Store.open(dir);
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const [a, b] = [validatorOf(0, 0), validatorOf(0, 1)];
  const set = [a, b].map((v) => ({
    address: v.address,
    publicKey: v.publicKey,
    operator: op0.address,
    utility: "u0",
  }));
  const indexes = new NodeIndexes(store, { validatorSetAt: () => set });
  const vote = (blockHash: Uint8Array) =>
    signVote(
      {
        type: "precommit",
        chainId: "wattcap-test",
        height: 4n,
        round: 0,
        blockHash,
        validator: b.address,
      },
      b.secretKey,
    );
  const block: Block = {
    header: {
      version: 1,
      chainId: "wattcap-test",
      height: 6n,
      time: T0,
      parentHash: hash32(1),
      proposer: a.address,
      txRoot: hash32(2),
      stateRoot: hash32(3),
      receiptsRoot: hash32(4),
      validatorsHash: hash32(5),
      nextValidatorsHash: hash32(5),
      lastCommitHash: hash32(6),
      evidenceHash: hash32(7),
    },
    txs: [],
    lastCommit: {
      height: 5n,
      round: 0,
      blockHash: hash32(8),
      signatures: [{ validator: a.address, signature: new Uint8Array(64) }],
    },
    evidence: [duplicateVoteEvidence(vote(hash32(9)), vote(hash32(10)))],
  };
  const batch = new WriteBatch();
  indexes.write({ height: 6n, time: T0, block, txIds: [], receipts: [], endEvents: [] }, batch);
  await store.db.write(batch, { sync: false });
  const signer = await indexes.liveness(a.address);
  const absent = await indexes.liveness(b.address);
  t.same([signer.signed, signer.missed, signer.lastSigned], [1n, 0n, 5n]);
  t.same([absent.signed, absent.missed, absent.lastSigned], [0n, 1n, undefined]);
  t.same(absent.evidence, [{ height: 6n, evidenceHeight: 4n }]);
  t.same(signer.evidence, []);
});

t.test("a rebuild keeps the auctions that only end-of-block events carry", async (t) => {
  const node = await startNode(t);
  const buyer = actor(51);
  await node.mempool.add(signedTx(op0, 0n, "registerHousehold", registration(buyer, 51)));
  await node.mempool.add(
    signedTx(op0, 1n, "recordPayment", {
      household: buyer.address,
      amount: 10_000n,
      reference: "p",
    }),
  );
  await node.produce();
  // Period 0's trading window is [110 s, 140 s): a buy there changes the book, and the block's
  // end-of-block work holds the utility's call auction.
  node.clock.advance(114_000n - (node.clock.now() - T0));
  await node.mempool.add(
    signedTx(buyer, 0n, "placeOrder", { side: "buy", qty: 5n, price: 100n, expiry: T0 + 139_000n }),
  );
  const block = await node.produce();
  t.equal(block.receipts[0]?.outcome.kind, "ok", "the order is placed");
  t.ok(
    block.events.some((e) => e.kind === "auction"),
    "the auction is an end-of-block event, in no receipt",
  );
  t.notOk(block.receipts.some((r) => r.events.some((e) => e.kind === "auction")));
  await node.produce();

  const live = await node.indexes.auctions("u0", { limit: 10 });
  t.equal(live.items.length, 1, "the live hook indexed the auction");
  t.equal(live.items[0]?.height, block.height);
  t.same(live.items[0]?.demand, [{ price: 100n, qty: 5n }]);
  const events = node.store.chain.getEndEvents(block.height);
  t.ok(events, "the block's end-of-block events are stored");
  t.equal(node.store.chain.getEndEvents(1n), undefined, "a block without any stores none");

  await rebuildIndexes(node.store, { validatorSetAt: (h) => node.chain.validatorSetAt(h) });
  t.same(await node.indexes.auctions("u0", { limit: 10 }), live, "the rebuild has the auction");
  const response = await node.call("market_auctions", { utility: "u0" });
  t.equal((response.result as { items: unknown[] }).items.length, 1, "and RPC serves it");
});
