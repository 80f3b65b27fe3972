// Access control on a public node: household data only for requests signed by the household,
// its utility's operator or an auditor; everything else stays public.
import t from "tap";
import { sign } from "../../lib/signature.js";
import { buildGenesis } from "../../node/genesis.js";
import { authMessage } from "../../rpc/access.js";
import { signedTx } from "../node/chain-fixtures.js";
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

t.test("personal methods need an allowed signer", async (t) => {
  const node = await startNode(
    t,
    { access: { auditors: [auditor.address] } },
    buildGenesis(genesisJson([1, 1])),
  );
  await node.mempool.add(
    signedTx(op0, 0n, "registerHousehold", {
      household: household.address,
      meterIdHash: hash32(50),
      meterKey: undefined,
      registers: 1,
      baselines: Array.from({ length: 12 }, () => 1000n),
    }),
  );
  await node.produce();
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
