// A validator SIGKILLed at random moments (mid-proposal, mid-vote, mid-commit) and restarted at
// once: the network keeps committing, every node stores the same chain, and the signing WAL
// keeps every validator from ever signing two different votes for one step across its crashes.
import t from "tap";
import {
  conflictingVotes,
  divergence,
  runKillCycles,
  seededRandom,
  Testnet,
} from "../harness/testnet.js";

t.test("random SIGKILLs and restarts: liveness, agreement, no double signing", async (t) => {
  const seed = Number(process.env.WATTCAP_FAULT_SEED ?? Date.now() % 1_000_000);
  t.comment(`fault seed ${seed} (replay with WATTCAP_FAULT_SEED=${seed})`);
  const net = await Testnet.create({ validators: 4 }, t);
  for (const name of net.validators) net.start(name);
  await net.waitForHeight(net.validators, 2, 30_000);
  const genesis = await net.status("v0");
  t.equal(genesis?.genesisHash, net.genesisHash, "the node runs the genesis the harness wrote");

  const reached = await runKillCycles(net, {
    cycles: 6,
    random: seededRandom(seed),
    catchUpMs: 20_000,
    log: (line) => t.comment(line),
  });
  t.equal(reached.length, 6, "every cycle ended with all four validators past the kill height");
  t.ok(reached.at(-1)! > reached[0]!, `the chain advanced through the crashes (${reached})`);

  for (const name of net.validators) await net.stop(name);
  const chains = await Promise.all(net.validators.map((n) => net.chainOf(n)));
  const first = chains[0]!;
  t.ok(first.size >= reached.at(-1)!, `v0 stored ${first.size} blocks`);
  for (const [i, chain] of chains.slice(1).entries()) {
    t.ok(chain.size >= reached.at(-1)!, `v${i + 1} stored ${chain.size} blocks`);
    t.same(divergence(first, chain), [], `v${i + 1} agrees with v0 at every common height`);
  }
  const wals = await Promise.all(net.validators.map((n) => net.walRecords(n)));
  t.ok(
    wals.flat().some((e) => e.kind === "vote"),
    "the WALs hold signed votes",
  );
  const commits = await Promise.all(net.validators.map((n) => net.storedPrecommits(n)));
  t.ok(commits.flat().length > 0, "the stored commits hold precommits");
  t.same(
    conflictingVotes([...wals, ...commits]),
    [],
    "no validator signed two different votes for one step, in any WAL or stored commit",
  );
});
