// The devnet's live status: one request per node per second to its GET /status, rendered as one
// line — height, validators up, and the current period's phase with a progress bar.
import type { NodeStatus } from "../node/node.js";
import {
  type FixedSchedule,
  fixedSchedule,
  periodOf,
  periodTimeline,
  phaseAt,
} from "../vm/period.js";
import type { DevnetNode } from "./supervisor.js";

export async function fetchStatus(node: DevnetNode): Promise<NodeStatus | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${node.metricsPort}/status`, {
      signal: AbortSignal.timeout(800),
    });
    return response.ok ? ((await response.json()) as NodeStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** What the status line needs of the genesis: the period schedule and the phase durations. */
export interface PeriodClock {
  readonly schedule: FixedSchedule;
  readonly readingGrace: bigint;
  readonly tradingWindow: bigint;
}

export function periodClock(genesis: {
  periods: { startMs: string; lengthMs: string; genesisMonth: number };
  utilities: Array<{ policy: { readingGrace: string; tradingWindow: string } }>;
}): PeriodClock {
  const { startMs, lengthMs, genesisMonth } = genesis.periods;
  const policy = genesis.utilities[0]!.policy;
  return {
    schedule: fixedSchedule(BigInt(startMs), BigInt(lengthMs), genesisMonth),
    readingGrace: BigInt(policy.readingGrace),
    tradingWindow: BigInt(policy.tradingWindow),
  };
}

const BAR = 20;

/** Market figures read from the follower's RPC; each is shown only when known. */
export interface MarketFigures {
  readonly readings?: bigint;
  readonly orders?: bigint;
  /** Micro-units per Wh. */
  readonly lastClearingPrice?: bigint;
}

export function renderStatus(
  nodes: readonly DevnetNode[],
  statuses: readonly (NodeStatus | undefined)[],
  clock: PeriodClock,
  now: bigint,
  market: MarketFigures = {},
): string {
  const validators = nodes.filter((n) => n.role === "validator").length;
  const up = statuses.filter((s, i) => s !== undefined && nodes[i]!.role === "validator").length;
  const height = Math.max(0, ...statuses.map((s) => s?.height ?? 0));
  const follower = statuses[nodes.findIndex((n) => n.role === "follower")];
  const parts = [
    `height ${height}`,
    `validators ${up}/${validators}`,
    `follower ${follower ? (follower.syncing ? "syncing" : `at ${follower.height}`) : "down"}`,
  ];
  const k = periodOf(clock.schedule, now);
  if (k === undefined) {
    parts.push("period 0 starts soon");
  } else {
    const durations = { readingGrace: clock.readingGrace, tradingWindow: clock.tradingWindow };
    const { start, end } = periodTimeline(clock.schedule, k, durations);
    const filled = Number(((now - start) * BigInt(BAR)) / (end - start));
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR - filled)}`;
    const previous =
      k > 0n ? ` | period ${k - 1n} ${phaseAt(clock.schedule, k - 1n, now, durations)}` : "";
    parts.push(`period ${k} ${phaseAt(clock.schedule, k, now, durations)} ${bar}${previous}`);
  }
  if (market.readings !== undefined) parts.push(`readings ${market.readings}`);
  if (market.orders !== undefined) parts.push(`orders ${market.orders}`);
  if (market.lastClearingPrice !== undefined) parts.push(`clearing ${market.lastClearingPrice}`);
  return parts.join(" | ");
}
