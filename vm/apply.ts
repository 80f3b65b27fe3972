// The block loop (DESIGN.md §3, §4): executes a block's transactions in order on an overlay of
// the committed state, then the end-of-block jobs, and returns the writes, receipts, events and
// validator-set update. Pure and deterministic: no clock, no randomness, no I/O beyond `state`.
//
// A transaction that fails a stateless check (chain id, signer key, type, payload, nonce) makes
// the block invalid. One refused by a state rule is included: its nonce is used, its writes are
// dropped with its child overlay, and its receipt carries the reject code.

import type { Evidence } from "../lib/evidence.js";
import type { TxBody } from "../lib/tx.js";
import { type Change, StateOverlay, type StateReader } from "../state/overlay.js";
import { Reject, type RejectCode } from "./codes.js";
import {
  type BlockContext,
  type BlockEnv,
  ExecutionContext,
  readParams,
  type ValidatorUpdate,
  type VerifiedSignatures,
} from "./context.js";
import type { Event } from "./event.js";
import { NEW_ACCOUNT } from "./model/account.js";
import { defaultRegistry } from "./modules.js";
import { BlockReadCache } from "./read-cache.js";
import { OK, type Receipt, rejected } from "./receipt.js";
import { tables } from "./tables.js";
import { decodeTxBody, nonceProblem } from "./tx/decode.js";
import { authoriseTx, executeTx, type HandlerRegistry } from "./tx/registry.js";

/** A transaction of the block: its id and body, its signature already verified by the host. */
export interface BlockTx {
  readonly id: Uint8Array;
  readonly body: TxBody;
}

export interface ApplyBlockInput {
  /** The committed state after the parent block. */
  readonly state: StateReader;
  readonly block: BlockContext;
  readonly txs: readonly BlockTx[];
  /** The block's evidence, verified by the host against the set in force at its height. */
  readonly evidence: readonly Evidence[];
  /** The rules to run; the chain's current modules unless a test or an upgrade says otherwise. */
  readonly registry?: HandlerRegistry;
  /**
   * Meter signatures of the block's oracle batches that the host verified in its worker pool;
   * the vm verifies any other inline, so the results are the same either way.
   */
  readonly verifiedSignatures?: VerifiedSignatures;
}

export interface AppliedBlock {
  readonly ok: true;
  /** The block's writes, to commit or drop; `changes` is its sorted effective diff. */
  readonly overlay: StateOverlay;
  readonly changes: Change[];
  /** One per transaction, in block order. */
  readonly receipts: Receipt[];
  /** Events of the end-of-block work; transactions' events are in their receipts. */
  readonly events: Event[];
  /** The set from height + 2, if this block changed it. */
  readonly validatorUpdate: ValidatorUpdate | undefined;
}

export interface InvalidBlock {
  readonly ok: false;
  readonly code: RejectCode;
  /** The offending transaction's index, or undefined for a fault of the block itself. */
  readonly txIndex: number | undefined;
  readonly message: string;
}

export async function applyBlock(input: ApplyBlockInput): Promise<AppliedBlock | InvalidBlock> {
  const registry = input.registry ?? defaultRegistry;
  // The committed state does not change while the block runs, so its overlay keeps what it read.
  const overlay = new StateOverlay(new BlockReadCache(input.state), { cacheReads: true });
  const params = readParams(input.state);
  if (input.block.chainId !== params.chainId) {
    return invalid("WRONG_CHAIN_ID", undefined, `the block is for chain ${input.block.chainId}`);
  }
  const env: BlockEnv = {
    block: input.block,
    params,
    evidence: input.evidence,
    householdCloseHooks: registry.householdCloseHooks,
    verifiedSignatures: input.verifiedSignatures,
    validatorUpdate: undefined,
  };

  const blockCtx = new ExecutionContext(overlay, env);
  const receipts: Receipt[] = [];
  for (const [index, { id, body }] of input.txs.entries()) {
    const decoded = decodeTxBody(registry, id, body, params.chainId);
    if (!decoded.ok) return invalid(decoded.code, index, decoded.message);
    const { tx, handler } = decoded;
    const account = blockCtx.get(tables.account, tx.signer) ?? NEW_ACCOUNT;
    const nonce = nonceProblem(tx.nonce, account.nonce, "exact");
    if (nonce) return invalid(nonce.code, index, nonce.message);
    // The nonce is used whatever the outcome, so it is written outside the child overlay.
    blockCtx.put(tables.account, tx.signer, { ...account, nonce: account.nonce + 1n });

    const child = overlay.child();
    const ctx = new ExecutionContext(child, env);
    let code: RejectCode | undefined;
    try {
      code = authoriseTx(handler, ctx, tx);
      if (code === undefined) {
        await executeTx(handler, ctx, tx);
        child.mergeIntoParent();
      }
    } catch (e) {
      if (!(e instanceof Reject)) throw e;
      code = e.code;
    }
    receipts.push(
      code === undefined
        ? { txId: id, outcome: OK, events: [...ctx.events], readingResults: ctx.readingResults }
        : { txId: id, outcome: rejected(code), events: [], readingResults: undefined },
    );
  }

  for (const job of registry.endBlockJobs) await job.run(blockCtx);

  return {
    ok: true,
    overlay,
    changes: overlay.changes(),
    receipts,
    events: [...blockCtx.events],
    validatorUpdate: env.validatorUpdate,
  };
}

function invalid(code: RejectCode, txIndex: number | undefined, message: string): InvalidBlock {
  return { ok: false, code, txIndex, message };
}
