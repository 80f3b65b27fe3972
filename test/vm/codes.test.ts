import { readFileSync } from "node:fs";
import t from "tap";
import { isRejectCode, REJECT_CODES, Reject, reject, rejectLevel } from "../../vm/codes.js";

// dist/test/vm -> the project root.
const doc = readFileSync(new URL("../../../docs/reject-codes.md", import.meta.url), "utf8");

function docRows(): Array<[string, string, string]> {
  const rows: Array<[string, string, string]> = [];
  for (const line of doc.split("\n")) {
    const m = /^\|\s*`([A-Z0-9_]+)`\s*\|\s*(block|tx|reading)\s*\|\s*(.*?)\s*\|$/.exec(line);
    if (m) rows.push([m[1]!, m[2]!, m[3]!]);
  }
  return rows;
}

t.test(
  "docs/reject-codes.md lists exactly the codes of REJECT_CODES, with their level and meaning",
  async (t) => {
    const rows = docRows();
    const expected = Object.entries(REJECT_CODES).map(([code, info]) => [
      code,
      info.level,
      info.meaning,
    ]);
    t.same(rows, expected);
    t.equal(new Set(rows.map((r) => r[0])).size, rows.length, "no code twice");
  },
);

t.test("the codes DESIGN.md and the issue name are all there", async (t) => {
  for (const code of [
    "READING_NOT_MONOTONIC",
    "PRICE_OUT_OF_BAND",
    "INSUFFICIENT_CREDITS",
    "CROSS_UTILITY",
    "SELF_TRADE",
    "NONCE_TOO_LOW",
    "NONCE_TOO_HIGH",
    "WRONG_CHAIN_ID",
    "BAD_SIGNATURE",
    "TX_MALFORMED",
    "UNKNOWN_TX_TYPE",
    "PAYLOAD_MALFORMED",
    "READING_UNKNOWN_METER",
    "READING_ORACLE_NOT_AUTHORISED",
    "READING_BAD_SIGNATURE",
    "READING_NOT_AFTER_LAST",
    "READING_BEYOND_DRIFT",
    "READING_PERIOD_FINALISED",
    "INSUFFICIENT_FUNDS",
    "HOLDING_LIMIT",
    "IN_ARREARS",
    "OUTSIDE_WINDOW",
    "CAP_PERIOD_STARTED",
    "NOTICE_PERIOD",
    "DUPLICATE_REFERENCE",
  ]) {
    t.ok(isRejectCode(code), code);
  }
});

t.test("levels: stateless faults invalidate blocks, readings are per reading", async (t) => {
  t.equal(rejectLevel("NONCE_TOO_HIGH"), "block");
  t.equal(rejectLevel("PAYLOAD_MALFORMED"), "block");
  t.equal(rejectLevel("NOT_AUTHORISED"), "tx");
  t.equal(rejectLevel("READING_NOT_MONOTONIC"), "reading");
});

t.test("isRejectCode refuses anything else, including inherited names", async (t) => {
  t.notOk(isRejectCode("toString"));
  t.notOk(isRejectCode("__proto__"));
  t.notOk(isRejectCode("not_authorised"));
  t.notOk(isRejectCode(7));
});

t.test("reject throws a Reject carrying the code", async (t) => {
  const error = t.throws(() => reject("BAD_AMOUNT", "zero")) as unknown;
  t.ok(error instanceof Reject);
  t.equal((error as Reject).code, "BAD_AMOUNT");
  t.equal((error as Reject).message, "BAD_AMOUNT: zero");
});
