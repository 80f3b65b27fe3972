import { request } from "node:http";
import t from "tap";
import { createMetrics, exposition, MetricsServer } from "../../node/metrics.js";

function get(port: number, path: string, method = "GET") {
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"] ?? "", body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

t.test("the registry holds the node's series with their values", async (t) => {
  const m = createMetrics({ processMetrics: false, labels: { moniker: "n1" } });
  m.height.set(42);
  m.round.set(1);
  m.blockInterval.observe(0.9);
  m.peers.set(3);
  m.mempoolTxs.set(17);
  m.mempoolBytes.set(2048);
  m.committedTxs.inc(5);
  m.cursorProgress.set({ job: "finalisation" }, 0.25);
  m.syncProgress.set(1);
  m.syncTargetHeight.set(42);
  const { contentType, body } = await exposition(m.registry);
  t.match(contentType, /^text\/plain/);
  for (const line of [
    'wattcap_height{moniker="n1"} 42',
    'wattcap_round{moniker="n1"} 1',
    'wattcap_block_interval_seconds_bucket{le="1",moniker="n1"} 1',
    'wattcap_block_interval_seconds_count{moniker="n1"} 1',
    'wattcap_peers{moniker="n1"} 3',
    'wattcap_mempool_txs{moniker="n1"} 17',
    'wattcap_mempool_bytes{moniker="n1"} 2048',
    'wattcap_committed_txs_total{moniker="n1"} 5',
    'wattcap_cursor_progress_ratio{job="finalisation",moniker="n1"} 0.25',
    'wattcap_sync_progress_ratio{moniker="n1"} 1',
    'wattcap_sync_target_height{moniker="n1"} 42',
  ]) {
    t.ok(body.includes(`${line}\n`), line);
  }
  t.notMatch(body, /process_cpu/, "no process metrics when disabled");

  const other = createMetrics();
  t.notOk(
    (await other.registry.metrics()).includes("wattcap_height 42"),
    "registries are separate",
  );
  t.match(await other.registry.metrics(), /process_cpu_user_seconds_total/);
});

t.test("the metrics server answers GET /metrics and stops cleanly", async (t) => {
  const m = createMetrics({ processMetrics: false });
  m.height.set(7);
  const server = await MetricsServer.start(m.registry, { host: "127.0.0.1", port: 0 });
  t.ok(server.port > 0, "bound to the port the system chose");
  const ok = await get(server.port, "/metrics");
  t.equal(ok.status, 200);
  t.match(ok.type, /^text\/plain/);
  t.match(ok.body, /^wattcap_height 7$/m);
  t.equal((await get(server.port, "/metrics?x=1")).status, 200, "a query string is ignored");
  const head = await get(server.port, "/metrics", "HEAD");
  t.equal(head.status, 200);
  t.equal(head.body, "");
  t.equal((await get(server.port, "/")).status, 404);
  t.equal((await get(server.port, "/metrics", "POST")).status, 405);
  await server.stop();
  await t.rejects(get(server.port, "/metrics"), { code: "ECONNREFUSED" });

  const blocker = await MetricsServer.start(m.registry, { host: "127.0.0.1", port: 0 });
  t.teardown(() => blocker.stop());
  await t.rejects(MetricsServer.start(m.registry, { host: "127.0.0.1", port: blocker.port }), {
    code: "EADDRINUSE",
  });
});
