// Fuzz target: what a node does with a peer's messages — the gossip validators (the consensus
// driver's onProposal, onVote and onEvidence, and the mempool's add for transactions), the
// request handlers it serves (status, blocksByRange, votes, proposal, voteBitmaps), and sync's
// applyBlocks for blocks a peer serves. A real chain with blocks, a real mempool, evidence pool
// and driver (node/node.ts wires the same ones to libp2p).
// Inputs: random bytes and mutations of valid messages for the current height (a signed
// proposal with its block, votes, duplicate-vote evidence, transactions, blocks with commits).
// Promise: nothing throws; a verdict is accept, ignore or reject; none of the driver's catch-all
// branches fires ("handling failed" — a bug that peer input reached); the valid seeds are still
// accepted afterwards, so no input wedged the node; the heap does not grow without bound.
import { Writable } from "node:stream";
import fc from "fast-check";
import { CodecError, decode } from "../../../lib/codec.js";
import { duplicateVoteEvidence, encodeEvidence } from "../../../lib/evidence.js";
import { createLogger } from "../../../lib/log.js";
import { proposerFor } from "../../../lib/validator.js";
import { encodeSignedVote, type SignedVote, signProposal, signVote } from "../../../lib/vote.js";
import type { Chain } from "../../../node/chain.js";
import { ConsensusDriver, encodeProposalEnvelope } from "../../../node/consensus-driver.js";
import { EvidencePool } from "../../../node/evidence-pool.js";
import { buildGenesis } from "../../../node/genesis.js";
import type { Mempool } from "../../../node/mempool.js";
import type { BlockWithCommit } from "../../../node/p2p/index.js";
import {
  BlocksByRangeRequestSchema,
  ProposalRequestSchema,
  VotesRequestSchema,
} from "../../../node/p2p/messages.js";
import { Producer } from "../../../node/producer.js";
import { Sync } from "../../../node/sync.js";
import { admitTxBatch, encodeTxBatch, TxBatchError } from "../../../node/tx-gossip.js";
import { openChain } from "../../node/chain-fixtures.js";
import { startNode } from "../../rpc/rpc-fixtures.js";
import { genesisJson, hash32, validatorOf } from "../../vm/helpers.js";
import {
  byteInputs,
  check,
  FuzzFailure,
  type FuzzReport,
  type FuzzTarget,
  mutated,
  randomBytes,
} from "./fuzz.js";
import { collectGarbage } from "./rpc.js";
import { seedTxs } from "./seeds.js";

const VERDICTS = new Set(["accept", "ignore", "reject"]);
const MAX_HEAP_GROWTH = 64 * 1024 * 1024;
const NOOP_NETWORK = {
  publish: async () => undefined,
  penalize: () => undefined,
  connectedPeers: () => [],
  reqresp: {
    status: () => Promise.reject(new Error("offline")),
    blocksByRange: () => Promise.reject(new Error("offline")),
    votes: () => Promise.reject(new Error("offline")),
    proposal: () => Promise.reject(new Error("offline")),
  },
};

/** Log lines of the driver's catch-all branches: an exception that peer input reached. */
function catchAllLog(into: string[]) {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      const line = String(chunk);
      if (/handling failed|task failed|effect failed/.test(line)) into.push(line.slice(0, 400));
      done();
    },
  });
  return createLogger({ level: "warn", destination });
}

/** A vote of the genesis validator for `height`. */
function vote(height: bigint, type: "prevote" | "precommit", blockHash?: Uint8Array): SignedVote {
  const v = validatorOf(0, 0);
  return signVote(
    { type, chainId: "wattcap-test", height, round: 0, blockHash, validator: v.address },
    v.secretKey,
  );
}

async function proposalFor(chain: Chain, mempool: Mempool, time: bigint): Promise<Uint8Array> {
  const height = chain.head().height + 1n;
  const proposer = proposerFor(chain.validatorSetAt(height), height, 0);
  const v = validatorOf(0, 0);
  const built = await new Producer(chain, mempool, { proposer: proposer.address }).buildProposal(
    height,
    0,
    time,
  );
  const signed = signProposal(
    {
      chainId: chain.chainId,
      height,
      round: 0,
      polRound: undefined,
      blockHash: built.executed.hash,
      proposer: proposer.address,
    },
    v.secretKey,
  );
  return encodeProposalEnvelope({ proposal: signed, block: built.bytes });
}

type Input =
  | { readonly to: "proposal" | "vote" | "evidence" | "tx"; readonly data: Uint8Array }
  | { readonly to: "blocksByRange"; readonly data: Uint8Array }
  | { readonly to: "votes" | "proposalRequest"; readonly data: Uint8Array }
  | { readonly to: "voteBitmaps"; readonly height: bigint; readonly round: number }
  | { readonly to: "sync"; readonly items: BlockWithCommit[]; readonly start: bigint };

/** What the teardown-taking fixtures need of a tap Test. */
export interface Scope {
  teardown(fn: () => unknown): void;
}

/**
 * A node at height 4 (three blocks committed) with a follower's consensus driver, started or
 * not, whose catch-all log lines go to `caught`; valid votes for the heights around its own and
 * a valid proposal for its height, signed by the genesis validator.
 */
export async function gossipNode(scope: Scope, options: { readonly start: boolean }) {
  const caught: string[] = [];
  const source = await startNode(scope);
  for (let i = 0; i < 3; i++) await source.produce();
  const { chain, mempool } = source;
  const height = chain.head().height + 1n;
  const driver = new ConsensusDriver({
    chain,
    network: NOOP_NETWORK,
    evidencePool: new EvidencePool(chain),
    mempool,
    logger: catchAllLog(caught),
  });
  if (options.start) driver.start();
  scope.teardown(() => driver.stop());
  const votes = [
    vote(height, "prevote", hash32(1)),
    vote(height, "precommit"),
    vote(height + 1n, "prevote"),
    vote(height - 1n, "precommit", hash32(2)),
  ];
  source.clock.advance(1000n);
  const proposal = await proposalFor(chain, mempool, source.clock.now());
  return { source, chain, mempool, driver, caught, height, votes, proposal };
}

export const gossipTarget: FuzzTarget = {
  name: "gossip",
  async run(runs: number, seed: number): Promise<FuzzReport> {
    const teardown: Array<() => unknown> = [];
    const scope = { teardown: (fn: () => unknown) => void teardown.push(fn) };
    try {
      const node = await gossipNode(scope, { start: true });
      const { source, chain, mempool, driver, caught, height, votes, proposal } = node;
      // A node behind, fed blocks by a peer.
      const behind = await openChain(scope, buildGenesis(genesisJson([1])));
      const sync = new Sync({ chain: behind.chain, network: NOOP_NETWORK, pollIntervalMs: 0 });
      const serving = new Sync({ chain, network: NOOP_NETWORK, pollIntervalMs: 0 });
      const served = [1n, 2n, 3n].map((h) => ({
        block: source.store.getBlock(h)!,
        commit: source.store.getCommit(h)!,
      }));
      const evidence = encodeEvidence(
        duplicateVoteEvidence(votes[0]!, vote(height, "prevote", hash32(3))),
      );
      const encodedVotes = votes.map(encodeSignedVote);
      const requests = {
        range: byteInputs([Uint8Array.of(0x92, 0xd3, 0, 0, 0, 0, 0, 0, 0, 1, 0x20)]),
        votes: byteInputs([
          Uint8Array.of(0x94, 0xd3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0xc4, 1, 1, 0xc4, 1, 1),
        ]),
        proposal: byteInputs([
          Uint8Array.of(0xc4, 32, ...hash32(1)),
          Uint8Array.of(0x91, 0xc4, 32, ...hash32(1)),
        ]),
      };
      const item = fc.record({
        block: fc.oneof(
          fc.constantFrom(...served.map((s) => s.block)),
          mutated(served.map((s) => s.block)),
          randomBytes,
        ),
        commit: fc.oneof(
          fc.constantFrom(...served.map((s) => s.commit)),
          mutated(served.map((s) => s.commit)),
          randomBytes,
        ),
      });
      const input: fc.Arbitrary<Input> = fc.oneof(
        byteInputs([proposal]).map((data) => ({ to: "proposal" as const, data })),
        byteInputs(encodedVotes).map((data) => ({ to: "vote" as const, data })),
        byteInputs([evidence]).map((data) => ({ to: "evidence" as const, data })),
        byteInputs([encodeTxBatch(seedTxs()), ...seedTxs().map((tx) => encodeTxBatch([tx]))]).map(
          (data) => ({ to: "tx" as const, data }),
        ),
        requests.range.map((data) => ({ to: "blocksByRange" as const, data })),
        requests.votes.map((data) => ({ to: "votes" as const, data })),
        requests.proposal.map((data) => ({ to: "proposalRequest" as const, data })),
        fc
          .record({
            height: fc.bigInt({ min: 0n, max: 1n << 64n }),
            round: fc.integer({ min: -1, max: 2 ** 32 }),
          })
          .map((r) => ({ to: "voteBitmaps" as const, ...r })),
        fc
          .record({
            items: fc.array(item, { maxLength: 4 }),
            start: fc.bigInt({ min: 0n, max: 5n }),
          })
          .map((r) => ({ to: "sync" as const, ...r })),
      );

      const deliver = async (x: Input): Promise<void> => {
        let verdict: unknown;
        switch (x.to) {
          case "proposal":
            verdict = await driver.onProposal(x.data, "peer");
            break;
          case "vote":
            verdict = driver.onVote(x.data, "peer");
            break;
          case "evidence":
            verdict = driver.onEvidence(x.data, "peer");
            break;
          case "tx":
            // Bytes that are no batch throw, which the gossip layer turns into "reject".
            verdict = await admitTxBatch(x.data, (tx) => mempool.add(tx, "gossip")).catch(
              (error) => {
                if (error instanceof CodecError || error instanceof TxBatchError) return "reject";
                throw error;
              },
            );
            break;
          // The request handlers get what the request/response layer decoded; it answers
          // invalidRequest for bytes that do not decode.
          case "blocksByRange":
            verdict = serve(x.data, BlocksByRangeRequestSchema, (r) => [
              ...serving.blocksByRange(r),
            ]);
            break;
          case "votes":
            verdict = serve(x.data, VotesRequestSchema, (r) => driver.votes(r));
            break;
          case "proposalRequest":
            verdict = serve(x.data, ProposalRequestSchema, (r) => driver.proposal(r));
            break;
          case "voteBitmaps":
            driver.voteBitmaps(x.height, x.round);
            verdict = "ignore";
            break;
          case "sync": {
            const result = await sync.applyBlocks(x.items, x.start);
            if (result.committed < 0) throw new FuzzFailure("negative commit count");
            verdict = "ignore";
            break;
          }
        }
        await driver.idle();
        if (!VERDICTS.has(String(verdict))) throw new FuzzFailure(`verdict ${String(verdict)}`);
        if (caught.length > 0) throw new FuzzFailure(`caught: ${caught.splice(0).join(" | ")}`);
      };

      collectGarbage();
      const heapBefore = process.memoryUsage().heapUsed;
      const report = await check(fc.asyncProperty(input, deliver), runs, seed);
      const failures = [...report.failures];
      // Still working: the valid proposal is recognised (accepted, or ignored as already held).
      const again = await driver.onProposal(proposal, "peer");
      if (again === "reject") failures.push("the valid proposal is refused after the run");
      collectGarbage();
      const growth = process.memoryUsage().heapUsed - heapBefore;
      if (growth > MAX_HEAP_GROWTH) failures.push(`heap grew by ${growth} bytes over the run`);
      return { cases: report.cases, failures };
    } finally {
      for (const fn of teardown.reverse()) await fn();
    }
  },
};

/** Decodes a request as the request/response layer does; "reject" if it does not decode. */
function serve<T>(
  data: Uint8Array,
  schema: Parameters<typeof decode<T>>[0],
  handler: (request: T) => unknown,
): string {
  let request: T;
  try {
    request = decode(schema, data);
  } catch (error) {
    if (error instanceof CodecError) return "reject";
    throw error;
  }
  handler(request);
  return "accept";
}
