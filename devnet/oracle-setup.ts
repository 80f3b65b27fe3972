// The devnet's meter oracle: its key, one secp256k1 key per simulated meter, and its config
// (docs/oracle.md) — every household's meter is a simulated one replaying run month j as period
// firstPeriod + j, at the factors the household simulation writes to dir/responses. Laid out
// once; a restart finds the files and reuses them.
import { existsSync, mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateSecretKey } from "../lib/keys.js";
import { writeMeterKeyFile } from "../meter-oracle/service/meter-sign.js";
import { identityOf, readKeyFile, writeKeyFile } from "../node/home.js";
import { FILE_YEAR, type PopulationHousehold } from "./population.js";
import type { SupervisedProcess } from "./supervisor.js";

export interface OracleSetup {
  readonly dir: string;
  readonly rpcUrl: string;
  readonly chainId: string;
  /** The genesis file's `periods`. */
  readonly periods: unknown;
  readonly seed: number;
  readonly households: readonly PopulationHousehold[];
  readonly startMonth: number;
  readonly firstPeriod: bigint;
  readonly months: number;
  /** The utility's reading interval (ms): snapshots go on chain every `snapshotEvery` of them. */
  readonly readingIntervalMs: bigint;
  readonly snapshotEvery: bigint;
  readonly httpPort: number;
}

export const RESPONSES_DIR = "responses";

/** Writes the oracle's files under dir/oracle (keeping existing keys); its address and process. */
export async function prepareOracle(
  setup: OracleSetup,
): Promise<{ address: string; process: SupervisedProcess; statusUrl: string }> {
  const home = join(setup.dir, "oracle");
  mkdirSync(join(home, "meters"), { recursive: true, mode: 0o700 });
  mkdirSync(join(setup.dir, RESPONSES_DIR), { recursive: true });
  const keyFile = join(home, "oracle.key");
  if (!existsSync(keyFile)) {
    await writeKeyFile(keyFile, { type: "oracle", secretKey: generateSecretKey() });
  }
  const address = identityOf(await readKeyFile(keyFile, "oracle")).address;
  for (const h of setup.households) {
    const file = join(home, "meters", `${h.index}.key`);
    if (!existsSync(file)) {
      await writeMeterKeyFile(file, { keyType: "secp256k1", secretKey: h.meterSecretKey });
    }
  }
  const timeMap = {
    fileYear: Number(FILE_YEAR),
    fileMonth: setup.startMonth,
    months: setup.months,
    fileUtcOffsetSec: 0,
    firstPeriod: setup.firstPeriod.toString(),
  };
  const config = {
    rpcUrl: setup.rpcUrl,
    chainId: setup.chainId,
    oracleKeyFile: "oracle.key",
    outboxDir: "outbox",
    periods: setup.periods,
    snapshotIntervalMs: (setup.readingIntervalMs * setup.snapshotEvery).toString(),
    // A batch of 500 meter-signed readings slowed blocks to many seconds on a loaded 2-core
    // machine; 200 keep them near the target time.
    batch: { maxReadings: 200, intervalMs: 500 },
    retry: { initialMs: 250, maxMs: 2000 },
    http: { host: "127.0.0.1", port: setup.httpPort },
    meters: setup.households.map((h) => ({
      meterId: h.meterId,
      key: { type: "secp256k1", file: `meters/${h.index}.key` },
      source: {
        kind: "simulated",
        seed: setup.seed,
        index: h.index,
        responses: join("..", RESPONSES_DIR),
      },
      timeMap,
    })),
  };
  const configFile = join(home, "config.json");
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  return {
    address,
    process: { name: "oracle", args: ["oracle", "start", "--config", configFile] },
    statusUrl: `http://127.0.0.1:${setup.httpPort}/status`,
  };
}
