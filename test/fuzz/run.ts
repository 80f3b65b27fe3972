// `npm run fuzz`: every fuzz target (test/fuzz/targets/) for a time box, split evenly between
// them. Each target runs in batches of growing size, each batch from its own seed, so a long
// run tries new cases rather than repeating the first ones; a failure prints its seed and
// shrunk input, which `--seed` and `--target` replay.
//   node dist/test/fuzz/run.js [--seconds N] [--seed N] [--target name[,name]]
// FUZZ_SECONDS and FUZZ_SEED set the same defaults. Exits 1 on any failure, 64 on bad usage.
import { parseArgs } from "node:util";
import type { FuzzTarget } from "./targets/fuzz.js";
import { TARGETS } from "./targets/index.js";

function usage(message: string): never {
  console.error(`fuzz: ${message}`);
  console.error(
    "usage: node dist/test/fuzz/run.js [--seconds N] [--seed N] [--target name[,name]]",
  );
  process.exit(64);
}

function positive(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) usage(`${what} must be a non-negative integer, not ${text}`);
  return n;
}

let options: { seconds?: string; seed?: string; target?: string };
try {
  options = parseArgs({
    options: { seconds: { type: "string" }, seed: { type: "string" }, target: { type: "string" } },
  }).values;
} catch (error) {
  usage((error as Error).message);
}
const seconds = positive(options.seconds ?? process.env.FUZZ_SECONDS, "--seconds", 180);
const baseSeed = positive(options.seed ?? process.env.FUZZ_SEED, "--seed", Date.now() % 1e9);
const names = options.target?.split(",") ?? TARGETS.map((t) => t.name);
const chosen = names.map(
  (name) =>
    TARGETS.find((t) => t.name === name) ??
    usage(`no target ${name}; targets: ${TARGETS.map((t) => t.name).join(", ")}`),
);

interface Tally {
  cases: number;
  batches: number;
  failures: string[];
}

/** Runs one target in growing batches until its share of the time box is used. */
async function fuzz(target: FuzzTarget, budgetMs: number): Promise<Tally> {
  const tally: Tally = { cases: 0, batches: 0, failures: [] };
  const end = performance.now() + budgetMs;
  let runs = 10;
  do {
    const started = performance.now();
    const seed = baseSeed + tally.batches;
    const report = await target.run(runs, seed);
    tally.cases += report.cases;
    tally.batches++;
    tally.failures.push(...report.failures);
    if (report.failures.length > 0) break;
    // Grow while a batch takes under a quarter of what is left.
    const took = performance.now() - started;
    if (took * 4 < end - performance.now()) runs *= 2;
  } while (performance.now() < end);
  return tally;
}

console.log(
  `fuzzing ${chosen.map((t) => t.name).join(", ")} for ${seconds} s from seed ${baseSeed}`,
);
let failed = 0;
for (const target of chosen) {
  const started = performance.now();
  const tally = await fuzz(target, (seconds * 1000) / chosen.length);
  const took = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `${target.name.padEnd(11)} ${String(tally.cases).padStart(8)} cases  ${tally.failures.length} crashes  (${tally.batches} batches, ${took} s)`,
  );
  for (const failure of tally.failures) console.log(`  FAIL ${failure}`);
  failed += tally.failures.length;
}
console.log(failed === 0 ? "no crashes" : `${failed} crashes`);
process.exit(failed === 0 ? 0 : 1);
