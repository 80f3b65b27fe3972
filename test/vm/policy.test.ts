import t from "tap";
import { parsePolicyJson } from "../../vm/genesis.js";
import { schedule, valueForPeriod } from "../../vm/model/scheduled.js";
import { policyForPeriod } from "../../vm/model/utility.js";
import { tables } from "../../vm/tables.js";
import {
  actor,
  codeOf,
  expectRefused,
  genesisJson,
  operatorOf,
  PERIOD,
  policyJson,
  T0,
  TestChain,
} from "./helpers.js";

const op0 = operatorOf(0);
const policy = parsePolicyJson(policyJson());

t.test("a policy change lands for a period at least noticePeriod ahead", async (t) => {
  const chain = new TestChain(genesisJson([1]));
  // Block time ≈ T0 + 2 s; notice 150 s: period 1 (T0 + 100 s) is too soon, period 2 is not.
  const stricter = { ...policy, reductionBps: 2000 };
  await expectRefused(
    t,
    chain,
    op0,
    "setPolicy",
    { fromPeriod: 1n, policy: stricter },
    "NOTICE_PERIOD",
  );
  const { receipt } = await chain.run(op0, "setPolicy", { fromPeriod: 2n, policy: stricter });
  t.equal(codeOf(receipt), "ok");
  t.same(receipt.events, [{ kind: "policyScheduled", value: { utility: "u0", fromPeriod: 2n } }]);
  const utility = chain.get(tables.utility, "u0")!;
  t.equal(policyForPeriod(utility, 1n).reductionBps, 1000);
  t.equal(policyForPeriod(utility, 2n).reductionBps, 2000);
  t.equal(policyForPeriod(utility, 50n).reductionBps, 2000);
});

t.test("the notice is the one of the policy in force when the change lands", async (t) => {
  const chain = new TestChain(genesisJson([1]));
  const longNotice = { ...policy, noticePeriod: 1_000_000n };
  await chain.run(op0, "setPolicy", { fromPeriod: 2n, policy: longNotice });
  // Still in period 0: the 150 s notice applies, so period 3 is fine.
  t.equal(codeOf((await chain.run(op0, "setPolicy", { fromPeriod: 3n, policy })).receipt), "ok");
  // In period 2 the long notice is in force: period 5 (300 s later) is too soon.
  await chain.valid([], { time: T0 + 2n * PERIOD });
  await expectRefused(t, chain, op0, "setPolicy", { fromPeriod: 5n, policy }, "NOTICE_PERIOD");
});

t.test("policy refusals", async (t) => {
  const chain = new TestChain(genesisJson([1]));
  await expectRefused(
    t,
    chain,
    actor(3),
    "setPolicy",
    { fromPeriod: 9n, policy },
    "NOT_AUTHORISED",
  );
  const inverted = { ...policy, floorPrice: policy.penaltyPrice + 1n };
  await expectRefused(
    t,
    chain,
    op0,
    "setPolicy",
    { fromPeriod: 9n, policy: inverted },
    "POLICY_INVALID",
  );
  const overlapping = {
    ...policy,
    peakWindows: [
      { startMinute: 60, endMinute: 120 },
      { startMinute: 100, endMinute: 200 },
    ],
  };
  await expectRefused(
    t,
    chain,
    op0,
    "setPolicy",
    { fromPeriod: 9n, policy: overlapping },
    "POLICY_INVALID",
  );
  for (const k of [9n, 10n, 11n, 12n]) await chain.run(op0, "setPolicy", { fromPeriod: k, policy });
  await expectRefused(t, chain, op0, "setPolicy", { fromPeriod: 13n, policy }, "TOO_MANY_PENDING");
});

t.test(
  "scheduled values: the last change at or before k; folding keeps every future answer",
  async (t) => {
    const pending = [
      { fromPeriod: 2n, value: "b" },
      { fromPeriod: 5n, value: "c" },
    ];
    t.equal(valueForPeriod("a", pending, 1n), "a");
    t.equal(valueForPeriod("a", pending, 2n), "b");
    t.equal(valueForPeriod("a", pending, 4n), "b");
    t.equal(valueForPeriod("a", pending, 5n), "c");
    const next = schedule("a", pending, 3n, { fromPeriod: 7n, value: "d" })!;
    t.same(next, {
      current: "b",
      pending: [
        { fromPeriod: 5n, value: "c" },
        { fromPeriod: 7n, value: "d" },
      ],
    });
    for (const k of [3n, 4n, 5n, 6n, 7n, 8n]) {
      const before = k >= 7n ? "d" : valueForPeriod("a", pending, k);
      t.equal(valueForPeriod(next.current, next.pending, k), before, `period ${k}`);
    }
    const replaced = schedule("a", pending, undefined, { fromPeriod: 5n, value: "x" })!;
    t.same(replaced.pending, [
      { fromPeriod: 2n, value: "b" },
      { fromPeriod: 5n, value: "x" },
    ]);
    const full = [1n, 2n, 3n, 4n].map((fromPeriod) => ({ fromPeriod, value: "v" }));
    t.equal(schedule("a", full, undefined, { fromPeriod: 9n, value: "w" }), undefined);
  },
);
