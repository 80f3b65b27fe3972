// One Byzantine validator of four (test/harness/byzantine.ts, switched on through the fault
// layer) against an honest majority: withholding its votes, stamping its blocks ahead of time
// and double signing. The honest three stay safe and live; the equivocator is evidenced on
// chain and leaves the validator set.
import t from "tap";
import { Testnet } from "../harness/testnet.js";
import { assertAgreement } from "./agreement.js";
import { client, HONEST, lower, proposers } from "./byzantine-fixtures.js";

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
  // The double writes its report every 500 ms, so it may trail the evidence by one write.
  const equivocations = await net.waitFor(
    "v3's report of its conflicting prevotes",
    async () => (await net.faultReport("v3"))?.byzantine.equivocations || undefined,
    5_000,
  );
  t.ok(equivocations > 0, `v3 signed ${equivocations} conflicting prevotes`);
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
  await assertAgreement(t, net);
});
