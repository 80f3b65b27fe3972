// The transition function: (state, input) -> (state, effects), Algorithm 1 of "The latest
// gossip on BFT consensus" (Buchman, Kwon, Milosevic, 2018) with no timers, I/O or clock.
//
// An input first lands in the message log (or, for a timeout or the host's value, acts on the
// round at once); then every "upon" rule is tried, again and again, until none is enabled, so a
// rule that buffered messages enable fires as soon as the state lets it. Rules whose guard is
// not changed by their own action fire "for the first time" only, through RoundFlags.
//
// Where this differs from the paper, on purpose:
// - Moving to the next height is the host's: after decide the core ignores timeouts and stops
//   firing rules, and the host sends start-height once it has committed the block (L52-54).
// - Our own proposals and votes are counted as soon as they are emitted, as the paper's
//   broadcast delivers to the sender too; the host need not feed them back (duplicates are
//   ignored). If the host replays from its WAL a vote or proposal we signed before a restart,
//   the core never emits a different one for that round and type.
// - The proposer also schedules OnTimeoutPropose (L21): here getValue is asynchronous.
import { compareBytes, equalBytes } from "../lib/bytes.js";
import {
  addProposal,
  addVote,
  highestSkipRound,
  makeRoom,
  roundMessages,
  roundsAscending,
  tallyOf,
} from "./message-log.js";
import {
  type ConsensusConfig,
  type ConsensusState,
  freshRoundFlags,
  type HeightState,
  newHeight,
  type RoundFlags,
} from "./state.js";
import { timeoutDuration } from "./timeout.js";
import {
  ConsensusInputError,
  type DuplicateVote,
  type Effect,
  type Input,
  MAX_ROUND,
  type ProposalInput,
  type ProposalValueInput,
  type RoundCause,
  type StartHeightInput,
  type Step,
  type TimeoutInput,
  VALUE_ID_LENGTH,
  type ValueId,
  type VoteInput,
  type VoteType,
  type VoteValue,
} from "./types.js";
import { proposerIndex, quorum, skipThreshold } from "./validator-set.js";
import { votersFor, votesFor } from "./vote-keeper.js";

export interface StepResult {
  readonly state: ConsensusState;
  /** To be carried out in order: e.g. a proposal is signed and sent before our prevote for it. */
  readonly effects: readonly Effect[];
}

/**
 * Applies one input. Messages that are malformed, for another height, or beyond what the log
 * keeps are ignored (same state, no effects); a malformed start-height throws
 * ConsensusInputError, as only a broken host sends one.
 */
export function step(state: ConsensusState, input: Input): StepResult {
  if (input.kind === "start-height") return startHeight(state, input);
  const current = state.current;
  if (current === null || input.height !== current.height) return { state, effects: [] };
  const ctx: Context = { config: state.config, h: current, effects: [] };
  switch (input.kind) {
    case "proposal":
      onProposal(ctx, input);
      break;
    case "vote":
      onVote(ctx, input);
      break;
    case "timeout":
      onTimeout(ctx, input);
      break;
    case "proposal-value":
      onProposalValue(ctx, input);
      break;
  }
  if (ctx.h === current) return { state, effects: ctx.effects };
  applyRules(ctx);
  return { state: { ...state, current: ctx.h }, effects: ctx.effects };
}

/** The state being built by one step; `h` is replaced, never mutated. */
interface Context {
  readonly config: ConsensusConfig;
  h: HeightState;
  readonly effects: Effect[];
}

const isRound = (r: number): boolean => Number.isInteger(r) && r >= 0 && r <= MAX_ROUND;
const isIndex = (i: number, n: number): boolean => Number.isInteger(i) && i >= 0 && i < n;
const isValueId = (v: unknown): v is ValueId =>
  v instanceof Uint8Array && v.length === VALUE_ID_LENGTH;

function startHeight(state: ConsensusState, input: StartHeightInput): StepResult {
  const { height, validatorCount, selfIndex } = input;
  if (typeof height !== "bigint" || height < 0n) {
    throw new ConsensusInputError("BAD_HEIGHT", `bad height ${String(height)}`);
  }
  if (!Number.isSafeInteger(validatorCount) || validatorCount < 1) {
    throw new ConsensusInputError("BAD_VALIDATOR_COUNT", `bad validator count ${validatorCount}`);
  }
  if (selfIndex !== null && !isIndex(selfIndex, validatorCount)) {
    throw new ConsensusInputError("BAD_SELF_INDEX", `self index ${selfIndex} of ${validatorCount}`);
  }
  // Heights only move forward; a repeated start-height (a replayed WAL) changes nothing.
  if (state.current !== null && height <= state.current.height) return { state, effects: [] };
  const ctx: Context = {
    config: state.config,
    h: newHeight(height, validatorCount, selfIndex),
    effects: [],
  };
  // Alg.1 L10: upon start do StartRound(0)
  startRound(ctx, 0, "height-start");
  applyRules(ctx);
  return { state: { ...state, current: ctx.h }, effects: ctx.effects };
}

function onProposal(ctx: Context, p: ProposalInput): void {
  const { h } = ctx;
  const wellFormed =
    isRound(p.round) &&
    Number.isInteger(p.polRound) &&
    p.polRound >= -1 &&
    p.polRound < p.round &&
    isValueId(p.valueId) &&
    typeof p.valid === "boolean" &&
    typeof p.timely === "boolean";
  // Alg.1 L22, L28, L36, L49: only a PROPOSAL "from proposer(h_p, r)" counts.
  if (!wellFormed || p.proposer !== proposerIndex(h.height, p.round, h.validatorCount)) return;
  const room = makeRoomFor(ctx, p.proposer, p.round);
  if (room === null) return;
  const log = addProposal(room, p.round, p.proposer, {
    polRound: p.polRound,
    valueId: p.valueId,
    valid: p.valid,
    timely: p.timely,
  });
  if (log === null) return;
  ctx.h = { ...h, log };
  const polka =
    p.polRound < 0 ||
    votesFor(tallyOf(log, p.polRound, "prevote"), p.valueId) >= quorum(h.validatorCount);
  if (!polka) {
    const { height } = h;
    ctx.effects.push({
      kind: "votes-wanted",
      height,
      round: p.polRound,
      type: "prevote",
      valueId: p.valueId,
    });
  }
}

function onVote(ctx: Context, v: VoteInput): void {
  const { h } = ctx;
  const wellFormed =
    (v.type === "prevote" || v.type === "precommit") &&
    isRound(v.round) &&
    isIndex(v.validator, h.validatorCount) &&
    (v.valueId === null || isValueId(v.valueId));
  if (!wellFormed) return;
  const room = makeRoomFor(ctx, v.validator, v.round);
  if (room === null) return;
  const { log, outcome } = addVote(room, v.type, v.round, v.validator, v.valueId);
  if (outcome.kind === "ignored") return;
  ctx.h = { ...h, log };
  if (outcome.kind === "equivocation") {
    ctx.effects.push({ kind: "equivocation", evidence: duplicateVote(h.height, v, outcome.first) });
  }
  const { valueId, round, type } = v;
  const before = votesFor(tallyOf(room, round, type), valueId);
  const after = votesFor(outcome.tally, valueId);
  // When a value gets its f+1-th voter, a correct validator has its proposal, and any vote for
  // it that an equivocator sent earlier, and we did not keep, is now worth keeping.
  const threshold = skipThreshold(h.validatorCount);
  if (valueId === null || before >= threshold || after < threshold) return;
  const { height } = h;
  if (!roundMessages(log, round).proposals.some((p) => equalBytes(p.valueId, valueId))) {
    ctx.effects.push({ kind: "proposal-wanted", height, round, valueId });
  }
  const voters = votersFor(outcome.tally, valueId);
  if (outcome.tally.equivocators.some((e) => !voters.includes(e))) {
    ctx.effects.push({ kind: "votes-wanted", height, round, type, valueId });
  }
}

function makeRoomFor(ctx: Context, validator: number, round: number) {
  const { h } = ctx;
  return makeRoom(h.log, validator, round, h.round, ctx.config.maxFutureRounds, (r) =>
    proposerIndex(h.height, r, h.validatorCount),
  );
}

function duplicateVote(height: bigint, v: VoteInput, first: VoteValue): DuplicateVote {
  const order = (a: VoteValue, b: VoteValue): number =>
    a === null ? -1 : b === null ? 1 : compareBytes(a, b);
  const values: [VoteValue, VoteValue] =
    order(first, v.valueId) < 0 ? [first, v.valueId] : [v.valueId, first];
  return { validator: v.validator, height, round: v.round, type: v.type, values };
}

function onTimeout(ctx: Context, t: TimeoutInput): void {
  const { h } = ctx;
  if (h.decision !== null || t.round !== h.round) return;
  switch (t.step) {
    case "propose":
      // Alg.1 L57-60: OnTimeoutPropose — prevote nil if still waiting for a proposal.
      if (h.step !== "propose") return;
      castVote(ctx, "prevote", null);
      setStep(ctx, "prevote");
      return;
    case "prevote":
      // Alg.1 L61-64: OnTimeoutPrevote — precommit nil if no prevote quorum settled the round.
      if (h.step !== "prevote") return;
      castVote(ctx, "precommit", null);
      setStep(ctx, "precommit");
      return;
    case "precommit":
      // Alg.1 L65-67: OnTimeoutPrecommit — StartRound(round_p + 1).
      if (h.round === MAX_ROUND) return;
      startRound(ctx, h.round + 1, "precommit-timeout");
      return;
  }
}

function onProposalValue(ctx: Context, input: ProposalValueInput): void {
  const { h } = ctx;
  if (h.decision !== null || input.round !== h.round || !h.flags.awaitingValue) return;
  if (!isValueId(input.valueId)) return;
  // Alg.1 L18-19: proposal <- getValue(); broadcast PROPOSAL(h_p, round_p, proposal, -1)
  propose(ctx, input.valueId, -1);
}

// Alg.1 L11-21: StartRound(round)
function startRound(ctx: Context, round: number, cause: RoundCause): void {
  const { height, validatorCount, selfIndex } = ctx.h;
  const proposer = proposerIndex(height, round, validatorCount);
  ctx.h = { ...ctx.h, round, step: "propose", flags: freshRoundFlags }; // L12-13
  ctx.effects.push({ kind: "new-round", height, round, proposer, cause });
  const alreadyProposed = roundMessages(ctx.h.log, round).proposals.length > 0;
  if (proposer === selfIndex && !alreadyProposed) {
    const valid = ctx.h.valid;
    if (valid !== null) {
      propose(ctx, valid.valueId, valid.round); // L15-16, L19: re-propose validValue
    } else {
      ctx.effects.push({ kind: "get-value", height, round }); // L18
      setFlags(ctx, { awaitingValue: true });
    }
  }
  scheduleTimeout(ctx, "propose"); // L21
}

// Alg.1 L19: broadcast PROPOSAL(h_p, round_p, proposal, validRound_p)
function propose(ctx: Context, valueId: ValueId, polRound: number): void {
  const { height, round, selfIndex } = ctx.h;
  if (selfIndex === null) return;
  // We built it or saw a polka for it, and it is our own clock: valid and timely.
  const log = addProposal(ctx.h.log, round, selfIndex, {
    polRound,
    valueId,
    valid: true,
    timely: true,
  });
  setFlags(ctx, { awaitingValue: false });
  if (log === null) return; // we proposed before a restart; never propose anything else
  ctx.h = { ...ctx.h, log };
  ctx.effects.push({ kind: "broadcast-proposal", height, round, polRound, valueId });
}

function castVote(ctx: Context, type: VoteType, valueId: VoteValue): void {
  const { height, round, selfIndex } = ctx.h;
  if (selfIndex === null) return;
  const { log, outcome } = addVote(ctx.h.log, type, round, selfIndex, valueId);
  // Anything but "counted" means we signed a vote here before a restart: sign nothing else.
  if (outcome.kind !== "counted") return;
  ctx.h = { ...ctx.h, log };
  ctx.effects.push({ kind: "broadcast-vote", type, height, round, valueId });
}

function setStep(ctx: Context, step: Step): void {
  ctx.h = { ...ctx.h, step };
}

function setFlags(ctx: Context, flags: Partial<RoundFlags>): void {
  ctx.h = { ...ctx.h, flags: { ...ctx.h.flags, ...flags } };
}

function scheduleTimeout(ctx: Context, step: Step): void {
  const { height, round } = ctx.h;
  const durationMs = timeoutDuration(ctx.config.timeouts, step, round);
  ctx.effects.push({ kind: "schedule-timeout", step, height, round, durationMs });
}

/** Fires enabled rules until none is; decide and round skips first, as they end the round. */
function applyRules(ctx: Context): void {
  while (ctx.h.decision === null) {
    if (decideRule(ctx)) return;
    const fired =
      skipRoundRule(ctx) ||
      freshProposalRule(ctx) ||
      provenProposalRule(ctx) ||
      valuePolkaRule(ctx) ||
      nilPolkaRule(ctx) ||
      anyPolkaRule(ctx) ||
      anyPrecommitQuorumRule(ctx);
    if (!fired) return;
  }
}

function currentProposals(h: HeightState) {
  return roundMessages(h.log, h.round).proposals;
}

// Alg.1 L22-27: upon PROPOSAL(h_p, round_p, v, -1) from proposer(h_p, round_p) while
// step_p = propose: prevote id(v) if valid(v) ∧ (lockedRound_p = -1 ∨ lockedValue_p = v), else
// nil. DESIGN §5: a fresh proposal must also be timely to be prevoted.
function freshProposalRule(ctx: Context): boolean {
  const { h } = ctx;
  if (h.step !== "propose") return false;
  const p = currentProposals(h).find((proposal) => proposal.polRound === -1);
  if (p === undefined) return false;
  const acceptable =
    p.valid && p.timely && (h.locked === null || equalBytes(h.locked.valueId, p.valueId));
  castVote(ctx, "prevote", acceptable ? p.valueId : null); // L24 / L26
  setStep(ctx, "prevote"); // L27
  return true;
}

// Alg.1 L28-33: upon PROPOSAL(h_p, round_p, v, vr) from proposer(h_p, round_p) AND 2f+1
// PREVOTE(h_p, vr, id(v)) while step_p = propose ∧ (vr >= 0 ∧ vr < round_p): prevote id(v) if
// valid(v) ∧ (lockedRound_p <= vr ∨ lockedValue_p = v), else nil. A re-proposed value is not
// held to the clock (DESIGN §5).
function provenProposalRule(ctx: Context): boolean {
  const { h } = ctx;
  if (h.step !== "propose") return false;
  const q = quorum(h.validatorCount);
  const p = currentProposals(h).find(
    (proposal) =>
      proposal.polRound >= 0 &&
      votesFor(tallyOf(h.log, proposal.polRound, "prevote"), proposal.valueId) >= q,
  );
  if (p === undefined) return false;
  const acceptable =
    p.valid &&
    (h.locked === null || h.locked.round <= p.polRound || equalBytes(h.locked.valueId, p.valueId));
  castVote(ctx, "prevote", acceptable ? p.valueId : null); // L30 / L32
  setStep(ctx, "prevote"); // L33
  return true;
}

// Alg.1 L34-35: upon 2f+1 PREVOTE(h_p, round_p, *) while step_p = prevote for the first time:
// schedule OnTimeoutPrevote(h_p, round_p) after timeoutPrevote(round_p).
function anyPolkaRule(ctx: Context): boolean {
  const { h } = ctx;
  if (h.step !== "prevote" || h.flags.prevoteTimeoutScheduled) return false;
  if (tallyOf(h.log, h.round, "prevote").total < quorum(h.validatorCount)) return false;
  setFlags(ctx, { prevoteTimeoutScheduled: true });
  scheduleTimeout(ctx, "prevote");
  return true;
}

// Alg.1 L36-43: upon PROPOSAL(h_p, round_p, v, *) from proposer(h_p, round_p) AND 2f+1
// PREVOTE(h_p, round_p, id(v)) while valid(v) ∧ step_p >= prevote for the first time: if
// step_p = prevote, lock v and precommit it (L37-41); in any case validValue_p <- v (L42-43).
function valuePolkaRule(ctx: Context): boolean {
  const { h } = ctx;
  if (h.step === "propose" || h.flags.polkaSeen) return false;
  const prevotes = tallyOf(h.log, h.round, "prevote");
  const q = quorum(h.validatorCount);
  const p = currentProposals(h).find(
    (proposal) => proposal.valid && votesFor(prevotes, proposal.valueId) >= q,
  );
  if (p === undefined) return false;
  const value = { round: h.round, valueId: p.valueId };
  setFlags(ctx, { polkaSeen: true });
  if (h.step === "prevote") {
    ctx.h = { ...ctx.h, locked: value }; // L38-39
    castVote(ctx, "precommit", p.valueId); // L40
    setStep(ctx, "precommit"); // L41
  }
  ctx.h = { ...ctx.h, valid: value }; // L42-43
  return true;
}

// Alg.1 L44-46: upon 2f+1 PREVOTE(h_p, round_p, nil) while step_p = prevote: precommit nil.
function nilPolkaRule(ctx: Context): boolean {
  const { h } = ctx;
  if (h.step !== "prevote") return false;
  if (votesFor(tallyOf(h.log, h.round, "prevote"), null) < quorum(h.validatorCount)) return false;
  castVote(ctx, "precommit", null); // L45
  setStep(ctx, "precommit"); // L46
  return true;
}

// Alg.1 L47-48: upon 2f+1 PRECOMMIT(h_p, round_p, *) for the first time: schedule
// OnTimeoutPrecommit(h_p, round_p) after timeoutPrecommit(round_p).
function anyPrecommitQuorumRule(ctx: Context): boolean {
  const { h } = ctx;
  if (h.flags.precommitTimeoutScheduled) return false;
  if (tallyOf(h.log, h.round, "precommit").total < quorum(h.validatorCount)) return false;
  setFlags(ctx, { precommitTimeoutScheduled: true });
  scheduleTimeout(ctx, "precommit");
  return true;
}

// Alg.1 L49-54: upon PROPOSAL(h_p, r, v, *) from proposer(h_p, r) AND 2f+1 PRECOMMIT(h_p, r,
// id(v)) while decision_p[h_p] = nil: if valid(v), decide v. r is any round, ours or not.
function decideRule(ctx: Context): boolean {
  const { h } = ctx;
  const q = quorum(h.validatorCount);
  for (const r of roundsAscending(h.log)) {
    const { proposals, precommits } = roundMessages(h.log, r);
    const p = proposals.find(
      (proposal) => proposal.valid && votesFor(precommits, proposal.valueId) >= q,
    );
    if (p === undefined) continue;
    const commit = votersFor(precommits, p.valueId);
    ctx.h = { ...h, decision: { round: r, valueId: p.valueId, commit } }; // L50-51
    ctx.effects.push({ kind: "decide", height: h.height, round: r, valueId: p.valueId, commit });
    return true;
  }
  return false;
}

// Alg.1 L55-56: upon f+1 messages (h_p, round, *) with round > round_p: StartRound(round).
function skipRoundRule(ctx: Context): boolean {
  const round = highestSkipRound(ctx.h.log, ctx.h.round);
  if (round === null) return false;
  startRound(ctx, round, "round-skip");
  return true;
}
