import t, { type Test } from "tap";
import { decodeCommit, encodeCommit } from "../../lib/commit.js";
import { buildGenesis } from "../../node/genesis.js";
import type { BlockWithCommit } from "../../node/p2p/index.js";
import { Sync } from "../../node/sync.js";
import { genesisJson, operatorOf, validatorOf } from "../vm/helpers.js";
import {
  hashAt,
  registerHousehold,
  startTestNode,
  type TestNode,
  testClock,
  waitFor,
} from "./driver-fixtures.js";
import { MemoryHub } from "./memory-network.js";

const genesis1 = buildGenesis(genesisJson([1]));
const BLOCKS = 5n;

/** A validator that has committed BLOCKS blocks and then stopped producing. */
async function producedChain(t: Test, hub: MemoryHub) {
  const clock = testClock();
  const source = await startTestNode(t, {
    genesis: genesis1,
    hub,
    id: "source",
    clock,
    validator: validatorOf(0, 0),
  });
  t.ok((await source.mempool.add(registerHousehold(operatorOf(0), 0n, 1))).ok);
  source.driver.start();
  await waitFor(`height ${BLOCKS}`, () => source.chain.head().height >= BLOCKS);
  await source.driver.stop();
  return { source, clock };
}

function rangeOf(node: TestNode, from: bigint, to: bigint): BlockWithCommit[] {
  const out: BlockWithCommit[] = [];
  for (let h = from; h <= to; h++) {
    out.push({ block: node.store.getBlock(h)!, commit: node.store.getCommit(h)! });
  }
  return out;
}

t.test("a fresh node syncs every block from a peer, verifying each commit", async (t) => {
  const hub = new MemoryHub();
  const { source, clock } = await producedChain(t, hub);
  const head = source.chain.head().height;
  const fresh = await startTestNode(t, { genesis: genesis1, hub, id: "fresh", clock });
  t.equal(fresh.chain.head().height, 0n);
  fresh.sync.onStatus("source", source.sync.status());
  t.ok(fresh.sync.syncing, "far behind: syncing");
  t.equal(fresh.sync.targetHeight, head);
  const committed = await fresh.sync.catchUp();
  t.equal(BigInt(committed), head, "one commit per block");
  t.equal(fresh.chain.head().height, head);
  for (let h = 1n; h <= head; h++) t.equal(hashAt(fresh, h), hashAt(source, h), `block ${h}`);
  t.same(fresh.chain.head().stateRoot, source.chain.head().stateRoot, "same state");
  t.notOk(fresh.sync.syncing);
  t.same(fresh.network.penalties, [], "no peer was penalized");
});

t.test("the status and blocksByRange handlers serve the store", async (t) => {
  const hub = new MemoryHub();
  const { source } = await producedChain(t, hub);
  const status = source.sync.status();
  t.equal(status.latestHeight, source.chain.head().height);
  t.same(status.latestHash, source.chain.head().hash);
  t.equal(status.earliestHeight, 1n);
  const served = [...source.sync.blocksByRange({ startHeight: 2n, count: 10 })];
  t.equal(BigInt(served.length), source.chain.head().height - 1n, "stops at the head");
  t.same(served[0], rangeOf(source, 2n, 2n)[0]);
  t.same([...source.sync.blocksByRange({ startHeight: 100n, count: 3 })], []);
});

t.test("a tampered commit is rejected and nothing is committed", async (t) => {
  const hub = new MemoryHub();
  const { source, clock } = await producedChain(t, hub);
  const node = await startTestNode(t, { genesis: genesis1, hub, id: "victim", clock });
  const honest = rangeOf(source, 1n, 3n);

  const commit = decodeCommit(honest[0]!.commit);
  const signature = commit.signatures[0]!.signature.slice();
  signature[10]! ^= 1;
  const badSignature = encodeCommit({
    ...commit,
    signatures: [{ ...commit.signatures[0]!, signature }],
  });
  const tampered = await node.sync.applyBlocks(
    [{ block: honest[0]!.block, commit: badSignature }, ...honest.slice(1)],
    1n,
  );
  t.equal(tampered.committed, 0);
  t.equal(tampered.rejected?.code, "BAD_COMMIT");
  t.equal(node.chain.head().height, 0n);

  // A valid commit of another block does not certify this one.
  const swapped = await node.sync.applyBlocks(
    [{ block: honest[0]!.block, commit: honest[1]!.commit }],
    1n,
  );
  t.equal(swapped.rejected?.code, "NOT_IN_ORDER");
  const otherBlock = await node.sync.applyBlocks(
    [{ block: honest[1]!.block, commit: honest[0]!.commit }],
    1n,
  );
  t.ok(otherBlock.rejected, "block 2 under block 1's commit is refused");
  t.equal(node.chain.head().height, 0n);

  // The honest blocks go through, and a catch-up from a lying peer penalizes it.
  t.equal((await node.sync.applyBlocks(honest.slice(0, 1), 1n)).committed, 1);
  const liar = hub.join("liar", {
    gossip: () => "ignore",
    status: () => ({ ...source.sync.status() }),
    blocksByRange: () => [{ block: honest[1]!.block, commit: badSignature }],
    votes: () => [],
    proposal: () => undefined,
  });
  t.ok(liar);
  hub.leave("source");
  node.sync.onStatus("liar", source.sync.status());
  await node.sync.catchUp();
  t.equal(node.chain.head().height, 1n, "nothing from the liar was committed");
  t.same(node.network.penalties, [{ peer: "liar", reason: "invalidResponse" }]);
});

t.test(
  "retention: a peer that pruned what we need is not asked; a pruned range is not served",
  async (t) => {
    const hub = new MemoryHub();
    const { source, clock } = await producedChain(t, hub);
    const asked: bigint[] = [];
    hub.join("pruned", {
      gossip: () => "ignore",
      status: () => ({ ...source.sync.status(), earliestHeight: 4n }),
      blocksByRange: (request) => {
        asked.push(request.startHeight);
        return rangeOf(source, 4n, 5n);
      },
      votes: () => [],
      proposal: () => undefined,
    });
    const node = await startTestNode(t, { genesis: genesis1, hub, id: "late", clock });
    node.sync.onStatus("pruned", { ...source.sync.status(), earliestHeight: 4n });
    t.equal(await node.sync.catchUp(), 0, "nothing to fetch from a peer that starts at 4");
    t.same(asked, [], "it was never asked for block 1");
    node.sync.onStatus("source", source.sync.status());
    t.equal(await node.sync.catchUp(), Number(BLOCKS), "the archive peer serves all of them");
    t.same(node.network.penalties, [], "nobody was penalized");

    const pruning = new Sync({
      chain: source.chain,
      network: node.network,
      earliestHeight: () => 3n,
    });
    t.equal(pruning.status().earliestHeight, 3n);
    t.same([...pruning.blocksByRange({ startHeight: 2n, count: 3 })], [], "starts below 3");
    t.same(
      [...pruning.blocksByRange({ startHeight: 3n, count: 5 })],
      rangeOf(source, 3n, BLOCKS),
      "from 3 up",
    );
  },
);
