// Builders for consensus inputs and a readable view of effects, shared by the consensus tests.

import {
  type ConsensusConfig,
  type ConsensusState,
  createConsensus,
} from "../../consensus/state.js";
import { step } from "../../consensus/step.js";
import type {
  Effect,
  Input,
  ProposalInput,
  Step,
  ValueId,
  VoteInput,
  VoteType,
  VoteValue,
} from "../../consensus/types.js";
import { toHex } from "../../lib/bytes.js";

/** A 32-byte value id whose every byte is `b`; shown as `v<b>`. */
export function value(b: number): ValueId {
  return new Uint8Array(32).fill(b);
}

export function label(id: VoteValue): string {
  if (id === null) return "nil";
  const same = id.every((x) => x === id[0]);
  return same ? `v${id[0]}` : toHex(id).slice(0, 8);
}

export const H = 1n;

export function vote(
  type: VoteType,
  round: number,
  validator: number,
  valueId: VoteValue,
  height = H,
): VoteInput {
  return { kind: "vote", type, height, round, valueId, validator };
}

export const prevote = (round: number, validator: number, valueId: VoteValue) =>
  vote("prevote", round, validator, valueId);
export const precommit = (round: number, validator: number, valueId: VoteValue) =>
  vote("precommit", round, validator, valueId);

export function proposal(
  round: number,
  proposer: number,
  valueId: ValueId,
  options: { polRound?: number; valid?: boolean; timely?: boolean; height?: bigint } = {},
): ProposalInput {
  return {
    kind: "proposal",
    height: options.height ?? H,
    round,
    polRound: options.polRound ?? -1,
    valueId,
    proposer,
    valid: options.valid ?? true,
    timely: options.timely ?? true,
  };
}

export function timeout(stepName: Step, round: number): Input {
  return { kind: "timeout", step: stepName, height: H, round };
}

/** One line per effect, values by label: easy to compare and to read in a failure. */
export function show(effects: readonly Effect[]): string[] {
  return effects.map(describe);
}

function describe(e: Effect): string {
  switch (e.kind) {
    case "new-round":
      return `new-round h${e.height} r${e.round} proposer=${e.proposer} ${e.cause}`;
    case "get-value":
      return `get-value h${e.height} r${e.round}`;
    case "broadcast-proposal":
      return `proposal h${e.height} r${e.round} ${label(e.valueId)} pol=${e.polRound}`;
    case "broadcast-vote":
      return `${e.type} h${e.height} r${e.round} ${label(e.valueId)}`;
    case "schedule-timeout":
      return `timeout ${e.step} h${e.height} r${e.round} ${e.durationMs}ms`;
    case "proposal-wanted":
      return `wanted h${e.height} r${e.round} ${label(e.valueId)}`;
    case "votes-wanted":
      return `wanted h${e.height} r${e.round} ${e.type}s for ${label(e.valueId)}`;
    case "decide":
      return `decide h${e.height} r${e.round} ${label(e.valueId)} by ${e.commit.join(",")}`;
    case "equivocation": {
      const { validator, height, round, type, values } = e.evidence;
      return `equivocation ${validator} h${height} r${round} ${type} ${values.map(label).join("/")}`;
    }
  }
}

export interface Run {
  readonly state: ConsensusState;
  /** Effects of every input, in order. */
  readonly effects: Effect[];
  /** Effects of the last input only. */
  readonly last: readonly Effect[];
}

/** Feeds `inputs` in order to `state`. */
export function feed(state: ConsensusState, inputs: readonly Input[]): Run {
  let s = state;
  const effects: Effect[] = [];
  let last: readonly Effect[] = [];
  for (const input of inputs) {
    const r = step(s, input);
    s = r.state;
    last = r.effects;
    effects.push(...r.effects);
  }
  return { state: s, effects, last };
}

/**
 * A core at height 1 of `n` validators (round 0's proposer is 1 % n), started, with `self` as
 * our index (0 by default: not the proposer of round 0).
 */
export function started(
  n = 4,
  self: number | null = 0,
  config: Partial<ConsensusConfig> = {},
): Run {
  return feed(createConsensus(config), [
    { kind: "start-height", height: H, validatorCount: n, selfIndex: self },
  ]);
}

/** The core's height state; fails the test loudly if there is none. */
export function heightOf(state: ConsensusState) {
  if (state.current === null) throw new Error("no height started");
  return state.current;
}
