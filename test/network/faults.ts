// Standalone fault run (not part of `npm test`): many randomised fault rounds under load.
//   npm run faults -- [--rounds N] [--seconds S] [--validators N] [--followers N]
//                     [--oracle-meters N] [--oracle-node NAME] [--seed S]
// A meter oracle (`wattcap oracle start`, test/harness/testnet-oracle.ts) relays N simulated
// meters (default 4; 0: no oracle) to one node's RPC (default v0's: see docs/guarantees.md
// "Limits" for what goes wrong through a follower). Each round SIGKILLs and restarts a
// validator, a follower or the oracle, splits the validators in halves, cuts one off, flaps
// links or makes every link slow and lossy (test/harness/fault-rounds.ts), while transactions
// flow in. It stops after N rounds or S
// seconds, whichever comes first. Exits 0 when the network recovered from every round, every
// node stored the same chain, no validator signed two different votes for one step, no
// committed transaction was lost, and every meter snapshot up to the end of the rounds is on
// chain exactly once with the oracle's outbox consistent; 1 otherwise, printing the log tails.
// The last line is the figures, as JSON.
import { parseArgs } from "node:util";
import { WattcapClient } from "../../rpc/client/index.js";
import { FAULT_KINDS, runFaultRounds, TxLoad } from "../harness/fault-rounds.js";
import { conflictingVotes, divergence, seededRandom, Testnet } from "../harness/testnet.js";
import { ORACLE_POLICY, TestnetOracle } from "../harness/testnet-oracle.js";

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
      "oracle-meters": { type: "string", default: "4" },
      "oracle-node": { type: "string", default: "v0" },
      seed: { type: "string" },
    },
  });
  let rounds: number;
  let seconds: number;
  let validators: number;
  let followers: number;
  let oracleMeters: number;
  try {
    rounds = positive(values.rounds, "rounds", 1);
    seconds = positive(values.seconds, "seconds", 10);
    // Four, so that one can be down or cut off and the rest still make a quorum.
    validators = positive(values.validators, "validators", 4);
    followers = positive(values.followers, "followers", 0);
    oracleMeters = positive(values["oracle-meters"], "oracle-meters", 0);
    const node = values["oracle-node"];
    if (
      !/^(v\d+|f\d+)$/.test(node) ||
      Number(node.slice(1)) >= (node[0] === "v" ? validators : followers)
    ) {
      throw new Error(
        "--oracle-node must name a validator (v0, …) or a follower (f0, …) of the run",
      );
    }
  } catch (error) {
    process.stderr.write(`faults: ${(error as Error).message}\n`);
    return 64;
  }
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  const started = Date.now();
  console.log(
    `faults: ${validators} validators, ${followers} followers, ${oracleMeters > 0 ? `an oracle of ${oracleMeters} meters on ${values["oracle-node"]}` : "no oracle"}, ≤ ${rounds} rounds, ≤ ${seconds} s, seed ${seed}`,
  );
  const random = seededRandom(seed);
  const net = await Testnet.create({
    validators,
    followers,
    faults: true,
    ...(oracleMeters > 0 ? { policy: ORACLE_POLICY } : {}),
  });
  const all = net.nodes.map((n) => n.name);
  const load = new TxLoad(net, random);
  let oracle: TestnetOracle | undefined;
  try {
    for (const name of all) net.start(name);
    await net.waitForHeight(all, 2, 60_000);
    if (oracleMeters > 0) {
      oracle = await TestnetOracle.create(net, {
        node: values["oracle-node"],
        meters: oracleMeters,
        seed,
      });
      oracle.process.start();
    }
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
        oracle: oracle?.process,
        log: (line) => console.log(`${Math.round((Date.now() - started) / 1000)} s: ${line}`),
      });
    } finally {
      await load.stop();
      clearInterval(polling);
    }
    // The oracle's settled point: chain time when the rounds ended.
    const through = BigInt(
      (await new WattcapClient({ url: net.rpcUrl("v0") }).rpc.chain_status()).headTime,
    );
    // Let what is still in mempools commit, then record every commit the load can see.
    const settled = (await net.maxHeight(all)) + 3;
    await net.waitForHeight(all, settled, 60_000);
    await load.poll();
    const lost = await load.lost(all);
    const oracleCheck = await oracle?.check(through, 120_000);

    for (const name of all) await net.stop(name);
    const chains = await Promise.all(all.map((n) => net.chainOf(n)));
    const problems: string[] = lost.map((l) => `committed transaction lost at ${l}`);
    problems.push(...(oracleCheck?.problems ?? []));
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
      if (oracle) console.error(oracle.process.logTail());
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
        ...(oracleCheck ? { snapshotsChecked: oracleCheck.snapshotsChecked } : {}),
      })}`,
    );
    return 0;
  } catch (error) {
    net.markFailed();
    if (oracle) console.error(oracle.process.logTail());
    console.error(`faults: ${(error as Error).message} (seed ${seed})`);
    return 1;
  } finally {
    await load.stop();
    await oracle?.process.kill();
    await net.teardown();
  }
}

main().then((code) => {
  process.exitCode = code;
});
