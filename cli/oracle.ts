// `wattcap oracle`: the meter oracle service (docs/oracle.md). `start` runs it until SIGINT or
// SIGTERM; `status` reports its backlog, last submissions and rejections (from the outbox, or
// from the running service); `import` backfills one file for one meter and exits once every
// reading is settled; `meter-key` creates a meter key file for a simulated meter.
import { extname } from "node:path";
import { parseArgs } from "node:util";
import { to0x } from "../lib/bytes.js";
import { createLogger, isLogLevel, type LogLevel } from "../lib/log.js";
import { generateMeterSecretKey, meterPublicKeyOf } from "../lib/meter-key.js";
import { MeterDataError } from "../meter-oracle/interval.js";
import {
  loadOracleConfig,
  type MeterConfig,
  type OracleConfig,
  OracleConfigError,
  type SourceConfig,
} from "../meter-oracle/service/config.js";
import { MeterKeyError, writeMeterKeyFile } from "../meter-oracle/service/meter-sign.js";
import { OracleService } from "../meter-oracle/service/service.js";
import { formatStatus, readStatus, StatusError } from "../meter-oracle/service/status.js";
import { HomeError, readKeyFile } from "../node/home.js";
import { StoreError } from "../state/errors.js";
import {
  CliError,
  commandArgs,
  EXIT_CANT_CREATE,
  EXIT_CONFIG,
  EXIT_DATA,
  EXIT_SOFTWARE,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
} from "./usage.js";

const USAGE = `Usage: wattcap oracle start --config FILE [--log-level LEVEL]
       wattcap oracle status --config FILE [--json]
       wattcap oracle import FILE --config FILE [--meter ID] [--lclid ID] [--log-level LEVEL]
       wattcap oracle meter-key --type secp256k1|p256 --out FILE

start      runs the oracle: reads every configured meter's source, queues the readings in the
           outbox, and submits them in batches until SIGINT or SIGTERM. Logs are JSON lines.
status     the backlog, the last reading submitted and confirmed per meter, and the readings
           the chain rejected, by code. Works while the service is stopped (from the outbox) or
           running (from its http endpoint).
import     backfills FILE (.xml: Green Button ESPI; .csv: London smart-meter layout) as the
           readings of one configured meter, with that meter's key and time map, and exits
           once all of them are settled on chain. The service must be stopped.
meter-key  creates a meter key file (mode 0600) for a simulated meter and prints its public key.

Options:
  --config FILE     the oracle's config file (docs/oracle.md)
  --meter ID        import: the meter (its meterId); needed when the config has several
  --lclid ID        import of a .csv: the household's LCLid (default: the meter's own source's)
  --json            status: print one JSON object
  --type TYPE       meter-key: secp256k1 or p256
  --out FILE        meter-key: where to write the key
  --log-level L     trace, debug, info (default), warn, error, fatal, silent
  -h, --help        show this help
`;

const HINT = "Run 'wattcap oracle --help'.";

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string" },
      meter: { type: "string" },
      lclid: { type: "string" },
      json: { type: "boolean", default: false },
      type: { type: "string" },
      out: { type: "string" },
      "log-level": { type: "string", default: "info" },
      help: { type: "boolean", short: "h" },
    },
  });
}

type Values = ReturnType<typeof parse>["values"];

function usage(message: string): CliError {
  return new CliError(`oracle: ${message}. ${HINT}`, EXIT_USAGE);
}

export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs("oracle", HINT, USAGE, () => parse(args));
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  if (sub === undefined) {
    process.stdout.write(USAGE);
    return EXIT_USAGE;
  }
  try {
    switch (sub) {
      case "start":
        if (rest.length > 0) throw usage("start takes no file argument");
        return await start(values);
      case "status":
        if (rest.length > 0) throw usage("status takes no file argument");
        return await status(values);
      case "import":
        if (rest.length !== 1 || rest[0] === undefined)
          throw usage("import needs exactly one FILE");
        return await importFile(rest[0], values);
      case "meter-key":
        return await meterKey(values);
      default:
        throw usage(`unknown subcommand '${sub}'`);
    }
  } catch (error) {
    throw cliError(error);
  }
}

function cliError(error: unknown): unknown {
  if (error instanceof CliError) return error;
  const message = `oracle: ${(error as Error).message}`;
  if (error instanceof OracleConfigError || error instanceof MeterKeyError) {
    return new CliError(message, EXIT_CONFIG);
  }
  if (error instanceof HomeError) {
    return new CliError(message, error.code === "EXISTS" ? EXIT_CANT_CREATE : EXIT_CONFIG);
  }
  if (error instanceof StoreError && error.code === "LOCKED") {
    return new CliError("oracle: the outbox is in use by another oracle process", EXIT_UNAVAILABLE);
  }
  if (error instanceof StatusError) return new CliError(message, EXIT_UNAVAILABLE);
  if (error instanceof MeterDataError) return new CliError(message, EXIT_DATA);
  return error;
}

/** The service ran to the end but a source could not be read: the operator's data to fix. */
function sourceFailed(error: unknown): never {
  throw new CliError(`oracle: ${(error as Error).message}`, EXIT_DATA);
}

function logLevel(values: Values): LogLevel {
  const level = values["log-level"];
  if (!isLogLevel(level)) throw usage(`--log-level must be a log level, got '${level}'`);
  return level;
}

async function config(values: Values): Promise<OracleConfig> {
  if (values.config === undefined) throw usage("--config FILE is required");
  return loadOracleConfig(values.config);
}

async function start(values: Values): Promise<number> {
  const cfg = await config(values);
  const log = createLogger({ level: logLevel(values), base: { service: "oracle" } });
  const { secretKey } = await readKeyFile(cfg.oracleKeyFile, "oracle");
  const service = await OracleService.start(cfg, { oracleSecretKey: secretKey, log });
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    // A second signal: exit at once; the outbox is consistent after every write.
    if (signals > 1) process.exit(EXIT_SOFTWARE);
    service.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await service.done.catch(sourceFailed);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}

async function status(values: Values): Promise<number> {
  const s = await readStatus(await config(values));
  process.stdout.write(values.json ? `${JSON.stringify(s)}\n` : formatStatus(s));
  return 0;
}

function importSource(file: string, meter: MeterConfig, lclid: string | undefined): SourceConfig {
  const ext = extname(file).toLowerCase();
  if (ext === ".xml") return { kind: "espi", path: file };
  if (ext === ".csv") {
    const id = lclid ?? (meter.source.kind === "london-csv" ? meter.source.lclid : undefined);
    if (id === undefined) throw usage("importing a .csv needs --lclid");
    return { kind: "london-csv", path: file, lclid: id };
  }
  throw usage(`cannot tell the format of ${file}: use .xml (ESPI) or .csv (London layout)`);
}

async function importFile(file: string, values: Values): Promise<number> {
  const cfg = await config(values);
  const meter =
    values.meter === undefined
      ? cfg.meters.length === 1
        ? cfg.meters[0]
        : undefined
      : cfg.meters.find((m) => m.meterId === values.meter);
  if (meter === undefined) {
    throw usage(
      values.meter === undefined
        ? "the config has several meters: name one with --meter"
        : `no meter '${values.meter}' in ${cfg.file}`,
    );
  }
  const log = createLogger({ level: logLevel(values), base: { service: "oracle-import" } });
  const { secretKey } = await readKeyFile(cfg.oracleKeyFile, "oracle");
  const service = await OracleService.start(
    { ...cfg, http: undefined },
    {
      oracleSecretKey: secretKey,
      log,
      meters: [meter],
      sources: new Map([[meter.meterId, importSource(file, meter, values.lclid)]]),
      untilDrained: true,
    },
  );
  const stop = () => service.stop();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    await service.done.catch(sourceFailed);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  const after = await readStatus(cfg);
  const m = after.meters.find((x) => x.meterId === meter.meterId);
  process.stdout.write(
    `imported ${file} for ${meter.meterId}: ${m?.confirmed ?? 0} confirmed, ${m?.rejected ?? 0} rejected, backlog ${after.backlog}\n`,
  );
  return 0;
}

async function meterKey(values: Values): Promise<number> {
  const type = values.type;
  if (type !== "secp256k1" && type !== "p256") throw usage("--type must be secp256k1 or p256");
  if (values.out === undefined || values.out === "") throw usage("meter-key needs --out FILE");
  const secretKey = generateMeterSecretKey(type);
  try {
    await writeMeterKeyFile(values.out, { keyType: type, secretKey });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CliError(`oracle: ${values.out} exists; not overwriting it`, EXIT_CANT_CREATE);
    }
    throw error;
  }
  process.stdout.write(
    `${JSON.stringify({ keyType: type, publicKey: to0x(meterPublicKeyOf(type, secretKey)) })}\n`,
  );
  return 0;
}
