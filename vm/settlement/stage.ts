// The stages that settle a period, for one utility. After period k's readings are final, each
// utility's households go through the same stages in order — finalise, place standing orders,
// close the market, compliance, expiry — each through one resumable cursor with a bounded
// amount of work per block (DESIGN.md §6 "Bounded work"), so no block's execution grows with
// the number of households or orders.
import type { ExecutionContext } from "../context.js";
import type { Household } from "../model/household.js";
import type { Utility } from "../model/utility.js";

/**
 * The instant of period k's timeline from which a stage may run (vm/period.ts periodTimeline):
 * `start` for the snapshot taken as the period begins, the others for settlement.
 */
export type StageStart = "start" | "finalisesAt" | "tradingEndsAt";

/**
 * The work a block may still do. Every unit is about one household or one order touched; the
 * block's budget comes from the genesis limits, shared by all stages in order.
 */
export interface WorkBudget {
  readonly remaining: number;
  /** Takes `units` if that many remain; false (and nothing taken) otherwise. */
  take(units: number): boolean;
}

/**
 * One stage of settling (utility, k). A stage starts once the previous stage has finished for
 * (utility, k) and the block's time has reached its start; it is finished once `begin` has
 * returned true (if it has one) and `household` (if it has one) has run for every household of
 * the utility in index order. The scheduler keeps the cursor in state, so a stage never sees a
 * household twice for one period, even across blocks and restarts.
 */
export interface PeriodStage {
  /** Stable: it is part of the cursor's state key. */
  readonly name: string;
  readonly startsAt: StageStart;
  /** Work done once for (utility, k) before the households; may span blocks, within budget. */
  begin?(ctx: ExecutionContext, utility: Utility, k: bigint, budget: WorkBudget): Promise<boolean>;
  /** Work for one household, costing one unit of the budget (taken by the scheduler). */
  household?(
    ctx: ExecutionContext,
    utility: Utility,
    k: bigint,
    household: Household,
  ): Promise<void>;
}
