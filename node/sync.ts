// Block sync (DESIGN §5 "Followers"): a node that is behind — new, restarted, or a follower that
// missed gossip — learns its peers' heads from status messages and fetches the blocks it lacks
// by range, each with the commit that decided it. Every block is trusted only after its commit
// verifies against the validator set of its height (which the previous block's state names) and
// the block itself executes to the roots its header claims; then it is committed.
//
// Sync and consensus share the chain: whichever commits a height first wins, and the other one's
// NOT_NEXT is expected. The consensus driver follows every commit, so once sync has caught up
// it simply carries on at the next height — a validator votes, a follower keeps tracking.
import { equalBytes } from "../lib/bytes.js";
import { CodecError } from "../lib/codec.js";
import { type Commit, decodeCommit, verifyCommit } from "../lib/commit.js";
import { type Logger, silentLogger } from "../lib/log.js";
import { type Chain, ChainError } from "./chain.js";
import type { PeerNetwork } from "./consensus-driver.js";
import type { NodeMetrics } from "./metrics.js";
import {
  type BlocksByRangeRequest,
  type BlockWithCommit,
  MAX_BLOCKS_PER_REQUEST,
  type PeerIdStr,
  type Status,
} from "./p2p/index.js";

export interface SyncOptions {
  readonly chain: Chain;
  readonly network: PeerNetwork;
  readonly logger?: Logger;
  readonly metrics?: NodeMetrics;
  /** How often peers are asked for their status (0: never; statuses come only from events). */
  readonly pollIntervalMs?: number;
  /**
   * How long a peer may be exactly one block ahead before we fetch that block: consensus
   * usually commits it within moments, and fetching it would race the commit for nothing.
   */
  readonly graceMs?: number;
  /**
   * The lowest height this node serves: above 1 after a snapshot import, and rising as block
   * retention prunes old bodies (a function is read at each use).
   */
  readonly earliestHeight?: bigint | (() => bigint);
}

export const DEFAULT_SYNC_POLL_MS = 2000;
const DEFAULT_GRACE_MS = 3000;
const MAX_TRACKED_PEERS = 256;

/** Why a peer's blocks were refused. */
export type SyncRejection =
  | "MALFORMED_COMMIT"
  | "COMMIT_MISMATCH"
  | "BAD_COMMIT"
  | "INVALID_BLOCK"
  | "NOT_IN_ORDER";

export interface ApplyResult {
  /** Blocks committed from the response. */
  readonly committed: number;
  /** Set when the response had a block or commit that does not verify. */
  readonly rejected?: {
    readonly code: SyncRejection;
    readonly height: bigint;
    readonly message: string;
  };
}

export class Sync {
  readonly #chain: Chain;
  readonly #network: PeerNetwork;
  readonly #log: Logger;
  readonly #metrics: NodeMetrics | undefined;
  readonly #pollMs: number;
  readonly #graceMs: number;
  readonly #earliest: () => bigint;
  readonly #heights = new Map<PeerIdStr, bigint>();
  /** Peers' earliest served heights: a peer that pruned what we need is not asked for it. */
  readonly #earliestOf = new Map<PeerIdStr, bigint>();
  #behindSince: number | undefined;
  #running: Promise<number> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: SyncOptions) {
    this.#chain = options.chain;
    this.#network = options.network;
    this.#log = options.logger ?? silentLogger();
    this.#metrics = options.metrics;
    this.#pollMs = options.pollIntervalMs ?? DEFAULT_SYNC_POLL_MS;
    this.#graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    const earliest = options.earliestHeight ?? 1n;
    this.#earliest = typeof earliest === "function" ? earliest : () => earliest;
  }

  /** The best height peers report. */
  get targetHeight(): bigint {
    let best = this.#chain.head().height;
    for (const height of this.#heights.values()) if (height > best) best = height;
    return best;
  }

  /** Whether we are more than one block behind the best peer (or fetching). */
  get syncing(): boolean {
    return this.#running !== undefined || this.targetHeight > this.#chain.head().height + 1n;
  }

  /** Starts polling peers and catching up. */
  start(): void {
    if (this.#pollMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => void this.#tick(), this.#pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------
  // The network's side: statuses in, our status and blocks out.

  /** A peer's status (network "peer:status"); a peer far ahead starts a catch-up at once. */
  onStatus = (peer: PeerIdStr, status: Status): void => {
    if (!this.#heights.has(peer) && this.#heights.size >= MAX_TRACKED_PEERS) {
      const oldest = this.#heights.keys().next();
      if (!oldest.done) {
        this.#heights.delete(oldest.value);
        this.#earliestOf.delete(oldest.value);
      }
    }
    this.#heights.set(peer, status.latestHeight);
    this.#earliestOf.set(peer, status.earliestHeight);
    this.#metrics?.syncTargetHeight.set(Number(this.targetHeight));
    if (status.latestHeight > this.#chain.head().height + 1n) this.#catchUpLogged();
  };

  onDisconnected = (peer: PeerIdStr): void => {
    this.#heights.delete(peer);
    this.#earliestOf.delete(peer);
  };

  /** Our status, for the status method. */
  status = (): Status => {
    const head = this.#chain.head();
    return {
      latestHeight: head.height,
      latestHash: head.height === 0n ? new Uint8Array(32) : head.hash,
      earliestHeight: this.#earliest(),
    };
  };

  /**
   * The blocksByRange handler: stored blocks with their commits, in order, from the store. A
   * range starting below our earliest block gets nothing: the requester needs its start height,
   * and another peer may still hold it.
   */
  blocksByRange = (request: BlocksByRangeRequest): Iterable<BlockWithCommit> =>
    this.#blocks(request);

  *#blocks(request: BlocksByRangeRequest): Generator<BlockWithCommit> {
    const store = this.#chain.store;
    const head = this.#chain.head().height;
    const start = request.startHeight;
    if (start < this.#earliest()) return;
    const end = start + BigInt(request.count);
    for (let height = start; height < end && height <= head; height++) {
      const block = store.getBlock(height);
      const commit = store.getCommit(height);
      if (block === undefined || commit === undefined) return;
      yield { block, commit };
    }
  }

  // -------------------------------------------------------------------------------------------
  // Catching up.

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    await Promise.all(
      this.#network.connectedPeers().map((peer) =>
        this.#network.reqresp.status(peer).then(
          (status) => this.onStatus(peer, status),
          (error: unknown) => this.#log.debug({ err: error, peer }, "status request failed"),
        ),
      ),
    );
    const head = this.#chain.head().height;
    const target = this.targetHeight;
    if (target <= head) {
      this.#behindSince = undefined;
      return;
    }
    const now = performance.now();
    this.#behindSince ??= now;
    if (target > head + 1n || now - this.#behindSince >= this.#graceMs) this.#catchUpLogged();
  }

  #catchUpLogged(): void {
    this.catchUp().catch((error: unknown) => this.#log.error({ err: error }, "sync failed"));
  }

  /**
   * Fetches and commits blocks from the peers ahead of us until none is; resolves to the blocks
   * committed. Concurrent calls share one run.
   */
  catchUp(): Promise<number> {
    this.#running ??= this.#catchUp().finally(() => {
      this.#running = undefined;
      this.#behindSince = undefined;
    });
    return this.#running;
  }

  async #catchUp(): Promise<number> {
    let total = 0;
    const failed = new Set<PeerIdStr>();
    while (!this.#stopped) {
      const head = this.#chain.head().height;
      const peer = this.#bestPeer(head, failed);
      if (peer === undefined) break;
      const target = this.#heights.get(peer)!;
      const count = Number(
        target - head < BigInt(MAX_BLOCKS_PER_REQUEST) ? target - head : MAX_BLOCKS_PER_REQUEST,
      );
      let items: BlockWithCommit[];
      try {
        items = await this.#network.reqresp.blocksByRange(peer, {
          startHeight: head + 1n,
          count,
        });
      } catch (error) {
        this.#log.debug({ err: error, peer }, "blocksByRange failed");
        failed.add(peer);
        continue;
      }
      const result = await this.applyBlocks(items, head + 1n);
      total += result.committed;
      if (result.rejected) {
        this.#log.warn({ peer, ...result.rejected }, "peer served a block that does not verify");
        this.#network.penalize(peer, "invalidResponse");
        this.#heights.delete(peer);
        failed.add(peer);
      } else if (result.committed === 0 && this.#chain.head().height === head) {
        // It claims blocks it does not serve: ask someone else.
        failed.add(peer);
      }
      this.#metrics?.syncProgress.set(
        Number(this.#chain.head().height) / Math.max(1, Number(this.targetHeight)),
      );
    }
    if (total > 0) {
      this.#log.info({ blocks: total, height: this.#chain.head().height }, "synced");
    }
    return total;
  }

  #bestPeer(head: bigint, failed: ReadonlySet<PeerIdStr>): PeerIdStr | undefined {
    let best: PeerIdStr | undefined;
    let bestHeight = head;
    for (const [peer, height] of this.#heights) {
      const pruned = (this.#earliestOf.get(peer) ?? 1n) > head + 1n;
      if (height > bestHeight && !failed.has(peer) && !pruned) {
        best = peer;
        bestHeight = height;
      }
    }
    return best;
  }

  /**
   * Verifies and commits blocks served for heights from `startHeight`: each commit against the
   * set of its height first (cheap, and it certifies the block), then the block by executing it.
   * Stops at the first block that does not verify; blocks the chain already holds (consensus
   * committed them meanwhile) are skipped.
   */
  async applyBlocks(items: readonly BlockWithCommit[], startHeight: bigint): Promise<ApplyResult> {
    let committed = 0;
    for (const [i, item] of items.entries()) {
      const height = startHeight + BigInt(i);
      const reject = (code: SyncRejection, message: string): ApplyResult => ({
        committed,
        rejected: { code, height, message },
      });
      if (height <= this.#chain.head().height) continue;
      if (height !== this.#chain.head().height + 1n) return { committed };
      let commit: Commit;
      try {
        commit = decodeCommit(item.commit);
      } catch (error) {
        if (error instanceof CodecError) return reject("MALFORMED_COMMIT", error.message);
        throw error;
      }
      if (commit.height !== height) {
        return reject("NOT_IN_ORDER", `commit for ${commit.height} where ${height} was due`);
      }
      const check = verifyCommit(
        commit,
        this.#chain.validatorSetAt(height),
        this.#chain.chainId,
        this.#chain.consensusVerify,
      );
      if (!check.ok) return reject("BAD_COMMIT", `${check.code}: ${check.message}`);
      let verdict: Awaited<ReturnType<Chain["validateBlock"]>>;
      try {
        verdict = await this.#chain.validateBlock(item.block);
      } catch (error) {
        // Not the peer's fault: this node lacks what the check needs (a pruned validator set).
        if (!(error instanceof ChainError)) throw error;
        this.#log.error({ err: error, height }, "cannot verify the next block");
        return { committed };
      }
      if (!verdict.ok) {
        if (this.#chain.head().height >= height) continue;
        return reject("INVALID_BLOCK", `${verdict.code}: ${verdict.message}`);
      }
      if (!equalBytes(verdict.executed.hash, commit.blockHash)) {
        return reject("COMMIT_MISMATCH", "the commit decides another block");
      }
      try {
        await this.#chain.commitBlock(verdict.executed, commit);
        committed++;
      } catch (error) {
        if (error instanceof ChainError && error.code === "NOT_NEXT") continue;
        if (error instanceof ChainError) return reject("BAD_COMMIT", error.message);
        throw error;
      }
    }
    return { committed };
  }
}
