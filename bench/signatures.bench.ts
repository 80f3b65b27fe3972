// Signature verification: the ceiling of the whole chain. Every transaction, vote and meter
// reading is verified at least once, so these rates bound everything else.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import * as secp from "@noble/secp256k1";
import { utf8 } from "../lib/bytes.js";
import { sha256 } from "../lib/hash.js";
import { generateSecretKey, publicKeyOf } from "../lib/keys.js";
import { sign, verify, verifyJs } from "../lib/signature.js";
import { type VerifyJob, VerifyPool } from "../lib/verify-pool.js";
import { type BenchGroup, type Measurement, measure } from "./harness.js";

const SAMPLES = 512;

/** Distinct keys and messages, so no cache makes verification look cheaper than it is. */
export function signatureSamples(): VerifyJob[] {
  const jobs: VerifyJob[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const sk = generateSecretKey();
    const message = utf8(`wattcap benchmark transaction ${i} ${"x".repeat(120)}`);
    jobs.push({
      scheme: "secp256k1",
      publicKey: publicKeyOf(sk),
      message,
      signature: sign(sk, message),
    });
  }
  return jobs;
}

export async function signatures(): Promise<BenchGroup> {
  return {
    title: "Signature verification (secp256k1, ECDSA-SHA256, 33-byte keys)",
    description:
      "Our verification paths against @noble/secp256k1's own verify, on 512 distinct keys and messages. " +
      "The fast path checks ranges and low-s itself, then calls OpenSSL with a cached KeyObject; the pool " +
      "splits batches of 512 across worker threads.",
    targets: [
      {
        description: "the OpenSSL fast path verifies faster than @noble/secp256k1",
        check: (r) =>
          (r.get("sig.verify.fast")?.rate ?? 0) > (r.get("sig.verify.noble")?.rate ?? Infinity),
      },
    ],
    async run(): Promise<Measurement[]> {
      const jobs = signatureSamples();
      let i = 0;
      const next = () => jobs[i++ % jobs.length]!;
      const out: Measurement[] = [];
      out.push(
        await measure("sig.verify.noble", "@noble/secp256k1 verify (baseline)", () => {
          const j = next();
          secp.verify(j.signature, sha256(j.message), j.publicKey, { prehash: false });
          return 1;
        }),
      );
      out.push(
        await measure(
          "sig.verify.curves",
          "@noble/curves verify",
          () => {
            const j = next();
            secp256k1.verify(j.signature, sha256(j.message), j.publicKey, { prehash: false });
            return 1;
          },
          { baseline: "sig.verify.noble" },
        ),
      );
      out.push(
        await measure(
          "sig.verify.js",
          "lib verifyJs (checks + noble)",
          () => {
            const j = next();
            verifyJs(j.publicKey, j.message, j.signature);
            return 1;
          },
          { baseline: "sig.verify.noble" },
        ),
      );
      out.push(
        await measure(
          "sig.verify.fast",
          "lib verify (checks + OpenSSL, inline)",
          () => {
            const j = next();
            verify(j.publicKey, j.message, j.signature);
            return 1;
          },
          { baseline: "sig.verify.noble" },
        ),
      );
      for (const size of [0, 2]) {
        const pool = new VerifyPool(size);
        out.push(
          await measure(
            `sig.verify.pool${size}`,
            `VerifyPool(${size}) batches of ${SAMPLES}`,
            async () => {
              const results = await pool.verifyBatch(jobs);
              if (results.some((ok) => !ok)) throw new Error("a valid signature failed to verify");
              return jobs.length;
            },
            { baseline: "sig.verify.noble", note: size === 0 ? "inline" : "2 worker threads" },
          ),
        );
        await pool.close();
      }
      const sk = generateSecretKey();
      const message = utf8("sign me");
      out.push(
        await measure("sig.sign.noble", "lib sign (@noble/secp256k1)", () => {
          sign(sk, message);
          return 1;
        }),
      );
      return out;
    },
  };
}
