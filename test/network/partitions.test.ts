// Network partitions through the fault layer (connections refused at the libp2p gate and hung
// up), on four validators and a follower: a 2/2 split commits nothing and forks nothing; a 3/1
// split keeps the majority committing and the minority catches up after healing; flapping,
// slow and lossy links slow the chain but never split it.
import t from "tap";
import { Testnet } from "../harness/testnet.js";
import { assertAgreement } from "./agreement.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test("partitions 2/2 and 3/1, flapping and lossy links", async (t) => {
  const net = await Testnet.create({ validators: 4, followers: 1, faults: true }, t);
  const all = net.nodes.map((n) => n.name);
  const maxHeight = () => net.maxHeight(all);
  for (const name of all) net.start(name);
  await net.waitForHeight(all, 3, 60_000);

  // 2/2: neither side has a quorum (3 of 4). Once what was in flight has landed, the highest
  // height anywhere stays put.
  await net.partition([
    ["v0", "v1", "f0"],
    ["v2", "v3"],
  ]);
  const everyHeight = async () =>
    Math.max(...(await net.waitFor("every node to answer", () => net.heights(all), 30_000)));
  // On a slow machine, messages received before the split may still be in validation queues:
  // wait until the highest height has held for 3 s (a leaking partition never gets there).
  const split = await net.waitFor(
    "the highest height to settle",
    async () => {
      const before = await everyHeight();
      await sleep(3000);
      return (await everyHeight()) === before ? before : undefined;
    },
    60_000,
  );
  await sleep(6000);
  t.equal(await everyHeight(), split, "a 2/2 partition commits nothing on either side");

  await net.heal();
  await net.waitForHeight(all, split + 2, 90_000);
  t.pass("after healing the 2/2 partition every node commits again");

  // 3/1: the majority keeps committing; the cut-off validator cannot.
  const before = await maxHeight();
  await net.partition([["v0", "v1", "v2", "f0"], ["v3"]]);
  const majority = await net.waitForHeight(["v0", "v1", "v2", "f0"], before + 4, 90_000);
  const minority = (await net.status("v3"))?.height ?? 0;
  t.ok(
    minority < Math.min(...majority),
    `the majority went on (${majority}) while the minority stopped (${minority})`,
  );
  await net.heal();
  await net.waitForHeight(["v3"], Math.max(...majority), 90_000);
  t.pass("the minority caught up after healing");

  // Flapping: v3 and then v0 cut off and back every second or so, on slow (100 ms) and lossy
  // (10% of gossip dropped) links everywhere.
  for (const name of all)
    await net.setFaults(name, { links: { "*": { delayMs: 100, drop: 0.1 } } });
  const flapFrom = await maxHeight();
  for (let i = 0; i < 6; i++) {
    const loner = i % 2 === 0 ? "v3" : "v0";
    await net.partition([all.filter((n) => n !== loner), [loner]]);
    await sleep(1000);
    await net.heal();
    await sleep(1000);
  }
  for (const name of all) await net.setFaults(name, { links: {} });
  await net.waitForHeight(all, flapFrom + 3, 90_000);
  t.pass("flapping, slow and lossy links: the chain goes on and every node follows");
  const report = await net.faultReport("v1");
  t.ok(
    (report?.delayed ?? 0) > 0,
    `the links were faulty: v1 delayed ${report?.delayed} and dropped ${report?.dropped} messages`,
  );

  await assertAgreement(t, net);
});
