// The meter oracle (issue 6): readings per second from a London smart-meter CSV of many meters to
// finalized blocks on a 4-validator network of real `wattcap start` processes
// (test/harness/testnet.ts), relayed by the real oracle service (meter-oracle/service) through
// RPC. Every meter signs its readings with its own secp256k1 key, so every validator verifies
// every reading once as it executes the block: the ceiling is the machine's verification rate
// shared by the validators, 2 cores × verifications/s ÷ 4, with the rate measured in this run.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { utf8 } from "../lib/bytes.js";
import { generateSecretKey } from "../lib/keys.js";
import {
  generateMeterSecretKey,
  meterPublicKeyOf,
  signMeter,
  verifyMeter,
} from "../lib/meter-key.js";
import { loadOracleConfig, meterIdHashOf } from "../meter-oracle/service/config.js";
import { writeMeterKeyFile } from "../meter-oracle/service/meter-sign.js";
import { OracleService } from "../meter-oracle/service/service.js";
import { writeKeyFile } from "../node/home.js";
import { WattcapClient } from "../rpc/client/client.js";
import { Signer, waitForFinality } from "../rpc/client/tx-builder.js";
import { Testnet } from "../test/harness/testnet.js";
import { type BenchGroup, type Measurement, measure, NODE_CONSENSUS, single } from "./harness.js";

const VALIDATORS = 4;
const CORES = 2;
/**
 * 150 meters make 30,150 readings, about half a minute: long enough that the pipeline's filling
 * (the first batch's signing) and draining (the last batch alone) are a small part of the run,
 * as in the backfills the headroom is for. With 50 meters they were a third of it.
 */
const METERS = 150;
/** Chain time per period: the file's month is replayed as one period. */
const PERIOD_MS = 20_000n;
/** On-chain snapshot spacing (and the utilities' readingInterval): 200 readings per meter. */
const SNAPSHOT_MS = 100;
const BATCH = 2_000;
/**
 * Batches in flight at once: one executing in a block while the next is verified on admission.
 * Deeper pipelines (3 measured the same) put several batches of 2,000 into one block, whose
 * execution by four validators on two cores can outlast a round's timeouts: one run at 8 stalled
 * ten seconds on a block of 10,000 readings.
 */
const IN_FLIGHT = 2;
const FILE_YEAR = 2013;
const FILE_MONTH = 2;

/**
 * A London CSV (four-column form) of `meters` households over February 2013: each half hour is
 * stamped with its end, from 00:30 on the 1st to 00:00 on 1 March, with a deterministic load.
 */
function londonCsv(meters: number): string {
  const lines = ["LCLid,stdorToU,DateTime,KWH/hh (per half hour) "];
  const start = Date.UTC(FILE_YEAR, FILE_MONTH - 1, 1);
  const halfHours = (Date.UTC(FILE_YEAR, FILE_MONTH, 1) - start) / 1_800_000;
  for (let m = 0; m < meters; m++) {
    const id = `MAC${String(m).padStart(6, "0")}`;
    for (let i = 1; i <= halfHours; i++) {
      const stamp = new Date(start + i * 1_800_000).toISOString().slice(0, 19).replace("T", " ");
      const wh = 50 + ((m * 7919 + i * 104_729) % 900);
      lines.push(`${id},Std,${stamp}.0000000,${(wh / 1000).toFixed(3)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** secp256k1 meter-signature verifications per second on one core (the validators' path). */
async function verifyRate(): Promise<Measurement> {
  const key = generateMeterSecretKey("secp256k1");
  const publicKey = meterPublicKeyOf("secp256k1", key);
  const messages = Array.from({ length: 256 }, (_, i) => utf8(`reading ${i}`));
  const signatures = messages.map((m) => signMeter("secp256k1", key, m));
  return measure(
    "oracle.verify",
    "secp256k1 meter signature verify, one core",
    () => {
      for (let i = 0; i < messages.length; i++) {
        if (!verifyMeter("secp256k1", publicKey, messages[i]!, signatures[i]!)) {
          throw new Error("a good signature failed");
        }
      }
      return messages.length;
    },
    { unit: "verifies/s" },
  );
}

export async function oracle(): Promise<BenchGroup> {
  return {
    title: "Meter oracle (file to finalized, 4 validators)",
    description:
      `A London CSV of ${METERS} meters (February 2013, half-hourly) replayed as one ${Number(PERIOD_MS) / 1000} s period with a ` +
      `snapshot every ${SNAPSHOT_MS} ms, every reading signed by its meter's secp256k1 key, relayed by the oracle service in ` +
      `batches of up to ${BATCH.toLocaleString("en-US")}, ${IN_FLIGHT} in flight, through RPC to a network of ${VALIDATORS} validator processes; timed ` +
      `from the service's start until every reading is settled from a finalized block. The ceiling is ${CORES} cores × the ` +
      `verification rate measured in the same run ÷ ${VALIDATORS} validators, each of which verifies every reading`,
    targets: [
      {
        description: "readings finalized at least 50% of the meter-signature ceiling",
        check: (r) =>
          (r.get("oracle.readings")?.rate ?? 0) >=
          0.5 * (r.get("oracle.ceiling")?.rate ?? Infinity),
      },
    ],
    async run(): Promise<Measurement[]> {
      const verify = await verifyRate();
      const cores = Math.min(CORES, availableParallelism());
      const ceiling = single(
        "oracle.ceiling",
        `ceiling: ${cores} cores × verifies/s ÷ ${VALIDATORS} validators`,
        (cores * verify.rate) / VALIDATORS,
        "readings/s",
      );

      const dir = await mkdtemp(join(tmpdir(), "wattcap-bench-oracle-"));
      const net = await Testnet.create({
        validators: VALIDATORS,
        periodMs: PERIOD_MS,
        // Readings of a period are accepted for an hour after it ends, so the whole file is due
        // (in the past) and still open when the oracle starts.
        policy: {
          readingInterval: String(SNAPSHOT_MS),
          readingGrace: "3600000",
          maxReadingDrift: "3600000",
        },
        limits: { maxReadingsPerBatch: BATCH },
        configOverrides: NODE_CONSENSUS,
      });
      try {
        for (const name of net.validators) net.start(name);
        await net.waitForHeight(net.validators, 2, 60_000);
        const rpcUrl = `http://127.0.0.1:${net.node("v0").rpcPort}/`;
        const client = new WattcapClient({ url: rpcUrl });
        const genesis = JSON.parse(await readFile(join(net.dir, "genesis.json"), "utf8")) as {
          chainId: string;
          periods: { startMs: string };
        };
        const operatorKey = net.operator("u0").secretKey;
        const operator = new Signer(client, operatorKey, { chainId: genesis.chainId });

        // The oracle and the meters, registered by u0's operator.
        const oracleKey = generateSecretKey();
        await writeKeyFile(join(dir, "oracle.key"), { type: "oracle", secretKey: oracleKey });
        const oracleSigner = new Signer(client, oracleKey, { chainId: genesis.chainId });
        await operator.send("registerOracle", { oracle: oracleSigner.address });
        const meters = [];
        let last = "";
        for (let m = 0; m < METERS; m++) {
          const lclid = `MAC${String(m).padStart(6, "0")}`;
          const secretKey = generateMeterSecretKey("secp256k1");
          const keyFile = join(dir, `${lclid}.key`);
          await writeMeterKeyFile(keyFile, { keyType: "secp256k1", secretKey });
          const sent = await operator.send("registerHousehold", {
            household: new Signer(client, generateSecretKey()).address,
            meterIdHash: meterIdHashOf(lclid),
            meterKey: { type: "secp256k1", publicKey: meterPublicKeyOf("secp256k1", secretKey) },
            registers: 1,
            baselines: Array.from({ length: 12 }, () => 500_000n),
          });
          last = sent.hash;
          meters.push({ lclid, keyFile });
          // The node holds a sender's next 64 nonces at most (mempool.maxTxsPerAccount).
          if ((m + 1) % 50 === 0 || m === METERS - 1) {
            const registered = await waitForFinality(client, last, {
              timeoutMs: 60_000,
              pollMs: 200,
            });
            if (registered.receipt?.outcome !== "ok") {
              throw new Error("household registration failed");
            }
          }
        }

        // The file's month is replayed as the period now under way; the oracle starts once it
        // has ended, so every reading is due at once and the run measures relaying alone.
        const start = BigInt(genesis.periods.startMs);
        const status = await client.rpc.chain_status();
        const period = (BigInt(status.headTime) - start) / PERIOD_MS;
        const periodEnd = start + (period + 1n) * PERIOD_MS;
        await net.waitFor(
          "the replayed period to end",
          async () => BigInt((await client.rpc.chain_status()).headTime) > periodEnd,
          Number(PERIOD_MS) + 30_000,
        );

        const csv = join(dir, "london.csv");
        await writeFile(csv, londonCsv(METERS));
        const configFile = join(dir, "oracle.json");
        await writeFile(
          configFile,
          JSON.stringify({
            rpcUrl,
            chainId: genesis.chainId,
            oracleKeyFile: "oracle.key",
            outboxDir: "outbox",
            periods: {
              kind: "fixed",
              startMs: genesis.periods.startMs,
              lengthMs: Number(PERIOD_MS),
              genesisMonth: 0,
            },
            snapshotIntervalMs: SNAPSHOT_MS,
            batch: { maxReadings: BATCH, intervalMs: 20, maxInFlight: IN_FLIGHT },
            retry: { initialMs: 20, maxMs: 500 },
            meters: meters.map(({ lclid, keyFile }) => ({
              meterId: lclid,
              key: { type: "secp256k1", file: keyFile },
              source: { kind: "london-csv", path: csv, lclid },
              timeMap: {
                fileYear: FILE_YEAR,
                fileMonth: FILE_MONTH,
                months: 1,
                firstPeriod: Number(period),
              },
            })),
          }),
        );
        const config = await loadOracleConfig(configFile);
        const began = performance.now();
        const service = await OracleService.start(config, {
          oracleSecretKey: oracleKey,
          untilDrained: true,
        });
        await service.done;
        const seconds = (performance.now() - began) / 1000;
        const sum = async (counter: { get(): Promise<{ values: { value: number }[] }> }) =>
          (await counter.get()).values.reduce((a, v) => a + v.value, 0);
        const confirmed = await sum(service.metrics.confirmed);
        const rejected = await sum(service.metrics.rejected);
        if (rejected > 0 || confirmed === 0) {
          throw new Error(`${rejected} readings rejected, ${confirmed} confirmed`);
        }
        return [
          verify,
          ceiling,
          single(
            "oracle.readings",
            "readings, file → finalized",
            confirmed / seconds,
            "readings/s",
            {
              baseline: "oracle.ceiling",
              note: `${confirmed.toLocaleString("en-US")} readings in ${seconds.toFixed(1)} s`,
            },
          ),
        ];
      } finally {
        await net.teardown();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
