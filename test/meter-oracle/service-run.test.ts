// The whole service over a fake node (fake-node.ts): sources → outbox → submitter, the HTTP
// status and metrics, a one-off import that exits once drained, and status from the outbox.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { toHex } from "../../lib/bytes.js";
import { meterIdHashOf, parseOracleConfig } from "../../meter-oracle/service/config.js";
import { OracleService } from "../../meter-oracle/service/service.js";
import { formatStatus, readStatus } from "../../meter-oracle/service/status.js";
import { CHAIN, FakeNode, ORACLE_KEY } from "./fake-node.js";
import { fixture } from "./fixtures.js";

const START = 1_700_000_000_000n;
const PERIOD = 600_000n;

t.test("an import drains into the chain; status and metrics tell the story", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-service-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = parseOracleConfig(
    {
      rpcUrl: "http://127.0.0.1:1/",
      chainId: CHAIN,
      oracleKeyFile: "oracle.key",
      outboxDir: "outbox",
      periods: { kind: "fixed", startMs: String(START), lengthMs: Number(PERIOD), genesisMonth: 1 },
      snapshotIntervalMs: 60_000,
      batch: { maxReadings: 4, intervalMs: 10 },
      retry: { initialMs: 5, maxMs: 20 },
      http: { host: "127.0.0.1", port: 0 },
      meters: [
        {
          meterId: "good",
          key: "none",
          source: { kind: "espi", path: fixture("greenbutton/coastal-multi-family-2011-02.xml") },
          timeMap: {
            fileYear: 2011,
            fileMonth: 2,
            months: 1,
            fileUtcOffsetSec: -28800,
            firstPeriod: 0,
          },
        },
        {
          meterId: "stranger",
          key: "none",
          source: { kind: "simulated", seed: 1, index: 1 },
          timeMap: { fileYear: 2011, fileMonth: 2, months: 1, firstPeriod: 0 },
        },
      ],
    },
    join(dir, "oracle.json"),
  );
  const node = new FakeNode();
  node.time = START + 2n * PERIOD;
  node.meters.clear();
  node.meters.set(toHex(meterIdHashOf("good")), { time: 0n, registers: [0n] });
  node.down = 2;
  const service = await OracleService.start(config, {
    oracleSecretKey: ORACLE_KEY,
    chain: node,
    now: () => START + 2n * PERIOD,
    untilDrained: true,
  });
  t.ok(service.port && service.port > 0, "serves http");
  await service.done;
  t.equal(node.down, 0, "the outage at start was ridden out");

  const status = await readStatus(config);
  t.equal(status.source, "outbox");
  t.equal(status.backlog, 0);
  const good = status.meters.find((m) => m.meterId === "good");
  const stranger = status.meters.find((m) => m.meterId === "stranger");
  t.ok((good?.confirmed ?? 0) > 5, "the file's readings landed");
  t.equal(good?.confirmed, node.applied.length, "each once");
  t.match(stranger, { confirmed: 0, queued: 0, submitted: 0 });
  t.ok((stranger?.rejected ?? 0) > 0, "the unregistered meter's readings were rejected");
  t.same(Object.keys(status.counters.rejected), ["READING_UNKNOWN_METER"]);
  t.equal(status.counters.rejected.READING_UNKNOWN_METER, stranger?.rejected);
  t.match(formatStatus(status), /READING_UNKNOWN_METER\s+\d+/);
  t.match(formatStatus(status), /good: last submitted 20\d\d-/);

  // The same again, running: /status and /metrics from the live service, then stop().
  const live = await OracleService.start(config, {
    oracleSecretKey: ORACLE_KEY,
    chain: node,
    now: () => START,
  });
  const base = `http://127.0.0.1:${live.port}`;
  const served = (await (await fetch(`${base}/status`)).json()) as {
    source: string;
    backlog: number;
  };
  t.match(served, { source: "service", backlog: 0 });
  const running = { ...config, http: { host: "127.0.0.1", port: live.port ?? 0 } };
  t.match(await readStatus(running), { source: "service" }, "status asks the running service");
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /wattcap_oracle_backlog 0/);
  t.equal((await fetch(`${base}/nothing`)).status, 404);
  await live.stop();
  t.equal((await readStatus(config)).source, "outbox", "the outbox is free again");
});
