import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { toHex, utf8 } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import { generateMeterSecretKey } from "../../lib/meter-key.js";
import {
  loadOracleConfig,
  OracleConfigError,
  parseOracleConfig,
} from "../../meter-oracle/service/config.js";
import {
  MeterKeyError,
  readMeterKeyFile,
  signerFor,
  writeMeterKeyFile,
} from "../../meter-oracle/service/meter-sign.js";

function config(overrides: Record<string, unknown> = {}) {
  return {
    rpcUrl: "http://127.0.0.1:8545",
    chainId: "wattcap-devnet",
    oracleKeyFile: "oracle.key",
    outboxDir: "outbox",
    periods: { kind: "fixed", startMs: "1700000000000", lengthMs: 600000, genesisMonth: 1 },
    meters: [
      {
        meterId: "m-1",
        key: "none",
        source: { kind: "espi", path: "data/coastal.xml" },
        timeMap: {
          fileYear: 2011,
          fileMonth: 2,
          months: 1,
          fileUtcOffsetSec: -28800,
          firstPeriod: 0,
        },
      },
      {
        meterId: "m-2",
        registers: 2,
        peakWindows: [{ startMinute: 60, endMinute: 240 }],
        initialRegisters: ["5", 7],
        key: { type: "p256", file: "/keys/m2.key" },
        source: { kind: "simulated", seed: 1, index: 4 },
        timeMap: { fileYear: 2011, fileMonth: 1, months: 12, firstPeriod: "3" },
      },
    ],
    ...overrides,
  };
}

t.test("a valid config: defaults, resolved paths, meter id hashes", async (t) => {
  const c = parseOracleConfig(config(), "/etc/wattcap/oracle.json");
  t.equal(c.oracleKeyFile, "/etc/wattcap/oracle.key");
  t.equal(c.outboxDir, "/etc/wattcap/outbox");
  t.same(c.batch, { maxReadings: 1000, intervalMs: 1000, maxInFlight: 4 });
  t.equal(parseOracleConfig(config({ batch: { maxInFlight: 2 } }), "/c.json").batch.maxInFlight, 2);
  t.same(c.snapshots, { intervalMs: 86_400_000n, anchorMs: 0n });
  t.equal(c.http, undefined);
  t.same(c.schedule, { kind: "fixed", start: 1_700_000_000_000n, length: 600_000n, firstMonth: 1 });
  const [m1, m2] = c.meters;
  t.equal(toHex(m1?.meterIdHash ?? new Uint8Array()), toHex(sha256(utf8("m-1"))));
  t.same(m1?.source, { kind: "espi", path: "/etc/wattcap/data/coastal.xml" });
  t.same(m1?.key, { kind: "none" });
  t.equal(m2?.registers.kind, "tou");
  t.same(m2?.initialRegisters, [5n, 7n]);
  t.same(m2?.key, { kind: "key", type: "p256", file: "/keys/m2.key" });
  t.equal(m2?.timeMap.firstPeriod, 3n);
  t.equal(m2?.timeMap.fileUtcOffsetSec, 0n);
});

t.test("every problem is reported at once, by path", async (t) => {
  const bad = config({
    rpcUrl: "ftp://x",
    batch: { maxReadings: 0, maxInFlight: 0 },
    extra: true,
    meters: [
      {
        meterId: "",
        registers: 2,
        key: { type: "ed25519", file: "k" },
        source: { kind: "london-csv", path: "x.csv" },
        timeMap: { fileYear: 2011, fileMonth: 13, months: 1, firstPeriod: 0 },
      },
    ],
  });
  const error = t.throws(() => parseOracleConfig(bad, "/c.json")) as OracleConfigError;
  t.ok(error instanceof OracleConfigError);
  t.equal(error.code, "INVALID");
  for (const expected of [
    /^rpcUrl: expected an http/,
    /^\(root\): unknown field "extra"/,
    /^batch\.maxReadings: expected an integer in \[1, 10000\]/,
    /^batch\.maxInFlight: expected an integer in \[1, 32\]/,
    /^meters\[0\]\.meterId:/,
    /^meters\[0\]: a two-register .* needs peakWindows/,
    /^meters\[0\]\.key\.type: expected one of secp256k1, p256/,
    /^meters\[0\]\.source\.lclid: missing/,
    /^meters\[0\]\.timeMap\.fileMonth:/,
  ]) {
    t.ok(
      error.problems.some((p) => expected.test(p)),
      `reports ${expected}`,
    );
  }
  const dup = config();
  (dup.meters[1] as { meterId: string }).meterId = "m-1";
  t.throws(() => parseOracleConfig(dup, "/c.json"), /the same meter id/);
});

t.test("config files and meter key files on disk", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-oracle-config-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await t.rejects(loadOracleConfig(join(dir, "none.json")), { code: "NOT_FOUND" });
  await writeFile(join(dir, "broken.json"), "{");
  await t.rejects(loadOracleConfig(join(dir, "broken.json")), { code: "UNREADABLE" });
  await writeFile(join(dir, "ok.json"), JSON.stringify(config()));
  t.equal((await loadOracleConfig(join(dir, "ok.json"))).outboxDir, join(dir, "outbox"));

  const keyFile = join(dir, "m.key");
  const secretKey = generateMeterSecretKey("p256");
  await writeMeterKeyFile(keyFile, { keyType: "p256", secretKey });
  t.equal(((await stat(keyFile)).mode & 0o777).toString(8), "600");
  t.same((await readMeterKeyFile(keyFile)).secretKey, secretKey);
  await t.rejects(writeMeterKeyFile(keyFile, { keyType: "p256", secretKey }), { code: "EEXIST" });
  const signer = await signerFor({ kind: "key", type: "p256", file: keyFile });
  t.equal(signer.publicKey?.length, 33);
  await t.rejects(signerFor({ kind: "key", type: "secp256k1", file: keyFile }), {
    code: "WRONG_TYPE",
  });
  const open = join(dir, "open.key");
  await writeFile(open, "{}", { mode: 0o644 });
  await t.rejects(readMeterKeyFile(open), { code: "PERMISSIONS" });
  const junk = join(dir, "junk.key");
  await writeFile(junk, JSON.stringify({ keyType: "p256", secretKey: "00".repeat(32) }), {
    mode: 0o600,
  });
  const error = await readMeterKeyFile(junk).catch((e: unknown) => e);
  t.ok(error instanceof MeterKeyError && error.code === "BAD_KEY_FILE", "a zero key is refused");
});
