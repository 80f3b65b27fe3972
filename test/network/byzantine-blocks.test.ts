// One Byzantine validator of four proposing forged blocks (a wrong transaction root, a wrong
// state root) and flooding gossip with garbage: the honest three refuse every forged block and
// go on, and score the offender down until they ban it and hang up.
import t from "tap";
import { Testnet } from "../harness/testnet.js";
import { assertAgreement } from "./agreement.js";
import { HONEST, lower, proposers } from "./byzantine-fixtures.js";

t.test("invalid blocks, wrong state roots and a gossip flood", async (t) => {
  const net = await Testnet.create({ validators: 4, faults: true }, t);
  for (const name of net.validators) net.start(name);
  await net.waitForHeight(net.validators, 3, 60_000);
  const v3 = net.node("v3").peerId;
  const penalized = async (name: string) => {
    const peer = (await net.faultReport(name))?.peers[v3];
    return peer !== undefined && (peer.banned || peer.score < 0);
  };
  const byzantine = lower((await net.status("v3"))?.validatorAddress);

  for (const [mode, count] of [
    ["invalid-block", "invalidBlocks"],
    ["wrong-state-root", "wrongStateRoots"],
  ] as const) {
    await net.setFaults("v3", { byzantine: [mode] });
    const from = await net.maxHeight(HONEST);
    await net.waitFor(
      `v3 to propose a forged block (${mode})`,
      async () => ((await net.faultReport("v3"))?.byzantine[count] ?? 0) > 0,
      60_000,
    );
    await net.waitFor(`v0 to score v3 down (${mode})`, () => penalized("v0"), 30_000);
    const to = (await net.maxHeight(HONEST)) + 3;
    await net.waitForHeight(HONEST, to, 60_000);
    t.notOk(
      (await proposers(net, from + 1, to)).includes(byzantine),
      `${mode}: no block of v3's was committed, and the honest three went on to ${to}`,
    );
  }

  // A flood of garbage on the vote and transaction topics: every honest node bans v3 and
  // hangs up; memory stays bounded and the chain goes on.
  await net.setFaults("v3", { byzantine: ["flood"] });
  for (const name of HONEST) {
    await net.waitFor(
      `${name} to ban the flooder`,
      async () => (await net.faultReport(name))?.peers[v3]?.banned === true,
      30_000,
    );
  }
  t.pass("every honest node banned the flooder");
  const after = await net.maxHeight(HONEST);
  await net.waitForHeight(HONEST, after + 3, 60_000);
  for (const name of HONEST) {
    const report = await net.faultReport(name);
    t.notOk(report?.connected.includes(v3), `${name} is no longer connected to the flooder`);
    t.ok((report?.rssBytes ?? Infinity) < 1024 ** 3, `${name} stays under 1 GiB of memory`);
  }
  t.ok(((await net.faultReport("v3"))?.byzantine.floodMessages ?? 0) > 0, "v3 did flood");
  await assertAgreement(t, net);
});
