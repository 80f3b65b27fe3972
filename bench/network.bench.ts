// Network throughput and commit latency (issue #4): 1 and 4 validators as separate processes on
// this machine (the multi-process test harness), loaded by household accounts sending signed
// transactions through the RPC client SDK. Against it, measured in the same run, the signature
// ceiling: the transactions per second this machine verifies on its fastest path doing nothing
// else, divided by the number of nodes that verify each transaction (every validator does).
//
// Saturation: every household keeps a few transactions in flight for a warm-up and a measured
// window; the rate is what committed. Latency: then an open loop at half that rate, each
// transaction timed from its send to the moment the generator reads its committed block.
import os from "node:os";
import { verify } from "../lib/signature.js";
import { type VerifyJob, VerifyPool } from "../lib/verify-pool.js";
import { Testnet } from "../test/harness/testnet.js";
import { type BenchGroup, type Measurement, measure, NODE_CONSENSUS, single } from "./harness.js";
import { LoadGenerator, percentile } from "./load.js";
import { signatureSamples } from "./signatures.bench.js";

const HOUSEHOLDS = 256;
/**
 * Transactions in flight (sent, not committed) at saturation, in seconds of the ceiling's rate:
 * by Little's law enough to reach the ceiling at a commit latency of up to that long, and no
 * more, so the opening burst does not bury consensus under verification on a slow machine.
 */
const WINDOW_SECONDS = 2;
/** The mempool's per-account bound is 64: a household never holds more than this. */
const MAX_WINDOW = 48;
const WARMUP_MS = 5000;
const MEASURE_MS = 10_000;
const LATENCY_MS = 10_000;
const DRAIN_MS = 15_000;
/** Signing ahead costs time before each phase; never sign for more than this rate. */
const MAX_RATE = 6000;

async function ceiling(jobs: readonly VerifyJob[]): Promise<Measurement[]> {
  let i = 0;
  const inline = await measure(
    "net.verify.inline",
    "verify on one thread (lib verify, OpenSSL)",
    () => {
      const j = jobs[i++ % jobs.length]!;
      verify(j.publicKey, j.message, j.signature);
      return 1;
    },
    { unit: "sig/s" },
  );
  const pool = new VerifyPool(os.cpus().length);
  let workers: Measurement;
  try {
    workers = await measure(
      "net.verify.pool",
      `verify on ${os.cpus().length} worker threads (VerifyPool)`,
      async () => {
        await pool.verifyBatch(jobs);
        return jobs.length;
      },
      { unit: "sig/s", baseline: "net.verify.inline" },
    );
  } finally {
    await pool.close();
  }
  const best = Math.max(inline.rate, workers.rate);
  return [
    inline,
    workers,
    single("net.ceiling.1", "signature ceiling, 1 validator (fastest path ÷ 1)", best, "tx/s"),
    single("net.ceiling.4", "signature ceiling, 4 validators (fastest path ÷ 4)", best / 4, "tx/s"),
  ];
}

/**
 * Verification threads per node: a lone validator verifies on a pool of one worker per core,
 * the ceiling's own fastest path; four validators sharing two cores verify inline, since
 * workers of their own would only oversubscribe the cores (DESIGN §9).
 */
function verifyWorkers(validators: 1 | 4): number {
  return validators === 1 ? os.cpus().length : 0;
}

async function loadRun(validators: 1 | 4, ceilingRate: number, log: (s: string) => void) {
  const net = await Testnet.create({
    validators,
    configOverrides: { ...NODE_CONSENSUS, verifyWorkers: verifyWorkers(validators) },
  });
  const names = net.validators;
  let load: LoadGenerator | undefined;
  try {
    for (const name of names) net.start(name);
    await net.waitForHeight(names, 2, 60_000);
    load = await LoadGenerator.connect(net, names);
    await load.registerHouseholds(net.operators, HOUSEHOLDS);
    const saturationTxs = Math.ceil(
      (Math.min(ceilingRate, MAX_RATE) * (WARMUP_MS + MEASURE_MS)) / 1000 / HOUSEHOLDS,
    );
    load.presign(saturationTxs);
    const window = Math.min(
      MAX_WINDOW,
      Math.max(1, Math.ceil((WINDOW_SECONDS * ceilingRate) / HOUSEHOLDS)),
    );
    const saturated = await load.saturate(window, WARMUP_MS, MEASURE_MS);
    log(
      `${validators} validator(s), ${verifyWorkers(validators)} verification workers each: ${Math.round(saturated)} tx/s at saturation, ${window} in flight per household`,
    );
    // Let the backlog clear before the open loop.
    const left = load.unsent();
    const half = saturated / 2;
    load.presign(Math.ceil((half * LATENCY_MS) / 1000 / HOUSEHOLDS) + 2);
    await new Promise((r) => setTimeout(r, 3000));
    const steady = await load.steady(half, LATENCY_MS, DRAIN_MS);
    log(
      `${validators} validator(s): ${steady.latencies.length} timed at ${Math.round(steady.achievedRate)} tx/s, ` +
        `p50 ${Math.round(percentile(steady.latencies, 50))} ms, p99 ${Math.round(percentile(steady.latencies, 99))} ms, ` +
        `${steady.missing} missing, ${load.refused} refused sends, ${left} left unsent at saturation`,
    );
    return { saturated, steady, exhausted: left === 0 };
  } catch (error) {
    net.markFailed();
    throw error;
  } finally {
    await load?.close();
    await net.teardown();
  }
}

export async function network(): Promise<BenchGroup> {
  const byId = (r: ReadonlyMap<string, Measurement>, id: string) => r.get(id)?.rate ?? Number.NaN;
  return {
    title: "Network throughput and commit latency (validators as processes on this machine)",
    description:
      `Validators as separate \`wattcap start\` processes on loopback (the test harness), ${HOUSEHOLDS} ` +
      "households sending pre-signed delegateAppKey transactions over the RPC client's WebSocket " +
      "(a lone validator verifying on a worker per core, four verifying inline), " +
      `together ${WINDOW_SECONDS} s of the ceiling's rate in flight; saturation is what committed in ${MEASURE_MS / 1000} s after a ` +
      `${WARMUP_MS / 1000} s warm-up, latency is send to committed block at half that rate. The ` +
      "ceiling is this machine's fastest signature verification divided by the nodes verifying " +
      "each transaction. The load generator shares the machine; on a busy machine the figures are noisy",
    targets: [
      {
        description: "4 validators sustain at least 50% of the 4-validator signature ceiling",
        check: (r) => byId(r, "net.4.saturation") >= 0.5 * byId(r, "net.ceiling.4"),
      },
      {
        description: "4 validators: p99 commit latency under 3 s at half the sustained load",
        check: (r) => byId(r, "net.4.p99") < 3000,
      },
      {
        description: "1 validator sustains at least 60% of the 1-validator signature ceiling",
        check: (r) => byId(r, "net.1.saturation") >= 0.6 * byId(r, "net.ceiling.1"),
      },
    ],
    async run(): Promise<Measurement[]> {
      const out = await ceiling(signatureSamples());
      const ceilingOf = (n: 1 | 4) => byId(new Map(out.map((m) => [m.id, m])), `net.ceiling.${n}`);
      for (const validators of [1, 4] as const) {
        const r = await loadRun(validators, ceilingOf(validators), (line) =>
          console.error(`   ${line}`),
        );
        const v = `net.${validators}`;
        out.push(
          single(
            `${v}.saturation`,
            `${validators} validator(s): committed at saturation`,
            r.saturated,
            "tx/s",
            {
              baseline: `net.ceiling.${validators}`,
              ...(r.exhausted ? { note: "the generator ran out of signed transactions" } : {}),
            },
          ),
          single(
            `${v}.half`,
            `${validators} validator(s): offered at half load`,
            r.steady.achievedRate,
            "tx/s",
            {
              baseline: `${v}.saturation`,
            },
          ),
          single(
            `${v}.p50`,
            `${validators} validator(s): p50 commit latency at half load`,
            percentile(r.steady.latencies, 50),
            "ms",
          ),
          single(
            `${v}.p99`,
            `${validators} validator(s): p99 commit latency at half load`,
            percentile(r.steady.latencies, 99),
            "ms",
            {
              ...(r.steady.missing > 0
                ? { note: `${r.steady.missing} not committed in time` }
                : {}),
            },
          ),
        );
      }
      return out;
    },
  };
}
