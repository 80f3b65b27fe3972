// WebSocket: calls, subscriptions and their notifications from real committed blocks, limits on
// connections and subscriptions, and a slow consumer that is dropped while others are served.
import t from "tap";
import WebSocket from "ws";
import type { CommittedDigest, RpcBackend } from "../../rpc/backend.js";
import { Client, DigestPayloads, SLOW_CONSUMER } from "../../rpc/subscriptions.js";
import { signedTx } from "../node/chain-fixtures.js";
import { actor, hash32, operatorOf, T0 } from "../vm/helpers.js";
import { openWs, startNode } from "./rpc-fixtures.js";

const op0 = operatorOf(0);
const household = actor(50);
const oracle = actor(60);
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString("hex")}`;

t.test("calls and subscriptions over WebSocket", async (t) => {
  const node = await startNode(t);
  const ws = await node.ws();
  const status = await ws.call("chain_status");
  t.equal((status.result as { height: string }).height, "0");
  const bad = await ws.call("nope");
  t.equal(bad.error?.code, -32601);
  ws.socket.send("{garbage");
  t.equal((await ws.next((m) => m.error?.code === -32700)).id, null, "parse errors answered");

  const heads = (await ws.call("subscribe", { topic: "newHeads" })).result as {
    subscription: string;
  };
  const mine = (await ws.call("subscribe", { topic: "household", address: household.hex }))
    .result as { subscription: string };
  const meterReadings = (
    await ws.call("subscribe", { topic: "readings", meterIdHash: hex(hash32(50)) })
  ).result as { subscription: string };
  const utilityReadings = (await ws.call("subscribe", { topic: "readings", utility: "u0" }))
    .result as { subscription: string };
  const trades = (await ws.call("subscribe", { topic: "trades", utility: "u0" })).result as {
    subscription: string;
  };
  t.ok(trades.subscription);
  t.equal((await ws.call("subscribe", { topic: "household" })).error?.code, -32602);
  t.equal((await ws.call("subscribe", { topic: "weather" })).error?.code, -32602);

  await node.mempool.add(
    signedTx(op0, 0n, "registerHousehold", {
      household: household.address,
      meterIdHash: hash32(50),
      meterKey: undefined,
      registers: 1,
      baselines: Array.from({ length: 12 }, () => 1000n),
    }),
  );
  await node.mempool.add(signedTx(op0, 1n, "registerOracle", { oracle: oracle.address }));
  await node.produce();
  const head1 = await ws.notification(heads.subscription);
  t.equal(head1.params.result.height, "1");
  t.equal(head1.params.result.txCount, 2);
  const registered = await ws.notification(mine.subscription);
  t.equal((registered.params.result.event as { kind: string }).kind, "householdRegistered");

  await node.mempool.add(
    signedTx(oracle, 0n, "submitReadings", {
      readings: [
        { meterIdHash: hash32(50), time: T0 + 2500n, registers: [7n], signature: undefined },
      ],
    }),
  );
  await node.produce();
  const reading = await ws.notification(meterReadings.subscription);
  t.equal(reading.params.result.result, "accepted");
  t.same(reading.params.result.registers, ["7"]);
  const sameReading = await ws.notification(utilityReadings.subscription);
  t.equal(sameReading.params.result.oracle, oracle.hex);

  t.same((await ws.call("unsubscribe", { subscription: heads.subscription })).result, {
    removed: true,
  });
  t.same((await ws.call("unsubscribe", { subscription: heads.subscription })).result, {
    removed: false,
  });
  await node.produce();
  await ws.call("chain_status");
  t.notOk(
    ws.messages.some(
      (m) =>
        (m as { params?: { subscription?: string; result?: { height?: string } } }).params?.result
          ?.height === "3",
    ),
    "no notification after unsubscribe",
  );
});

t.test("connection and subscription limits answer with clear errors", async (t) => {
  const node = await startNode(t, { maxConnectionsPerIp: 2, maxSubscriptionsPerConnection: 3 });
  const a = await node.ws();
  await node.ws();
  const refused = await openWs(node.wsUrl).then(
    () => "opened",
    (e: Error) => e.message,
  );
  t.match(refused, /503/, "a third connection from one IP is refused with 503");
  const wrongPath = await openWs(node.wsUrl.replace("/ws", "/other")).then(
    () => "opened",
    (e: Error) => e.message,
  );
  t.match(wrongPath, /404/);

  for (let i = 0; i < 3; i++) t.ok((await a.call("subscribe", { topic: "newHeads" })).result);
  const over = await a.call("subscribe", { topic: "newHeads" });
  t.equal(over.error?.code, -32005);
  t.same(over.error?.data, { limit: "maxSubscriptionsPerConnection" });

  a.close();
  await new Promise((r) => setTimeout(r, 100));
  const again = await node.ws();
  t.ok((await again.call("chain_status")).result, "a slot frees when a client leaves");
});

t.test("a slow consumer is disconnected; the others are served", async (t) => {
  const node = await startNode(t, { maxBufferedBytes: 64 * 1024, maxBodyBytes: 64 * 1024 });
  const fast = await node.ws();
  const slow = new WebSocket(node.wsUrl);
  await new Promise((resolve) => slow.once("open", resolve));
  const closed = new Promise<number>((resolve) => slow.once("close", (code) => resolve(code)));
  slow.pause();
  // Each answer is the whole OpenRPC document; unread, they pile up on the server.
  const request = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "rpc_discover" });
  for (let i = 0; i < 600; i++) slow.send(request);
  const deadline = Date.now() + 10_000;
  while (node.server.connections > 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  t.equal(node.server.connections, 1, "the slow client was dropped");
  t.ok((await fast.call("chain_status")).result, "the other client is still served");
  t.ok((await node.call("chain_status")).result, "HTTP too");
  slow.resume();
  const code = await closed;
  t.ok(code === SLOW_CONSUMER || code === 1006, `closed (${code})`);

  // An oversized message closes only its own connection.
  const big = await node.ws();
  const bigClosed = new Promise<number>((resolve) => big.socket.once("close", (c) => resolve(c)));
  big.socket.send("x".repeat(70 * 1024));
  t.equal(await bigClosed, 1009, "message too big");
  t.ok((await fast.call("chain_status")).result);
});

t.test("notifications select by topic and filter", async (t) => {
  const digest: CommittedDigest = {
    height: 5n,
    hash: new Uint8Array(32),
    header: {
      version: 1,
      chainId: "c",
      height: 5n,
      time: 9n,
      parentHash: new Uint8Array(32),
      proposer: new Uint8Array(20),
      txRoot: new Uint8Array(32),
      stateRoot: new Uint8Array(32),
      receiptsRoot: new Uint8Array(32),
      validatorsHash: new Uint8Array(32),
      nextValidatorsHash: new Uint8Array(32),
      lastCommitHash: new Uint8Array(32),
      evidenceHash: new Uint8Array(32),
    },
    txCount: 0,
    events: [],
    trades: [
      {
        utility: "u0",
        height: 5n,
        time: 9n,
        order: new Uint8Array(32),
        household: household.address,
        side: "buy",
        qty: 3n,
        price: 150n,
      },
      {
        utility: "u1",
        height: 5n,
        time: 9n,
        order: new Uint8Array(32),
        household: household.address,
        side: "sell",
        qty: 1n,
        price: 150n,
      },
    ],
    auctions: [
      {
        utility: "u0",
        height: 5n,
        time: 9n,
        period: 0n,
        price: 150n,
        volume: 3n,
        demand: [{ price: 150n, qty: 3n }],
        supply: [{ price: 140n, qty: 4n }],
      },
    ],
    readings: [],
  };
  const payloads = new DigestPayloads(digest, {} as RpcBackend);
  t.equal(payloads.select({ topic: "trades" }).length, 2);
  t.same(payloads.select({ topic: "trades", utility: "u1" }), [
    {
      utility: "u1",
      height: "5",
      time: "9",
      order: `0x${"00".repeat(32)}`,
      household: household.hex,
      side: "sell",
      qty: "1",
      price: "150",
    },
  ]);
  const [auction] = payloads.select({ topic: "auctions", utility: "u0" }) as [
    { price: string; supply: unknown },
  ];
  t.equal(auction.price, "150");
  t.same(auction.supply, [{ price: "140", qty: "4" }]);
  t.same(payloads.select({ topic: "auctions", utility: "u1" }), []);

  // A client whose socket reports a full buffer is dropped, not written to.
  const sent: string[] = [];
  let closedWith: number | undefined;
  const fake = {
    bufferedAmount: 0,
    send: (s: string) => sent.push(s),
    close: (code: number) => {
      closedWith = code;
    },
    terminate: () => undefined,
  };
  const client = new Client(fake as unknown as WebSocket, {
    maxSubscriptions: 2,
    maxBufferedBytes: 1000,
  });
  client.subscribe({ topic: "trades" });
  client.publish(payloads);
  t.equal(sent.length, 2);
  fake.bufferedAmount = 990;
  client.publish(payloads);
  t.equal(sent.length, 2, "nothing more is queued");
  t.equal(closedWith, SLOW_CONSUMER);
  t.ok(client.closed);
});
