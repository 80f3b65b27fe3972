// Evidence waiting for a block (DESIGN §5): duplicate votes this node saw or was gossiped,
// checked against the chain before they are kept. The pool is bounded; an entry leaves once a
// committed block includes it or once it is too old for any block to carry it. Hashes of
// included evidence are remembered (bounded too) so a late gossiped copy is not kept again.
import { toHex } from "../lib/bytes.js";
import { type Evidence, evidenceHash } from "../lib/evidence.js";
import type { Chain, CommittedBlock } from "./chain.js";
import { MAX_EVIDENCE_AGE } from "./chain.js";

export const DEFAULT_MAX_PENDING_EVIDENCE = 256;
const MAX_REMEMBERED_INCLUDED = 4096;

export type EvidenceAddResult =
  | { readonly ok: true; readonly added: boolean }
  | { readonly ok: false; readonly code: string; readonly message: string };

export class EvidencePool {
  readonly #chain: Chain;
  readonly #max: number;
  /** By evidence hash, in arrival order. */
  readonly #pending = new Map<string, Evidence>();
  readonly #included = new Set<string>();

  constructor(chain: Chain, maxPending = DEFAULT_MAX_PENDING_EVIDENCE) {
    this.#chain = chain;
    this.#max = maxPending;
  }

  get size(): number {
    return this.#pending.size;
  }

  /**
   * Keeps evidence a coming block may carry. `added` is false for evidence already pending
   * or included; an invalid one is refused with the chain's reason.
   */
  add(evidence: Evidence): EvidenceAddResult {
    const key = toHex(evidenceHash(evidence));
    if (this.#pending.has(key) || this.#included.has(key)) return { ok: true, added: false };
    // Evidence of the height being decided can go in the block after it, not in that one.
    const next = this.#chain.head().height + 1n;
    const at = evidence.value.voteA.vote.height;
    const problem = this.#chain.checkEvidence(evidence, at < next ? next : at + 1n);
    if (problem)
      return { ok: false, code: problem.reason ?? problem.code, message: problem.message };
    if (this.#pending.size >= this.#max) {
      // The oldest goes first: it is the nearest to ageing out anyway.
      const oldest = this.#pending.keys().next();
      if (!oldest.done) this.#pending.delete(oldest.value);
    }
    this.#pending.set(key, evidence);
    return { ok: true, added: true };
  }

  /** What the producer may put in the next block, oldest first. */
  pending(): Evidence[] {
    return [...this.#pending.values()];
  }

  /** After a commit: drops what the block included and what no later block may carry. */
  update(committed: Pick<CommittedBlock, "block" | "height">): void {
    for (const evidence of committed.block.evidence) {
      const key = toHex(evidenceHash(evidence));
      this.#pending.delete(key);
      if (this.#included.size >= MAX_REMEMBERED_INCLUDED) {
        const oldest = this.#included.values().next();
        if (!oldest.done) this.#included.delete(oldest.value);
      }
      this.#included.add(key);
    }
    const next = committed.height + 1n;
    for (const [key, evidence] of this.#pending) {
      if (next - evidence.value.voteA.vote.height > MAX_EVIDENCE_AGE) this.#pending.delete(key);
    }
  }
}
