// The RPC's view of a running node (rpc/backend.ts RpcBackend) over its Chain, Store, Mempool
// and indexes. Thin: each method is one read, with the node's errors for heights it no longer
// (or does not yet) keep turned into undefined for the handlers to answer with -32001.
import { decodeBlock } from "../lib/block.js";
import { decodeCommit } from "../lib/commit.js";
import { txId } from "../lib/tx.js";
import type { CommittedDigest, RpcBackend, StoredBlock } from "../rpc/backend.js";
import { StoreError } from "../state/errors.js";
import { decodeReceipt } from "../vm/receipt.js";
import { type Chain, ChainError } from "./chain.js";
import type { NodeIndexes } from "./indexes/indexes.js";
import type { Mempool } from "./mempool.js";

export interface NodeRpcBackendOptions {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly indexes: NodeIndexes;
  /** Whether the node is catching up (node/sync.ts); false when not given. */
  readonly syncing?: () => boolean;
}

/**
 * Latest blocks kept as execution decoded them: clients following the chain read each new
 * block as it commits, and decoding and hashing its transactions again was most of that cost.
 */
const RECENT_BLOCKS = 8n;

export function nodeRpcBackend(options: NodeRpcBackendOptions): RpcBackend {
  const { chain, mempool, indexes } = options;
  const store = chain.store;
  const syncing = options.syncing ?? (() => false);
  const recent = new Map<bigint, StoredBlock>();
  chain.on("committed", (block) => {
    recent.set(block.height, {
      height: block.height,
      hash: block.hash,
      block: block.block,
      decoded: block.txs,
    });
    recent.delete(block.height - RECENT_BLOCKS);
  });
  return {
    chainId: chain.chainId,
    genesisHash: chain.genesis.hash,
    head: () => chain.head(),
    syncing,
    state: () => chain.state(),
    block(at): StoredBlock | undefined {
      const height = typeof at === "bigint" ? at : store.chain.getBlockHeight(at);
      if (height === undefined) return undefined;
      const kept = recent.get(height);
      if (kept) return kept;
      const bytes = store.getBlock(height);
      const hash = store.chain.getBlockHash(height);
      if (!bytes || !hash) return undefined;
      return { height, hash, block: decodeBlock(bytes) };
    },
    commit(height) {
      if (height < 1n) return undefined;
      const bytes = store.getCommit(height);
      return bytes === undefined ? undefined : decodeCommit(bytes);
    },
    validatorSet(height) {
      try {
        return chain.validatorSetAt(height);
      } catch (e) {
        if (e instanceof ChainError) return undefined;
        throw e;
      }
    },
    txLocation: (id) => store.getTxLocation(id),
    receipt(id) {
      const bytes = store.getReceipt(id);
      return bytes === undefined ? undefined : decodeReceipt(bytes);
    },
    isPending: (id) => mempool.has(id),
    async submitTx(bytes) {
      const result = await mempool.add(bytes);
      // A resubmission of a transaction already waiting is not an error: it has its hash.
      if (!result.ok && result.code === "ALREADY_KNOWN") return { ok: true, id: txId(bytes) };
      return result;
    },
    prove(height, key) {
      try {
        return { value: store.readStateAt(height, key), proof: store.proveState(height, key) };
      } catch (e) {
        if (e instanceof StoreError) return undefined;
        throw e;
      }
    },
    indexes,
    onCommitted(listener) {
      return chain.on("committed", (block) => {
        const records = indexes.records({
          height: block.height,
          time: block.header.time,
          block: block.block,
          txIds: block.txIds,
          receipts: block.receipts,
          endEvents: block.events,
        });
        const digest: CommittedDigest = {
          height: block.height,
          hash: block.hash,
          header: block.header,
          txCount: block.txIds.length,
          events: records.events,
          trades: records.trades,
          auctions: records.auctions,
          readings: records.readings,
        };
        listener(digest);
      });
    },
  };
}
