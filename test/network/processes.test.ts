// Four validators as separate processes talking libp2p over loopback TCP: they survive one
// validator's SIGKILL, halt without forking when two are gone, resume when they come back, and
// every node ends with the same chain and no validator with two different votes for one step.
import t from "tap";
import { conflictingVotes, divergence, Testnet } from "../harness/testnet.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test("one validator killed, then two, then both back", async (t) => {
  const net = await Testnet.create({ validators: 4 }, t);
  const [v0, v1, v2, v3] = net.validators as [string, string, string, string];
  for (const name of net.validators) net.start(name);
  await net.waitForHeight(net.validators, 3, 30_000);

  // One killed: the other three still make a quorum (3 of 4) and keep committing.
  await net.kill(v3);
  const before = Math.max(...(await net.heights([v0, v1, v2]))!);
  await net.waitForHeight([v0, v1, v2], before + 3, 30_000);
  t.pass("three of four keep committing after a SIGKILL");

  // Two killed: two of four is no quorum, so nothing commits — and nothing forks.
  await net.kill(v2);
  await sleep(1500);
  const stalled = (await net.heights([v0, v1]))!;
  await sleep(5000);
  t.same(await net.heights([v0, v1]), stalled, "no commits without a quorum");

  // Both back: they sync what they missed and the chain resumes.
  net.start(v2);
  net.start(v3);
  const resumeFrom = Math.max(...stalled);
  await net.waitForHeight(net.validators, resumeFrom + 3, 90_000);
  t.pass("restarted validators sync and the chain resumes");

  for (const name of net.validators) await net.stop(name);
  const chains = await Promise.all(net.validators.map((n) => net.chainOf(n)));
  for (const [i, chain] of chains.entries()) {
    t.ok(chain.size >= resumeFrom + 3, `${net.validators[i]} stored ${chain.size} blocks`);
    t.same(divergence(chains[0]!, chain), [], `${net.validators[i]} agrees at every common height`);
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
