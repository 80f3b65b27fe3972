// A short pass of every fuzz target inside `npm test`, from a fixed seed so it is reproducible;
// `npm run fuzz` runs the same targets for minutes from a fresh seed.
import t from "tap";
import { TARGETS } from "./targets/index.js";

/** Cases per target: enough to reach each input kind, seconds in all. */
const RUNS: Readonly<Record<string, number>> = {
  codec: 600,
  tx: 150,
  vm: 8,
  rpc: 40,
  gossip: 150,
  "meter-data": 150,
};

for (const target of TARGETS) {
  t.test(`${target.name}: no crash on hostile input`, async (t) => {
    const runs = RUNS[target.name];
    t.ok(runs, "the quick pass knows the target");
    const report = await target.run(runs ?? 10, 20_261_124);
    t.same(report.failures, [], "no failures");
    t.ok(report.cases >= (runs ?? 10), `${report.cases} cases tried`);
  });
}
