// Access control on a public node: household data only for requests signed by the household,
// its utility's operator or an auditor; everything else stays public.
import t, { type Test } from "tap";
import { sign } from "../../lib/signature.js";
import { buildGenesis } from "../../node/genesis.js";
import { authMessage, proofSubject } from "../../rpc/access.js";
import { keys } from "../../vm/keys.js";
import { registration, signedTx } from "../node/chain-fixtures.js";
import { type Actor, actor, genesisJson, hash32, operatorOf } from "../vm/helpers.js";
import { startNode } from "./rpc-fixtures.js";

const op0 = operatorOf(0);
const op1 = operatorOf(1);
const household = actor(50);
const auditor = actor(70);
const stranger = actor(71);
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString("hex")}`;

function auth(signer: Actor, method: string, subject: string, time = BigInt(Date.now())) {
  const signature = sign(signer.secretKey, authMessage("wattcap-test", method, subject, time));
  return { publicKey: hex(signer.publicKey), time: time.toString(), signature: hex(signature) };
}

/** A node restricting household data, with one household registered. */
async function restrictedNode(t: Test) {
  const node = await startNode(
    t,
    { access: { auditors: [auditor.address] } },
    buildGenesis(genesisJson([1, 1])),
  );
  await node.mempool.add(signedTx(op0, 0n, "registerHousehold", registration(household, 50)));
  await node.produce();
  return node;
}

t.test("personal methods need an allowed signer", async (t) => {
  const node = await restrictedNode(t);
  const subject = hex(household.address);
  const address = household.hex;

  t.ok((await node.call("chain_status")).result, "public methods need nothing");
  const none = await node.call("account_get", { address });
  t.equal(none.error?.code, -32003);
  t.same(none.error?.data, { reason: "no auth param" });

  for (const [who, signer] of [
    ["the household", household],
    ["its utility's operator", op0],
    ["an auditor", auditor],
  ] as const) {
    const ok = await node.call("account_get", {
      address,
      auth: auth(signer, "account_get", subject),
    });
    t.ok(ok.result, `${who} may read it`);
  }
  for (const [why, params] of [
    ["a stranger", { address, auth: auth(stranger, "account_get", subject) }],
    ["another utility's operator", { address, auth: auth(op1, "account_get", subject) }],
    [
      "a signature for another method",
      { address, auth: auth(household, "household_get", subject) },
    ],
    [
      "a signature for another subject",
      { address, auth: auth(household, "account_get", hex(stranger.address)) },
    ],
    [
      "an old signature",
      { address, auth: auth(household, "account_get", subject, BigInt(Date.now() - 600_000)) },
    ],
  ] as const) {
    t.equal((await node.call("account_get", params)).error?.code, -32003, why);
  }

  const meter = hex(hash32(50));
  t.ok(
    (
      await node.call("readings_byMeter", {
        meterIdHash: meter,
        auth: auth(household, "readings_byMeter", meter),
      })
    ).result,
    "a meter's readings, by its household",
  );
  t.ok(
    (
      await node.call("export_settlement", {
        utility: "u0",
        period: "0",
        auth: auth(op0, "export_settlement", "u0"),
      })
    ).result,
    "the utility's billing export, by its operator",
  );
  t.equal(
    (
      await node.call("export_settlement", {
        utility: "u0",
        period: "0",
        auth: auth(household, "export_settlement", "u0"),
      })
    ).error?.code,
    -32003,
    "not by a household",
  );

  const ws = await node.ws();
  t.equal((await ws.call("subscribe", { topic: "household", address })).error?.code, -32003);
  t.ok(
    (
      await ws.call("subscribe", {
        topic: "household",
        address,
        auth: auth(household, "subscribe", subject),
      })
    ).result,
  );
  t.ok((await ws.call("subscribe", { topic: "newHeads" })).result, "heads are public");
});

t.test("state proofs of household records need the same signed request", async (t) => {
  const node = await restrictedNode(t);
  const subject = hex(household.address);
  const meter = hex(hash32(50));
  const personal = [
    ["its account", hex(keys.account(household.address)), subject],
    ["its household record", hex(keys.household(household.address)), subject],
    ["its credits", hex(keys.credits(household.address, 1n)), subject],
    ["its statement", hex(keys.statement(household.address, 0n)), subject],
    ["its meter's owner", hex(keys.meter(hash32(50))), meter],
    ["its meter's last reading", hex(keys.meterReading(hash32(50))), meter],
  ] as const;
  for (const [what, key, about] of personal) {
    const none = await node.call("state_getProof", { key });
    t.equal(none.error?.code, -32003, `${what}: refused without auth`);
    t.equal(
      (await node.call("state_getProof", { key, auth: auth(stranger, "state_getProof", about) }))
        .error?.code,
      -32003,
      `${what}: refused to a stranger`,
    );
    t.equal(
      (await node.call("state_getProof", { key, auth: auth(household, "account_get", about) }))
        .error?.code,
      -32003,
      `${what}: a signature for another method does not do`,
    );
    for (const signer of [household, op0, auditor]) {
      const ok = await node.call("state_getProof", {
        key,
        auth: auth(signer, "state_getProof", about),
      });
      t.ok(ok.result, `${what}: proven to an allowed signer`);
    }
  }
  t.equal(
    (
      await node.call("state_getProof", {
        key: hex(keys.account(household.address)),
        auth: auth(op1, "state_getProof", subject),
      })
    ).error?.code,
    -32003,
    "another utility's operator may not",
  );
  const short = await node.call("state_getProof", {
    key: "0x10abcd",
    auth: auth(auditor, "state_getProof", "0xabcd"),
  });
  t.equal(short.error?.code, -32003, "a household-prefixed key naming nobody is refused");
  for (const key of [keys.utility("u0"), keys.oracle(actor(60).address), keys.params()]) {
    t.ok(
      (await node.call("state_getProof", { key: hex(key) })).result,
      "public records need nothing",
    );
  }

  const open = await startNode(t, {}, buildGenesis(genesisJson([1, 1])));
  t.ok(
    (await open.call("state_getProof", { key: hex(keys.account(household.address)) })).result,
    "a node without access control proves anything",
  );
});

t.test("proofSubject names the household or meter a key belongs to", async (t) => {
  t.same(proofSubject(keys.credits(household.address, 3n)), {
    kind: "address",
    address: household.address,
  });
  t.same(proofSubject(keys.meterReading(hash32(9))), { kind: "meter", meterIdHash: hash32(9) });
  t.equal(proofSubject(keys.order(hash32(1))), "public", "orders are in the public book");
  t.equal(proofSubject(Uint8Array.of(0x50, 1, 2)), "malformed");
  t.equal(proofSubject(new Uint8Array(0)), "public");
});
