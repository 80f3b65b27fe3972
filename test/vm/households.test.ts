import t from "tap";
import { generateMeterSecretKey, meterPublicKeyOf } from "../../lib/meter-key.js";
import { baselinesForPeriod } from "../../vm/model/household.js";
import { tables } from "../../vm/tables.js";
import {
  type Actor,
  actor,
  codeOf,
  expectRefused,
  genesisJson,
  hash32,
  operatorOf,
  PERIOD,
  T0,
  TestChain,
} from "./helpers.js";

const op0 = operatorOf(0);
const op1 = operatorOf(1);
const stranger = actor(3);
const baselines = (wh: bigint) => Array.from({ length: 12 }, (_, i) => wh + BigInt(i));

function registration(household: Actor, meter: number) {
  return {
    household: household.address,
    meterIdHash: hash32(meter),
    meterKey: undefined,
    registers: 1,
    baselines: baselines(100_000n),
  };
}

/** Two utilities, u0 with households h1 (meter 1) and h2 (meter 2), u1 with h3 (meter 3). */
async function setup() {
  const chain = new TestChain(genesisJson([1, 1]));
  const [h1, h2, h3] = [actor(11), actor(12), actor(13)];
  await chain.valid([
    chain.tx(op0, "registerHousehold", registration(h1, 1)),
    chain.tx(op0, "registerHousehold", registration(h2, 2)),
    chain.tx(op1, "registerHousehold", registration(h3, 3)),
  ]);
  return { chain, h1, h2, h3 };
}

t.test("registering a household writes its record and its indexes", async (t) => {
  const { chain, h1, h2, h3 } = await setup();
  const meterKey = {
    type: "p256" as const,
    publicKey: meterPublicKeyOf("p256", generateMeterSecretKey("p256")),
  };
  const h4 = actor(14);
  const { receipt } = await chain.run(op0, "registerHousehold", {
    ...registration(h4, 4),
    meterKey,
    registers: 2,
  });
  t.equal(codeOf(receipt), "ok");
  t.same(receipt.events, [
    { kind: "householdRegistered", value: { household: h4.address, utility: "u0", index: 2 } },
  ]);
  const record = chain.get(tables.household, h4.address)!;
  t.same(record.key, h4.address);
  t.equal(record.utility, "u0");
  t.equal(record.registers, 2);
  t.same(record.meterKey, meterKey);
  t.equal(record.status, "active");
  t.same(chain.get(tables.householdIndex, ["u0", 0]), h1.address);
  t.same(chain.get(tables.householdIndex, ["u0", 1]), h2.address);
  t.same(chain.get(tables.householdIndex, ["u1", 0]), h3.address);
  t.same(chain.get(tables.meter, hash32(4)), h4.address);
  t.same(chain.get(tables.householdKey, h4.address), h4.address);
  const utility = chain.get(tables.utility, "u0")!;
  t.equal(utility.householdCount, 3);
  t.equal(utility.activeHouseholds, 3);
});

t.test("registration refusals", async (t) => {
  const { chain, h1 } = await setup();
  const h5 = actor(15);
  await expectRefused(
    t,
    chain,
    stranger,
    "registerHousehold",
    registration(h5, 5),
    "NOT_AUTHORISED",
  );
  await expectRefused(t, chain, op0, "registerHousehold", registration(h1, 5), "HOUSEHOLD_EXISTS");
  await expectRefused(t, chain, op1, "registerHousehold", registration(h1, 5), "HOUSEHOLD_EXISTS");
  await expectRefused(t, chain, op0, "registerHousehold", registration(h5, 1), "METER_EXISTS");
  await expectRefused(
    t,
    chain,
    op0,
    "registerHousehold",
    {
      ...registration(h5, 5),
      meterKey: { type: "secp256k1", publicKey: new Uint8Array(33).fill(5) },
    },
    "BAD_METER_KEY",
  );
  // An address that is another household's current key cannot be registered as a household.
  await chain.run(op0, "requestKeyRotation", { household: h1.address, newKey: h5.address });
  await chain.valid([], { time: chain.time + 20_000n });
  t.equal(
    codeOf((await chain.run(op0, "completeKeyRotation", { household: h1.address })).receipt),
    "ok",
  );
  await expectRefused(t, chain, op0, "registerHousehold", registration(h5, 5), "KEY_IN_USE");
});

t.test("baselines change only for periods that have not started", async (t) => {
  const { chain, h1, h3 } = await setup();
  const { receipt } = await chain.run(op0, "updateBaselines", {
    household: h1.address,
    fromPeriod: 2n,
    baselines: baselines(50_000n),
  });
  t.equal(codeOf(receipt), "ok");
  t.same(receipt.events, [
    { kind: "baselinesUpdated", value: { household: h1.address, fromPeriod: 2n } },
  ]);
  const record = chain.get(tables.household, h1.address)!;
  t.equal(baselinesForPeriod(record, 1n)[0], 100_000n);
  t.equal(baselinesForPeriod(record, 2n)[0], 50_000n);
  t.equal(baselinesForPeriod(record, 9n)[0], 50_000n);

  const update = (fromPeriod: bigint, household = h1) => ({
    household: household.address,
    fromPeriod,
    baselines: baselines(1n),
  });
  await expectRefused(t, chain, op0, "updateBaselines", update(0n), "BASELINE_PERIOD_STARTED");
  await expectRefused(t, chain, op0, "updateBaselines", update(3n, h3), "NOT_AUTHORISED");
  await expectRefused(t, chain, op0, "updateBaselines", update(3n, stranger), "UNKNOWN_HOUSEHOLD");
  await expectRefused(t, chain, stranger, "updateBaselines", update(3n), "NOT_AUTHORISED");
  for (const k of [3n, 4n, 5n]) await chain.run(op0, "updateBaselines", update(k));
  await expectRefused(t, chain, op0, "updateBaselines", update(6n), "TOO_MANY_PENDING");
  // Replacing a pending change does not lengthen the list.
  t.equal(codeOf((await chain.run(op0, "updateBaselines", update(5n))).receipt), "ok");

  // Once the chain is in period 3, changes up to period 3 fold into the baselines in force.
  await chain.valid([], { time: T0 + 3n * PERIOD + 10n });
  t.equal(codeOf((await chain.run(op0, "updateBaselines", update(6n))).receipt), "ok");
  const folded = chain.get(tables.household, h1.address)!;
  t.same(
    folded.pendingBaselines.map((p) => p.fromPeriod),
    [4n, 5n, 6n],
  );
  t.equal(folded.baselines[0], 1n);
});

t.test("explicit caps are set (or cleared) only before their period starts", async (t) => {
  const { chain, h1, h3 } = await setup();
  const { receipt } = await chain.run(op0, "setExplicitCap", {
    household: h1.address,
    period: 1n,
    cap: 70_000n,
  });
  t.equal(codeOf(receipt), "ok");
  t.equal(chain.get(tables.explicitCap, [h1.address, 1n]), 70_000n);
  await chain.run(op0, "setExplicitCap", { household: h1.address, period: 1n, cap: undefined });
  t.equal(chain.get(tables.explicitCap, [h1.address, 1n]), undefined);
  await expectRefused(
    t,
    chain,
    op0,
    "setExplicitCap",
    { household: h1.address, period: 0n, cap: 1n },
    "CAP_PERIOD_STARTED",
  );
  await expectRefused(
    t,
    chain,
    op0,
    "setExplicitCap",
    { household: h3.address, period: 1n, cap: 1n },
    "NOT_AUTHORISED",
  );
  await chain.valid([], { time: T0 + PERIOD });
  await expectRefused(
    t,
    chain,
    op0,
    "setExplicitCap",
    { household: h1.address, period: 1n, cap: 1n },
    "CAP_PERIOD_STARTED",
  );
});

t.test("oracles: registered by one utility, revoked by it, re-registered only by it", async (t) => {
  const { chain } = await setup();
  const oracle = actor(30).address;
  const { receipt } = await chain.run(op0, "registerOracle", { oracle });
  t.same(receipt.events, [{ kind: "oracleRegistered", value: { oracle, utility: "u0" } }]);
  await expectRefused(t, chain, op0, "registerOracle", { oracle }, "ORACLE_EXISTS");
  await expectRefused(t, chain, op1, "registerOracle", { oracle }, "ORACLE_EXISTS");
  await expectRefused(t, chain, op1, "revokeOracle", { oracle }, "NOT_AUTHORISED");
  await expectRefused(
    t,
    chain,
    op0,
    "revokeOracle",
    { oracle: actor(31).address },
    "UNKNOWN_ORACLE",
  );
  t.equal(codeOf((await chain.run(op0, "revokeOracle", { oracle })).receipt), "ok");
  t.equal(chain.get(tables.oracle, oracle)?.active, false);
  await expectRefused(t, chain, op0, "revokeOracle", { oracle }, "ORACLE_REVOKED");
  await expectRefused(t, chain, op1, "registerOracle", { oracle }, "ORACLE_EXISTS");
  t.equal(codeOf((await chain.run(op0, "registerOracle", { oracle })).receipt), "ok");
  t.equal(chain.get(tables.oracle, oracle)?.active, true);
});

t.test("household key rotation waits, can be cancelled, and moves who signs", async (t) => {
  const { chain, h1, h2, h3 } = await setup();
  const newKey = actor(40);
  const request = { household: h1.address, newKey: newKey.address };
  await expectRefused(
    t,
    chain,
    op0,
    "completeKeyRotation",
    { household: h1.address },
    "NO_KEY_ROTATION",
  );
  await expectRefused(
    t,
    chain,
    op0,
    "requestKeyRotation",
    { household: h1.address, newKey: h2.address },
    "KEY_IN_USE",
  );
  await expectRefused(t, chain, op1, "requestKeyRotation", request, "NOT_AUTHORISED");
  const { receipt } = await chain.run(op0, "requestKeyRotation", request);
  t.same(receipt.events, [
    {
      kind: "keyRotationRequested",
      value: { household: h1.address, newKey: newKey.address, notBefore: chain.time + 20_000n },
    },
  ]);
  await expectRefused(t, chain, op0, "requestKeyRotation", request, "KEY_ROTATION_PENDING");
  await expectRefused(
    t,
    chain,
    op0,
    "completeKeyRotation",
    { household: h1.address },
    "KEY_ROTATION_TOO_EARLY",
  );

  // The household, still holding its key, objects.
  await expectRefused(
    t,
    chain,
    h3,
    "cancelKeyRotation",
    { household: h1.address },
    "NOT_AUTHORISED",
  );
  await expectRefused(
    t,
    chain,
    op1,
    "cancelKeyRotation",
    { household: h1.address },
    "NOT_AUTHORISED",
  );
  const cancel = await chain.run(h1, "cancelKeyRotation", { household: h1.address });
  t.same(cancel.receipt.events, [
    { kind: "keyRotationCancelled", value: { household: h1.address } },
  ]);
  await expectRefused(
    t,
    chain,
    h1,
    "cancelKeyRotation",
    { household: h1.address },
    "NO_KEY_ROTATION",
  );

  // Requested again, cancelled by the utility, requested a third time and completed.
  await chain.run(op0, "requestKeyRotation", request);
  t.equal(
    codeOf((await chain.run(op0, "cancelKeyRotation", { household: h1.address })).receipt),
    "ok",
  );
  await chain.run(op0, "requestKeyRotation", request);
  await chain.valid([], { time: chain.time + 20_000n });
  const done = await chain.run(op0, "completeKeyRotation", { household: h1.address });
  t.same(done.receipt.events, [
    {
      kind: "keyRotated",
      value: { household: h1.address, oldKey: h1.address, newKey: newKey.address },
    },
  ]);
  const record = chain.get(tables.household, h1.address)!;
  t.same(record.key, newKey.address);
  t.equal(record.pendingKeyRotation, undefined);
  t.equal(chain.get(tables.householdKey, h1.address), undefined);
  t.same(chain.get(tables.householdKey, newKey.address), h1.address);
  await expectRefused(
    t,
    chain,
    h1,
    "delegateAppKey",
    { appKey: actor(41).address },
    "NOT_AUTHORISED",
  );
  t.equal(
    codeOf((await chain.run(newKey, "delegateAppKey", { appKey: actor(41).address })).receipt),
    "ok",
  );
});

t.test("a key taken while a rotation waits cannot be completed into", async (t) => {
  const { chain, h1 } = await setup();
  const newKey = actor(40);
  await chain.run(op0, "requestKeyRotation", { household: h1.address, newKey: newKey.address });
  await chain.run(op0, "registerHousehold", registration(newKey, 9));
  await chain.valid([], { time: chain.time + 20_000n });
  await expectRefused(
    t,
    chain,
    op0,
    "completeKeyRotation",
    { household: h1.address },
    "KEY_IN_USE",
  );
});

t.test("delegating and clearing an app key", async (t) => {
  const { chain, h1 } = await setup();
  const app = actor(41).address;
  const { receipt } = await chain.run(h1, "delegateAppKey", { appKey: app });
  t.same(receipt.events, [{ kind: "appKeySet", value: { household: h1.address, appKey: app } }]);
  t.same(chain.get(tables.household, h1.address)?.appKey, app);
  await chain.run(h1, "delegateAppKey", { appKey: undefined });
  t.equal(chain.get(tables.household, h1.address)?.appKey, undefined);
  await expectRefused(t, chain, h1, "delegateAppKey", { appKey: h1.address }, "BAD_APP_KEY");
  await expectRefused(t, chain, stranger, "delegateAppKey", { appKey: app }, "NOT_AUTHORISED");
  await expectRefused(t, chain, op0, "delegateAppKey", { appKey: app }, "NOT_AUTHORISED");
});
