// The end-of-run check every network fault test makes: with every node stopped, their stored
// chains agree (block hash and state root) at every common height, and no validator signed two
// different votes for one step in any signing WAL or stored commit.
import type { Test } from "tap";
import { conflictingVotes, divergence, type Testnet } from "../harness/testnet.js";

export async function assertAgreement(t: Test, net: Testnet): Promise<void> {
  const all = net.nodes.map((n) => n.name);
  for (const name of all) await net.stop(name);
  const chains = await Promise.all(all.map((n) => net.chainOf(n)));
  for (const [i, chain] of chains.entries()) {
    t.same(divergence(chains[0]!, chain), [], `${all[i]} agrees with v0 at every common height`);
  }
  const wals = await Promise.all(net.validators.map((n) => net.walRecords(n)));
  const commits = await Promise.all(all.map((n) => net.storedPrecommits(n)));
  t.same(
    conflictingVotes([...wals, ...commits]),
    [],
    "no validator signed two values for one step, in any signing WAL or stored commit",
  );
}
