// Trading windows (DESIGN.md §6 "Periods"): credits of period k trade in
// [end_k + readingGrace, end_k + readingGrace + tradingWindow), with k's policy snapshot.
//
// An order belongs to ONE window: the latest period whose window is open at the block's time.
// That period gives the order its price band ([floorPrice, penaltyPrice] of k's snapshot), the
// cap on its expiry (k's tradingEndsAt) and the statement its trades are booked to. Any vintage
// a household holds can be sold in it (oldest first, see locks.ts): credits are fungible within
// one utility's market, and windows of consecutive periods only overlap when a utility sets a
// trading window longer than a period.
import type { StateView } from "../context.js";
import type { Policy } from "../model/policy.js";
import type { Utility } from "../model/utility.js";
import { type PeriodTimeline, periodTimeline } from "../period.js";
import { periodPolicy } from "../settlement/snapshot.js";

export interface TradingWindow {
  readonly period: bigint;
  readonly policy: Policy;
  readonly timeline: PeriodTimeline;
}

/** How many periods back a window can still be open: more than any sane policy needs. */
const LOOKBACK = 8n;

export function windowOf(view: StateView, utility: Utility, k: bigint): TradingWindow {
  const policy = periodPolicy(view, utility, k);
  return { period: k, policy, timeline: periodTimeline(view.params.schedule, k, policy) };
}

/** The latest period whose trading window is open at the block's time, if any. */
export function openWindow(view: StateView, utility: Utility): TradingWindow | undefined {
  const now = view.currentPeriod();
  if (now === undefined) return undefined;
  const time = view.block.time;
  for (let k = now - 1n; k >= 0n && k >= now - LOOKBACK; k--) {
    const window = windowOf(view, utility, k);
    if (window.timeline.finalisesAt <= time && time < window.timeline.tradingEndsAt) return window;
  }
  return undefined;
}

/** The terms trading and transfers go by now: the open window's, else the current period's. */
export function marketPolicy(view: StateView, utility: Utility): Policy {
  const window = openWindow(view, utility);
  if (window) return window.policy;
  const now = view.currentPeriod();
  return now === undefined ? utility.policy : periodPolicy(view, utility, now);
}
