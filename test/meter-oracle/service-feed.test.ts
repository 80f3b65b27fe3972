import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t, { type Test } from "tap";
import { parseOracleConfig } from "../../meter-oracle/service/config.js";
import { feedMeter } from "../../meter-oracle/service/feed.js";
import { ORACLE_ONLY } from "../../meter-oracle/service/meter-sign.js";
import { Outbox } from "../../meter-oracle/service/outbox.js";
import { fixture } from "./fixtures.js";

const START = 1_700_000_000_000n;
const PERIOD = 600_000n;

function configWith(meter: Record<string, unknown>) {
  return parseOracleConfig(
    {
      rpcUrl: "http://127.0.0.1:1",
      chainId: "wattcap-test",
      oracleKeyFile: "/k",
      outboxDir: "/o",
      periods: { kind: "fixed", startMs: String(START), lengthMs: Number(PERIOD), genesisMonth: 1 },
      snapshotIntervalMs: 60_000,
      meters: [{ meterId: "m", key: "none", ...meter }],
    },
    "/c.json",
  );
}

async function outboxIn(t: Test): Promise<Outbox> {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-feed-"));
  const outbox = await Outbox.open(dir);
  t.teardown(async () => {
    await outbox.close();
    await rm(dir, { recursive: true, force: true });
  });
  return outbox;
}

t.test("a file's readings are queued once, however often it is fed", async (t) => {
  const config = configWith({
    source: { kind: "espi", path: fixture("greenbutton/coastal-multi-family-2011-02.xml") },
    timeMap: { fileYear: 2011, fileMonth: 2, months: 1, fileUtcOffsetSec: -28800, firstPeriod: 2 },
  });
  const meter = config.meters[0];
  if (!meter) throw new Error("no meter");
  const outbox = await outboxIn(t);
  const options = { signal: new AbortController().signal, now: () => 0n, tickMs: 1 };
  const report = await feedMeter(outbox, config, meter, ORACLE_ONLY, options);
  t.same(report.boundaries.missing, [], "both boundaries of the month are there");
  const queued = outbox.counters().read;
  t.equal(queued, report.downsample.kept);
  const all = await outbox.due(100, START + 10n * PERIOD);
  const interior = all.slice(1, -1).map((r) => r.time / 60_000n);
  t.equal(new Set(interior).size, interior.length, "at most one reading per one-minute bucket");
  t.ok(queued >= 10 && queued <= 12, "a ten-minute period in one-minute snapshots");
  t.equal(all[0]?.time, START + 2n * PERIOD, "the first reading opens period 2");
  t.equal(all[all.length - 1]?.time, START + 3n * PERIOD, "the last opens period 3");
  t.ok(
    all.every((r) => r.signature === undefined),
    "oracle-only: unsigned",
  );
  await feedMeter(outbox, config, meter, ORACLE_ONLY, options);
  t.equal(outbox.counters().read, queued, "a second pass queues nothing");
});

t.test("a simulated meter meters what the chain's clock has replayed, tick by tick", async (t) => {
  const config = configWith({
    source: { kind: "simulated", seed: 7, index: 3 },
    timeMap: { fileYear: 2011, fileMonth: 1, months: 2, firstPeriod: 0 },
  });
  const meter = config.meters[0];
  if (!meter) throw new Error("no meter");
  const outbox = await outboxIn(t);
  let now = START + PERIOD / 2n;
  const controller = new AbortController();
  const seenAt: bigint[] = [];
  const feeding = feedMeter(outbox, config, meter, ORACLE_ONLY, {
    signal: controller.signal,
    now: () => now,
    tickMs: 5,
    onQueued: () => {
      seenAt.push(now);
      now += PERIOD / 2n;
    },
  });
  await feeding;
  const readings = await outbox.due(1000, START + 10n * PERIOD);
  t.ok(seenAt.length >= 3, "queued in several ticks");
  t.ok(
    readings.every((r) => r.time <= (seenAt[seenAt.length - 1] ?? 0n)),
    "never ahead of the clock",
  );
  t.equal(
    readings[readings.length - 1]?.time,
    START + 2n * PERIOD,
    "ends on the map's last boundary",
  );
  const registers = readings.map((r) => r.registers[0] ?? 0n);
  t.ok(
    registers.every((r, i) => i === 0 || r >= (registers[i - 1] ?? 0n)),
    "registers never fall",
  );
});
