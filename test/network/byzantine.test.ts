// One Byzantine validator of four (test/harness/byzantine.ts, switched on through the fault
// layer) against an honest majority: whatever it does, the honest three stay safe and live,
// and the offender is evidenced on chain or scored down and cut off.
import t, { type Test } from "tap";
import { WattcapClient } from "../../rpc/client/index.js";
import { conflictingVotes, divergence, Testnet } from "../harness/testnet.js";

const HONEST = ["v0", "v1", "v2"];
const lower = (s: string | null | undefined) => (s ?? "").toLowerCase();

function client(net: Testnet, name: string): WattcapClient {
  return new WattcapClient({ url: `http://127.0.0.1:${net.node(name).rpcPort}`, timeoutMs: 5000 });
}

/** The proposers (lower-case 0x addresses) of the blocks in (from, to], as v0 stored them. */
async function proposers(net: Testnet, from: number, to: number): Promise<string[]> {
  const rpc = client(net, "v0").rpc;
  const out: string[] = [];
  for (let h = from + 1; h <= to; h++) {
    const block = await rpc.chain_getBlock({ height: String(h) });
    out.push(lower(block?.header.proposer));
  }
  return out;
}

/** After the run: every node's stored chain agrees and the WALs hold no double vote. */
async function checkAgreement(t: Test, net: Testnet): Promise<void> {
  for (const name of net.validators) await net.stop(name);
  const chains = await Promise.all(net.validators.map((n) => net.chainOf(n)));
  for (const [i, chain] of chains.entries()) {
    t.same(divergence(chains[0]!, chain), [], `v${i} agrees with v0 at every common height`);
  }
  const wals = await Promise.all(net.validators.map((n) => net.walRecords(n)));
  t.same(
    conflictingVotes(wals),
    [],
    "no node's own signing path (GuardedSigner + WAL) signed two values, the Byzantine one's too",
  );
}

t.test("withheld votes, skewed clocks and double signing", async (t) => {
  const net = await Testnet.create({ validators: 4, faults: true }, t);
  for (const name of net.validators) net.start(name);
  await net.waitForHeight(net.validators, 3, 60_000);
  const byzantine = lower((await net.status("v3"))?.validatorAddress);
  t.ok(byzantine.startsWith("0x"), `v3 is validator ${byzantine}`);

  // Withheld votes: the other three are a quorum on their own.
  await net.setFaults("v3", { byzantine: ["withhold-votes"] });
  const quiet = (await net.maxHeight(HONEST)) + 2;
  await net.waitForHeight(HONEST, quiet + 4, 60_000);
  const signers = client(net, "v0").rpc;
  for (let h = quiet + 1; h <= quiet + 3; h++) {
    const block = await signers.chain_getBlock({ height: String(h) });
    const voters = (block?.commit?.signatures ?? []).map((s) => lower(s.validator));
    t.notOk(voters.includes(byzantine), `height ${h} committed without v3's precommit`);
  }
  await net.setFaults("v3", { byzantine: [] });

  // A proposer choosing its timestamps: within the ±drift (1 s) they are accepted, so its
  // blocks commit; beyond it every honest validator refuses them, so none of its blocks does.
  await net.setFaults("v3", { clockOffsetMs: 600 });
  const within = (await net.maxHeight(HONEST)) + 1;
  await net.waitFor(
    "a block proposed by v3 with its clock 600 ms ahead",
    async () => {
      const h = await net.maxHeight(HONEST);
      return (await proposers(net, within, h)).includes(byzantine);
    },
    60_000,
  );
  t.pass("timestamps within the drift are accepted");
  await net.setFaults("v3", { clockOffsetMs: 5000 });
  const beyond = (await net.maxHeight(HONEST)) + 2;
  await net.waitForHeight(HONEST, beyond + 8, 90_000);
  t.notOk(
    (await proposers(net, beyond, beyond + 8)).includes(byzantine),
    "no block stamped 5 s ahead (beyond the drift) was committed",
  );
  await net.setFaults("v3", { clockOffsetMs: 0 });

  // Double signing: honest nodes see two prevotes, make evidence, and a block carries it; the
  // offender leaves the set two heights later and the other three go on.
  await net.setFaults("v3", { byzantine: ["equivocate"] });
  const rpc = client(net, "v0").rpc;
  const from = await net.maxHeight(HONEST);
  const evidenced = await net.waitFor(
    "a block carrying evidence",
    async () => {
      const head = (await net.status("v0"))?.height ?? 0;
      for (let h = from + 1; h <= head; h++) {
        const block = await rpc.chain_getBlock({ height: String(h) });
        if ((block?.evidenceCount ?? 0) > 0) return h;
      }
      return undefined;
    },
    90_000,
  );
  const report = await net.faultReport("v3");
  t.ok((report?.byzantine.equivocations ?? 0) > 0, "v3 signed conflicting prevotes");
  const set = await rpc.chain_getValidators({ height: String(evidenced) });
  const offender = set.validators.find((v) => lower(v.address) === byzantine);
  t.ok(
    offender?.evidence.some((e) => e.height === String(evidenced)),
    `chain_getValidators shows the evidence committed at height ${evidenced}`,
  );
  await net.waitForHeight(HONEST, evidenced + 4, 60_000);
  const later = await rpc.chain_getValidators({});
  t.notOk(
    later.validators.some((v) => lower(v.address) === byzantine),
    "the equivocator left the validator set",
  );
  t.equal(later.validators.length, 3, "three honest validators remain and keep committing");
  await checkAgreement(t, net);
});

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
  await checkAgreement(t, net);
});
