import t from "tap";
import { toChecksumAddress } from "../../lib/address.js";
import { duplicateVoteEvidence, type Evidence } from "../../lib/evidence.js";
import type { Validator } from "../../lib/validator.js";
import { signVote } from "../../lib/vote.js";
import { parsePolicyJson } from "../../vm/genesis.js";
import { setAt } from "../../vm/governance/validator-set.js";
import { rulesVersionAt } from "../../vm/model/chain.js";
import type { GovernanceAction } from "../../vm/model/governance.js";
import { tables } from "../../vm/tables.js";
import {
  type Actor,
  actor,
  changesBesidesNonce,
  codeOf,
  genesisJson,
  hash32,
  operatorOf,
  policyJson,
  TestChain,
  validatorOf,
} from "./helpers.js";

const policy = parsePolicyJson(policyJson());

function addUtility(id: string, operator: Actor): GovernanceAction {
  return { kind: "addUtility", value: { id, name: id, operator: operator.address, policy } };
}

function validatorEntry(v: Actor, utility: string, operator: Actor): Validator {
  return { address: v.address, publicKey: v.publicKey, operator: operator.address, utility };
}

async function propose(chain: TestChain, utility: number, action: GovernanceAction) {
  return chain.run(operatorOf(utility), "proposeGovernance", { action });
}

async function approve(chain: TestChain, utility: number, proposalId: Uint8Array) {
  return chain.run(operatorOf(utility), "approveGovernance", { proposalId });
}

function kinds(receipt: { events: ReadonlyArray<{ kind: string }> }): string[] {
  return receipt.events.map((e) => e.kind);
}

t.test("n = 1: the single utility's proposal passes at once", async (t) => {
  const chain = new TestChain(genesisJson([1]));
  const { receipt } = await propose(chain, 0, addUtility("north", actor(60)));
  t.equal(codeOf(receipt), "ok");
  t.same(kinds(receipt), ["proposalCreated", "proposalApproved", "utilityAdded", "proposalPassed"]);
  t.equal(chain.get(tables.utility, "north")?.status, "active");
  t.equal(chain.get(tables.operator, actor(60).address), "north");
  t.equal(chain.get(tables.proposal, receipt.txId), undefined, "a passed proposal is not kept");
});

t.test("n = 4: passes with the third utility's approval (3 of 4 > 2/3), not before", async (t) => {
  const chain = new TestChain(genesisJson([1, 1, 1, 1]));
  const { receipt } = await propose(chain, 0, addUtility("north", actor(60)));
  t.same(kinds(receipt), ["proposalCreated", "proposalApproved"]);
  const id = receipt.txId;
  const second = await approve(chain, 1, id);
  t.same(kinds(second.receipt), ["proposalApproved"]);
  t.same(second.receipt.events[0]!.value, { id, utility: "u1", weight: 2, setSize: 4 });
  t.equal(chain.get(tables.utility, "north"), undefined);
  t.same(chain.get(tables.proposal, id)?.approvals, ["u0", "u1"]);
  const third = await approve(chain, 3, id);
  t.same(kinds(third.receipt), ["proposalApproved", "utilityAdded", "proposalPassed"]);
  t.equal(chain.get(tables.utility, "north")?.status, "active");
  t.equal(chain.get(tables.proposal, id), undefined);
  t.equal(codeOf((await approve(chain, 2, id)).receipt), "UNKNOWN_PROPOSAL");
});

t.test("n = 7: approvals weigh their utilities' validators; 5 of 7 pass, 4 do not", async (t) => {
  // u0 and u1 have two validators each, u2..u4 one each.
  const chain = new TestChain(genesisJson([2, 2, 1, 1, 1]));
  const { receipt } = await propose(chain, 0, addUtility("north", actor(60)));
  const id = receipt.txId;
  const four = await approve(chain, 1, id);
  t.same(four.receipt.events[0]!.value, { id, utility: "u1", weight: 4, setSize: 7 });
  t.equal(chain.get(tables.utility, "north"), undefined, "4 of 7 is not more than 2/3");
  const five = await approve(chain, 4, id);
  t.same(kinds(five.receipt), ["proposalApproved", "utilityAdded", "proposalPassed"]);

  // Three single-validator utilities plus one double: also 5.
  const other = await propose(chain, 2, addUtility("south", actor(61)));
  await approve(chain, 3, other.receipt.txId);
  t.equal(chain.get(tables.utility, "south"), undefined, "3 of 7");
  await approve(chain, 4, other.receipt.txId);
  t.equal(chain.get(tables.utility, "south"), undefined, "still 3 of 7: u4 has one validator");
  const passing = await approve(chain, 1, other.receipt.txId);
  t.equal(passing.receipt.events.at(-1)?.kind, "proposalPassed");
});

t.test("who may govern: operators of utilities with validators in force", async (t) => {
  const chain = new TestChain(genesisJson([1]));
  const stranger = actor(3);
  const { receipt, block } = await chain.run(stranger, "proposeGovernance", {
    action: addUtility("x", actor(61)),
  });
  t.equal(codeOf(receipt), "NOT_AUTHORISED");
  t.same(changesBesidesNonce(block, stranger), []);
  await propose(chain, 0, addUtility("north", actor(60)));
  // north has no validators: its operator cannot propose or approve.
  const north = await chain.run(actor(60), "proposeGovernance", {
    action: addUtility("y", actor(62)),
  });
  t.equal(codeOf(north.receipt), "NOT_AUTHORISED");
});

t.test("approval refusals change nothing but the nonce", async (t) => {
  const chain = new TestChain(genesisJson([1, 1, 1, 1]));
  const { receipt } = await propose(chain, 0, addUtility("north", actor(60)));
  const again = await approve(chain, 0, receipt.txId);
  t.equal(codeOf(again.receipt), "ALREADY_APPROVED");
  t.same(changesBesidesNonce(again.block, operatorOf(0)), []);
  const unknown = await approve(chain, 1, hash32(77));
  t.equal(codeOf(unknown.receipt), "UNKNOWN_PROPOSAL");
  t.same(changesBesidesNonce(unknown.block, operatorOf(1)), []);
});

t.test(
  "proposals can be approved until expiresHeight, then expire at the end of that block",
  async (t) => {
    const chain = new TestChain(genesisJson([1, 1, 1, 1])); // proposalTtlBlocks: 5
    const { receipt } = await propose(chain, 0, addUtility("north", actor(60)));
    const id = receipt.txId;
    const created = receipt.events[0]!;
    t.same(created.value, {
      id,
      utility: "u0",
      action: addUtility("north", actor(60)),
      expiresHeight: 6n,
    });
    for (let i = 0; i < 3; i++) await chain.valid([]);
    const last = await approve(chain, 1, id); // height 5
    t.equal(codeOf(last.receipt), "ok");
    const expiring = await chain.valid([]); // height 6: the last approval height
    t.same(expiring.events, [{ kind: "proposalExpired", value: { id } }]);
    t.equal(chain.get(tables.proposal, id), undefined);
    t.equal(codeOf((await approve(chain, 2, id)).receipt), "UNKNOWN_PROPOSAL");
  },
);

t.test(
  "expiry is bounded per block; a proposal past its height is refused as expired",
  async (t) => {
    const json = genesisJson([1, 1, 1, 1], {
      limits: { maxReadingsPerBatch: 100, maxJobWorkPerBlock: 1, keyRotationDelayMs: 1000 },
    });
    const chain = new TestChain(json);
    const block = await chain.valid([
      chain.tx(operatorOf(0), "proposeGovernance", { action: addUtility("a", actor(60)) }),
      chain.tx(operatorOf(1), "proposeGovernance", { action: addUtility("b", actor(61)) }),
    ]);
    const ids = block.receipts.map((r) => r.txId);
    for (let i = 0; i < 4; i++) await chain.valid([]);
    const first = await chain.valid([]); // height 6: one of the two expires
    t.equal(first.events.length, 1);
    const expiredId = (first.events[0]!.value as { id: Uint8Array }).id;
    const remaining = ids.find((id) => id.some((b, i) => b !== expiredId[i]))!;
    const late = await chain.run(operatorOf(2), "approveGovernance", { proposalId: remaining });
    t.equal(codeOf(late.receipt), "PROPOSAL_EXPIRED");
    t.same(
      late.block.events.map((e) => e.kind),
      ["proposalExpired"],
    );
  },
);

t.test("utility actions and their refusals", async (t) => {
  const chain = new TestChain(genesisJson([1]));
  const cases: Array<[GovernanceAction, string]> = [
    [addUtility("Bad_Id", actor(60)), "BAD_UTILITY_ID"],
    [addUtility("u0", actor(60)), "UTILITY_EXISTS"],
    [addUtility("north", operatorOf(0)), "OPERATOR_IN_USE"],
    [
      {
        kind: "addUtility",
        value: {
          id: "north",
          name: "n",
          operator: actor(60).address,
          policy: { ...policy, floorPrice: 10_000n },
        },
      },
      "POLICY_INVALID",
    ],
    [{ kind: "removeUtility", value: { id: "nope" } }, "UNKNOWN_UTILITY"],
    [{ kind: "removeUtility", value: { id: "u0" } }, "UTILITY_IN_USE"],
    [
      { kind: "rotateOperatorKey", value: { utility: "nope", operator: actor(60).address } },
      "UNKNOWN_UTILITY",
    ],
    [
      { kind: "rotateOperatorKey", value: { utility: "u0", operator: operatorOf(0).address } },
      "OPERATOR_IN_USE",
    ],
  ];
  for (const [action, code] of cases) {
    const { receipt, block } = await propose(chain, 0, action);
    t.equal(codeOf(receipt), code, `${action.kind} → ${code}`);
    t.same(changesBesidesNonce(block, operatorOf(0)), [], `${code}: nothing else changed`);
  }
});

t.test(
  "removing a utility: refused while it has households or a balance, then marked removed",
  async (t) => {
    const chain = new TestChain(genesisJson([1]));
    const north = actor(60);
    await propose(chain, 0, addUtility("north", north));
    const household = actor(70);
    await chain.run(north, "registerHousehold", {
      household: household.address,
      meterIdHash: hash32(1),
      meterKey: undefined,
      registers: 1,
      baselines: Array.from({ length: 12 }, () => 1000n),
    });
    const remove: GovernanceAction = { kind: "removeUtility", value: { id: "north" } };
    t.equal(codeOf((await propose(chain, 0, remove)).receipt), "UTILITY_IN_USE", "households");
    await chain.run(north, "recordPayment", {
      household: household.address,
      amount: 10n,
      reference: "p",
    });
    await chain.run(north, "closeHousehold", { household: household.address, reference: "out" });
    t.equal(chain.get(tables.utility, "north")?.activeHouseholds, 0);
    t.equal(chain.get(tables.utility, "north")?.balance, 0n);
    const { receipt } = await propose(chain, 0, remove);
    t.same(kinds(receipt).slice(-2), ["utilityRemoved", "proposalPassed"]);
    t.equal(chain.get(tables.utility, "north")?.status, "removed");
    t.equal(chain.get(tables.operator, north.address), undefined);
    t.equal(
      codeOf((await propose(chain, 0, addUtility("north", actor(61)))).receipt),
      "UTILITY_EXISTS",
    );
    const oldOperator = await chain.run(north, "registerOracle", { oracle: actor(80).address });
    t.equal(codeOf(oldOperator.receipt), "NOT_AUTHORISED");
  },
);

t.test("scheduling upgrades", async (t) => {
  const chain = new TestChain(genesisJson([1]));
  const upgrade = (version: number, height: bigint): GovernanceAction => ({
    kind: "scheduleUpgrade",
    value: { version, height },
  });
  t.equal(codeOf((await propose(chain, 0, upgrade(2, 1n))).receipt), "UPGRADE_HEIGHT_PASSED");
  t.equal(codeOf((await propose(chain, 0, upgrade(1, 100n))).receipt), "UPGRADE_VERSION_NOT_NEWER");
  t.equal(codeOf((await propose(chain, 0, upgrade(2, 100n))).receipt), "ok");
  t.equal(codeOf((await propose(chain, 0, upgrade(3, 100n))).receipt), "UPGRADE_HEIGHT_PASSED");
  t.equal(codeOf((await propose(chain, 0, upgrade(2, 200n))).receipt), "UPGRADE_VERSION_NOT_NEWER");
  const view = chain.view();
  const scheduled = view.one(tables.upgrades);
  t.same(scheduled.scheduled, [{ version: 2, height: 100n }]);
  t.equal(rulesVersionAt(scheduled, 99n), 1);
  t.equal(rulesVersionAt(scheduled, 100n), 2);
});

t.test("validator changes take effect at H+2, one per height", async (t) => {
  const chain = new TestChain(genesisJson([1]));
  await chain.valid([
    chain.tx(operatorOf(0), "proposeGovernance", { action: addUtility("a", actor(60)) }),
    chain.tx(operatorOf(0), "proposeGovernance", { action: addUtility("b", actor(61)) }),
  ]);
  const va = actor(90);
  const vb = actor(91);
  const block = await chain.valid([
    chain.tx(operatorOf(0), "proposeGovernance", {
      action: { kind: "addValidator", value: { validator: validatorEntry(va, "a", actor(60)) } },
    }),
    chain.tx(operatorOf(0), "proposeGovernance", {
      action: { kind: "addValidator", value: { validator: validatorEntry(vb, "b", actor(61)) } },
    }),
  ]);
  const h = chain.height;
  t.same(block.receipts.map(codeOf), ["ok", "ok"]);
  t.equal(block.validatorUpdate?.fromHeight, h + 2n);
  t.equal(block.validatorUpdate?.validators.length, 2);
  t.same(
    block.events.map((e) => e.kind),
    ["validatorSetScheduled"],
  );
  const first = chain.view().one(tables.validators);
  t.equal(setAt(first, h + 1n).length, 1);
  t.equal(setAt(first, h + 2n).length, 2);
  t.equal(first.queue.length, 1, "the second change waits for the next height");
  const next = await chain.valid([]);
  t.equal(next.validatorUpdate?.fromHeight, h + 3n);
  t.equal(next.validatorUpdate?.validators.length, 3);
  const schedule = chain.view().one(tables.validators);
  t.equal(setAt(schedule, h + 2n).length, 2);
  t.equal(setAt(schedule, h + 3n).length, 3);
  t.equal(schedule.queue.length, 0);
  const idle = await chain.valid([]);
  t.equal(idle.validatorUpdate, undefined);
  t.same(
    chain
      .view()
      .one(tables.validators)
      .sets.map((s) => s.fromHeight),
    [h + 3n],
    "sets no later height uses are forgotten",
  );

  // At H+3 three utilities have one validator each: u0 alone no longer decides.
  while (chain.height < h + 3n) await chain.valid([]);
  const { receipt } = await propose(chain, 0, addUtility("c", actor(62)));
  t.same(receipt.events[1]!.value, { id: receipt.txId, utility: "u0", weight: 1, setSize: 3 });
  t.equal(chain.get(tables.utility, "c"), undefined);
});

t.test("validator actions and their refusals", async (t) => {
  const chain = new TestChain(genesisJson([1, 1, 1, 1]));
  const v00 = validatorOf(0, 0);
  const fresh = actor(95);
  const cases: Array<[GovernanceAction, string]> = [
    [
      { kind: "addValidator", value: { validator: validatorEntry(fresh, "nope", operatorOf(0)) } },
      "UNKNOWN_UTILITY",
    ],
    [
      { kind: "addValidator", value: { validator: validatorEntry(fresh, "u0", operatorOf(1)) } },
      "OPERATOR_MISMATCH",
    ],
    [
      {
        kind: "addValidator",
        value: {
          validator: { ...validatorEntry(fresh, "u0", operatorOf(0)), address: v00.address },
        },
      },
      "BAD_VALIDATOR_KEY",
    ],
    [
      { kind: "addValidator", value: { validator: validatorEntry(v00, "u0", operatorOf(0)) } },
      "VALIDATOR_EXISTS",
    ],
    [
      {
        kind: "addValidator",
        value: {
          validator: {
            ...validatorEntry(fresh, "u0", operatorOf(0)),
            publicKey: new Uint8Array(33).fill(4),
          },
        },
      },
      "BAD_VALIDATOR_KEY",
    ],
    // A second validator for u0 would be 2 of 5: a third or more.
    [
      { kind: "addValidator", value: { validator: validatorEntry(fresh, "u0", operatorOf(0)) } },
      "VALIDATOR_SET_RULE",
    ],
    [{ kind: "removeValidator", value: { address: fresh.address } }, "UNKNOWN_VALIDATOR"],
    [
      { kind: "rotateValidatorKey", value: { address: fresh.address, publicKey: fresh.publicKey } },
      "UNKNOWN_VALIDATOR",
    ],
    [
      {
        kind: "rotateValidatorKey",
        value: { address: v00.address, publicKey: validatorOf(1, 0).publicKey },
      },
      "VALIDATOR_EXISTS",
    ],
    [
      {
        kind: "rotateValidatorKey",
        value: { address: v00.address, publicKey: new Uint8Array(33).fill(9) },
      },
      "BAD_VALIDATOR_KEY",
    ],
  ];
  for (const [action, code] of cases) {
    const { receipt, block } = await propose(chain, 0, action);
    t.equal(codeOf(receipt), code, `${action.kind} → ${code}`);
    t.same(changesBesidesNonce(block, operatorOf(0)), [], `${code}: nothing else changed`);
  }
  const single = new TestChain(genesisJson([1]));
  const last = await propose(single, 0, {
    kind: "removeValidator",
    value: { address: v00.address },
  });
  t.equal(codeOf(last.receipt), "VALIDATOR_SET_RULE", "the set cannot become empty");
});

t.test("rotating a validator key and an operator key", async (t) => {
  const chain = new TestChain(genesisJson([1]));
  const v00 = validatorOf(0, 0);
  const newKey = actor(96);
  const rotated = await propose(chain, 0, {
    kind: "rotateValidatorKey",
    value: { address: v00.address, publicKey: newKey.publicKey },
  });
  t.equal(codeOf(rotated.receipt), "ok");
  t.same(
    rotated.block.validatorUpdate?.validators.map((v) => v.address),
    [newKey.address],
  );

  const newOperator = actor(97);
  const { receipt, block } = await propose(chain, 0, {
    kind: "rotateOperatorKey",
    value: { utility: "u0", operator: newOperator.address },
  });
  t.same(kinds(receipt).slice(-3), ["operatorRotated", "validatorChangeQueued", "proposalPassed"]);
  t.same(block.validatorUpdate?.validators[0]?.operator, newOperator.address);
  t.equal(chain.get(tables.operator, newOperator.address), "u0");
  t.equal(chain.get(tables.operator, operatorOf(0).address), undefined);
  t.equal(chain.get(tables.utility, "u0")?.operator.length, 20);
  const old = await chain.run(operatorOf(0), "registerOracle", { oracle: actor(80).address });
  t.equal(codeOf(old.receipt), "NOT_AUTHORISED");
  const fresh = await chain.run(newOperator, "registerOracle", { oracle: actor(80).address });
  t.equal(codeOf(fresh.receipt), "ok");
  t.ok(toChecksumAddress(newOperator.address).startsWith("0x"));
});

function evidenceAgainst(chain: TestChain, v: Actor): Evidence {
  const vote = (hash: number) =>
    signVote(
      {
        type: "prevote",
        chainId: chain.chainId,
        height: chain.height,
        round: 0,
        blockHash: hash32(hash),
        validator: v.address,
      },
      v.secretKey,
    );
  return duplicateVoteEvidence(vote(1), vote(2));
}

t.test("evidence removes the equivocator at H+2, never emptying the set", async (t) => {
  const chain = new TestChain(genesisJson([1, 1, 1, 1]));
  const offender = validatorOf(1, 0);
  const block = await chain.valid([], { evidence: [evidenceAgainst(chain, offender)] });
  t.equal(block.validatorUpdate?.fromHeight, chain.height + 2n);
  t.equal(block.validatorUpdate?.validators.length, 3);
  t.same(block.validatorUpdate?.changes, [
    { kind: "remove", value: { address: offender.address } },
  ]);
  t.same(block.events, [
    {
      kind: "equivocatorRemoved",
      value: { validator: offender.address, fromHeight: chain.height + 2n },
    },
  ]);
  const again = await chain.valid([], { evidence: [evidenceAgainst(chain, offender)] });
  t.equal(again.validatorUpdate, undefined, "already removed");

  const single = new TestChain(genesisJson([1]));
  const alone = await single.valid([], { evidence: [evidenceAgainst(single, validatorOf(0, 0))] });
  t.equal(alone.validatorUpdate, undefined);
});

t.test("a queued change that no longer fits when its height comes is dropped", async (t) => {
  const chain = new TestChain(genesisJson([1, 1, 1, 1]));
  const target = validatorOf(2, 0);
  const id = (
    await propose(chain, 0, { kind: "removeValidator", value: { address: target.address } })
  ).receipt.txId;
  await approve(chain, 1, id);
  // The deciding approval and evidence against the same validator land in one block.
  const block = await chain.valid(
    [chain.tx(operatorOf(3), "approveGovernance", { proposalId: id })],
    {
      evidence: [evidenceAgainst(chain, target)],
    },
  );
  t.same(
    block.events.map((e) => e.kind),
    ["equivocatorRemoved", "validatorChangeDropped"],
  );
  t.equal(block.validatorUpdate?.validators.length, 3);
  t.equal(chain.view().one(tables.validators).queue.length, 0);
});
