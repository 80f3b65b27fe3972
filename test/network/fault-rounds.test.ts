// A short randomised fault run under a transaction load (the long one is `npm run faults`):
// crashes of validators and of the follower, and a cut-off validator, on four validators and a
// follower. Every round ends with every node past the height before it; every transaction seen
// committed stays committed, at its height, on every node; the chains agree.
import t from "tap";
import { runFaultRounds, TxLoad } from "../harness/fault-rounds.js";
import { seededRandom, Testnet } from "../harness/testnet.js";
import { assertAgreement } from "./agreement.js";

t.test("random crash and partition rounds under load lose no committed transaction", async (t) => {
  const net = await Testnet.create({ validators: 4, followers: 1, faults: true }, t);
  const all = net.nodes.map((n) => n.name);
  for (const name of all) net.start(name);
  await net.waitForHeight(all, 2, 60_000);

  // A short randomised run under load: crashes of validators and of the follower, and a
  // cut-off validator; every transaction seen committed must stay committed everywhere.
  const seed = Number(process.env.WATTCAP_FAULT_SEED ?? Date.now() % 1_000_000);
  t.comment(`fault seed ${seed} (replay with WATTCAP_FAULT_SEED=${seed})`);
  const random = seededRandom(seed);
  const load = new TxLoad(net, random);
  load.start((await net.status("v0"))?.chainId ?? "");
  const figures = await runFaultRounds(net, {
    rounds: 4,
    random,
    kinds: ["kill-validator", "kill-follower", "isolate-validator"],
    catchUpMs: 90_000,
    log: (line) => t.comment(line),
  });
  await load.stop();
  t.equal(figures.rounds, 4, "the network recovered from every fault round");
  await net.waitForHeight(all, (await net.maxHeight(all)) + 2, 90_000);
  await load.poll();
  t.ok(load.committed.size > 0, `the load committed ${load.committed.size} transactions`);
  t.same(await load.lost(all), [], "every committed transaction is committed on every node");

  await assertAgreement(t, net);
});
