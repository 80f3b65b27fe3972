// A short randomised fault run under a transaction load (the long one is `npm run faults`):
// crashes of validators, of the follower and of the meter oracle, and a cut-off validator, on
// four validators and a follower. Every round ends with every node past the height before it;
// every transaction seen committed stays committed, at its height, on every node; every meter
// snapshot up to the end of the rounds is on chain exactly once; the chains agree.
import t from "tap";
import { WattcapClient } from "../../rpc/client/index.js";
import { runFaultRounds, TxLoad } from "../harness/fault-rounds.js";
import { seededRandom, Testnet } from "../harness/testnet.js";
import { ORACLE_POLICY, TestnetOracle } from "../harness/testnet-oracle.js";
import { assertAgreement } from "./agreement.js";

t.test("random crash and partition rounds under load lose no committed transaction", async (t) => {
  const net = await Testnet.create(
    { validators: 4, followers: 1, faults: true, policy: ORACLE_POLICY },
    t,
  );
  const all = net.nodes.map((n) => n.name);
  for (const name of all) net.start(name);
  await net.waitForHeight(all, 2, 60_000);

  // A short randomised run under load: crashes of validators, of the follower and of the
  // oracle, and a cut-off validator; every transaction seen committed must stay committed
  // everywhere.
  const seed = Number(process.env.WATTCAP_FAULT_SEED ?? Date.now() % 1_000_000);
  t.comment(`fault seed ${seed} (replay with WATTCAP_FAULT_SEED=${seed})`);
  const random = seededRandom(seed);
  const oracle = await TestnetOracle.create(net, { node: "v0", meters: 2, seed });
  t.teardown(() => oracle.process.kill());
  oracle.process.start();
  const load = new TxLoad(net, random);
  load.start((await net.status("v0"))?.chainId ?? "");
  const options = { random, oracle: oracle.process, catchUpMs: 90_000 } as const;
  const log = (line: string) => t.comment(line);
  // One oracle crash for certain, then random ones among the rest.
  const first = await runFaultRounds(net, { ...options, rounds: 1, kinds: ["kill-oracle"], log });
  const figures = await runFaultRounds(net, {
    ...options,
    rounds: 4,
    kinds: ["kill-validator", "kill-follower", "kill-oracle", "isolate-validator"],
    log,
  });
  await load.stop();
  t.equal(first.kills.oracle, 1, "the oracle was SIGKILLed and restarted");
  t.equal(figures.rounds, 4, "the network recovered from every fault round");
  const through = BigInt(
    (await new WattcapClient({ url: net.rpcUrl("v0") }).rpc.chain_status()).headTime,
  );
  await net.waitForHeight(all, (await net.maxHeight(all)) + 2, 90_000);
  await load.poll();
  t.ok(load.committed.size > 0, `the load committed ${load.committed.size} transactions`);
  t.same(await load.lost(all), [], "every committed transaction is committed on every node");

  const check = await oracle.check(through, 90_000);
  t.same(check.problems, [], "every snapshot up to the end of the rounds is on chain once");
  t.ok(check.snapshotsChecked > 0, `${check.snapshotsChecked} snapshots checked`);

  await assertAgreement(t, net);
});
