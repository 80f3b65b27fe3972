import { spawnSync } from "node:child_process";
import fc from "fast-check";
import t from "tap";
import { toHex, utf8 } from "../../lib/bytes.js";
import {
  generateMeterSecretKey,
  type MeterKeyType,
  meterPublicKeyOf,
  signMeter,
} from "../../lib/meter-key.js";
import {
  packJobs,
  unpackJobs,
  type VerifyJob,
  VerifyPool,
  verifyJob,
} from "../../lib/verify-pool.js";

interface Signer {
  readonly scheme: MeterKeyType;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

const signerOf = (scheme: MeterKeyType): Signer => {
  const secretKey = generateMeterSecretKey(scheme);
  return { scheme, secretKey, publicKey: meterPublicKeyOf(scheme, secretKey) };
};
const signers = [signerOf("secp256k1"), signerOf("p256"), signerOf("secp256k1"), signerOf("p256")];

/** Job i is valid unless i % 5 picks one of four ways to break it; returns what to expect. */
function mixedBatch(count: number): { jobs: VerifyJob[]; expected: boolean[] } {
  const jobs: VerifyJob[] = [];
  const expected: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const signer = signers[i % signers.length]!;
    const message = utf8(`job ${i}`);
    const signature = signMeter(signer.scheme, signer.secretKey, message);
    const job: VerifyJob = {
      scheme: signer.scheme,
      publicKey: signer.publicKey,
      message,
      signature,
    };
    switch (i % 5) {
      case 1:
        jobs.push({ ...job, message: utf8(`job ${i + 1}`) });
        break;
      case 2:
        jobs.push({ ...job, scheme: signer.scheme === "p256" ? "secp256k1" : "p256" });
        break;
      case 3:
        jobs.push({ ...job, signature: signature.subarray(1) });
        break;
      default:
        jobs.push(job);
    }
    expected.push(i % 5 === 0 || i % 5 === 4);
  }
  return { jobs, expected };
}

const workerErrors: Error[] = [];
const onWorkerError = (error: Error) => workerErrors.push(error);

t.test("pools of 0 and 2 give the same, correct results", async (t) => {
  const { jobs, expected } = mixedBatch(40);
  // Malformed jobs, as bytes from the network might decode to, are just invalid.
  const junk = [
    { ...jobs[0]!, scheme: "ed25519" as MeterKeyType },
    { ...jobs[0]!, message: undefined as unknown as Uint8Array },
    { ...jobs[1]!, publicKey: "02" as unknown as Uint8Array },
  ];
  const all = [...jobs, ...junk];
  const want = [...expected, false, false, false];
  const inline = new VerifyPool(0);
  const pooled = new VerifyPool(2, { onWorkerError });
  t.equal(inline.size, 0);
  t.equal(pooled.size, 2);
  t.same(await inline.verifyBatch(all), want);
  t.same(await pooled.verifyBatch(all), want);
  t.same(all.map(verifyJob), want);
  t.same(workerErrors, [], "the workers ran (no fallback)");
  await Promise.all([inline.close(), pooled.close()]);
});

t.test("a batch larger than one chunk keeps its order; concurrent batches too", async (t) => {
  const { jobs, expected } = mixedBatch(60);
  // Many copies of the same 60 jobs: 600 jobs make 3 chunks of 250 or less per call.
  const big = Array.from({ length: 10 }, () => jobs).flat();
  const want = Array.from({ length: 10 }, () => expected).flat();
  const pool = new VerifyPool(2, { onWorkerError });
  const [a, b] = await Promise.all([pool.verifyBatch(big), pool.verifyBatch(big.slice(7))]);
  t.same(a, want);
  t.same(b, want.slice(7));
  t.same(workerErrors, []);
  await pool.close();
});

t.test("empty batches", async (t) => {
  for (const size of [0, 1]) {
    const pool = new VerifyPool(size);
    t.same(await pool.verifyBatch([]), []);
    await pool.close();
  }
});

t.test("close is idempotent; a closed pool rejects new batches", async (t) => {
  for (const size of [0, 2]) {
    const pool = new VerifyPool(size);
    const first = pool.close();
    t.equal(pool.close(), first);
    await first;
    await pool.close();
    await t.rejects(pool.verifyBatch(mixedBatch(1).jobs), /closed/);
  }
});

t.test("a batch in flight when the pool closes still completes", async (t) => {
  const { jobs, expected } = mixedBatch(30);
  const pool = new VerifyPool(1);
  const pending = pool.verifyBatch(jobs);
  await pool.close();
  t.same(await pending, expected);
});

t.test("crashing or missing workers never hang callers", async (t) => {
  const { jobs, expected } = mixedBatch(20);
  const script = (body: string) => new URL(`data:text/javascript,${encodeURIComponent(body)}`);
  const onMessage = (handler: string) =>
    script(
      `import { parentPort } from "node:worker_threads"; parentPort.on("message", ${handler});`,
    );
  // Each worker start is slow under tap's loader hooks, so these pools have one worker.
  const broken: [string, URL][] = [
    ["throws on a message", onMessage(`() => { throw new Error("boom"); }`)],
    ["exits on a message", onMessage("() => process.exit(7)")],
    ["replies with garbage", onMessage(`(m) => parentPort.postMessage({ id: m.id, results: 1 })`)],
    ["file missing", new URL("./no-such-verify-worker.js", import.meta.url)],
  ];
  for (const [name, workerUrl] of broken) {
    const errors: Error[] = [];
    const pool = new VerifyPool(1, { workerUrl, onWorkerError: (e) => errors.push(e) });
    t.same(await pool.verifyBatch(jobs), expected, name);
    if (name !== "replies with garbage") t.equal(errors.length, 1, `${name}: error reported`);
    await pool.close();
  }
});

t.test("after three crashes in a row the pool stops spawning and verifies inline", async (t) => {
  const { jobs, expected } = mixedBatch(10);
  const workerUrl = new URL(
    `data:text/javascript,${encodeURIComponent("throw new Error('fails to start')")}`,
  );
  const errors: Error[] = [];
  const pool = new VerifyPool(1, { workerUrl, onWorkerError: (e) => errors.push(e) });
  for (let round = 0; round < 5; round++) {
    t.same(await pool.verifyBatch(jobs), expected, `round ${round}`);
  }
  t.equal(errors.length, 3, "the first worker and two replacements, then no more");
  await pool.close();
});

t.test("rejects a bad size", async (t) => {
  for (const size of [-1, 1.5, Number.NaN]) {
    t.throws(() => new VerifyPool(size), RangeError);
  }
});

t.test("an idle pool does not keep the process alive; a busy one finishes first", async (t) => {
  const poolUrl = new URL("../../lib/verify-pool.js", import.meta.url).href;
  const meterUrl = new URL("../../lib/meter-key.js", import.meta.url).href;
  const program = `
    import { VerifyPool } from ${JSON.stringify(poolUrl)};
    import { generateMeterSecretKey, meterPublicKeyOf, signMeter } from ${JSON.stringify(meterUrl)};
    const sk = generateMeterSecretKey("p256");
    const job = { scheme: "p256", publicKey: meterPublicKeyOf("p256", sk),
      message: new Uint8Array([1]), signature: signMeter("p256", sk, new Uint8Array([1])) };
    const pool = new VerifyPool(1);
    const results = await pool.verifyBatch([job, { ...job, message: new Uint8Array([2]) }]);
    console.log(JSON.stringify(results));`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", program], {
    encoding: "utf8",
    timeout: 60_000,
  });
  t.equal(run.signal, null, "exited by itself, not killed by the timeout");
  t.equal(run.status, 0, run.stderr);
  t.equal(run.stdout.trim(), "[true,false]");
});

t.test("packJobs/unpackJobs round trip", async (t) => {
  const bytes = fc.uint8Array({ maxLength: 80 });
  const job = fc.record({
    scheme: fc.constantFrom<MeterKeyType>("secp256k1", "p256"),
    publicKey: bytes,
    message: bytes,
    signature: bytes,
  });
  fc.assert(
    fc.property(fc.array(job, { maxLength: 12 }), (jobs) => {
      const back = unpackJobs(packJobs(jobs));
      return (
        back.length === jobs.length &&
        back.every(
          (b, i) =>
            b.scheme === jobs[i]!.scheme &&
            toHex(b.publicKey) === toHex(jobs[i]!.publicKey) &&
            toHex(b.message) === toHex(jobs[i]!.message) &&
            toHex(b.signature) === toHex(jobs[i]!.signature),
        )
      );
    }),
    { numRuns: 200 },
  );
  const [bad] = unpackJobs(packJobs([{ ...mixedBatch(1).jobs[0]!, scheme: "x" as MeterKeyType }]));
  t.equal(verifyJob(bad!), false, "an unknown scheme stays invalid across the boundary");
});
