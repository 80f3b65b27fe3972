// One table per rule of Algorithm 1 ("The latest gossip on BFT consensus"), with n = 4
// (quorum 3, skip threshold 2) unless a test says otherwise. proposer(1, r) = (1 + r) mod n, so
// with n = 4 the proposers of rounds 0..3 are 1, 2, 3, 0, and we are validator 0.
import t from "tap";
import { roundsAscending, tallyOf } from "../../consensus/message-log.js";
import { ConsensusConfigError, createConsensus } from "../../consensus/state.js";
import { step } from "../../consensus/step.js";
import { ConsensusInputError, type Input } from "../../consensus/types.js";
import { votesFor } from "../../consensus/vote-keeper.js";
import {
  feed,
  H,
  heightOf,
  precommit,
  prevote,
  proposal,
  type Run,
  show,
  started,
  timeout,
  value,
} from "./helpers.js";

const v1 = value(1);
const v2 = value(2);
const v3 = value(3);

function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ConsensusInputError || e instanceof ConsensusConfigError) return e.code;
    throw e;
  }
  return "none";
}

function then(run: Run, inputs: readonly Input[]): Run {
  return feed(run.state, inputs);
}

t.test("start-height: StartRound(0) (L10-21)", async (t) => {
  const follower = started(4, 0);
  t.same(show(follower.effects), [
    "new-round h1 r0 proposer=1 height-start",
    "timeout propose h1 r0 3000ms",
  ]);
  const h = heightOf(follower.state);
  t.equal(h.round, 0);
  t.equal(h.step, "propose");
  t.equal(h.locked, null);
  t.equal(h.valid, null);

  const proposer = started(4, 1);
  t.same(show(proposer.effects), [
    "new-round h1 r0 proposer=1 height-start",
    "get-value h1 r0",
    "timeout propose h1 r0 3000ms",
  ]);
  const built = then(proposer, [{ kind: "proposal-value", height: H, round: 0, valueId: v1 }]);
  t.same(show(built.effects), ["proposal h1 r0 v1 pol=-1", "prevote h1 r0 v1"]);
  const again = then(built, [{ kind: "proposal-value", height: H, round: 0, valueId: v2 }]);
  t.same(show(again.effects), [], "a second value is not proposed");
});

t.test("a single validator decides alone", async (t) => {
  const run = then(started(1, 0), [{ kind: "proposal-value", height: H, round: 0, valueId: v1 }]);
  t.same(show(run.effects), [
    "proposal h1 r0 v1 pol=-1",
    "prevote h1 r0 v1",
    "precommit h1 r0 v1",
    "decide h1 r0 v1 by 0",
  ]);
});

t.test("L22-27: a fresh proposal", async (t) => {
  const cases: Array<[string, Input, string[], string]> = [
    ["valid and timely", proposal(0, 1, v1), ["prevote h1 r0 v1"], "prevote"],
    ["invalid", proposal(0, 1, v1, { valid: false }), ["prevote h1 r0 nil"], "prevote"],
    [
      "not timely (DESIGN §5)",
      proposal(0, 1, v1, { timely: false }),
      ["prevote h1 r0 nil"],
      "prevote",
    ],
    ["from a validator that is not the proposer", proposal(0, 2, v1), [], "propose"],
    ["for another height", proposal(0, 1, v1, { height: 2n }), [], "propose"],
    [
      "with a proof-of-lock round not below its round",
      proposal(0, 1, v1, { polRound: 0 }),
      [],
      "propose",
    ],
    ["with a 31-byte value id", proposal(0, 1, v1.subarray(1)), [], "propose"],
  ];
  for (const [name, input, effects, stepAfter] of cases) {
    const run = then(started(), [input]);
    t.same(show(run.last), effects, name);
    t.equal(heightOf(run.state).step, stepAfter, `${name}: step`);
  }
  const twice = then(started(), [proposal(0, 1, v1), proposal(0, 1, v1, { valid: false })]);
  t.same(show(twice.last), [], "the rule fires once per round");
});

/** Locked on v1 in round 0, in round 1 (proposer 2) at step propose. */
function lockedOnV1(): Run {
  const run = then(started(), [
    proposal(0, 1, v1),
    prevote(0, 1, v1),
    prevote(0, 2, v1),
    timeout("precommit", 0),
  ]);
  const h = heightOf(run.state);
  if (h.locked === null || h.round !== 1) throw new Error("setup did not lock");
  return run;
}

t.test("L22-27: a fresh proposal while locked", async (t) => {
  const locked = lockedOnV1();
  t.same(heightOf(locked.state).locked, { round: 0, valueId: v1 });
  t.same(show(then(locked, [proposal(1, 2, v2)]).last), ["prevote h1 r1 nil"], "another value");
  t.same(show(then(locked, [proposal(1, 2, v1)]).last), ["prevote h1 r1 v1"], "the locked value");
});

t.test("L28-33: a proposal with a proof-of-lock round", async (t) => {
  // Round 0 ends with a polka for v2 that we missed; round 1 (proposer 2) re-proposes v2.
  const polka = [prevote(0, 1, v2), prevote(0, 2, v2), prevote(0, 3, v2)];
  const inRound1 = then(started(), [timeout("precommit", 0)]);
  const cases: Array<[string, Input[], string[]]> = [
    ["with the polka", [...polka, proposal(1, 2, v2, { polRound: 0 })], ["prevote h1 r1 v2"]],
    [
      "not held to the clock",
      [...polka, proposal(1, 2, v2, { polRound: 0, timely: false })],
      ["prevote h1 r1 v2"],
    ],
    [
      "invalid",
      [...polka, proposal(1, 2, v2, { polRound: 0, valid: false })],
      ["prevote h1 r1 nil"],
    ],
    [
      "waits for the polka, and asks for it",
      [proposal(1, 2, v2, { polRound: 0 })],
      ["wanted h1 r0 prevotes for v2"],
    ],
    [
      "the polka arrives last",
      [proposal(1, 2, v2, { polRound: 0 }), ...polka],
      ["prevote h1 r1 v2"],
    ],
  ];
  for (const [name, inputs, effects] of cases) {
    t.same(show(then(inRound1, inputs).last), effects, name);
  }
});

t.test("locking and unlocking (L28-33 with lockedRound)", async (t) => {
  // Locked on v1 in round 0; a polka for v2 in round 1 (which we saw only after leaving it)
  // lets round 2's proposer move us to v2: lockedRound 0 <= vr 1.
  const unlocked = then(lockedOnV1(), [
    timeout("propose", 1),
    timeout("prevote", 1),
    timeout("precommit", 1),
    prevote(1, 1, v2),
    prevote(1, 2, v2),
    prevote(1, 3, v2),
    proposal(2, 3, v2, { polRound: 1 }),
  ]);
  t.same(show(unlocked.last), ["prevote h1 r2 v2"], "lockedRound <= vr unlocks");

  // Locked on v1 in round 1; a polka for v2 from round 0 is older than the lock: stay locked.
  const lockedLater = then(started(), [
    prevote(0, 1, v2),
    prevote(0, 2, v2),
    prevote(0, 3, v2),
    timeout("propose", 0),
    timeout("prevote", 0),
    timeout("precommit", 0),
    proposal(1, 2, v1),
    prevote(1, 2, v1),
    prevote(1, 3, v1),
  ]);
  t.same(heightOf(lockedLater.state).locked, { round: 1, valueId: v1 });
  const stays = then(lockedLater, [timeout("precommit", 1), proposal(2, 3, v2, { polRound: 0 })]);
  t.same(show(stays.last), ["prevote h1 r2 nil"], "lockedRound > vr and another value");
  const same = then(lockedLater, [timeout("precommit", 1), proposal(2, 3, v1, { polRound: 1 })]);
  t.same(show(same.last), ["prevote h1 r2 v1"], "the locked value itself");
});

t.test("L34-35: 2f+1 prevotes for anything schedule the prevote timeout once", async (t) => {
  const run = then(started(), [proposal(0, 1, v1), prevote(0, 1, v2)]);
  t.same(show(run.last), [], "2 prevotes are not a quorum");
  const third = then(run, [prevote(0, 2, null)]);
  t.same(show(third.last), ["timeout prevote h1 r0 1000ms"]);
  t.same(show(then(third, [prevote(0, 3, null)]).last), [], "not again");
  const early = then(started(), [prevote(0, 1, v2), prevote(0, 2, null), prevote(0, 3, v1)]);
  t.same(show(early.last), [], "not while step = propose");
  t.same(show(then(early, [timeout("propose", 0)]).last), [
    "prevote h1 r0 nil",
    "timeout prevote h1 r0 1000ms",
  ]);
});

t.test("L36-43: a polka for the proposal", async (t) => {
  const run = then(started(), [proposal(0, 1, v1), prevote(0, 1, v1), prevote(0, 2, v1)]);
  t.same(show(run.last), ["precommit h1 r0 v1"], "lock and precommit at step prevote");
  const h = heightOf(run.state);
  t.same(h.locked, { round: 0, valueId: v1 });
  t.same(h.valid, { round: 0, valueId: v1 });
  t.equal(h.step, "precommit");
  t.same(show(then(run, [prevote(0, 3, v1)]).last), [], "for the first time only");

  const invalid = then(started(), [
    proposal(0, 1, v1, { valid: false }),
    prevote(0, 1, v1),
    prevote(0, 2, v1),
  ]);
  t.same(show(invalid.last), ["timeout prevote h1 r0 1000ms"], "not for an invalid value");
  t.equal(heightOf(invalid.state).locked, null);

  // At step precommit (after a prevote timeout) only validValue moves.
  const late = then(started(4, 2), [
    timeout("propose", 0),
    prevote(0, 1, v1),
    prevote(0, 3, v1),
    timeout("prevote", 0),
    proposal(0, 1, v1),
    prevote(0, 0, v1),
  ]);
  t.same(show(late.last), [], "no precommit at step precommit");
  t.equal(heightOf(late.state).locked, null);
  t.same(heightOf(late.state).valid, { round: 0, valueId: v1 });

  // validValue is what the next proposer (us, validator 2, in round 1) re-proposes (L15-16).
  const next = then(late, [timeout("precommit", 0)]);
  t.same(show(next.last), [
    "new-round h1 r1 proposer=2 precommit-timeout",
    "proposal h1 r1 v1 pol=0",
    "timeout propose h1 r1 3500ms",
    "prevote h1 r1 v1",
  ]);
});

t.test("L44-46: 2f+1 nil prevotes", async (t) => {
  const run = then(started(), [proposal(0, 1, v1), prevote(0, 1, null), prevote(0, 2, null)]);
  t.same(show(run.last), ["timeout prevote h1 r0 1000ms"]);
  const nil = then(run, [prevote(0, 3, null)]);
  t.same(show(nil.last), ["precommit h1 r0 nil"]);
  t.equal(heightOf(nil.state).step, "precommit");
  t.equal(heightOf(nil.state).locked, null);
});

t.test("L47-48: 2f+1 precommits for anything schedule the precommit timeout once", async (t) => {
  const run = then(started(), [precommit(0, 1, v1), precommit(0, 2, null)]);
  t.same(show(run.last), []);
  const third = then(run, [precommit(0, 3, v2)]);
  t.same(show(third.last), ["timeout precommit h1 r0 1000ms"], "at any step");
  t.same(show(then(third, [timeout("propose", 0), timeout("prevote", 0)]).effects), [
    "prevote h1 r0 nil",
    "precommit h1 r0 nil",
  ]);
});

t.test("L49-54: 2f+1 precommits for the proposal decide", async (t) => {
  const run = then(started(), [
    proposal(0, 1, v1),
    prevote(0, 1, v1),
    prevote(0, 2, v1),
    precommit(0, 3, v1),
  ]);
  t.same(show(run.last), []);
  const decided = then(run, [precommit(0, 1, v1)]);
  t.same(show(decided.last), ["decide h1 r0 v1 by 0,1,3"]);
  t.same(heightOf(decided.state).decision, { round: 0, valueId: v1, commit: [0, 1, 3] });
  t.same(show(then(decided, [timeout("precommit", 0), precommit(0, 2, v1)]).effects), [], "done");

  const invalid = then(started(), [
    proposal(0, 1, v1, { valid: false }),
    precommit(0, 1, v1),
    precommit(0, 2, v1),
    precommit(0, 3, v1),
  ]);
  t.same(show(invalid.last), ["timeout precommit h1 r0 1000ms"], "never an invalid value");
  t.equal(heightOf(invalid.state).decision, null);

  const past = then(started(), [
    timeout("precommit", 0),
    timeout("precommit", 1),
    precommit(1, 1, v2),
    precommit(1, 2, v2),
    precommit(1, 3, v2),
    proposal(1, 2, v2),
  ]);
  t.same(show(past.last), ["decide h1 r1 v2 by 1,2,3"], "in a round we have left");

  const ahead = then(started(), [precommit(2, 1, v2), precommit(2, 2, v2)]);
  t.same(show(ahead.last), [
    "wanted h1 r2 v2",
    "new-round h1 r2 proposer=3 round-skip",
    "timeout propose h1 r2 4000ms",
  ]);
  t.same(show(then(ahead, [precommit(2, 3, v2), proposal(2, 3, v2)]).last), [
    "decide h1 r2 v2 by 1,2,3",
  ]);
});

t.test("L55-56: f+1 senders in a higher round skip to it", async (t) => {
  const one = then(started(), [prevote(3, 2, v1), precommit(3, 2, v1)]);
  t.same(show(one.effects), [], "one sender, twice, is not f+1");
  t.equal(heightOf(one.state).round, 0);
  const two = then(one, [prevote(3, 1, null)]);
  t.same(show(two.last), [
    "new-round h1 r3 proposer=0 round-skip",
    "get-value h1 r3",
    "timeout propose h1 r3 4500ms",
  ]);
  const byProposal = then(started(), [proposal(2, 3, v1), prevote(2, 1, v1)]);
  t.same(
    show(byProposal.last),
    ["new-round h1 r2 proposer=3 round-skip", "timeout propose h1 r2 4000ms", "prevote h1 r2 v1"],
    "a proposal counts as a message and is then prevoted",
  );
  const lower = then(started(), [timeout("precommit", 0), timeout("precommit", 1)]);
  t.same(
    show(then(lower, [prevote(1, 1, v1), prevote(1, 2, v1)]).last),
    ["wanted h1 r1 v1"],
    "not lower rounds",
  );
});

t.test("L57-67: timeouts", async (t) => {
  const run = started();
  t.same(show(then(run, [timeout("propose", 0)]).last), ["prevote h1 r0 nil"], "L57-60");
  t.same(show(then(run, [timeout("propose", 1)]).last), [], "L58: another round");
  t.same(show(then(run, [proposal(0, 1, v1), timeout("propose", 0)]).last), [], "L58: step");
  t.same(show(then(run, [timeout("prevote", 0)]).last), [], "L62: step");
  const prevoted = then(run, [proposal(0, 1, v1)]);
  t.same(show(then(prevoted, [timeout("prevote", 0)]).last), ["precommit h1 r0 nil"], "L61-64");
  t.same(show(then(run, [{ kind: "timeout", step: "prevote", height: 2n, round: 0 }]).last), []);
  t.same(show(then(run, [timeout("precommit", 0)]).last), [
    "new-round h1 r1 proposer=2 precommit-timeout",
    "timeout propose h1 r1 3500ms",
  ]);
  t.same(show(then(run, [timeout("precommit", 2)]).last), [], "L66: another round");
});

t.test("round timeouts grow linearly", async (t) => {
  const run = then(started(), [
    timeout("precommit", 0),
    timeout("precommit", 1),
    timeout("precommit", 2),
    timeout("precommit", 3),
  ]);
  const durations = run.effects
    .filter((e) => e.kind === "schedule-timeout")
    .map((e) => (e.kind === "schedule-timeout" ? e.durationMs : 0n));
  t.same(durations, [3500n, 4000n, 4500n, 5000n]);
  const custom = started(4, 0, {
    timeouts: {
      propose: { baseMs: 10n, deltaMs: 7n },
      prevote: { baseMs: 20n, deltaMs: 5n },
      precommit: { baseMs: 30n, deltaMs: 3n },
    },
  });
  const later = then(custom, [
    timeout("precommit", 0),
    timeout("precommit", 1),
    timeout("propose", 2),
    prevote(2, 1, v1),
    prevote(2, 2, v1),
    precommit(2, 1, v1),
    precommit(2, 2, v1),
    precommit(2, 3, v1),
  ]);
  t.same(
    show(later.effects).filter((line) => line.startsWith("timeout")),
    [
      "timeout propose h1 r1 17ms",
      "timeout propose h1 r2 24ms",
      "timeout prevote h1 r2 30ms",
      "timeout precommit h1 r2 36ms",
    ],
  );
});

t.test("votes for future rounds are kept and counted", async (t) => {
  const run = then(started(), [proposal(1, 2, v1), prevote(1, 2, v1)]);
  t.same(show(run.effects), [], "one sender: no skip");
  const round1 = then(run, [timeout("precommit", 0)]);
  t.same(show(round1.last), [
    "new-round h1 r1 proposer=2 precommit-timeout",
    "timeout propose h1 r1 3500ms",
    "prevote h1 r1 v1",
  ]);
  t.same(show(then(round1, [prevote(1, 3, v1)]).last), ["precommit h1 r1 v1"], "counted");
});

t.test("each validator may hold at most maxFutureRounds rounds ahead", async (t) => {
  const run = then(started(4, 0, { maxFutureRounds: 2 }), [prevote(5, 3, v1), prevote(6, 3, v1)]);
  t.same(roundsAscending(heightOf(run.state).log), [5, 6]);
  const newer = then(run, [prevote(7, 3, v1)]);
  t.same(roundsAscending(heightOf(newer.state).log), [6, 7], "the lowest gives way");
  const older = then(newer, [prevote(4, 3, v1)]);
  t.equal(older.state, newer.state, "an older round is refused");
  const same = then(newer, [precommit(6, 3, v1)]);
  t.equal(votesFor(tallyOf(heightOf(same.state).log, 6, "precommit"), v1), 1, "same round ok");
  const other = then(newer, [prevote(4, 2, v1)]);
  t.same(roundsAscending(heightOf(other.state).log), [4, 6, 7], "quotas are per validator");
});

t.test("duplicate votes are ignored", async (t) => {
  const run = then(started(), [prevote(0, 1, v1)]);
  const again = step(run.state, prevote(0, 1, v1));
  t.equal(again.state, run.state);
  t.same(again.effects, []);
  t.equal(votesFor(tallyOf(heightOf(run.state).log, 0, "prevote"), v1), 1);
});

t.test("equivocation is reported once and the second vote is not counted", async (t) => {
  const run = then(started(), [prevote(0, 1, v2), prevote(0, 1, v1)]);
  t.same(show(run.last), ["equivocation 1 h1 r0 prevote v1/v2"], "canonical order");
  const tally = tallyOf(heightOf(run.state).log, 0, "prevote");
  t.equal(votesFor(tally, v2), 1);
  t.equal(votesFor(tally, v1), 0);
  t.same(show(then(run, [prevote(0, 1, null)]).last), [], "reported once");
  const nil = then(started(), [precommit(0, 2, v3), precommit(0, 2, null)]);
  t.same(show(nil.last), ["equivocation 2 h1 r0 precommit nil/v3"], "nil sorts first");
  const separate = then(run, [precommit(0, 1, v1), precommit(0, 1, v3)]);
  t.same(show(separate.last), ["equivocation 1 h1 r0 precommit v1/v3"], "per vote type");
  // The paper counts distinct senders: an equivocator's second vote counts for a value that
  // has a proposal (or f+1 other voters), and only there.
  const proposed = then(started(), [proposal(0, 1, v1), prevote(0, 1, null), prevote(0, 1, v1)]);
  t.same(show(proposed.last), ["equivocation 1 h1 r0 prevote nil/v1"]);
  t.same(show(then(proposed, [prevote(0, 2, v1)]).last), ["precommit h1 r0 v1"], "0, 1, 2");
  const unproposed = then(started(), [prevote(0, 1, null), prevote(0, 1, v1), prevote(0, 2, v1)]);
  t.equal(votesFor(tallyOf(heightOf(unproposed.state).log, 0, "prevote"), v1), 1, "not kept");
  t.same(
    show(then(unproposed, [prevote(0, 3, v1)]).last),
    ["wanted h1 r0 v1", "wanted h1 r0 prevotes for v1"],
    "f+1 voters: ask for the proposal and for the votes not kept",
  );
  const refetched = then(unproposed, [prevote(0, 3, v1), prevote(0, 1, v1)]);
  t.equal(votesFor(tallyOf(heightOf(refetched.state).log, 0, "prevote"), v1), 3, "kept now");
});

t.test("a follower tracks the decision without signing", async (t) => {
  const run = then(started(4, null), [
    proposal(0, 1, v1),
    prevote(0, 1, v1),
    prevote(0, 2, v1),
    prevote(0, 3, v1),
    precommit(0, 1, v1),
    precommit(0, 2, v1),
    precommit(0, 3, v1),
  ]);
  t.same(
    show(run.effects).filter(
      (line) => !line.startsWith("new-round") && !line.startsWith("timeout"),
    ),
    ["decide h1 r0 v1 by 1,2,3"],
  );
});

t.test("votes replayed from the WAL are never contradicted", async (t) => {
  const replayed = then(started(), [prevote(0, 0, null), proposal(0, 1, v1)]);
  t.same(show(replayed.last), [], "already prevoted nil in round 0");
  t.equal(heightOf(replayed.state).step, "prevote");
  const proposer = then(started(4, 1), [proposal(0, 1, v2)]);
  t.same(show(proposer.last), ["prevote h1 r0 v2"]);
  const built = then(proposer, [{ kind: "proposal-value", height: H, round: 0, valueId: v1 }]);
  t.same(show(built.last), [], "already proposed v2 in round 0");
});

t.test("start-height", async (t) => {
  const decided = then(started(4, null), [
    proposal(0, 1, v1),
    precommit(0, 1, v1),
    precommit(0, 2, v1),
    precommit(0, 3, v1),
  ]);
  const stale = step(decided.state, {
    kind: "start-height",
    height: H,
    validatorCount: 4,
    selfIndex: 0,
  });
  t.equal(stale.state, decided.state, "a height is never restarted");
  const next = step(decided.state, {
    kind: "start-height",
    height: 2n,
    validatorCount: 5,
    selfIndex: 4,
  });
  t.same(show(next.effects), [
    "new-round h2 r0 proposer=2 height-start",
    "timeout propose h2 r0 3000ms",
  ]);
  const h = heightOf(next.state);
  t.equal(h.decision, null);
  t.equal(h.validatorCount, 5);
  t.same(roundsAscending(h.log), []);
  t.same(show(step(next.state, precommit(0, 1, v1)).effects), [], "height 1 messages are ignored");

  const bad: Array<[Input, string]> = [
    [
      { kind: "start-height", height: 1n, validatorCount: 0, selfIndex: null },
      "BAD_VALIDATOR_COUNT",
    ],
    [{ kind: "start-height", height: 1n, validatorCount: 4, selfIndex: 4 }, "BAD_SELF_INDEX"],
    [{ kind: "start-height", height: -1n, validatorCount: 4, selfIndex: 0 }, "BAD_HEIGHT"],
  ];
  for (const [input, code] of bad)
    t.equal(
      errorCode(() => step(createConsensus(), input)),
      code,
    );
});

t.test("malformed votes are ignored", async (t) => {
  const run = started();
  const bad: Input[] = [
    prevote(0, 4, v1),
    prevote(-1, 1, v1),
    prevote(0.5, 1, v1),
    prevote(0, 1, v1.subarray(0, 31)),
    { ...prevote(0, 1, v1), type: "commit" as never },
  ];
  for (const input of bad) t.equal(step(run.state, input).state, run.state);
});

t.test("configuration is checked", async (t) => {
  const zero = { baseMs: 0n, deltaMs: 1n };
  const flat = { baseMs: 1n, deltaMs: 0n };
  const ok = { baseMs: 1n, deltaMs: 1n };
  for (const timeouts of [
    { propose: zero, prevote: ok, precommit: ok },
    { propose: ok, prevote: ok, precommit: flat },
  ]) {
    t.equal(
      errorCode(() => createConsensus({ timeouts })),
      "BAD_TIMEOUTS",
    );
  }
  t.equal(
    errorCode(() => createConsensus({ maxFutureRounds: 0 })),
    "BAD_MAX_FUTURE_ROUNDS",
  );
  t.equal(
    errorCode(() => createConsensus({ timeouts: { propose: ok, prevote: ok, precommit: ok } })),
    "none",
  );
});

t.test("step never changes the state it is given", async (t) => {
  const inputs: Input[] = [
    proposal(0, 1, v1),
    prevote(0, 1, v1),
    prevote(0, 1, v2),
    prevote(0, 2, v1),
    precommit(3, 2, v1),
    precommit(3, 3, v1),
    timeout("propose", 3),
  ];
  let state = started().state;
  for (const input of inputs) {
    const before = structuredClone(state);
    const first = step(state, input);
    t.same(state, before, `${input.kind} left its input as it was`);
    t.same(step(state, input), first, "and gives the same result again");
    state = first.state;
  }
  t.equal(heightOf(state).round, 3);
});
