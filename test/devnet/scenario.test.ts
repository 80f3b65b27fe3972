// The scenario end to end, small: 20 households for one month on four validator processes, a
// follower and the meter oracle, in market mode batch. Every node must finish with the same
// state root; the credits minted must equal Σ max(0, cap − consumption) over the households
// the chain settled on complete data; money and credits must be conserved; and every figure
// the report took from the chain must equal the simulator's.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { DEFAULT_BEHAVIOUR } from "../../devnet/behaviour.js";
import { ARMS } from "../../devnet/scenario/arms.js";
import type { ArmReport } from "../../devnet/scenario/report.js";
import { preparePopulation, runArm, type ScenarioOptions } from "../../devnet/scenario/runner.js";
import { holdSuiteLock } from "../harness/suite-lock.js";

t.test("20 households, one month, four validators", async (t) => {
  await holdSuiteLock(t);
  const out = await mkdtemp(join(tmpdir(), "wattcap-scenario-"));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const options: ScenarioOptions = {
    households: 20,
    months: 1,
    seed: 7,
    periodMs: 15_000n,
    validators: 4,
    out,
    basePort: 29_600,
    rpcPort: 29_545,
    startMonth: 1,
    setupMs: 15_000n,
    behaviour: DEFAULT_BEHAVIOUR,
    say: (line) => t.comment(line),
  };
  const population = await preparePopulation(options);
  const report = await runArm(ARMS.batch, options, population);

  const roots = Object.values(report.chain.stateRoots.roots);
  t.equal(roots.length, 5, "four validators and the follower answered");
  t.ok(report.chain.stateRootsAgree, "every node has the same state root at the common height");
  t.equal(new Set(roots).size, 1);

  const month = report.months[0]!;
  const get = (name: string) => month.figures.find((f) => f.name === name)!;
  t.equal(get("households settled").chain, "20", "every household settled");
  t.equal(get("households settled on an estimate").chain, "0", "none on an estimate");
  const minted = get("credits minted");
  t.not(minted.chain, "0", "some households saved below their cap");
  t.equal(minted.chain, minted.simulator, "minted = Σ max(0, cap − consumption)");
  t.equal(get("consumption").chain, get("consumption").simulator, "consumption metered exactly");
  for (const f of [...month.figures, ...report.conservation]) {
    if (f.difference !== null) t.equal(f.difference, "0", `${f.name}: chain = simulator`);
  }
  t.ok(BigInt(get("credits traded").chain!) > 0n, "the batch auction traded credits");
  t.ok(report.consistent, "the report marks the run consistent");

  // What was written is what was computed.
  const written = JSON.parse(
    await readFile(join(out, "arms", "batch", "report.json"), "utf8"),
  ) as ArmReport;
  t.same(written, JSON.parse(JSON.stringify(report)));
  const markdown = await readFile(join(out, "arms", "batch", "report.md"), "utf8");
  t.match(markdown, /Consistent: \*\*yes\*\*/);
  t.match(await readFile(join(out, "arms", "batch", "consumption.svg"), "utf8"), /^<svg /);

  // A second run of the same arm resumes: the finished report is kept, no devnet starts.
  const again = await runArm(ARMS.batch, options, population);
  t.same(again, written, "a finished arm is not run again");
});
