import t from "tap";
import { toHex } from "../../lib/bytes.js";
import { decode } from "../../lib/codec.js";
import { StateView } from "../../vm/context.js";
import { GenesisError, genesisState, parseGenesis, parsePolicyJson } from "../../vm/genesis.js";
import { keys } from "../../vm/keys.js";
import { ParamsSchema } from "../../vm/model/chain.js";
import { tables } from "../../vm/tables.js";
import {
  genesisJson,
  MemoryState,
  operatorOf,
  PERIOD,
  policyJson,
  T0,
  validatorOf,
} from "./helpers.js";

function errorOf(json: unknown): GenesisError {
  try {
    parseGenesis(json);
  } catch (e) {
    if (e instanceof GenesisError) return e;
    throw e;
  }
  throw new Error("parseGenesis accepted it");
}

t.test("a valid genesis parses into params, utilities and a sorted validator set", async (t) => {
  const genesis = parseGenesis(genesisJson([1, 1, 1, 1]));
  t.equal(genesis.params.chainId, "wattcap-test");
  t.equal(genesis.params.genesisTime, T0);
  t.same(genesis.params.schedule, { kind: "fixed", start: T0, length: PERIOD, firstMonth: 0 });
  t.equal(genesis.params.marketMode, "batch");
  t.equal(genesis.params.governance.proposalTtlBlocks, 5n);
  t.equal(genesis.params.limits.keyRotationDelay, 20_000n);
  t.equal(genesis.utilities.length, 4);
  t.same(genesis.utilities[1]!.operator, operatorOf(1).address);
  t.equal(genesis.utilities[0]!.policy.holdingLimit, 1_000_000n);
  const addresses = genesis.validators.map((v) => toHex(v.address));
  t.same(addresses, [...addresses].sort());
  t.equal(genesis.version, 1);
});

t.test("optional sections take their defaults", async (t) => {
  const json = genesisJson([1]) as Record<string, unknown>;
  delete json.governance;
  delete json.limits;
  delete json.marketMode;
  const genesis = parseGenesis(json);
  t.equal(genesis.params.marketMode, "batch");
  t.equal(genesis.params.governance.proposalTtlBlocks, 10_000n);
  t.equal(genesis.params.limits.maxReadingsPerBatch, 1000);
});

t.test("calendar periods", async (t) => {
  const genesis = parseGenesis(
    genesisJson([1], {
      periods: { kind: "calendar", genesisYear: 2026, genesisMonth: 0, offsetMinutes: -300 },
    }),
  );
  t.same(genesis.params.schedule, {
    kind: "calendar",
    firstYear: 2026,
    firstMonth: 0,
    offsetMinutes: -300,
  });
  // The schedule survives the state codec, negative offset included.
  const state = new MemoryState();
  state.commit(genesisState(genesis));
  t.same(decode(ParamsSchema, state.get(keys.params())!).schedule, genesis.params.schedule);
});

t.test("errors name the path of the bad field", async (t) => {
  const cases: Array<[unknown, string]> = [
    [null, ""],
    [{ ...genesisJson([1]), chainId: "" }, "chainId"],
    [{ ...genesisJson([1]), extra: 1 }, "extra"],
    [{ ...genesisJson([1]), genesisTime: -1 }, "genesisTime"],
    [{ ...genesisJson([1]), genesisTime: 1.5 }, "genesisTime"],
    [{ ...genesisJson([1]), marketMode: "auction" }, "marketMode"],
    [{ ...genesisJson([1]), periods: { kind: "weekly" } }, "periods.kind"],
    [
      { ...genesisJson([1]), periods: { kind: "fixed", startMs: 0, lengthMs: 0, genesisMonth: 0 } },
      "periods",
    ],
    [
      {
        ...genesisJson([1]),
        periods: { kind: "fixed", startMs: 0, lengthMs: 5, genesisMonth: 12 },
      },
      "periods.genesisMonth",
    ],
    [{ ...genesisJson([1]), governance: { proposalTtlBlocks: 0 } }, "governance.proposalTtlBlocks"],
    [{ ...genesisJson([1]), limits: { maxReadingsPerBatch: 0 } }, "limits.maxReadingsPerBatch"],
    [{ ...genesisJson([1]), utilities: [] }, "utilities"],
  ];
  for (const [json, path] of cases) t.equal(errorOf(json).path, path, path);

  const bad = genesisJson([1, 1]);
  bad.utilities[1]!.id = "U1";
  t.equal(errorOf(bad).path, "utilities[1].id");

  const twice = genesisJson([1, 1]);
  twice.utilities[1]!.operator = twice.utilities[0]!.operator;
  t.match(errorOf(twice).message, /utilities\[1\]\.operator: operates another utility/);

  const checksum = genesisJson([1]);
  checksum.utilities[0]!.operator = checksum.utilities[0]!.operator.replace(/[a-f]/, (c) =>
    c.toUpperCase(),
  );
  t.match(errorOf(checksum).message, /utilities\[0\]\.operator: .*checksum/);

  const policy = genesisJson([1]);
  policy.utilities[0]!.policy = policyJson({ floorPrice: 400 });
  t.match(errorOf(policy).message, /utilities\[0\]\.policy: floorPrice is above penaltyPrice/);

  const missing = genesisJson([1]);
  delete (missing.utilities[0]!.policy as Record<string, unknown>).peakWeightBps;
  t.equal(errorOf(missing).path, "utilities[0].policy.peakWeightBps");
});

t.test("validators must match their keys, utilities and operators", async (t) => {
  const wrongAddress = genesisJson([1]);
  wrongAddress.validators[0]!.address = validatorOf(5, 5).hex;
  t.equal(errorOf(wrongAddress).path, "validators[0].address");

  const badKey = genesisJson([1]);
  badKey.validators[0]!.publicKey = `04${"00".repeat(32)}`;
  t.equal(errorOf(badKey).path, "validators[0].publicKey");

  const noUtility = genesisJson([1]);
  noUtility.validators[0]!.utility = "u9";
  t.equal(errorOf(noUtility).path, "validators[0].utility");

  const wrongOperator = genesisJson([1, 1]);
  wrongOperator.validators[0]!.operator = operatorOf(1).hex;
  t.equal(errorOf(wrongOperator).path, "validators[0].operator");
});

t.test("no utility may hold a third of the set or more", async (t) => {
  t.match(errorOf(genesisJson([2, 1, 1])).message, /validators: UTILITY_CONCENTRATION/);
  t.match(errorOf(genesisJson([2, 1])).message, /UTILITY_CONCENTRATION/);
  t.doesNotThrow(() => parseGenesis(genesisJson([2, 2, 1, 1, 1])));
  t.doesNotThrow(() => parseGenesis(genesisJson([1])));
});

t.test(
  "genesisState writes the params, the totals, the utilities and the validator set",
  async (t) => {
    const genesis = parseGenesis(genesisJson([1, 1, 1, 1]));
    const changes = genesisState(genesis);
    t.same(
      changes.map(([k]) => toHex(k)),
      changes.map(([k]) => toHex(k)).sort(),
      "sorted by key",
    );
    t.same(genesisState(genesis), changes, "deterministic");
    const state = new MemoryState();
    state.commit(changes);
    const view = new StateView(
      state,
      {
        chainId: "wattcap-test",
        height: 1n,
        time: T0,
        parentHash: new Uint8Array(32),
        proposer: new Uint8Array(20),
      },
      genesis.params,
    );
    t.same(view.one(tables.params), genesis.params);
    t.same(view.one(tables.totals).payments, 0n);
    t.same(view.one(tables.upgrades), { genesisVersion: 1, scheduled: [] });
    t.same(view.one(tables.validators).sets[0]!.validators, genesis.validators);
    t.equal(view.one(tables.validators).sets[0]!.fromHeight, 1n);
    t.equal(view.get(tables.operator, operatorOf(2).address), "u2");
    const utility = view.get(tables.utility, "u2")!;
    t.equal(utility.status, "active");
    t.equal(utility.balance, 0n);
    t.equal(utility.householdCount, 0);
  },
);

t.test("parsePolicyJson reads a policy on its own", async (t) => {
  t.equal(parsePolicyJson(policyJson({ penaltyPrice: "1000" })).penaltyPrice, 1000n);
  t.throws(
    () => parsePolicyJson(policyJson({ peakWindows: [{ startMinute: 10, endMinute: 5 }] })),
    new GenesisError("policy", "peakWindows[0] is empty or reversed"),
  );
});
