// Whole networks of cores (network.ts) under seeded delays, reorderings and losses: agreement
// always, termination once the network stabilises (with f Byzantine nodes too, as the hosts
// relay, serve certificates and answer proposal-wanted and votes-wanted), and the same decision
// for any delivery order.
import assert from "node:assert/strict";
import fc from "fast-check";
import t from "tap";
import { type ConsensusState, createConsensus } from "../../consensus/state.js";
import { step } from "../../consensus/step.js";
import type { Input } from "../../consensus/types.js";
import { maxFaulty } from "../../consensus/validator-set.js";
import { toHex } from "../../lib/bytes.js";
import { type Message, type NetworkResult, random, runNetwork } from "./network.js";

const HEIGHTS = 3;

/** Every height's decision, by the honest nodes that made one; throws on disagreement. */
function agreed(result: NetworkResult): Map<bigint, string> {
  const byHeight = new Map<bigint, string>();
  for (const i of result.honest) {
    for (const [height, value] of result.decisions.get(i)!) {
      const other = byHeight.get(height);
      assert.ok(other === undefined || other === value, `node ${i} disagrees at height ${height}`);
      byHeight.set(height, value);
    }
  }
  return byHeight;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rand = random(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rand(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A follower at height 1 fed `messages` in order; returns its decision (hex) or null. */
function follow(n: number, messages: readonly Message[], maxFutureRounds: number): string | null {
  let core: ConsensusState = step(createConsensus({ maxFutureRounds }), {
    kind: "start-height",
    height: 1n,
    validatorCount: n,
    selfIndex: null,
  }).state;
  for (const m of messages) {
    const input: Input = m.kind === "vote" ? m : { ...m, valid: true, timely: true };
    core = step(core, input).state;
  }
  const decision = core.current?.decision;
  return decision ? toHex(decision.valueId) : null;
}

t.test("honest networks of 1, 4 and 7 agree and decide once messages flow", async (t) => {
  for (const n of [1, 4, 7]) {
    t.doesNotThrow(() =>
      fc.assert(
        fc.property(fc.integer(), (seed) => {
          const result = runNetwork({
            n,
            byzantine: [],
            heights: HEIGHTS,
            seed,
            gst: 20_000,
            maxTime: 400_000,
          });
          const decided = agreed(result);
          assert.equal(decided.size, HEIGHTS, "every height decided");
          for (const i of result.honest) {
            assert.equal(result.decisions.get(i)!.size, HEIGHTS, `node ${i} decided every height`);
          }
          assert.equal(result.evidence.length, 0, "no equivocation among honest nodes");
        }),
        { numRuns: n === 1 ? 5 : 25 },
      ),
    );
  }
});

t.test("with f equivocating nodes out of 3f+1, honest nodes agree and still decide", async (t) => {
  for (const n of [4, 7]) {
    const indices = Array.from({ length: n }, (_, i) => i);
    t.doesNotThrow(() =>
      fc.assert(
        fc.property(
          fc.integer(),
          fc.shuffledSubarray(indices, { minLength: maxFaulty(n), maxLength: maxFaulty(n) }),
          (seed, byzantine) => {
            const result = runNetwork({
              n,
              byzantine,
              heights: HEIGHTS,
              seed,
              gst: 20_000,
              maxTime: 400_000,
            });
            agreed(result);
            for (const i of result.honest) {
              assert.equal(
                result.decisions.get(i)!.size,
                HEIGHTS,
                `node ${i} decided every height`,
              );
            }
            for (const e of result.evidence) {
              assert.ok(byzantine.includes(e.validator), `honest ${e.validator} accused`);
            }
          },
        ),
        { numRuns: 25 },
      ),
    );
  }
});

t.test("the same messages in any order never decide differently", async (t) => {
  for (const [n, f] of [
    [4, 0],
    [7, 0],
    [4, 1],
    [7, 2],
  ] as const) {
    t.doesNotThrow(() =>
      fc.assert(
        fc.property(fc.integer(), fc.integer(), (seed, order) => {
          const byzantine = Array.from({ length: f }, (_, i) => n - 1 - i);
          const result = runNetwork({
            n,
            byzantine,
            heights: 1,
            seed,
            gst: 20_000,
            maxTime: 200_000,
          });
          const decided = agreed(result).get(1n);
          const messages = shuffled(result.height1, order);
          const bounded = follow(n, messages, 2);
          assert.ok(bounded === null || bounded === decided, "bounded follower disagrees");
          const unbounded = follow(n, messages, 1_000_000);
          assert.ok(unbounded === null || unbounded === decided, "follower disagrees");
          // Without Byzantine proposals every message is kept, so the decision is reached.
          if (f === 0) assert.equal(unbounded, decided, "follower fed everything decides");
        }),
        { numRuns: 15 },
      ),
    );
  }
});

t.test(
  "a scripted split attempt: locks keep a Byzantine proposer from a second value",
  async (t) => {
    // n = 4; A, B, C = 0, 1, 2 are correct; 3 is Byzantine. Round 0 decides v at A only (3
    // sends its precommit for v to A and nil to B and C); round 1 fails; round 2 is 3's, which
    // proposes w to B and C. If they ignored their lock on v, 3's votes would make w decided.
    const v = new Uint8Array(32).fill(1);
    const w = new Uint8Array(32).fill(2);
    const start = (self: number) =>
      step(createConsensus(), {
        kind: "start-height",
        height: 1n,
        validatorCount: 4,
        selfIndex: self,
      }).state;
    const cores = [start(0), start(1), start(2)];
    const said: string[][] = [[], [], []];
    const deliver = (to: number, ...inputs: Input[]) => {
      for (const input of inputs) {
        const r = step(cores[to]!, input);
        cores[to] = r.state;
        for (const e of r.effects) {
          if (
            e.kind === "broadcast-vote" ||
            e.kind === "decide" ||
            e.kind === "broadcast-proposal"
          ) {
            const value = e.valueId === null ? "nil" : e.valueId[0] === 1 ? "v" : "w";
            const what = e.kind === "broadcast-vote" ? e.type : e.kind.replace("broadcast-", "");
            said[to]!.push(`${what} r${e.round} ${value}`);
          }
        }
      }
    };
    const vote = (
      type: "prevote" | "precommit",
      round: number,
      validator: number,
      valueId: Uint8Array | null,
    ): Input => ({
      kind: "vote",
      type,
      height: 1n,
      round,
      valueId,
      validator,
    });
    const proposal = (
      round: number,
      proposer: number,
      valueId: Uint8Array,
      polRound: number,
    ): Input => ({
      kind: "proposal",
      height: 1n,
      round,
      polRound,
      valueId,
      proposer,
      valid: true,
      timely: true,
    });
    const timeout = (s: "propose" | "prevote" | "precommit", round: number): Input => ({
      kind: "timeout",
      step: s,
      height: 1n,
      round,
    });

    // Round 0, proposer B.
    deliver(1, { kind: "proposal-value", height: 1n, round: 0, valueId: v });
    deliver(0, proposal(0, 1, v, -1));
    deliver(2, proposal(0, 1, v, -1));
    deliver(0, vote("prevote", 0, 1, v), vote("prevote", 0, 2, v));
    deliver(1, vote("prevote", 0, 0, v), vote("prevote", 0, 2, v));
    deliver(2, vote("prevote", 0, 0, v), vote("prevote", 0, 1, v));
    deliver(0, vote("precommit", 0, 1, v), vote("precommit", 0, 3, v));
    deliver(1, vote("precommit", 0, 2, v), vote("precommit", 0, 3, null), timeout("precommit", 0));
    deliver(2, vote("precommit", 0, 1, v), vote("precommit", 0, 3, null), timeout("precommit", 0));
    t.same(said[0], ["prevote r0 v", "precommit r0 v", "decide r0 v"]);
    // Round 1, proposer C re-proposes v; 3 prevotes and precommits nil.
    deliver(1, proposal(1, 2, v, 0), vote("prevote", 1, 2, v), vote("prevote", 1, 3, null));
    deliver(2, vote("prevote", 1, 1, v), vote("prevote", 1, 3, null));
    deliver(1, timeout("prevote", 1), vote("precommit", 1, 2, null), vote("precommit", 1, 3, null));
    deliver(2, timeout("prevote", 1), vote("precommit", 1, 1, null), vote("precommit", 1, 3, null));
    deliver(1, timeout("precommit", 1));
    deliver(2, timeout("precommit", 1));
    // Round 2, proposer 3 (Byzantine) proposes w; 3 votes for w everywhere.
    for (const [me, other] of [
      [1, 2],
      [2, 1],
    ] as const) {
      deliver(me, proposal(2, 3, w, -1), vote("prevote", 2, 3, w), vote("prevote", 2, other, null));
      deliver(
        me,
        timeout("prevote", 2),
        vote("precommit", 2, 3, w),
        vote("precommit", 2, other, null),
      );
    }
    t.same(said[1], [
      "proposal r0 v",
      "prevote r0 v",
      "precommit r0 v",
      "prevote r1 v",
      "precommit r1 nil",
      "prevote r2 nil",
      "precommit r2 nil",
    ]);
    t.same(said[2], [
      "prevote r0 v",
      "precommit r0 v",
      "proposal r1 v",
      "prevote r1 v",
      "precommit r1 nil",
      "prevote r2 nil",
      "precommit r2 nil",
    ]);
    for (const core of cores.slice(1)) t.equal(core.current!.decision, null);
  },
);
