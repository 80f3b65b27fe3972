// The period settlement scheduler (DESIGN.md §6 "Bounded work"): the end-of-block job that runs
// the stages of vm/settlement/stages.ts for each utility and period that is due. Utilities go
// in key order; for each, every stage runs its periods in order, and a stage takes period k
// only once the stage before it has finished k and the block's time has reached the stage's
// instant in k's timeline. Work is bounded by limits.maxJobWorkPerBlock units per block, shared
// by all utilities and stages. Each (utility, stage) has one cursor in state — the period it
// is on, whether its `begin` is done, the next household index — written with the block, so a
// node that restarts from committed state resumes where the chain left off and no household is
// seen twice by a stage for one period.
import { bool, decode, type Infer, struct, u32, u64 } from "../../lib/codec.js";
import type { RejectCode } from "../codes.js";
import type { ExecutionContext, StateView } from "../context.js";
import { keys, PREFIX } from "../keys.js";
import { type Utility, UtilitySchema } from "../model/utility.js";
import { type Table, table, tables } from "../tables.js";
import type { EndBlockJob } from "../tx/registry.js";
import { periodRecord } from "./snapshot.js";
import type { PeriodStage, WorkBudget } from "./stage.js";
import { PERIOD_STAGES } from "./stages.js";

export const StageCursorSchema = struct("StageCursor", {
  /** The period the stage is on: it has finished every period before. */
  period: u64,
  begun: bool,
  /** The index of the next household of the utility to visit. */
  next: u32,
});
export type StageCursor = Infer<typeof StageCursorSchema>;

/** Utility ids have no '/', so these job names cannot collide. */
const originName = (utility: string) => `settlement/${utility}`;
const cursorName = (utility: string, stage: string) => `settlement/${utility}/${stage}`;

/** utility → the first period the scheduler settles for it. */
export const settlementOriginTable: Table<string, bigint> = table(
  "settlementOrigin",
  (utility) => keys.job(originName(utility)),
  u64,
);

/** (utility, stage name) → the stage's cursor. */
export const stageCursorTable: Table<readonly [utility: string, stage: string], StageCursor> =
  table(
    "stageCursor",
    ([utility, stage]) => keys.job(cursorName(utility, stage)),
    StageCursorSchema,
  );

/** The stage's cursor for the utility; undefined before the scheduler first saw the utility. */
export function stageCursor(
  view: StateView,
  utility: string,
  stage: string,
): StageCursor | undefined {
  const cursor = view.get(stageCursorTable, [utility, stage]);
  if (cursor) return cursor;
  const origin = view.get(settlementOriginTable, utility);
  return origin === undefined ? undefined : { period: origin, begun: false, next: 0 };
}

class BlockBudget implements WorkBudget {
  constructor(public remaining: number) {}

  take(units: number): boolean {
    if (units > this.remaining) return false;
    this.remaining -= units;
    return true;
  }
}

export function settlementJob(stages: readonly PeriodStage[] = PERIOD_STAGES): EndBlockJob {
  return { name: "settlement", run: (ctx) => runSettlement(ctx, stages) };
}

async function runSettlement(ctx: ExecutionContext, stages: readonly PeriodStage[]) {
  const now = ctx.currentPeriod();
  if (now === undefined) return;
  const ids: string[] = [];
  for (const [, bytes] of await ctx.scan(Uint8Array.of(PREFIX.utility))) {
    const utility = decode(UtilitySchema, bytes);
    // Until its first household registers, a utility has nothing to settle; from then on it
    // settles every period, starting with the one that household registered in.
    if (utility.status !== "active" || utility.householdCount === 0) continue;
    // The origin is written whatever the budget, so no period is left out.
    if (ctx.get(settlementOriginTable, utility.id) === undefined) {
      ctx.put(settlementOriginTable, utility.id, now);
    }
    ids.push(utility.id);
  }
  const budget = new BlockBudget(ctx.params.limits.maxJobWorkPerBlock);
  for (const id of ids) {
    for (const [i, stage] of stages.entries()) {
      const before = i === 0 ? undefined : stages[i - 1];
      const finishedBy = before && (() => stageCursor(ctx, id, before.name)?.period ?? 0n);
      if ((await runStage(ctx, id, stage, finishedBy, budget)) === "out-of-budget") return;
    }
  }
}

/** "waiting": a `begin` could not finish in this block; the stage resumes in the next. */
type StageOutcome = "idle" | "waiting" | "out-of-budget";

/**
 * Runs one stage of one utility through as many periods as are due. `finishedBy` gives the
 * first period the previous stage has not finished.
 */
async function runStage(
  ctx: ExecutionContext,
  utilityId: string,
  stage: PeriodStage,
  finishedBy: (() => bigint) | undefined,
  budget: BlockBudget,
): Promise<StageOutcome> {
  let cursor = stageCursor(ctx, utilityId, stage.name);
  if (!cursor) return "idle";
  const save = (c: StageCursor) => ctx.put(stageCursorTable, [utilityId, stage.name], c);
  while (isDue(ctx, utilityId, stage, cursor.period, finishedBy)) {
    const k: bigint = cursor.period;
    if (!cursor.begun) {
      const begin = stage.begin;
      if (begin) {
        let finished = true;
        const reason = await ctx.attempt(async (c) => {
          finished = await begin(c, freshUtility(c, utilityId), k, budget);
        });
        // A begin that met a bound is not retried (it would meet it again): the stage moves on.
        if (reason !== undefined) skipped(ctx, utilityId, stage, k, undefined, reason);
        else if (!finished) {
          save(cursor);
          return "waiting";
        }
      }
      cursor = { ...cursor, begun: true };
    }
    if (stage.household) {
      while (cursor.next < freshUtility(ctx, utilityId).householdCount) {
        if (!budget.take(1)) {
          save(cursor);
          return "out-of-budget";
        }
        const address = ctx.get(tables.householdIndex, [utilityId, cursor.next]);
        const household = address && ctx.get(tables.household, address);
        if (household) {
          const step = stage.household;
          const reason = await ctx.attempt((c) =>
            step(c, freshUtility(c, utilityId), k, household),
          );
          if (reason !== undefined) skipped(ctx, utilityId, stage, k, household.address, reason);
        }
        cursor = { ...cursor, next: cursor.next + 1 };
      }
    }
    cursor = { period: k + 1n, begun: false, next: 0 };
    save(cursor);
  }
  return "idle";
}

/**
 * A step that met a bound of the rules (a balance beyond the 64-bit range) had its writes
 * discarded: the stage goes on without it, so one household's absurd figures cannot halt the
 * chain, and this event shows auditors what was skipped.
 */
function skipped(
  ctx: ExecutionContext,
  utility: string,
  stage: PeriodStage,
  period: bigint,
  household: Uint8Array | undefined,
  reason: RejectCode,
): void {
  const value = { utility, stage: stage.name, period, household, reason };
  ctx.emit({ kind: "settlementStepSkipped", value });
}

function isDue(
  ctx: ExecutionContext,
  utilityId: string,
  stage: PeriodStage,
  k: bigint,
  finishedBy: (() => bigint) | undefined,
): boolean {
  if (!ctx.hasStarted(k)) return false;
  if (finishedBy && finishedBy() <= k) return false;
  if (stage.startsAt === "start") return true;
  const record = periodRecord(ctx, freshUtility(ctx, utilityId), k);
  return ctx.block.time >= record[stage.startsAt];
}

/** Stages may change the utility (penalties credit its balance): never hand on a stale copy. */
function freshUtility(ctx: ExecutionContext, id: string): Utility {
  const utility = ctx.get(tables.utility, id);
  if (!utility) throw new Error(`utility ${id} disappeared during settlement`);
  return utility;
}
