// A one-process chain whose blocks are made on demand: a Chain over a Store in `dir` with the
// node indexes on its commit hook, a Mempool, and a ManualClock that each produced block moves
// on by one second; the block is committed with the validators' own signatures. The RPC tests,
// the oracle's end-to-end node process and the RPC benchmark all build on it. Reopening a
// directory resumes the chain where it stopped, with the clock at its head's time.
import { proposerFor } from "../../lib/validator.js";
import { Chain, type CommittedBlock } from "../../node/chain.js";
import { ManualClock } from "../../node/clock.js";
import type { ChainGenesis } from "../../node/genesis.js";
import { NodeIndexes } from "../../node/indexes/indexes.js";
import { Mempool, type MempoolOptions } from "../../node/mempool.js";
import { Producer } from "../../node/producer.js";
import { Store } from "../../state/store.js";
import { signCommit } from "../node/chain-fixtures.js";
import { T0 } from "../vm/helpers.js";

export interface ManualChain {
  readonly chain: Chain;
  readonly store: Store;
  readonly mempool: Mempool;
  readonly indexes: NodeIndexes;
  readonly clock: ManualClock;
  /** Produces and commits the next block from the mempool, 1 s after the last. */
  produce(): Promise<CommittedBlock>;
}

/** Opens (or creates) the chain in `dir`; the caller closes `store` when done. */
export async function openManualChain(
  dir: string,
  genesis: ChainGenesis,
  options: { readonly mempool?: MempoolOptions } = {},
): Promise<ManualChain> {
  const store = await Store.open(dir);
  let chainRef: Chain | undefined;
  const indexes = new NodeIndexes(store, {
    validatorSetAt: (h) => {
      try {
        return chainRef?.validatorSetAt(h);
      } catch {
        return undefined;
      }
    },
  });
  const clock = new ManualClock(T0 + 1000n);
  const chain = await Chain.open(store, genesis, { clock, indexHooks: [indexes.hook] });
  chainRef = chain;
  if (chain.head().height > 0n) clock.set(chain.head().header.time);
  const mempool = new Mempool(chain, options.mempool);
  return {
    chain,
    store,
    mempool,
    indexes,
    clock,
    async produce() {
      // As a validator would after the gossip had time to be verified: oracle batches in.
      await mempool.preverified();
      clock.advance(1000n);
      const height = chain.head().height + 1n;
      const proposer = proposerFor(chain.validatorSetAt(height), height, 0).address;
      const proposal = await new Producer(chain, mempool, { proposer }).buildProposal(
        height,
        0,
        clock.now(),
      );
      const commit = signCommit(chain.validatorSetAt(height), height, proposal.executed.hash);
      const committed = await chain.commitBlock(proposal.executed, commit);
      mempool.update(committed);
      return committed;
    },
  };
}
