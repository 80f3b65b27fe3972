import t from "tap";
import { createLogger, isLogLevel, LOG_LEVELS, silentLogger } from "../../lib/log.js";

/** A logger writing into an array of parsed lines. */
function capture(level: Parameters<typeof createLogger>[0]["level"]) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level,
    base: { moniker: "n1" },
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

t.test(
  "one JSON object per line, with the level's name, time, module and base fields",
  async (t) => {
    const { logger, lines } = capture("info");
    logger.child({ module: "consensus" }).info({ height: 5 }, "committed");
    t.equal(lines.length, 1);
    const [line] = lines;
    t.equal(line?.level, "info");
    t.equal(line?.module, "consensus");
    t.equal(line?.moniker, "n1");
    t.equal(line?.pid, process.pid);
    t.equal(line?.msg, "committed");
    t.equal(line?.height, 5);
    t.match(line?.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  },
);

t.test("bigints are exact decimal strings and bytes are 0x-hex, also nested", async (t) => {
  const { logger, lines } = capture("info");
  const big = 2n ** 64n - 1n;
  logger.info(
    {
      amount: big,
      hash: new Uint8Array([0xab, 0x01]),
      tx: { nonce: 3n, list: [1n, new Uint8Array([2])] },
    },
    "tx",
  );
  t.equal(lines[0]?.amount, "18446744073709551615");
  t.equal(lines[0]?.hash, "0xab01");
  t.same(lines[0]?.tx, { nonce: "3", list: ["1", "0x02"] });
});

t.test("errors keep pino's serializer", async (t) => {
  const { logger, lines } = capture("info");
  logger.error({ err: new RangeError("bad") }, "failed");
  t.match(lines[0]?.err, { type: "RangeError", message: "bad", stack: /RangeError: bad/ });
});

t.test("the level filters lines", async (t) => {
  const { logger, lines } = capture("warn");
  logger.info("hidden");
  logger.debug("hidden");
  logger.warn("shown");
  logger.child({ module: "p2p" }).error("shown too");
  t.same(
    lines.map((l) => l.msg),
    ["shown", "shown too"],
  );
  const silent = silentLogger();
  t.equal(silent.level, "silent");
  t.notOk(silent.isLevelEnabled("fatal"));
});

t.test("isLogLevel accepts exactly the levels", async (t) => {
  for (const level of LOG_LEVELS) t.ok(isLogLevel(level), level);
  for (const bad of ["verbose", "INFO", "", 30, undefined]) t.notOk(isLogLevel(bad), String(bad));
});
