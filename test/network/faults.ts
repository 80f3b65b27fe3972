// Standalone fault run (not part of `npm test`): many randomised fault rounds under load.
//   npm run faults -- [--rounds N] [--seconds S] [--validators N] [--followers N] [--seed S]
// Each round SIGKILLs and restarts a validator or a follower, splits the validators in halves,
// cuts one off, flaps links or makes every link slow and lossy (test/harness/fault-rounds.ts),
// while transactions flow in. It stops after N rounds or S seconds, whichever comes first.
// Exits 0 when the network recovered from every round, every node stored the same chain, no
// validator signed two different votes for one step and no committed transaction was lost;
// 1 otherwise, printing the nodes' log tails. The last line is the figures, as JSON.
import { parseArgs } from "node:util";
import { FAULT_KINDS, runFaultRounds, TxLoad } from "../harness/fault-rounds.js";
import { conflictingVotes, divergence, seededRandom, Testnet } from "../harness/testnet.js";

function positive(text: string | undefined, name: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "50" },
      seconds: { type: "string", default: "600" },
      validators: { type: "string", default: "4" },
      followers: { type: "string", default: "1" },
      seed: { type: "string" },
    },
  });
  let rounds: number;
  let seconds: number;
  let validators: number;
  let followers: number;
  try {
    rounds = positive(values.rounds, "rounds", 1);
    seconds = positive(values.seconds, "seconds", 10);
    // Four, so that one can be down or cut off and the rest still make a quorum.
    validators = positive(values.validators, "validators", 4);
    followers = positive(values.followers, "followers", 0);
  } catch (error) {
    process.stderr.write(`faults: ${(error as Error).message}\n`);
    return 64;
  }
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  const started = Date.now();
  console.log(
    `faults: ${validators} validators, ${followers} followers, ≤ ${rounds} rounds, ≤ ${seconds} s, seed ${seed}`,
  );
  const random = seededRandom(seed);
  const net = await Testnet.create({ validators, followers, faults: true });
  const all = net.nodes.map((n) => n.name);
  const load = new TxLoad(net, random);
  try {
    for (const name of all) net.start(name);
    await net.waitForHeight(all, 2, 60_000);
    const chainId = (await net.status("v0"))?.chainId ?? "";
    load.start(chainId);
    const polling = setInterval(() => void load.poll(), 2000);
    let figures: Awaited<ReturnType<typeof runFaultRounds>>;
    try {
      figures = await runFaultRounds(net, {
        rounds,
        deadline: started + seconds * 1000,
        random,
        kinds: FAULT_KINDS,
        log: (line) => console.log(`${Math.round((Date.now() - started) / 1000)} s: ${line}`),
      });
    } finally {
      await load.stop();
      clearInterval(polling);
    }
    // Let what is still in mempools commit, then record every commit the load can see.
    const settled = (await net.maxHeight(all)) + 3;
    await net.waitForHeight(all, settled, 60_000);
    await load.poll();
    const lost = await load.lost(all);

    for (const name of all) await net.stop(name);
    const chains = await Promise.all(all.map((n) => net.chainOf(n)));
    const problems: string[] = lost.map((l) => `committed transaction lost at ${l}`);
    for (const [i, chain] of chains.entries()) {
      const forks = divergence(chains[0]!, chain);
      if (forks.length > 0) problems.push(`${all[i]} differs from v0 at ${forks.join(", ")}`);
    }
    const conflicts = conflictingVotes([
      ...(await Promise.all(net.validators.map((n) => net.walRecords(n)))),
      ...(await Promise.all(all.map((n) => net.storedPrecommits(n)))),
    ]);
    for (const step of conflicts) problems.push(`conflicting signed votes at ${step}`);
    if (problems.length > 0) {
      net.markFailed();
      for (const p of problems) console.error(`faults: ${p}`);
      return 1;
    }
    console.log(
      `faults: figures ${JSON.stringify({
        seed,
        seconds: Math.round((Date.now() - started) / 1000),
        ...figures,
        txsAccepted: load.accepted.size,
        txsCommitted: load.committed.size,
        txsLost: 0,
        blocksAgreed: chains[0]!.size,
      })}`,
    );
    return 0;
  } catch (error) {
    net.markFailed();
    console.error(`faults: ${(error as Error).message} (seed ${seed})`);
    return 1;
  } finally {
    await load.stop();
    await net.teardown();
  }
}

main().then((code) => {
  process.exitCode = code;
});
