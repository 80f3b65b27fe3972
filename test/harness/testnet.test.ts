// The harness itself: its nodes run the genesis it wrote, stop cleanly, come back, and a
// follower that starts late catches up from genesis and stores the same chain.
import t from "tap";
import { divergence, Testnet } from "./testnet.js";

t.test("one validator and a late follower through stop, restart and sync", async (t) => {
  const net = await Testnet.create({ validators: 1, followers: 1 }, t);
  t.same(net.validators, ["v0"]);
  t.same(net.followers, ["f0"]);
  t.equal(await net.status("v0"), undefined, "no status before start");

  net.start("v0");
  await net.waitForHeight(["v0"], 3, 30_000);
  const status = await net.status("v0");
  t.equal(status?.genesisHash, net.genesisHash);
  t.equal(status?.role, "validator");
  t.equal(status?.peerId, net.node("v0").peerId);

  t.equal(await net.stop("v0"), 0, "SIGTERM is a clean shutdown");
  t.notOk(net.isRunning("v0"));
  t.equal(await net.status("v0"), undefined, "no status while down");
  const before = await net.chainOf("v0");
  t.ok(before.size >= 3, `v0 stored ${before.size} blocks`);

  net.start("v0");
  await net.waitForHeight(["v0"], before.size + 2, 30_000);
  await net.restart("v0");
  await net.waitForHeight(["v0"], before.size + 3, 30_000);

  net.start("f0");
  const head = (await net.status("v0"))?.height ?? 0;
  const [followed] = await net.waitForHeight(["f0"], head + 1, 30_000);
  t.ok(followed! > head, "the follower synced from genesis and follows the head");
  t.equal((await net.status("f0"))?.role, "follower");

  await net.stop("f0");
  await net.stop("v0");
  const validator = await net.chainOf("v0");
  const follower = await net.chainOf("f0");
  t.same(divergence(before, validator), [], "restarts kept the stored chain");
  t.same(divergence(validator, follower), [], "the follower stored the validator's chain");
  t.ok(follower.size > head, `the follower stored ${follower.size} blocks`);
  await t.rejects(net.chainOf("nobody"), /no node nobody/);
});
