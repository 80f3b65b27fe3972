// Governance proposals (DESIGN.md §6 "Governance"). The operator account of a utility with
// validators proposes or approves; its approval weighs as many validators as its utility has
// in the set in force. A proposal passes when the approving weight exceeds 2/3 of that set at
// the height where the deciding approval executes, and is enacted in that transaction. It can
// be approved up to proposalTtlBlocks after the block it was made in; then it expires.
import { readU64be } from "../../lib/bytes.js";
import { reject } from "../codes.js";
import type { ExecutionContext, StateView } from "../context.js";
import { PREFIX } from "../keys.js";
import type { Proposal } from "../model/governance.js";
import { tables } from "../tables.js";
import { defineHandler, type EndBlockJob } from "../tx/registry.js";
import { checkAction, enact } from "./actions.js";
import { readSchedule, setAt } from "./validator-set.js";

/** The utility the signer operates, if that utility has a validator in the set in force. */
function governingUtility(view: StateView, signer: Uint8Array): string | undefined {
  const id = view.get(tables.operator, signer);
  if (id === undefined || view.get(tables.utility, id)?.status !== "active") return undefined;
  const set = setAt(readSchedule(view), view.block.height);
  return set.some((v) => v.utility === id) ? id : undefined;
}

function authoriseGovernance(view: StateView, tx: { signer: Uint8Array }) {
  return governingUtility(view, tx.signer) === undefined ? "NOT_AUTHORISED" : undefined;
}

/** Approving validators in force, and the set's size. */
function tally(view: StateView, proposal: Proposal): { weight: number; setSize: number } {
  const set = setAt(readSchedule(view), view.block.height);
  const weight = set.filter((v) => proposal.approvals.includes(v.utility)).length;
  return { weight, setSize: set.length };
}

/** Records an approval; enacts and removes the proposal if it now passes. */
function approve(ctx: ExecutionContext, proposal: Proposal, utility: string, isNew: boolean): void {
  const approvals = [...proposal.approvals, utility].sort();
  const updated = { ...proposal, approvals };
  const { weight, setSize } = tally(ctx, updated);
  ctx.emit({ kind: "proposalApproved", value: { id: proposal.id, utility, weight, setSize } });
  if (3 * weight > 2 * setSize) {
    if (!isNew) {
      ctx.delete(tables.proposal, proposal.id);
      ctx.delete(tables.proposalExpiry, [proposal.expiresHeight, proposal.id]);
    }
    enact(ctx, proposal.action);
    ctx.emit({ kind: "proposalPassed", value: { id: proposal.id } });
    return;
  }
  ctx.put(tables.proposal, proposal.id, updated);
  if (isNew) ctx.put(tables.proposalExpiry, [proposal.expiresHeight, proposal.id], {});
}

export const proposeGovernance = defineHandler("proposeGovernance", {
  authorise: authoriseGovernance,
  execute(ctx, tx) {
    const utility = governingUtility(ctx, tx.signer) ?? reject("NOT_AUTHORISED");
    const { action } = tx.payload;
    checkAction(ctx, action);
    const expiresHeight = ctx.block.height + ctx.params.governance.proposalTtlBlocks;
    const proposal: Proposal = {
      id: tx.id,
      action,
      approvals: [],
      createdHeight: ctx.block.height,
      expiresHeight,
    };
    ctx.emit({
      kind: "proposalCreated",
      value: { id: tx.id, utility, action, expiresHeight },
    });
    approve(ctx, proposal, utility, true);
  },
});

export const approveGovernance = defineHandler("approveGovernance", {
  authorise: authoriseGovernance,
  execute(ctx, tx) {
    const utility = governingUtility(ctx, tx.signer) ?? reject("NOT_AUTHORISED");
    const proposal = ctx.need(tables.proposal, tx.payload.proposalId, "UNKNOWN_PROPOSAL");
    if (ctx.block.height > proposal.expiresHeight) reject("PROPOSAL_EXPIRED");
    if (proposal.approvals.includes(utility)) reject("ALREADY_APPROVED");
    approve(ctx, proposal, utility, false);
  },
});

/** Deletes proposals whose last approval height has passed, oldest first, a bounded number. */
export const proposalExpiryJob: EndBlockJob = {
  name: "proposal-expiry",
  async run(ctx) {
    const due = await ctx.scan(Uint8Array.of(PREFIX.proposalExpiry), {
      limit: ctx.params.limits.maxJobWorkPerBlock,
    });
    for (const [key] of due) {
      // Key: prefix (1) ‖ expiresHeight (8) ‖ proposal id (32).
      const expiresHeight = readU64be(key, 1);
      if (expiresHeight > ctx.block.height) break;
      const id = key.slice(9);
      ctx.delete(tables.proposalExpiry, [expiresHeight, id]);
      ctx.delete(tables.proposal, id);
      ctx.emit({ kind: "proposalExpired", value: { id } });
    }
  },
};
