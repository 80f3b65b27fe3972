// Round timeouts: timeoutPropose(r), timeoutPrevote(r), timeoutPrecommit(r) of the paper.
// Each grows linearly with the round, base + r * delta (DESIGN §5: never doubling): after the
// network stabilises, some round's timeouts exceed the real delays and that round decides,
// while a long outage does not leave validators waiting exponentially long once it ends.
import type { Step } from "./types.js";

export interface LinearTimeout {
  readonly baseMs: bigint;
  readonly deltaMs: bigint;
}

export interface TimeoutConfig {
  readonly propose: LinearTimeout;
  readonly prevote: LinearTimeout;
  readonly precommit: LinearTimeout;
}

/** CometBFT's defaults: proposing waits for a block to be built and gossiped, so it is longest. */
export const defaultTimeouts: TimeoutConfig = {
  propose: { baseMs: 3000n, deltaMs: 500n },
  prevote: { baseMs: 1000n, deltaMs: 500n },
  precommit: { baseMs: 1000n, deltaMs: 500n },
};

export function timeoutDuration(config: TimeoutConfig, step: Step, round: number): bigint {
  const { baseMs, deltaMs } = config[step];
  return baseMs + BigInt(round) * deltaMs;
}

/**
 * Why a configuration cannot be used, or undefined. A zero base would fire before any message
 * could arrive; a zero delta would never outgrow the network's delays, so no round might ever
 * decide.
 */
export function timeoutConfigProblem(config: TimeoutConfig): string | undefined {
  for (const step of ["propose", "prevote", "precommit"] as const) {
    const { baseMs, deltaMs } = config[step];
    if (baseMs < 1n) return `${step} timeout base must be at least 1 ms`;
    if (deltaMs < 1n) return `${step} timeout delta must be at least 1 ms`;
  }
  return undefined;
}
