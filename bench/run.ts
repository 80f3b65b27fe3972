// `npm run bench [-- group ...]`: runs the benchmark groups (all, or those whose key is named),
// merges their results into bench/results.json and rewrites BENCHMARKS.md from it.
import "../lib/polyfill.js";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BenchGroup } from "./harness.js";
import { type GroupResult, groupResult, machineLine, renderMarkdown } from "./report.js";

// Each group is loaded only when it runs, so one group's set-up never slows another's.
const groups: Record<string, () => Promise<BenchGroup>> = {
  signatures: () => import("./signatures.bench.js").then((m) => m.signatures()),
  state: () => import("./state.bench.js").then((m) => m.state()),
  market: () => import("./market.bench.js").then((m) => m.market()),
  vm: () => import("./vm.bench.js").then((m) => m.vm()),
  rpc: () => import("./rpc.bench.js").then((m) => m.rpc()),
  oracle: () => import("./oracle.bench.js").then((m) => m.oracle()),
  network: () => import("./network.bench.js").then((m) => m.network()),
};

const root = fileURLToPath(new URL("../../", import.meta.url));
const resultsPath = `${root}bench/results.json`;

async function main(names: string[]): Promise<void> {
  const unknown = names.filter((n) => !(n in groups));
  if (unknown.length) {
    console.error(
      `unknown benchmark group(s): ${unknown.join(", ")}; known: ${Object.keys(groups).join(", ")}`,
    );
    process.exitCode = 64;
    return;
  }
  const previous: GroupResult[] = existsSync(resultsPath)
    ? JSON.parse(readFileSync(resultsPath, "utf8")).groups
    : [];
  const results = new Map(previous.map((g) => [g.title, g]));
  const date = new Date().toISOString().slice(0, 10);
  for (const key of names.length ? names : Object.keys(groups)) {
    const group = await groups[key]!();
    console.error(`== ${group.title}`);
    const measurements = await group.run();
    for (const m of measurements) console.error(`   ${m.label}: ${Math.round(m.rate)} ${m.unit}`);
    results.set(group.title, groupResult(group, measurements, date));
  }
  const ordered = [...results.values()];
  writeFileSync(
    resultsPath,
    `${JSON.stringify({ machine: machineLine(), groups: ordered }, null, 2)}\n`,
  );
  writeFileSync(`${root}BENCHMARKS.md`, renderMarkdown(ordered, machineLine()));
  console.log(JSON.stringify(ordered, null, 2));
}

await main(process.argv.slice(2));
