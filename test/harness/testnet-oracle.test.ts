// The oracle invariant's checks (testnet-oracle.ts) on hand-made chains and outboxes: they pass a
// consistent picture and name each kind of loss, repetition and inconsistency.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t, { type Test } from "tap";
import { loadOracleConfig, type OracleConfig } from "../../meter-oracle/service/config.js";
import { Outbox } from "../../meter-oracle/service/outbox.js";
import type { ChainReading } from "../../meter-oracle/time-map.js";
import type { MeterReadingOnChain } from "./oracle-process.js";
import { chainProblems, expectedSnapshots, outboxProblems } from "./testnet-oracle.js";

const snapshot = (time: bigint, wh: bigint): ChainReading => ({
  time,
  fileTime: 0n,
  registers: [wh],
  startsPeriod: undefined,
});

const onChain = (
  time: bigint,
  wh: bigint,
  result: MeterReadingOnChain["result"] = "accepted",
  tx = "0xaa",
): MeterReadingOnChain => ({
  height: "7",
  tx,
  index: 0,
  time: String(time),
  registers: [String(wh)],
  result,
  reject: result === "rejected" ? "READING_NOT_AFTER_LAST" : null,
});

async function oracleConfig(t: Test): Promise<OracleConfig> {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-oracle-check-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "oracle.json");
  await writeFile(
    file,
    JSON.stringify({
      rpcUrl: "http://127.0.0.1:1/",
      chainId: "wattcap-testnet",
      oracleKeyFile: "oracle.key",
      outboxDir: "outbox",
      periods: { kind: "fixed", startMs: "1767225600000", lengthMs: 600000, genesisMonth: 0 },
      snapshotIntervalMs: 5000,
      meters: [
        {
          meterId: "m-0",
          key: "none",
          source: { kind: "simulated", seed: 3, index: 0 },
          timeMap: { fileYear: 2011, fileMonth: 1, months: 1, firstPeriod: 0 },
        },
      ],
    }),
  );
  return loadOracleConfig(file);
}

t.test("chainProblems: each settled snapshot accepted once, nothing else", async (t) => {
  const config = await oracleConfig(t);
  const meter = config.meters[0]!;
  const snapshots = [snapshot(10n, 1n), snapshot(20n, 2n), snapshot(30n, 3n)];
  const good = [onChain(10n, 1n), onChain(20n, 2n)];
  t.same(chainProblems(meter, snapshots, 20n, good), [], "the one after `through` may be missing");
  t.same(chainProblems(meter, snapshots, 30n, [...good, onChain(30n, 3n)]), []);
  t.match(chainProblems(meter, snapshots, 20n, [onChain(10n, 1n)]), [
    /1 snapshot\(s\) missing from the chain, from 20/,
  ]);
  t.match(chainProblems(meter, snapshots, 20n, [...good, onChain(20n, 2n)]), [/accepted twice/]);
  t.match(chainProblems(meter, snapshots, 20n, [...good, onChain(20n, 2n, "duplicate")]), [
    /at 20 on chain as duplicate/,
  ]);
  t.match(chainProblems(meter, snapshots, 20n, [...good, onChain(40n, 4n, "rejected")]), [
    /as rejected READING_NOT_AFTER_LAST/,
  ]);
  t.match(chainProblems(meter, snapshots, 20n, [onChain(10n, 1n), onChain(20n, 9n)]), [
    /other registers/,
  ]);
  t.match(chainProblems(meter, snapshots, 20n, [...good, onChain(25n, 2n)]), [/no snapshot/]);
});

t.test("expectedSnapshots: the simulated meter's readings, opening boundary first", async (t) => {
  const config = await oracleConfig(t);
  const meter = config.meters[0]!;
  const all = await expectedSnapshots(config, meter);
  const start = 1_767_225_600_000n;
  t.equal(all[0]?.time, start, "the period's opening boundary");
  t.equal(all.at(-1)?.time, start + 600_000n, "the closing boundary");
  t.ok(
    all.every((r, i) => i === 0 || r.time > (all[i - 1]?.time ?? 0n)),
    "strictly increasing times",
  );
  t.ok(all.length >= 120, `about one per 5 s (${all.length})`);
  t.same(await expectedSnapshots(config, meter), all, "the same every time");
});

t.test("outboxProblems: a consistent outbox passes; each inconsistency is named", async (t) => {
  const config = await oracleConfig(t);
  const meter = config.meters[0]!;
  const m = meter.meterIdHash;
  const reading = (time: bigint, wh: bigint) => ({
    meterIdHash: m,
    time,
    registers: [wh],
    signature: undefined,
  });
  const box = await Outbox.open(config.outboxDir);
  await box.enqueue(meter.meterId, [reading(10n, 1n), reading(20n, 2n), reading(30n, 3n)]);
  const tx = (id: string, nonce: bigint, times: bigint[]) => ({
    id,
    nonce,
    bytes: Uint8Array.of(1),
    readings: times.map((time) => ({ meterIdHash: m, time })),
  });
  await box.submit(tx("0xaa", 0n, [10n, 20n]));
  await box.settle(tx("0xaa", 0n, [10n, 20n]), 7n, [{ kind: "accepted" }, { kind: "accepted" }]);
  await box.submit(tx("0xbb", 1n, [30n]));
  await box.close();

  const settled = new Map([[meter, [snapshot(10n, 1n), snapshot(20n, 2n)]]]);
  const chain = new Map([[meter, [onChain(10n, 1n), onChain(20n, 2n)]]]);
  t.same(await outboxProblems(config, settled, chain), [], "one settled, one in flight");

  const other = new Map([[meter, [onChain(10n, 1n), onChain(20n, 2n, "accepted", "0xcc")]]]);
  t.match(await outboxProblems(config, settled, other), [
    /1 of m-0's snapshots .* first: 20 .* on chain .*0xcc/,
  ]);
  const later = new Map([[meter, [...(settled.get(meter) ?? []), snapshot(30n, 3n)]]]);
  t.match(await outboxProblems(config, later, chain), [/first: 30 is .*submitted/]);

  // The in-flight transaction comes back as the chain's duplicate: sent twice.
  const reopened = await Outbox.open(config.outboxDir);
  await reopened.settle(tx("0xbb", 1n, [30n]), 8n, [{ kind: "duplicate" }]);
  await reopened.close();
  t.match(await outboxProblems(config, settled, chain), [/1 already on chain/]);
});
