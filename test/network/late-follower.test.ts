// A follower started late, after validators crashed and restarted, catches up with the chain.
import t from "tap";
import { runKillCycles, seededRandom, Testnet } from "../harness/testnet.js";

t.test("a late follower syncs from validators that restarted", async (t) => {
  const seed = Number(process.env.WATTCAP_FAULT_SEED ?? Date.now() % 1_000_000);
  t.comment(`fault seed ${seed}`);
  const net = await Testnet.create({ validators: 4, followers: 1 }, t);
  for (const name of net.validators) net.start(name);
  await net.waitForHeight(net.validators, 3, 30_000);
  await runKillCycles(net, { cycles: 3, random: seededRandom(seed), catchUpMs: 30_000 });
  await net.restart("v2");
  const h = Math.max(...(await net.heights(net.validators))!);
  await net.waitForHeight(net.validators, h + 2, 30_000);
  net.start("f0");
  const target = Math.max(...(await net.heights(net.validators))!);
  await net.waitForHeight(["f0"], target + 1, 45_000);
  t.pass(`f0 reached ${target + 1}`);
});
