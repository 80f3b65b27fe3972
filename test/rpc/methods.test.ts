// Every HTTP method against a real node on loopback, with blocks that register a household and
// an oracle, record a payment, relay readings and schedule a policy. Every result is checked
// against its method's result schema from rpc/methods.ts as well as for its values.
import t, { type Test } from "tap";
import { fromHex } from "../../lib/bytes.js";
import { decode } from "../../lib/codec.js";
import { parseBytes } from "../../rpc/json.js";
import { methodsByName } from "../../rpc/methods.js";
import { validate } from "../../rpc/schema.js";
import { verifyProof } from "../../state/smt/proof.js";
import { keys } from "../../vm/keys.js";
import { tables } from "../../vm/tables.js";
import { signedTx } from "../node/chain-fixtures.js";
import { actor, hash32, operatorOf, T0 } from "../vm/helpers.js";
import { type RpcNode, startNode } from "./rpc-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: results are checked against their schemas first
type Loose = any;

const op0 = operatorOf(0);
const household = actor(50);
const oracle = actor(60);

async function call(t: Test, node: RpcNode, method: string, params: unknown = {}): Promise<Loose> {
  const response = await node.call(method, params);
  if (response.error)
    throw new Error(`${method}: ${response.error.code} ${response.error.message}`);
  const spec = methodsByName.get(method)!;
  const problem = validate(spec.result, response.result, "result");
  t.equal(problem, undefined, `${method}'s result matches its schema`);
  return response.result;
}

async function send(node: RpcNode, tx: Uint8Array): Promise<string> {
  const response = await node.call("tx_send", { tx: `0x${Buffer.from(tx).toString("hex")}` });
  if (response.error) throw new Error(`tx_send: ${response.error.message}`);
  return (response.result as { hash: string }).hash;
}

t.test("every method over HTTP against a real node", async (t) => {
  const node = await startNode(t);
  const hexAddress = household.hex;
  const meter = hash32(50);

  // Block 1: registration, an oracle, a payment.
  await send(
    node,
    signedTx(op0, 0n, "registerHousehold", {
      household: household.address,
      meterIdHash: meter,
      meterKey: undefined,
      registers: 1,
      baselines: Array.from({ length: 12 }, () => 1000n),
    }),
  );
  await send(node, signedTx(op0, 1n, "registerOracle", { oracle: oracle.address }));
  const payment = await send(
    node,
    signedTx(op0, 2n, "recordPayment", {
      household: household.address,
      amount: 1000n,
      reference: "r1",
    }),
  );
  const pending = await call(t, node, "tx_get", { hash: payment });
  t.equal(pending.status, "pending");
  const b1 = await node.produce();
  t.equal(b1.txIds.length, 3);

  // Block 2: readings (one good, one for an unknown meter), a policy change, a failing payment.
  const utility = decode(tables.utility.schema, node.chain.state().get(tables.utility.key("u0"))!);
  await send(
    node,
    signedTx(oracle, 0n, "submitReadings", {
      readings: [
        { meterIdHash: meter, time: T0 + 2500n, registers: [100n], signature: undefined },
        { meterIdHash: hash32(99), time: T0 + 2500n, registers: [5n], signature: undefined },
      ],
    }),
  );
  await send(
    node,
    signedTx(op0, 3n, "setPolicy", {
      fromPeriod: 3n,
      policy: { ...utility.policy, reductionBps: 2000 },
    }),
  );
  const failing = await send(
    node,
    signedTx(op0, 4n, "recordPayment", {
      household: actor(77).address,
      amount: 5n,
      reference: "r2",
    }),
  );
  await node.produce();

  const status = await call(t, node, "chain_status");
  t.equal(status.height, "2");
  t.equal(status.validatorCount, 1);
  t.equal(status.syncing, false);
  t.equal(status.chainId, "wattcap-test");

  const block1 = await call(t, node, "chain_getBlock", { height: "1" });
  t.equal(block1.transactions.length, 3);
  t.equal(block1.transactions[0].typeName, "registerHousehold");
  t.equal(block1.transactions[0].signer, op0.hex, "addresses are EIP-55");
  t.equal(block1.commit.signatures.length, 1);
  t.equal(block1.lastCommit, null);
  const byHash = await call(t, node, "chain_getBlock", { hash: block1.hash });
  t.equal(byHash.header.height, "1");
  const head = await call(t, node, "chain_getBlock", {});
  t.equal(head.height, "2");
  t.equal(head.lastCommit.height, "1");
  const genesis = await call(t, node, "chain_getBlock", { height: "0" });
  t.equal(genesis.commit, null);
  t.equal(await call(t, node, "chain_getBlock", { height: "99" }), null);
  t.equal(
    (await node.call("chain_getBlock", { height: "1", hash: block1.hash })).error?.code,
    -32602,
  );

  const validators = await call(t, node, "chain_getValidators");
  t.equal(validators.validators.length, 1);
  t.equal(validators.validators[0].signed, "1", "block 2's last commit carried its signature");
  t.equal(validators.validators[0].missed, "0");
  t.equal(validators.validators[0].lastSigned, "1");

  const paid = await call(t, node, "tx_get", { hash: payment });
  t.equal(paid.status, "finalized");
  t.equal(paid.height, "1");
  t.equal(paid.receipt.outcome, "ok");
  t.ok(paid.receipt.events.some((e: Loose) => e.kind === "billRecorded"));
  const refused = await call(t, node, "tx_get", { hash: failing });
  t.equal(refused.status, "rejected");
  t.equal(refused.receipt.reject, "UNKNOWN_HOUSEHOLD");
  const unknown = await call(t, node, "tx_get", { hash: `0x${"ab".repeat(32)}` });
  t.equal(unknown.status, "unknown");

  const badTx = await node.call("tx_send", { tx: "0x00" });
  t.equal(badTx.error?.code, -32000);
  t.same(badTx.error?.data, { reject: "TX_MALFORMED" });
  const stale = await node.call("tx_send", {
    tx: `0x${Buffer.from(signedTx(op0, 0n, "registerOracle", { oracle: actor(61).address })).toString("hex")}`,
  });
  t.equal(stale.error?.code, -32000);
  t.same(stale.error?.data, { reject: "NONCE_TOO_LOW" });

  const account = await call(t, node, "account_get", { address: hexAddress });
  t.equal(account.balance, "1000");
  t.equal(account.nonce, "0");
  t.same(account.credits, []);
  t.equal(account.openOrders, 0);
  const lower = await call(t, node, "account_get", { address: hexAddress.toLowerCase() });
  t.equal(lower.address, hexAddress, "lower-case input, checksummed output");

  const h = await call(t, node, "household_get", { address: hexAddress });
  t.equal(h.utility, "u0");
  t.equal(h.registers, 1);
  t.equal(h.baselines.length, 12);
  t.equal(h.currentPeriod.period, "0");
  t.equal(h.currentPeriod.phase, "open");
  t.equal(h.currentPeriod.cap, "900", "1000 Wh less the 10% reduction");
  t.same(h.standingOrders, { sell: null, buy: null });
  t.equal(await call(t, node, "household_get", { address: actor(78).hex }), null);
  t.equal(await call(t, node, "household_statement", { address: hexAddress, period: "0" }), null);

  const period = await call(t, node, "period_get", { utility: "u0" });
  t.equal(period.period, "0");
  t.equal(period.start, T0.toString());
  t.equal(period.phase, "open");
  const later = await call(t, node, "period_get", { utility: "u0", period: "3" });
  t.equal(later.phase, "upcoming");
  t.equal(later.snapshotTaken, false);
  t.equal((await node.call("period_get", { utility: "zz" })).error?.code, -32602);

  const book = await call(t, node, "market_orderBook", { utility: "u0", side: "sell" });
  t.same(book, { items: [], nextCursor: null, lastPrice: null });
  t.same(await call(t, node, "market_orders", { address: hexAddress }), {
    items: [],
    nextCursor: null,
  });
  t.same(await call(t, node, "market_trades", { utility: "u0" }), { items: [], nextCursor: null });
  t.same(await call(t, node, "market_auctions", { utility: "u0" }), {
    items: [],
    nextCursor: null,
  });

  const oracles = await call(t, node, "oracle_list", {});
  t.equal(oracles.items.length, 1);
  t.equal(oracles.items[0].address, oracle.hex);
  t.equal(oracles.items[0].readingsRelayed, "2");
  t.equal(oracles.items[0].batches, "1");
  t.equal(oracles.items[0].rejections.length, 1);
  t.equal(oracles.items[0].rejections[0].count, "1");
  t.same((await call(t, node, "oracle_list", { utility: "u1" })).items, []);

  const u0 = await call(t, node, "utility_get", { utility: "u0" });
  t.equal(u0.operator, op0.hex);
  t.equal(u0.history.items.length, 1);
  t.equal(u0.history.items[0].fromPeriod, "3");
  t.equal(u0.pendingPolicies[0].value.reductionBps, 2000);
  t.equal(await call(t, node, "utility_get", { utility: "nope" }), null);

  const byOperator = await call(t, node, "txs_byAddress", { address: op0.hex });
  t.equal(byOperator.items.length, 5);
  t.equal(byOperator.items[0].height, "2", "newest first");
  t.ok(byOperator.items.every((i: Loose) => i.role === "signer"));
  const byHousehold = await call(t, node, "txs_byAddress", { address: hexAddress });
  t.same(
    byHousehold.items.map((i: Loose) => i.role),
    ["party", "party"],
    "registration and payment name it",
  );
  const first = await call(t, node, "txs_byAddress", { address: op0.hex, limit: 2 });
  t.equal(first.items.length, 2);
  t.not(first.nextCursor, null);
  const second = await call(t, node, "txs_byAddress", {
    address: op0.hex,
    limit: 2,
    cursor: first.nextCursor,
  });
  t.equal(second.items.length, 2);
  t.not(second.items[0].hash, first.items[1].hash);
  const third = await call(t, node, "txs_byAddress", {
    address: op0.hex,
    limit: 2,
    cursor: second.nextCursor,
  });
  t.equal(third.items.length, 1);
  t.equal(third.nextCursor, null);

  const readings = await call(t, node, "readings_byMeter", {
    meterIdHash: `0x${Buffer.from(meter).toString("hex")}`,
  });
  t.equal(readings.items.length, 1);
  t.equal(readings.items[0].result, "accepted");
  t.same(readings.items[0].registers, ["100"]);
  t.equal(readings.items[0].time, (T0 + 2500n).toString());

  const settlement = await call(t, node, "export_settlement", { utility: "u0", period: "0" });
  t.equal(settlement.phase, "open");
  t.same(settlement.statements.items, []);

  const key = keys.account(household.address);
  const proof = await call(t, node, "state_getProof", {
    key: `0x${Buffer.from(key).toString("hex")}`,
  });
  t.equal(proof.height, "2");
  t.not(proof.value, null);
  t.equal(proof.validators.length, 1);
  t.equal(proof.commit.signatures.length, 1);
  const siblings = (proof.proof.siblings as string[]).map((s) => parseBytes(s));
  const leaf = proof.proof.leaf
    ? {
        keyHash: parseBytes(proof.proof.leaf.keyHash),
        valueHash: parseBytes(proof.proof.leaf.valueHash),
      }
    : undefined;
  t.ok(
    verifyProof(fromHex(proof.header.stateRoot), key, parseBytes(proof.value), {
      siblings,
      ...(leaf ? { leaf } : {}),
    }),
    "the proof verifies against the header's state root",
  );
  t.equal((await node.call("state_getProof", { key: "0x01", height: "900" })).error?.code, -32001);

  const doc = await call(t, node, "rpc_discover");
  t.equal(doc.openrpc, "1.3.2");

  // Block 1 was answered from what execution decoded; once older than the node keeps that
  // for, it is decoded from its bytes, and must read the same.
  for (let i = 0; i < 8; i++) await node.produce();
  t.same(await call(t, node, "chain_getBlock", { height: "1" }), block1, "decoded from the store");
});
