// Subscriptions over WebSocket: events arrive through an async iterator or a callback, and when
// the connection drops the client reconnects and subscribes again by itself.
import type { AddressInfo } from "node:net";
import t from "tap";
import WsClass, { type WebSocket, WebSocketServer } from "ws";
import { WattcapClient } from "../../rpc/client/client.js";
import type { WebSocketConstructor } from "../../rpc/client/transport.js";

/** A scripted node: answers subscribe with a fresh id each time and records the sockets. */
async function scriptedNode(t: { teardown(fn: () => unknown): void }) {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/ws" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const sockets: WebSocket[] = [];
  const subscribes: unknown[] = [];
  const unsubscribes: unknown[] = [];
  let next = 1;
  server.on("connection", (socket) => {
    sockets.push(socket);
    socket.on("message", (data) => {
      const { id, method, params } = JSON.parse(String(data));
      if (method === "subscribe") {
        subscribes.push(params);
        socket.send(JSON.stringify({ jsonrpc: "2.0", id, result: { subscription: `s${next++}` } }));
      } else if (method === "unsubscribe") {
        unsubscribes.push(params);
        socket.send(JSON.stringify({ jsonrpc: "2.0", id, result: { removed: true } }));
      }
    });
  });
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const port = (server.address() as AddressInfo).port;
  const notify = (subscription: string, result: unknown) =>
    sockets.at(-1)!.send(
      JSON.stringify({
        jsonrpc: "2.0",
        method: "subscription",
        params: { subscription, result },
      }),
    );
  return { url: `http://127.0.0.1:${port}/`, sockets, subscribes, unsubscribes, notify };
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test("events arrive by iterator, and survive a dropped connection", async (t) => {
  const node = await scriptedNode(t);
  const client = new WattcapClient({
    url: node.url,
    WebSocket: WsClass as unknown as WebSocketConstructor,
    reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
  });
  t.teardown(() => client.close());
  const sub = await client.subscribe<{ n: number }>("household", {
    address: `0x${"aa".repeat(20)}`,
  });
  t.same(node.subscribes, [{ topic: "household", address: `0x${"aa".repeat(20)}` }]);
  const events = sub[Symbol.asyncIterator]();

  node.notify("s1", { n: 1 });
  node.notify("s999", { n: 99 }); // another subscription's: not ours
  node.notify("s1", { n: 2 });
  t.same((await events.next()).value, { n: 1 });
  t.same((await events.next()).value, { n: 2 });

  node.sockets[0]!.terminate();
  await until(() => node.subscribes.length === 2);
  t.equal(node.sockets.length, 2, "reconnected");
  await until(() => node.sockets[1]!.readyState === 1);
  // No wait needed: the subscribe answer precedes the notification on the same socket.
  node.notify("s2", { n: 3 });
  t.same((await events.next()).value, { n: 3 }, "re-subscribed under its new id");

  await sub.close();
  t.same(node.unsubscribes, [{ subscription: "s2" }]);
  t.same(await events.next(), { value: undefined, done: true });
});

t.test("events arrive by callback", async (t) => {
  const node = await scriptedNode(t);
  const client = new WattcapClient({
    url: node.url,
    WebSocket: WsClass as unknown as WebSocketConstructor,
  });
  t.teardown(() => client.close());
  const seen: unknown[] = [];
  const sub = await client.subscribe("newHeads", {}, (event) => seen.push(event));
  node.notify("s1", { height: "7" });
  await until(() => seen.length === 1);
  t.same(seen, [{ height: "7" }]);
  await sub.close();
});

t.test("a node that is not there fails clearly", async (t) => {
  const client = new WattcapClient({
    url: "http://127.0.0.1:1/",
    WebSocket: WsClass as unknown as WebSocketConstructor,
  });
  await t.rejects(client.subscribe("newHeads"), { name: "TransportError", code: "UNREACHABLE" });
  client.close();
});
