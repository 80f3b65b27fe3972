// The oracle end to end: a real chain and RPC server in a child process of their own
// (chain-process.ts), the oracle as another (`wattcap oracle start`). February 2011 of the
// committed ESPI fixture is replayed as period 2 for five meters of which two are good (one
// signed by its P-256 meter key, one oracle-only) and three are each refused for their own
// reason. The oracle is SIGKILLed mid-batch and restarted; then the node is SIGKILLed with the
// oracle's batch in its mempool and started again on its store. The chain must still hold every
// needed snapshot exactly once, settle the period's consumption to the file's energy, and the
// oracle must report each refused reading with its code.
import { type ChildProcess, execFile, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import t from "tap";
import { addressOf, toChecksumAddress } from "../../lib/address.js";
import { to0x, toHex } from "../../lib/bytes.js";
import { publicKeyOf } from "../../lib/keys.js";
import { generateMeterSecretKey, meterPublicKeyOf } from "../../lib/meter-key.js";
import { meterIdHashOf } from "../../meter-oracle/service/config.js";
import { writeMeterKeyFile } from "../../meter-oracle/service/meter-sign.js";
import type { OracleStatus } from "../../meter-oracle/service/status.js";
import { writeKeyFile } from "../../node/home.js";
import { WattcapClient } from "../../rpc/client/index.js";
import type { PayloadOf, TxTypeName } from "../../vm/tx/types.js";
import { acceptedTwice, OracleProcess, readingsOnChain } from "../harness/oracle-process.js";
import { holdSuiteLock } from "../harness/suite-lock.js";
import { freePort } from "../harness/testnet.js";
import { signedTx } from "../node/chain-fixtures.js";
import type { RpcResponse } from "../rpc/rpc-fixtures.js";
import {
  type Actor,
  actor,
  genesisJson,
  operatorOf,
  PERIOD,
  policyJson,
  T0,
} from "../vm/helpers.js";
import type { ChainCommand, ChainReply } from "./chain-process.js";
import { fixture } from "./fixtures.js";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../cli/wattcap.js", import.meta.url));
const CHAIN_PROCESS = fileURLToPath(new URL("./chain-process.js", import.meta.url));
const COASTAL = fixture("greenbutton/coastal-multi-family-2011-02.xml");
const FEB_PST = 1_296_547_200n; // 2011-02-01T08:00Z
const MAR_PST = 1_298_966_400n;
const BATCH = 8;
// Readings of a period are taken until GRACE after it ends. The chain makes a block (1 s of
// chain time) every few milliseconds, so this is how far, in blocks, the oracle may fall
// behind on a busy machine before a reading comes too late.
const GRACE = 300_000;

function februaryWh(): bigint {
  let sum = 0n;
  for (const m of readFileSync(COASTAL, "utf8").matchAll(
    /<start>(\d+)<\/start>\s*<\/timePeriod>\s*<value>(\d+)<\/value>/g,
  )) {
    const start = BigInt(m[1] ?? "");
    if (start >= FEB_PST && start < MAR_PST) sum += BigInt(m[2] ?? "");
  }
  return sum;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });

/** The node's process (chain-process.ts): started, driven over IPC, killed, started again. */
class ChainProcess {
  readonly url: string;
  /** The head block's time as the process last reported it. */
  headTime = 0n;
  #child: ChildProcess | undefined;
  readonly #waiting: ((reply: ChainReply) => void)[] = [];

  constructor(
    readonly dir: string,
    readonly genesisFile: string,
    readonly port: number,
  ) {
    this.url = `http://127.0.0.1:${port}/`;
  }

  /** Starts it on its store and waits until it serves RPC. */
  async start(): Promise<void> {
    const child = fork(CHAIN_PROCESS, [this.dir, this.genesisFile, String(this.port)], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    this.#child = child;
    child.on("message", (reply: ChainReply) => {
      if ("time" in reply) this.headTime = BigInt(reply.time);
      this.#waiting.shift()?.(reply);
    });
    await new Promise<ChainReply>((resolve) => this.#waiting.push(resolve));
  }

  #request(command: ChainCommand): Promise<ChainReply> {
    const reply = new Promise<ChainReply>((resolve) => this.#waiting.push(resolve));
    this.#child?.send(command);
    return reply;
  }

  async produce(): Promise<void> {
    await this.#request({ kind: "produce" });
  }

  /** Blocks every few milliseconds, 1 s of chain time each, or none. */
  async auto(on: boolean): Promise<void> {
    await this.#request({ kind: "auto", on });
  }

  /** SIGKILL: the store keeps its last committed block; the mempool is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill("SIGKILL");
    await exited(child);
    this.#child = undefined;
  }

  async call(method: string, params: unknown = {}): Promise<RpcResponse> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return (await response.json()) as RpcResponse;
  }
}

t.test("file → oracle → chain, through a SIGKILL and a node outage", async (t) => {
  await holdSuiteLock(t);
  const json = genesisJson([1, 0], {
    limits: { maxReadingsPerBatch: BATCH, maxJobWorkPerBlock: 50, keyRotationDelayMs: 20_000 },
  });
  for (const u of json.utilities) {
    Object.assign(u, { policy: policyJson({ readingGrace: GRACE, tradingWindow: 20_000 }) });
  }
  const dir = await mkdtemp(join(tmpdir(), "wattcap-oracle-e2e-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const genesisFile = join(dir, "genesis.json");
  await writeFile(genesisFile, JSON.stringify(json));
  const node = new ChainProcess(join(dir, "chain"), genesisFile, await freePort());
  await node.start();
  t.teardown(() => node.kill());

  // Chain setup: two oracles of u0 (the second only to plant a high register), five meters.
  const oracle = actor(700);
  const planter = actor(701);
  const nonces = new Map<string, bigint>();
  const send = async <N extends TxTypeName>(signer: Actor, type: N, payload: PayloadOf<N>) => {
    const nonce = nonces.get(signer.hex) ?? 0n;
    nonces.set(signer.hex, nonce + 1n);
    const added = await node.call("tx_send", { tx: to0x(signedTx(signer, nonce, type, payload)) });
    if (added.error) throw new Error(`${type}: ${added.error.message}`);
  };
  const meterKey = generateMeterSecretKey("p256");
  const forgerKey = generateMeterSecretKey("p256");
  const registeredKey = generateMeterSecretKey("p256");
  const meters = {
    signed: { id: "coastal-signed", household: actor(801), utility: 0 },
    plain: { id: "coastal-plain", household: actor(802), utility: 0 },
    foreign: { id: "coastal-foreign", household: actor(803), utility: 1 },
    forged: { id: "coastal-forged", household: actor(804), utility: 0 },
    backwards: { id: "coastal-backwards", household: actor(805), utility: 0 },
  };
  const keyOf: Record<string, Uint8Array | undefined> = {
    [meters.signed.id]: meterKey,
    [meters.forged.id]: registeredKey,
  };
  for (const m of Object.values(meters)) {
    const key = keyOf[m.id];
    await send(operatorOf(m.utility), "registerHousehold", {
      household: m.household.address,
      meterIdHash: meterIdHashOf(m.id),
      meterKey: key ? { type: "p256", publicKey: meterPublicKeyOf("p256", key) } : undefined,
      registers: 1,
      baselines: Array.from({ length: 12 }, () => 100_000_000n),
    });
  }
  await send(operatorOf(0), "registerOracle", { oracle: oracle.address });
  await send(operatorOf(0), "registerOracle", { oracle: planter.address });
  await node.produce();
  const plantedAt = node.headTime;
  await send(planter, "submitReadings", {
    readings: [
      {
        meterIdHash: meterIdHashOf(meters.backwards.id),
        time: plantedAt,
        registers: [1_000_000_000n],
        signature: undefined,
      },
    ],
  });
  await node.produce();
  const planted = await node.call("household_get", { address: meters.backwards.household.hex });
  t.match(planted.result, { firstReadingTime: String(plantedAt) }, "setup landed");

  // The oracle's files.
  await writeKeyFile(join(dir, "oracle.key"), { type: "oracle", secretKey: oracle.secretKey });
  await writeMeterKeyFile(join(dir, "signed.key"), { keyType: "p256", secretKey: meterKey });
  await writeMeterKeyFile(join(dir, "forged.key"), { keyType: "p256", secretKey: forgerKey });
  const espi = { kind: "espi", path: COASTAL };
  const timeMap = {
    fileYear: 2011,
    fileMonth: 2,
    months: 1,
    fileUtcOffsetSec: -28800,
    firstPeriod: 2,
  };
  const config = {
    rpcUrl: node.url,
    chainId: "wattcap-test",
    oracleKeyFile: "oracle.key",
    outboxDir: "outbox",
    periods: { kind: "fixed", startMs: String(T0), lengthMs: Number(PERIOD), genesisMonth: 0 },
    snapshotIntervalMs: 5000,
    batch: { maxReadings: BATCH, intervalMs: 20 },
    retry: { initialMs: 20, maxMs: 200 },
    http: { host: "127.0.0.1", port: 0 },
    meters: [
      {
        meterId: meters.signed.id,
        key: { type: "p256", file: "signed.key" },
        source: espi,
        timeMap,
      },
      { meterId: meters.plain.id, key: "none", source: espi, timeMap },
      { meterId: meters.foreign.id, key: "none", source: espi, timeMap },
      {
        meterId: meters.forged.id,
        key: { type: "p256", file: "forged.key" },
        source: espi,
        timeMap,
      },
      { meterId: meters.backwards.id, key: "none", source: espi, timeMap },
    ],
  };
  // The status endpoint needs a known port: a free one, found by binding port 0 briefly.
  config.http.port = await freePort();
  const configFile = join(dir, "oracle.json");
  await writeFile(configFile, JSON.stringify(config));
  const statusUrl = `http://127.0.0.1:${config.http.port}/status`;

  await node.auto(true);

  // Every reading the chain accepted for a meter, time → register; a time listed twice fails.
  const client = new WattcapClient({ url: node.url });
  const acceptedReadings = async (meterId: string): Promise<Map<string, bigint>> => {
    const readings = await readingsOnChain(client, meterIdHashOf(meterId));
    t.same(acceptedTwice(readings), [], `${meterId}: no snapshot on chain twice`);
    return new Map(
      readings
        .filter((r) => r.result === "accepted")
        .map((r) => [r.time, BigInt(r.registers[0] ?? "0")]),
    );
  };

  const oracleProcess = new OracleProcess(configFile, statusUrl);
  t.teardown(() => oracleProcess.kill());
  const waitFor = (
    what: string,
    ok: (s: OracleStatus) => boolean | Promise<boolean>,
    ms = 60_000,
  ) => oracleProcess.waitFor(what, ok, ms);

  // 1. Run, and SIGKILL it with a batch in flight after the first ones settled.
  oracleProcess.start();
  const before = await waitFor(
    "a batch in flight after a few settled",
    (s) =>
      (s.meters.find((m) => m.meterId === meters.signed.id)?.confirmed ?? 0) >= 3 &&
      s.inFlight.length > 0,
  );
  await oracleProcess.kill();
  t.ok(before.backlog > 0, "killed with readings still to go");
  // Mid-period, household_get shows the consumption so far: the newest accepted reading's
  // register less the one on the period's opening boundary.
  await node.auto(false);
  const sofar = await acceptedReadings(meters.signed.id);
  const newest = [...sofar.keys()].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)).pop() ?? "";
  const opening = sofar.get(String(T0 + 2n * PERIOD)) ?? 0n;
  const current = await node.call("household_get", { address: meters.signed.household.hex });
  t.match(current.result, {
    currentPeriod: { period: "2", consumptionSoFar: String((sofar.get(newest) ?? 0n) - opening) },
  });
  t.ok(BigInt(newest) > T0 + 2n * PERIOD, "some of the period is in");
  await node.auto(true);
  // Blocks go on while it is down: the batch it had in flight lands without it.
  await sleep(100);

  // 2. Restart; once it is under way, stop making blocks until its next batch is in the node's
  // mempool, and SIGKILL the node: the batch is lost with the mempool.
  oracleProcess.start();
  await waitFor(
    "progress after the restart",
    (s) => s.counters.confirmed > before.counters.confirmed,
  );
  await node.auto(false);
  const txStatus = async (hash: string) =>
    ((await node.call("tx_get", { hash })).result as { status: string }).status;
  // A batch sent just before the stall may still land in the block being made: the stranded
  // one is the first in flight that stays pending.
  const stranded = await waitFor(
    "a batch stranded in the stalled node's mempool",
    async (s) => s.inFlight[0] !== undefined && (await txStatus(s.inFlight[0].id)) === "pending",
  );
  const lost = stranded.inFlight[0]?.id ?? "";
  t.equal(await txStatus(lost), "pending", "the batch waits in the node's mempool");
  await node.kill();
  const faulted = await waitFor("the outage noticed", (s) => s.lastFault !== null, 10_000);
  t.ok(faulted.lastFault, "the outage is reported as a fault");
  // The same store and port; the mempool starts empty.
  await node.start();
  await node.auto(true);
  await waitFor("the stranded batch resent and settled", async () => {
    return (await txStatus(lost)) === "finalized";
  });
  t.pass("the oracle sent the lost batch's same bytes again, and they landed");

  // 3. Until the period is final and the oracle has nothing left.
  const end = T0 + 3n * PERIOD + BigInt(GRACE) + 10_000n;
  const done = await waitFor(
    "the backlog drained after period 2 finalised",
    async (s) => {
      if (s.backlog !== 0) return false;
      const head = (await node.call("chain_status")).result as { headTime: string };
      return BigInt(head.headTime) > end;
    },
    120_000,
  );
  const metrics = await (await fetch(statusUrl.replace("/status", "/metrics"))).text();
  t.match(metrics, /wattcap_oracle_readings_confirmed_total\{result="accepted"\} \d+/);
  t.match(metrics, /wattcap_oracle_backlog 0/);
  t.equal(await oracleProcess.stop(), 0, "a clean stop on SIGTERM");

  // What the chain holds.
  const energy = februaryWh();
  for (const m of [meters.signed, meters.plain]) {
    const statement = await node.call("household_statement", {
      address: m.household.hex,
      period: "2",
    });
    t.match(
      statement.result,
      { status: "settled", consumption: String(energy), estimated: false },
      `${m.id}: period 2 consumed exactly the file's February`,
    );
    const household = await node.call("household_get", { address: m.household.hex });
    t.match(household.result, { firstReadingTime: String(T0 + 2n * PERIOD) });
    const accepted = await acceptedReadings(m.id);
    t.ok(accepted.has(String(T0 + 2n * PERIOD)), `${m.id}: the opening boundary is on chain`);
    t.ok(accepted.has(String(T0 + 3n * PERIOD)), `${m.id}: the closing boundary is on chain`);
    const summary = done.meters.find((s) => s.meterId === m.id);
    t.equal(
      summary?.confirmed,
      accepted.size,
      `${m.id}: the oracle confirmed what the chain holds`,
    );
    t.equal(summary?.rejected, 0);
  }

  // What the oracle reports, from the outbox now that the service is stopped.
  const { stdout } = await run(process.execPath, [
    CLI,
    "oracle",
    "status",
    "--config",
    configFile,
    "--json",
  ]);
  const final = JSON.parse(stdout) as OracleStatus;
  t.equal(final.source, "outbox");
  const count = (id: string) => final.meters.find((s) => s.meterId === id);
  const perMeter = count(meters.signed.id)?.confirmed ?? 0;
  t.ok(perMeter > 20, "a reading per snapshot interval");
  t.same(final.counters.rejected, {
    READING_BAD_SIGNATURE: perMeter,
    READING_NOT_MONOTONIC: perMeter,
    READING_ORACLE_NOT_AUTHORISED: perMeter,
  });
  for (const [id, code] of [
    [meters.forged.id, "READING_BAD_SIGNATURE"],
    [meters.backwards.id, "READING_NOT_MONOTONIC"],
    [meters.foreign.id, "READING_ORACLE_NOT_AUTHORISED"],
  ] as const) {
    t.match(count(id), { confirmed: 0, rejected: perMeter, queued: 0, submitted: 0 }, id);
    const hash = toHex(meterIdHashOf(id));
    t.ok(
      final.rejections.filter((r) => r.meterIdHash === hash).every((r) => r.code === code),
      `${id}: every rejection carries ${code}`,
    );
  }
  t.equal(final.counters.confirmed, 2 * perMeter, "the two good meters' readings, no more");
  const text = await run(process.execPath, [CLI, "oracle", "status", "--config", configFile]);
  t.match(text.stdout, /READING_BAD_SIGNATURE\s+\d+/);

  // A replayed batch: the same signed bytes again are refused as a duplicate transaction.
  const oracleAddress = toChecksumAddress(addressOf(publicKeyOf(oracle.secretKey)));
  const txs = (await node.call("txs_byAddress", { address: oracleAddress, limit: 1 })) as {
    result: { items: { hash: string; height: string }[] };
  };
  const first = txs.result.items[0];
  const block = (await node.call("chain_getBlock", { height: first?.height })) as {
    result: { transactions: { hash: string; bytes: string }[] };
  };
  const bytes = block.result.transactions.find((x) => x.hash === first?.hash)?.bytes;
  const replay = await node.call("tx_send", { tx: bytes });
  t.match(replay.error, { code: -32000, data: { reject: "NONCE_TOO_LOW" } }, "replay refused");
  const after = JSON.parse(
    (await run(process.execPath, [CLI, "oracle", "status", "--config", configFile, "--json"]))
      .stdout,
  ) as OracleStatus;
  t.same(after.counters, final.counters, "and counted nowhere");

  // A backfill of a file already relayed queues nothing and exits at once.
  const imported = await run(process.execPath, [
    CLI,
    "oracle",
    "import",
    COASTAL,
    "--config",
    configFile,
    "--meter",
    meters.signed.id,
    "--log-level",
    "silent",
  ]);
  t.match(
    imported.stdout,
    new RegExp(`${meters.signed.id}: ${perMeter} confirmed, 0 rejected, backlog 0`),
  );
  const ambiguous = await run(process.execPath, [
    CLI,
    "oracle",
    "import",
    COASTAL,
    "--config",
    configFile,
  ]).catch((e: { code: number; stderr: string }) => e);
  t.match(ambiguous, { code: 64, stderr: /several meters/ }, "import names its meter");
});
