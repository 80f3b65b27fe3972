// The consensus core's state: the paper's variables (Alg.1 L2-9) for the height in progress,
// plus the message log and the per-round "for the first time" flags. Everything is immutable:
// step() returns a new state and leaves the one it was given as it was.
import { emptyLog, type MessageLog } from "./message-log.js";
import { defaultTimeouts, type TimeoutConfig, timeoutConfigProblem } from "./timeout.js";
import type { Step, ValueId } from "./types.js";

export interface ConsensusConfig {
  readonly timeouts: TimeoutConfig;
  /** How many rounds above its own the core keeps messages for, per sender (message-log.ts). */
  readonly maxFutureRounds: number;
}

export const defaultConsensusConfig: ConsensusConfig = {
  timeouts: defaultTimeouts,
  maxFutureRounds: 2,
};

/** lockedValue/lockedRound and validValue/validRound: both set or both unset (-1 and nil). */
export interface RoundValue {
  readonly round: number;
  readonly valueId: ValueId;
}

export interface Decision {
  readonly round: number;
  readonly valueId: ValueId;
  readonly commit: readonly number[];
}

/** Reset by every StartRound. */
export interface RoundFlags {
  /** Alg.1 L34 has fired in this round. */
  readonly prevoteTimeoutScheduled: boolean;
  /** Alg.1 L47 has fired in this round. */
  readonly precommitTimeoutScheduled: boolean;
  /** Alg.1 L36 has fired in this round. */
  readonly polkaSeen: boolean;
  /** We are this round's proposer and asked the host for a value it has not yet given. */
  readonly awaitingValue: boolean;
}

export const freshRoundFlags: RoundFlags = {
  prevoteTimeoutScheduled: false,
  precommitTimeoutScheduled: false,
  polkaSeen: false,
  awaitingValue: false,
};

export interface HeightState {
  readonly height: bigint;
  readonly validatorCount: number;
  /** Our index in the height's validator set; null for a follower, which never signs. */
  readonly selfIndex: number | null;
  readonly round: number;
  readonly step: Step;
  readonly locked: RoundValue | null;
  readonly valid: RoundValue | null;
  readonly decision: Decision | null;
  readonly flags: RoundFlags;
  readonly log: MessageLog;
}

export interface ConsensusState {
  readonly config: ConsensusConfig;
  /** null until the first start-height input. */
  readonly current: HeightState | null;
}

export type ConsensusConfigErrorCode = "BAD_TIMEOUTS" | "BAD_MAX_FUTURE_ROUNDS";

export class ConsensusConfigError extends Error {
  override name = "ConsensusConfigError";
  constructor(
    readonly code: ConsensusConfigErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A core with no height yet; throws ConsensusConfigError for an unusable configuration. */
export function createConsensus(config: Partial<ConsensusConfig> = {}): ConsensusState {
  const full: ConsensusConfig = { ...defaultConsensusConfig, ...config };
  const problem = timeoutConfigProblem(full.timeouts);
  if (problem !== undefined) throw new ConsensusConfigError("BAD_TIMEOUTS", problem);
  // Without a future round no round skip (L55) could ever be seen.
  if (!Number.isSafeInteger(full.maxFutureRounds) || full.maxFutureRounds < 1) {
    throw new ConsensusConfigError("BAD_MAX_FUTURE_ROUNDS", "maxFutureRounds must be at least 1");
  }
  return { config: full, current: null };
}

export function newHeight(
  height: bigint,
  validatorCount: number,
  selfIndex: number | null,
): HeightState {
  return {
    height,
    validatorCount,
    selfIndex,
    round: 0,
    step: "propose",
    locked: null,
    valid: null,
    decision: null,
    flags: freshRoundFlags,
    log: emptyLog(validatorCount),
  };
}
