// A meter oracle inside a multi-process testnet (test/harness/testnet.ts), for the fault runs:
// utility u0's operator registers an oracle and a few households whose meters are simulated
// (each signing its readings with its own secp256k1 key), and `wattcap oracle start` relays them
// to one node's RPC. Period 0 onwards replays January, February, … of the simulated year, one
// month per period, so readings flow from the genesis on.
//
// The invariant (docs/guarantees.md promise 7), checked by `check`: for every meter, every
// snapshot up to a settled chain time — each reading the oracle's pipeline makes, re-derived here
// from the meter's source in one pass — is on chain exactly once, nothing else of the meter is on
// chain, and the stopped oracle's outbox agrees with itself and with the chain.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { toHex } from "../../lib/bytes.js";
import { generateSecretKey } from "../../lib/keys.js";
import { generateMeterSecretKey, meterPublicKeyOf } from "../../lib/meter-key.js";
import { chainReadings } from "../../meter-oracle/pipeline.js";
import { loadProfiles } from "../../meter-oracle/profile.js";
import { RegisterBuilder } from "../../meter-oracle/registers.js";
import {
  loadOracleConfig,
  type MeterConfig,
  meterIdHashOf,
  type OracleConfig,
  timeMapSpec,
} from "../../meter-oracle/service/config.js";
import { writeMeterKeyFile } from "../../meter-oracle/service/meter-sign.js";
import { Outbox } from "../../meter-oracle/service/outbox.js";
import { simulatedHousehold, simulatedIntervals } from "../../meter-oracle/simulated-meter.js";
import { type ChainReading, TimeMap } from "../../meter-oracle/time-map.js";
import { writeKeyFile } from "../../node/home.js";
import { Signer, WattcapClient, waitForFinality } from "../../rpc/client/index.js";
import { type MeterReadingOnChain, OracleProcess, readingsOnChain } from "./oracle-process.js";
import { freePort, type Testnet } from "./testnet.js";

/** Chain ms between a meter's snapshots; the utilities' readingInterval must divide it. */
export const ORACLE_SNAPSHOT_MS = 5000n;

/** Genesis policy fields a testnet with an oracle needs (Testnet.create's `policy`). */
export const ORACLE_POLICY = { readingInterval: String(ORACLE_SNAPSHOT_MS) };

/** Simulated months replayed (periods 0 … MONTHS-1): two hours at the testnet's 10-min periods. */
const MONTHS = 12;

export interface TestnetOracleOptions {
  /** The node whose RPC the oracle uses. */
  readonly node: string;
  readonly meters: number;
  /** The simulation seed of the meters' households. */
  readonly seed: number;
}

export interface OracleCheck {
  readonly problems: string[];
  /** Snapshots at or before the settled time, each found on chain exactly once (if no problem). */
  readonly snapshotsChecked: number;
}

export class TestnetOracle {
  private constructor(
    readonly process: OracleProcess,
    readonly configFile: string,
    private readonly client: WattcapClient,
  ) {}

  /** Registers the oracle and its households through u0's operator and writes its files. */
  static async create(net: Testnet, options: TestnetOracleOptions): Promise<TestnetOracle> {
    const dir = join(net.dir, "oracle");
    await mkdir(join(dir, "meters"), { recursive: true, mode: 0o700 });
    const genesis = JSON.parse(await readFile(join(net.dir, "genesis.json"), "utf8")) as {
      chainId: string;
      periods: unknown;
    };
    const rpcUrl = `${net.rpcUrl(options.node)}/`;
    const client = new WattcapClient({ url: rpcUrl, timeoutMs: 10_000 });
    const operator = new Signer(client, net.operator("u0").secretKey, {
      chainId: genesis.chainId,
    });

    const oracleKey = generateSecretKey();
    await writeKeyFile(join(dir, "oracle.key"), { type: "oracle", secretKey: oracleKey });
    const sent = [
      await operator.send("registerOracle", {
        oracle: new Signer(client, oracleKey).address,
      }),
    ];
    const meters = [];
    for (let i = 0; i < options.meters; i++) {
      const meterId = `fault-meter-${i}`;
      const secretKey = generateMeterSecretKey("secp256k1");
      const file = join("meters", `${meterId}.key`);
      await writeMeterKeyFile(join(dir, file), { keyType: "secp256k1", secretKey });
      sent.push(
        await operator.send("registerHousehold", {
          household: new Signer(client, generateSecretKey()).address,
          meterIdHash: meterIdHashOf(meterId),
          meterKey: { type: "secp256k1", publicKey: meterPublicKeyOf("secp256k1", secretKey) },
          registers: 1,
          baselines: Array.from({ length: 12 }, () => 1_000_000n),
        }),
      );
      meters.push({
        meterId,
        key: { type: "secp256k1", file },
        source: { kind: "simulated", seed: options.seed, index: i },
        timeMap: { fileYear: 2011, fileMonth: 1, months: MONTHS, firstPeriod: 0 },
      });
    }
    for (const { hash } of sent) {
      const status = await waitForFinality(client, hash, { timeoutMs: 60_000, pollMs: 200 });
      if (status.receipt?.outcome !== "ok") {
        throw new Error(`oracle setup: ${hash} ${JSON.stringify(status.receipt)}`);
      }
    }

    const port = await freePort();
    const configFile = join(dir, "config.json");
    await writeFile(
      configFile,
      JSON.stringify({
        rpcUrl,
        chainId: genesis.chainId,
        oracleKeyFile: "oracle.key",
        outboxDir: "outbox",
        periods: genesis.periods,
        snapshotIntervalMs: Number(ORACLE_SNAPSHOT_MS),
        batch: { maxReadings: 50, intervalMs: 250 },
        retry: { initialMs: 100, maxMs: 2000 },
        http: { host: "127.0.0.1", port },
        meters,
      }),
    );
    const process = new OracleProcess(configFile, `http://127.0.0.1:${port}/status`, {
      log: join(net.dir, "oracle.log"),
    });
    return new TestnetOracle(process, configFile, client);
  }

  /**
   * Checks promise 7 for every snapshot at or before `through` (chain ms, reached by the chain):
   * waits up to `timeoutMs` for the running oracle to confirm them all, reads the chain, stops
   * the oracle (SIGTERM) and reads its outbox.
   */
  async check(through: bigint, timeoutMs: number): Promise<OracleCheck> {
    const config = await loadOracleConfig(this.configFile);
    const snapshots = new Map<MeterConfig, ChainReading[]>();
    const settled = new Map<MeterConfig, ChainReading[]>();
    for (const meter of config.meters) {
      const all = await expectedSnapshots(config, meter);
      snapshots.set(meter, all);
      settled.set(
        meter,
        all.filter((r) => r.time <= through),
      );
    }
    const last = (meter: MeterConfig) => settled.get(meter)?.at(-1)?.time;
    const problems: string[] = [];
    try {
      await this.process.waitFor(
        "the oracle to confirm every snapshot up to the settled time",
        (s) =>
          config.meters.every((meter) => {
            const confirmed = s.meters.find((m) => m.meterId === meter.meterId)?.lastConfirmed;
            const due = last(meter);
            return due === undefined || (confirmed != null && BigInt(confirmed) >= due);
          }),
        timeoutMs,
        500,
      );
    } catch (error) {
      problems.push((error as Error).message);
    }
    const onChain = new Map<MeterConfig, MeterReadingOnChain[]>();
    for (const meter of config.meters) {
      onChain.set(meter, await readingsOnChain(this.client, meter.meterIdHash));
    }
    const exit = await this.process.stop();
    if (exit !== 0) problems.push(`the oracle exited with ${exit} on SIGTERM`);

    let snapshotsChecked = 0;
    for (const meter of config.meters) {
      snapshotsChecked += settled.get(meter)?.length ?? 0;
      problems.push(
        ...chainProblems(meter, snapshots.get(meter) ?? [], through, onChain.get(meter) ?? []),
      );
    }
    problems.push(...(await outboxProblems(config, settled, onChain)));
    return { problems, snapshotsChecked };
  }
}

/** Every reading the oracle's pipeline makes from a simulated meter's source, in one pass. */
export async function expectedSnapshots(
  config: OracleConfig,
  meter: MeterConfig,
): Promise<ChainReading[]> {
  const source = meter.source;
  if (source.kind !== "simulated") throw new Error(`${meter.meterId}: not a simulated meter`);
  const household = simulatedHousehold(
    await loadProfiles(source.profiles),
    source.seed,
    source.index,
    { utcOffsetSec: source.utcOffsetSec },
  );
  const map = new TimeMap(timeMapSpec(config, meter));
  const run = chainReadings(
    simulatedIntervals(household, map.fileFrom, map.fileTo),
    new RegisterBuilder(meter.registers, meter.initialRegisters),
    map,
    config.snapshots,
  );
  const out: ChainReading[] = [];
  for await (const r of run.readings) out.push(r);
  return out;
}

const sameRegisters = (a: readonly bigint[], b: readonly string[]) =>
  a.length === b.length && a.every((v, i) => String(v) === b[i]);

/**
 * A meter's readings on chain against its snapshots (all the pipeline makes): those at or
 * before `through` are each accepted exactly once, and nothing else is on chain for the meter —
 * no reading refused or taken as a duplicate (a snapshot sent twice), none the meter never made.
 */
export function chainProblems(
  meter: MeterConfig,
  snapshots: readonly ChainReading[],
  through: bigint,
  onChain: readonly MeterReadingOnChain[],
): string[] {
  const problems: string[] = [];
  const accepted = new Map<string, MeterReadingOnChain>();
  for (const r of onChain) {
    if (r.result !== "accepted") {
      problems.push(`${meter.meterId}: reading at ${r.time} on chain as ${r.result} ${r.reject}`);
    } else if (accepted.has(r.time)) {
      problems.push(`${meter.meterId}: snapshot at ${r.time} accepted twice`);
    }
    accepted.set(r.time, r);
  }
  const snapshotAt = new Map(snapshots.map((r) => [String(r.time), r]));
  for (const [time, r] of accepted) {
    const snapshot = snapshotAt.get(time);
    if (snapshot === undefined) {
      problems.push(`${meter.meterId}: a reading at ${time} that is no snapshot of the meter`);
    } else if (!sameRegisters(snapshot.registers, r.registers)) {
      problems.push(`${meter.meterId}: snapshot at ${time} on chain with other registers`);
    }
  }
  const missing = snapshots.filter((r) => r.time <= through && !accepted.has(String(r.time)));
  if (missing.length > 0) {
    problems.push(
      `${meter.meterId}: ${missing.length} snapshot(s) missing from the chain, from ${missing[0]?.time}`,
    );
  }
  return problems;
}

/**
 * The stopped oracle's outbox: its counters equal the sums of its per-meter summaries, every
 * transaction still pending holds exactly the readings marked submitted in it, the queue holds
 * exactly the readings marked queued, nothing was ever rejected or found already on chain, and
 * every settled snapshot is confirmed in the transaction and at the height the chain has it in.
 */
export async function outboxProblems(
  config: OracleConfig,
  settled: ReadonlyMap<MeterConfig, readonly ChainReading[]>,
  onChain: ReadonlyMap<MeterConfig, readonly MeterReadingOnChain[]>,
): Promise<string[]> {
  const problems: string[] = [];
  const outbox = await Outbox.open(config.outboxDir, { create: false });
  try {
    const counters = outbox.counters();
    const meters = outbox.meters();
    const sum = (f: (m: (typeof meters)[number]) => number) => meters.reduce((a, m) => a + f(m), 0);
    const rejected = Object.values(counters.rejected).reduce((a, n) => a + n, 0);
    if (counters.read !== sum((m) => m.queued + m.submitted + m.confirmed + m.rejected)) {
      problems.push(`outbox: ${counters.read} read ≠ the meters' queued + submitted + settled`);
    }
    if (counters.confirmed !== sum((m) => m.confirmed) || rejected !== sum((m) => m.rejected)) {
      problems.push("outbox: settled counters ≠ the sums of the meters' summaries");
    }
    if (rejected > 0 || counters.duplicates > 0) {
      problems.push(
        `outbox: ${rejected} rejected ${JSON.stringify(counters.rejected)}, ${counters.duplicates} already on chain`,
      );
    }

    const pending = await outbox.pending();
    let inPending = 0;
    // Pending nonces need not be consecutive: a later transaction of the pipeline may have
    // settled while an earlier one's lookup still saw it pending.
    for (const tx of pending) {
      for (const { meterIdHash, time } of tx.readings) {
        inPending += 1;
        const status = outbox.get(meterIdHash, time)?.status;
        if (status?.state !== "submitted" || status.tx !== tx.id) {
          problems.push(`outbox: ${toHex(meterIdHash)}@${time} in ${tx.id} is ${status?.state}`);
        }
      }
    }
    if (inPending !== sum((m) => m.submitted)) {
      problems.push(`outbox: ${inPending} readings in pending transactions ≠ those submitted`);
    }
    const queued = await outbox.due(Number.MAX_SAFE_INTEGER, 2n ** 64n - 1n);
    if (queued.some((r) => r.status.state !== "queued") || queued.length !== sum((m) => m.queued)) {
      problems.push(`outbox: the queue (${queued.length}) ≠ the readings marked queued`);
    }

    for (const meter of config.meters) {
      const chain = new Map((onChain.get(meter) ?? []).map((r) => [r.time, r]));
      const unlike = (settled.get(meter) ?? []).flatMap((snapshot) => {
        const status = outbox.get(meter.meterIdHash, snapshot.time)?.status;
        const r = chain.get(String(snapshot.time));
        const same =
          status?.state === "confirmed" &&
          status.result === "accepted" &&
          r !== undefined &&
          status.tx.toLowerCase() === r.tx.toLowerCase() &&
          status.height === r.height;
        return same
          ? []
          : [`${snapshot.time} is ${JSON.stringify(status)}, on chain ${JSON.stringify(r)}`];
      });
      if (unlike.length > 0) {
        problems.push(
          `outbox: ${unlike.length} of ${meter.meterId}'s snapshots not confirmed as on chain, first: ${unlike[0]}`,
        );
      }
    }
  } finally {
    await outbox.close();
  }
  return problems;
}
