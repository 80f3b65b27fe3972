// The fault plan a test writes for a fault-layer node: defaults, per-peer link faults with a
// "*" fallback, and refusal of anything malformed (the node then keeps its last good plan).
import t from "tap";
import { FaultPlanError, linkFault, NO_FAULTS, parseFaultPlan } from "./fault-plan.js";

t.test("an empty plan is no fault at all", async (t) => {
  t.same(parseFaultPlan({}), NO_FAULTS);
  t.same(linkFault(parseFaultPlan({}), "peerA"), { delayMs: 0, drop: 0 });
});

t.test("link faults by peer, with * for every other peer", async (t) => {
  const plan = parseFaultPlan({
    cut: ["peerC"],
    links: { peerA: { delayMs: 50 }, "*": { drop: 0.25 } },
    clockOffsetMs: -1500,
    byzantine: ["equivocate", "flood"],
  });
  t.same(plan.cut, ["peerC"]);
  t.same(linkFault(plan, "peerA"), { delayMs: 50, drop: 0 });
  t.same(linkFault(plan, "peerB"), { delayMs: 0, drop: 0.25 });
  t.equal(plan.clockOffsetMs, -1500);
  t.same(plan.byzantine, ["equivocate", "flood"]);
});

t.test("malformed plans are refused with the field named", async (t) => {
  const bad: [unknown, RegExp][] = [
    [[], /JSON object/],
    [{ cut: "peerA" }, /^cut/],
    [{ cut: [1] }, /^cut/],
    [{ links: { peerA: { drop: 2 } } }, /links\.peerA\.drop/],
    [{ links: { peerA: { delayMs: -1 } } }, /links\.peerA\.delayMs/],
    [{ links: { peerA: 5 } }, /links\.peerA/],
    [{ clockOffsetMs: Number.NaN }, /clockOffsetMs/],
    [{ byzantine: ["steal"] }, /byzantine/],
  ];
  for (const [json, message] of bad) {
    t.throws(
      () => parseFaultPlan(json),
      { name: FaultPlanError.name, message },
      JSON.stringify(json),
    );
  }
});
