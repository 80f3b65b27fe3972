// Standalone fault run (not part of `npm test`): many more kill cycles than the test affords.
//   node dist/test/network/faults.js [--cycles N] [--validators N] [--seed S]
// Exits 0 when the network stayed live, every node stored the same chain and no validator
// signed two different votes for one step; 1 otherwise, printing the nodes' log tails.
import { parseArgs } from "node:util";
import {
  conflictingVotes,
  divergence,
  runKillCycles,
  seededRandom,
  Testnet,
} from "../harness/testnet.js";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cycles: { type: "string", default: "50" },
      validators: { type: "string", default: "4" },
      seed: { type: "string" },
    },
  });
  const cycles = Number(values.cycles);
  const validators = Number(values.validators);
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  if (!Number.isInteger(cycles) || cycles < 1 || !Number.isInteger(validators) || validators < 4) {
    process.stderr.write("faults: --cycles ≥ 1 and --validators ≥ 4 (one may die at a time)\n");
    return 64;
  }
  console.log(`faults: ${validators} validators, ${cycles} cycles, seed ${seed}`);
  const net = await Testnet.create({ validators });
  try {
    for (const name of net.validators) net.start(name);
    await net.waitForHeight(net.validators, 2, 60_000);
    const reached = await runKillCycles(net, {
      cycles,
      random: seededRandom(seed),
      log: (line) => console.log(line),
    });
    for (const name of net.validators) await net.stop(name);
    const chains = await Promise.all(net.validators.map((n) => net.chainOf(n)));
    const problems: string[] = [];
    for (const [i, chain] of chains.entries()) {
      const forks = divergence(chains[0]!, chain);
      if (forks.length > 0) problems.push(`v${i} differs from v0 at heights ${forks.join(", ")}`);
    }
    const conflicts = conflictingVotes([
      ...(await Promise.all(net.validators.map((n) => net.walRecords(n)))),
      ...(await Promise.all(net.validators.map((n) => net.storedPrecommits(n)))),
    ]);
    for (const step of conflicts) problems.push(`conflicting signed votes at ${step}`);
    if (problems.length > 0) {
      net.markFailed();
      for (const p of problems) console.error(`faults: ${p}`);
      return 1;
    }
    console.log(`faults: ok; final height ${reached.at(-1)}, ${chains[0]!.size} blocks agreed`);
    return 0;
  } catch (error) {
    net.markFailed();
    console.error(`faults: ${(error as Error).message} (seed ${seed})`);
    return 1;
  } finally {
    await net.teardown();
  }
}

main().then((code) => {
  process.exitCode = code;
});
