// Block production: the proposer's side of the pipeline. A proposal takes executable
// transactions from the mempool within the block's count and size limits, the pending evidence
// that is still valid, and the stored commit of the parent; it is executed in an overlay to
// learn its state and receipts roots, and comes back encoded with its ExecutedBlock, so the
// proposer never executes it twice. A transaction that breaks the block (one the mempool took
// under other rules, say) is dropped from the mempool and the block is rebuilt.
//
// Time (DESIGN §5): the caller passes its clock's time; a time not after the parent's is raised
// to parent + 1 ms, so the proposal always keeps the parent rule. The clock rule is the
// validators' to check.
import {
  type Block,
  computeEvidenceHash,
  computeLastCommitHash,
  encodeBlock,
  MAX_BLOCK_BYTES,
  MAX_BLOCK_EVIDENCE,
  MAX_BLOCK_TXS,
  txRootOf,
  zeroHash,
} from "../lib/block.js";
import { toHex } from "../lib/bytes.js";
import type { Commit } from "../lib/commit.js";
import { type Evidence, evidenceHash } from "../lib/evidence.js";
import { proposerFor, validatorSetHash } from "../lib/validator.js";
import { type Chain, ChainError, type ExecutedBlock } from "./chain.js";
import type { Mempool } from "./mempool.js";

export interface ProducerOptions {
  /** This validator's address: the header's proposer. */
  readonly proposer: Uint8Array;
  /** Evidence waiting for a block (the node's evidence pool); none by default. */
  readonly pendingEvidence?: () => readonly Evidence[];
  readonly maxBlockTxs?: number;
  readonly maxBlockBytes?: number;
  /** The chain's pace when healthy (config consensus.targetBlockTimeMs). */
  readonly targetBlockTimeMs?: bigint;
}

export const DEFAULT_TARGET_BLOCK_TIME_MS = 1000n;

export interface ProposedBlock {
  readonly bytes: Uint8Array;
  readonly block: Block;
  readonly executed: ExecutedBlock;
  /** Transactions left out because they broke the block; already dropped from the mempool. */
  readonly dropped: readonly Uint8Array[];
}

const ZERO_ROOT = zeroHash();

export class Producer {
  readonly #chain: Chain;
  readonly #mempool: Mempool;
  readonly #proposer: Uint8Array;
  readonly #pendingEvidence: () => readonly Evidence[];
  readonly #maxTxs: number;
  readonly #maxBytes: number;
  readonly targetBlockTimeMs: bigint;

  constructor(chain: Chain, mempool: Mempool, options: ProducerOptions) {
    this.#chain = chain;
    this.#mempool = mempool;
    this.#proposer = options.proposer;
    this.#pendingEvidence = options.pendingEvidence ?? (() => []);
    this.#maxTxs = Math.min(options.maxBlockTxs ?? MAX_BLOCK_TXS, MAX_BLOCK_TXS);
    this.#maxBytes = Math.min(options.maxBlockBytes ?? MAX_BLOCK_BYTES, MAX_BLOCK_BYTES);
    this.targetBlockTimeMs = options.targetBlockTimeMs ?? DEFAULT_TARGET_BLOCK_TIME_MS;
  }

  /**
   * When the next height's proposal is due: the head's time plus the target block time. The
   * consensus driver waits until then after a commit, so blocks come at the target pace while
   * the network keeps up and as fast as rounds allow when it does not.
   */
  nextBlockDue(): bigint {
    return this.#chain.head().header.time + this.targetBlockTimeMs;
  }

  /**
   * Builds, executes and encodes the proposal for (height, round) on the current head. Throws
   * ChainError NOT_NEXT if `height` is not head + 1 and NOT_PROPOSER if this validator is not
   * the proposer of (height, round). `lastCommit` defaults to the stored commit of the parent.
   */
  async buildProposal(
    height: bigint,
    round: number,
    time: bigint,
    lastCommit?: Commit,
  ): Promise<ProposedBlock> {
    const chain = this.#chain;
    const head = chain.head();
    if (height !== head.height + 1n) {
      throw new ChainError("NOT_NEXT", `cannot propose ${height} on the head at ${head.height}`);
    }
    const set = chain.validatorSetAt(height);
    if (toHex(proposerFor(set, height, round).address) !== toHex(this.#proposer)) {
      throw new ChainError("NOT_PROPOSER", `not the proposer of height ${height} round ${round}`);
    }
    const commit = height === 1n ? undefined : (lastCommit ?? chain.commitAt(head.height));
    if (height > 1n && commit === undefined) {
      throw new ChainError("UNKNOWN_HEIGHT", `no commit is stored for block ${head.height}`);
    }
    const evidence = this.#evidence(height);
    const shell: Block = {
      header: {
        version: chain.versionAt(height),
        chainId: chain.chainId,
        height,
        time: time > head.header.time ? time : head.header.time + 1n,
        parentHash: height === 1n ? zeroHash() : head.hash,
        proposer: this.#proposer,
        txRoot: ZERO_ROOT,
        stateRoot: ZERO_ROOT,
        receiptsRoot: ZERO_ROOT,
        validatorsHash: validatorSetHash(set),
        nextValidatorsHash: validatorSetHash(chain.validatorSetAt(height + 1n)),
        lastCommitHash: computeLastCommitHash(commit),
        evidenceHash: computeEvidenceHash(evidence),
      },
      txs: [],
      lastCommit: commit,
      evidence,
    };
    // What the block costs without transactions, plus room for the list's longer length prefix.
    const budget = this.#maxBytes - encodeBlock(shell).length - 8;
    const dropped: Uint8Array[] = [];
    // Each failed attempt removes its culprit from the mempool, so this ends.
    for (;;) {
      const txs = this.#mempool.reap(this.#maxTxs, budget);
      const template: Block = {
        ...shell,
        header: { ...shell.header, txRoot: txRootOf(txs.map((tx) => tx.id)) },
        txs: txs.map((tx) => tx.bytes),
      };
      const result = await chain.executeProposal(template, txs);
      if (result.ok) {
        const { executed } = result;
        return { bytes: executed.bytes, block: executed.block, executed, dropped };
      }
      const culprit = result.txIndex === undefined ? undefined : txs[result.txIndex];
      if (!culprit) throw new Error(`the proposal cannot be executed: ${result.message}`);
      dropped.push(culprit.id);
      this.#mempool.reject([culprit.id]);
    }
  }

  /** Pending evidence that a block at `height` may carry, deduplicated, within the limit. */
  #evidence(height: bigint): Evidence[] {
    const out: Evidence[] = [];
    const seen = new Set<string>();
    for (const evidence of this.#pendingEvidence()) {
      if (out.length >= MAX_BLOCK_EVIDENCE) break;
      const key = toHex(evidenceHash(evidence));
      if (seen.has(key) || this.#chain.checkEvidence(evidence, height)) continue;
      seen.add(key);
      out.push(evidence);
    }
    return out;
  }
}
