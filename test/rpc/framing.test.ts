// JSON-RPC framing and limits against a real node on loopback: every malformed input gets its
// error and the node keeps serving.
import { request } from "node:http";
import fc from "fast-check";
import t from "tap";
import { type RpcResponse, startNode } from "./rpc-fixtures.js";

type Batch = RpcResponse[];

t.test("malformed requests get the standard errors", async (t) => {
  const node = await startNode(t, { maxBatch: 5, maxBodyBytes: 4096 });

  const parse = await node.post("{not json");
  t.equal(parse.status, 200);
  t.same((parse.json as RpcResponse).error?.code, -32700);
  t.equal((parse.json as RpcResponse).id, null);

  const version = await node.post(
    JSON.stringify({ jsonrpc: "1.0", id: 7, method: "chain_status" }),
  );
  t.equal((version.json as RpcResponse).error?.code, -32600);
  t.equal((version.json as RpcResponse).id, 7, "the id is echoed");

  const noMethod = await node.post(JSON.stringify({ jsonrpc: "2.0", id: 1 }));
  t.equal((noMethod.json as RpcResponse).error?.code, -32600);
  const badId = await node.post(JSON.stringify({ jsonrpc: "2.0", id: {}, method: "chain_status" }));
  t.equal((badId.json as RpcResponse).error?.code, -32600);
  const scalar = await node.post("42");
  t.equal((scalar.json as RpcResponse).error?.code, -32600);

  t.equal((await node.call("no_such_method")).error?.code, -32601);
  t.equal((await node.call("__proto__")).error?.code, -32601, "no prototype lookups");
  t.equal((await node.call("subscribe", { topic: "newHeads" })).error?.code, -32601, "WS only");

  const wrongType = await node.call("account_get", { address: 12 });
  t.equal(wrongType.error?.code, -32602);
  t.match(wrongType.error?.message, /params\.address/);
  const unknownName = await node.call("chain_status", { verbose: true });
  t.equal(unknownName.error?.code, -32602);
  t.match(unknownName.error?.message, /verbose/);
  t.equal((await node.call("chain_status", [])).error?.code, -32602, "positional params refused");
  t.equal((await node.call("account_get", {})).error?.code, -32602, "missing param");
  const badChecksum = await node.call("account_get", {
    address: "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
  });
  t.equal(badChecksum.error?.code, -32602, "a checksum typo is refused");
  t.equal(
    (await node.call("chain_getBlock", { height: "18446744073709551616" })).error?.code,
    -32602,
    "a height over u64",
  );
  t.equal((await node.call("market_trades", { utility: "u0", limit: 101 })).error?.code, -32602);
  t.equal(
    (await node.call("market_trades", { utility: "u0", cursor: "0x00" })).error?.code,
    -32602,
    "a cursor from another list",
  );

  const ok = await node.call("chain_status", {}, "abc");
  t.equal(ok.id, "abc");
  t.equal((ok.result as { chainId: string }).chainId, "wattcap-test");
});

t.test("batches: mixed, notifications, empty, too long; oversized bodies", async (t) => {
  const node = await startNode(t, { maxBatch: 5, maxBodyBytes: 4096 });
  const mixed = await node.post(
    JSON.stringify([
      { jsonrpc: "2.0", id: 1, method: "chain_status" },
      { jsonrpc: "2.0", method: "chain_status" },
      { jsonrpc: "2.0", id: 2, method: "nope" },
      5,
    ]),
  );
  const out = mixed.json as Batch;
  t.equal(out.length, 3, "the notification gets no response");
  t.ok(out[0]?.result);
  t.equal(out[1]?.error?.code, -32601);
  t.equal(out[2]?.error?.code, -32600);

  const quiet = await node.post(JSON.stringify([{ jsonrpc: "2.0", method: "chain_status" }]));
  t.equal(quiet.status, 204, "a batch of notifications gets nothing back");
  const single = await node.post(JSON.stringify({ jsonrpc: "2.0", method: "chain_status" }));
  t.equal(single.status, 204);

  const empty = await node.post("[]");
  t.equal((empty.json as RpcResponse).error?.code, -32600);

  const huge = await node.post(
    JSON.stringify(Array.from({ length: 6 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "x" }))),
  );
  t.equal((huge.json as RpcResponse).error?.code, -32005);
  t.same((huge.json as RpcResponse).error?.data, { limit: "maxBatch" });

  const big = await node.post(
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "x", pad: "a".repeat(5000) }),
  );
  t.equal(big.status, 413);
  t.equal((big.json as RpcResponse).error?.code, -32005);
  t.same((big.json as RpcResponse).error?.data, { limit: "maxBodyBytes" });

  t.ok((await node.call("chain_status")).result, "still serving");
});

t.test("random bytes never crash the server", async (t) => {
  const node = await startNode(t);
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.json().map((s) => new TextEncoder().encode(s)),
        fc
          .record({
            jsonrpc: fc.constant("2.0"),
            id: fc.nat(),
            method: fc.constantFrom("account_get", "chain_getBlock", "tx_send", "market_orders"),
            params: fc.jsonValue(),
          })
          .map((o) => new TextEncoder().encode(JSON.stringify(o))),
      ),
      async (body) => {
        const { status, json } = await node.post(body);
        if (status === 204) return true;
        const responses = (Array.isArray(json) ? json : [json]) as RpcResponse[];
        for (const r of responses) {
          if (r.jsonrpc !== "2.0") return false;
          if (r.error && r.error.code === -32603) return false;
        }
        return true;
      },
    ),
    { numRuns: 120, seed: 5 },
  );
  t.ok((await node.call("chain_status")).result, "still serving");
});

t.test("rate limit per IP with an allow-list; CORS", async (t) => {
  const limited = await startNode(t, { rateLimit: { perSecond: 0.001, burst: 3 }, cors: "*" });
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    statuses.push(
      (await limited.post(JSON.stringify({ jsonrpc: "2.0", id: i, method: "chain_status" })))
        .status,
    );
  }
  t.same(statuses, [200, 200, 200, 429, 429]);
  const refused = await limited.post(
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "chain_status" }),
  );
  t.equal((refused.json as RpcResponse).error?.code, -32005);
  t.same((refused.json as RpcResponse).error?.data, { limit: "rateLimit" });
  t.equal(refused.headers.get("access-control-allow-origin"), "*");

  const allowed = await startNode(t, {
    rateLimit: { perSecond: 0.001, burst: 1 },
    allowList: ["127.0.0.1"],
  });
  for (let i = 0; i < 4; i++) t.ok((await allowed.call("chain_status")).result, "allow-listed");
  const devnet = await startNode(t, {
    rateLimit: { perSecond: 0.001, burst: 1 },
    exemptLoopback: true,
    cors: ["http://explorer.local"],
  });
  for (let i = 0; i < 4; i++) t.ok((await devnet.call("chain_status")).result, "loopback exempt");
  const preflight = await fetch(devnet.url, {
    method: "OPTIONS",
    headers: { origin: "http://explorer.local", "access-control-request-method": "POST" },
  });
  t.equal(preflight.status, 204);
  t.equal(preflight.headers.get("access-control-allow-origin"), "http://explorer.local");
  const other = await fetch(devnet.url, { method: "OPTIONS", headers: { origin: "http://evil" } });
  t.equal(other.headers.get("access-control-allow-origin"), null);
});

/** A POST from a chosen local address, so one test can be two clients on loopback. */
function postFrom(url: string, localAddress: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", localAddress }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

t.test("a flood from one IP is limited while another IP is served", async (t) => {
  const node = await startNode(t, { rateLimit: { perSecond: 1, burst: 20 } });
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "chain_status" });
  const flood = await Promise.all(
    Array.from({ length: 100 }, () => postFrom(node.url, "127.0.0.1", body)),
  );
  const refused = flood.filter((s) => s === 429).length;
  t.ok(refused >= 75, `most of the flood is refused (${refused} of 100)`);
  t.ok(flood.every((s) => s === 200 || s === 429));
  t.equal(await postFrom(node.url, "127.0.0.2", body), 200, "another IP is still served");
});
