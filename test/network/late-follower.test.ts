// A follower started late, after validators crashed and restarted, catches up with the chain.
import t from "tap";
import { runKillCycles, seededRandom, Testnet } from "../harness/testnet.js";

t.test("a late follower syncs from validators that restarted", async (t) => {
  const seed = Number(process.env.WATTCAP_FAULT_SEED ?? Date.now() % 1_000_000);
  t.comment(`fault seed ${seed} (replay with WATTCAP_FAULT_SEED=${seed})`);
  const net = await Testnet.create({ validators: 4, followers: 1 }, t);
  const validators = net.validators;
  const top = async () =>
    Math.max(...(await net.waitFor("validators' heights", () => net.heights(validators), 10_000)));
  for (const name of validators) net.start(name);
  await net.waitForHeight(validators, 3, 30_000);
  await runKillCycles(net, { cycles: 3, random: seededRandom(seed), catchUpMs: 30_000 });
  await net.restart("v2");
  await net.waitForHeight(validators, (await top()) + 2, 30_000);

  net.start("f0");
  const target = (await top()) + 1;
  await net.waitForHeight(["f0"], target, 45_000);
  t.pass(`f0 reached ${target}`);
});
