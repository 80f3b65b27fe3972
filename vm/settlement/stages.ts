// THE ordered list of stages that settle each (utility, period): the scheduler
// (vm/settlement/scheduler.ts) runs them in this order, each after the one before has finished
// the period and once the block's time reaches the stage's instant (vm/settlement/stage.ts).
import { finaliseStage } from "./finalise.js";
import { snapshotStage } from "./snapshot.js";
import type { PeriodStage } from "./stage.js";

export const PERIOD_STAGES: readonly PeriodStage[] = [snapshotStage, finaliseStage];
