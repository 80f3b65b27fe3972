// THE ordered list of stages that settle each (utility, period): the scheduler
// (vm/settlement/scheduler.ts) runs them in this order, each after the one before has finished
// the period and once the block's time reaches the stage's instant (vm/settlement/stage.ts).
import { complianceStage } from "../trading/compliance.js";
import { vintageExpiryStage } from "../trading/expiry.js";
import { paperClearingStage } from "../trading/paper.js";
import { marketOpenStage } from "../trading/standing.js";
import { finaliseStage } from "./finalise.js";
import { snapshotStage } from "./snapshot.js";
import type { PeriodStage } from "./stage.js";

export const PERIOD_STAGES: readonly PeriodStage[] = [
  snapshotStage,
  finaliseStage,
  // vm/trading: owed obligations, rebates and standing orders right after finalisation; at the
  // window's close the `paper` clearing, then compliance, then the expiry of old vintages.
  marketOpenStage,
  paperClearingStage,
  complianceStage,
  vintageExpiryStage,
];
