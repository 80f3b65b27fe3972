// Soak: one period of 100,000 households (or argv[2]) through finalisation, standing orders,
// batch auctions, compliance and expiry with a bound of argv[3] (default 2,000) households a
// block, one block every argv[4] seconds of chain time (default 0.05, so that the ~350 blocks
// of snapshot, finalisation and standing-order work fit before the trading window closes). Not a tap test: `npx tsc -p tsconfig.json && node dist/test/soak/settlement-soak.js`.
// Prints progress and the runtime; exits 1 if a bound, an exactly-once check or an invariant
// fails.
import { runAtScale } from "../vm/fixtures/trading/scale.js";

const households = Number(process.argv[2] ?? 100_000);
const bound = Number(process.argv[3] ?? 2000);
const step = Number(process.argv[4] ?? 0.05);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const run = await runAtScale(households, bound, {
  step,
  log: (line) => console.log(`[${elapsed()}] ${line}`),
});

const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  if (!ok) failures.push(what);
};
check(run.maxFinalisedPerBlock <= bound, `finalised ${run.maxFinalisedPerBlock} in one block`);
check(run.maxStandingPerBlock <= bound, `placed ${run.maxStandingPerBlock} in one block`);
check(run.maxCompliancePerBlock <= bound, `complied ${run.maxCompliancePerBlock} in one block`);
const owing = Math.floor(households / 2);
check(new Set(run.placed).size === households && run.placed.length === households, "placed once");
check(new Set(run.complied).size === owing && run.complied.length === owing, "complied once");
check(run.traded === 300n * BigInt(owing), `traded ${run.traded}`);
check(Object.keys(run.skipped).length === 0, `skipped: ${JSON.stringify(run.skipped)}`);
check(run.broken.length === 0, `invariants: ${run.broken.join("; ")}`);

console.log(
  `${households} households, bound ${bound}: ${run.blocks} blocks, traded ${run.traded} Wh, ` +
    `${elapsed()}${failures.length === 0 ? "" : `; FAILED: ${failures.join(", ")}`}`,
);
process.exitCode = failures.length === 0 ? 0 : 1;
