import t from "tap";
import { toHex } from "../../lib/bytes.js";
import { applyBlock, type BlockTx } from "../../vm/apply.js";
import { reject } from "../../vm/codes.js";
import { VM_MODULES } from "../../vm/modules.js";
import { encodeReceipt } from "../../vm/receipt.js";
import { tables } from "../../vm/tables.js";
import { defineHandler, HandlerRegistry } from "../../vm/tx/registry.js";
import { encodePayload, txTypeNumber } from "../../vm/tx/types.js";
import {
  actor,
  changesBesidesNonce,
  codeOf,
  genesisJson,
  hash32,
  MODULES_WITHOUT_TRADING,
  operatorOf,
  rulesWithoutTrading,
  TestChain,
} from "./helpers.js";

const operator = operatorOf(0);
const stranger = actor(1);

const oracle = (n: number) => ({ oracle: actor(500 + n).address });

/** A tx body by hand, for faults a well-behaved builder would not make. */
function rawTx(chain: TestChain, type: number, payload: Uint8Array, signer = operator.publicKey) {
  return { id: hash32(type), body: { chainId: chain.chainId, nonce: 0n, type, payload, signer } };
}

t.test("a valid transaction executes, uses its nonce and gets an ok receipt", async (t) => {
  const chain = new TestChain();
  const tx = chain.tx(operator, "registerOracle", oracle(1));
  const block = await chain.valid([tx]);
  t.equal(codeOf(block.receipts[0]!), "ok");
  t.same(block.receipts[0]!.txId, tx.id);
  t.equal(block.receipts[0]!.events[0]!.kind, "oracleRegistered");
  t.equal(chain.nonceOf(operator.address), 1n);
  t.ok(chain.get(tables.oracle, oracle(1).oracle)?.active);
});

t.test("several transactions of one signer in a block take consecutive nonces", async (t) => {
  const chain = new TestChain();
  const txs = [1, 2, 3].map((n) => chain.tx(operator, "registerOracle", oracle(n)));
  const block = await chain.valid(txs);
  t.same(block.receipts.map(codeOf), ["ok", "ok", "ok"]);
  t.equal(chain.nonceOf(operator.address), 3n);
});

t.test("stateless faults make the block invalid and change nothing", async (t) => {
  const chain = new TestChain();
  const before = chain.state.dump();
  const good = () => encodePayload("registerOracle", oracle(1));
  const cases: Array<[string, BlockTx[], string, number | undefined]> = [
    [
      "nonce gap",
      [chain.tx(operator, "registerOracle", oracle(1), { nonce: 1n })],
      "NONCE_TOO_HIGH",
      0,
    ],
    [
      "wrong chain",
      [chain.tx(operator, "registerOracle", oracle(1), { chainId: "other" })],
      "WRONG_CHAIN_ID",
      0,
    ],
    ["unknown number", [rawTx(chain, 999, good())], "UNKNOWN_TX_TYPE", 0],
    [
      "defined but not executed",
      [
        rawTx(
          chain,
          txTypeNumber("placeOrder"),
          encodePayload("placeOrder", { side: "buy", qty: 1n, price: 1n, expiry: 1n }),
        ),
      ],
      "UNKNOWN_TX_TYPE",
      0,
    ],
    [
      "signer key not on the curve",
      // 0x05 is not a compressed-point prefix.
      [rawTx(chain, txTypeNumber("registerOracle"), good(), new Uint8Array(33).fill(5))],
      "BAD_SIGNER_KEY",
      0,
    ],
    [
      "malformed payload",
      [rawTx(chain, txTypeNumber("registerOracle"), new Uint8Array([0xc1]))],
      "PAYLOAD_MALFORMED",
      0,
    ],
    [
      "payload of another type",
      [
        rawTx(
          chain,
          txTypeNumber("registerOracle"),
          encodePayload("revokeOracle", oracle(1)).slice(0, 3),
        ),
      ],
      "PAYLOAD_MALFORMED",
      0,
    ],
    [
      "second tx reuses the nonce",
      [
        chain.tx(operator, "registerOracle", oracle(1), { nonce: 0n }),
        chain.tx(operator, "registerOracle", oracle(2), { nonce: 0n }),
      ],
      "NONCE_TOO_LOW",
      1,
    ],
  ];
  for (const [name, txs, code, index] of cases) {
    const result = await chain.block(txs, { registry: rulesWithoutTrading });
    t.equal(result.ok ? "ok" : result.code, code, name);
    t.equal(result.ok ? -1 : result.txIndex, index, `${name}: index`);
  }
  t.same(chain.state.dump(), before, "nothing committed");
  t.equal(chain.height, 0n);
});

t.test("a used nonce is too low in a later block", async (t) => {
  const chain = new TestChain();
  await chain.valid([chain.tx(operator, "registerOracle", oracle(1))]);
  const result = await chain.block([
    chain.tx(operator, "registerOracle", oracle(2), { nonce: 0n }),
  ]);
  t.equal(result.ok ? "ok" : result.code, "NONCE_TOO_LOW");
});

t.test("a block for another chain is invalid as a whole", async (t) => {
  const chain = new TestChain();
  const result = await chain.block([], { chainId: "other-chain" });
  t.equal(result.ok ? "ok" : result.code, "WRONG_CHAIN_ID");
  t.equal(result.ok ? -1 : result.txIndex, undefined);
});

t.test(
  "a refused transaction is included: nonce used, writes dropped, code in its receipt",
  async (t) => {
    const chain = new TestChain();
    const block = await chain.valid([
      chain.tx(stranger, "registerOracle", oracle(1)),
      chain.tx(operator, "revokeOracle", oracle(1)),
      chain.tx(operator, "registerOracle", oracle(1)),
    ]);
    t.same(block.receipts.map(codeOf), ["NOT_AUTHORISED", "UNKNOWN_ORACLE", "ok"]);
    t.same(block.receipts[0]!.events, []);
    t.equal(chain.nonceOf(stranger.address), 1n);
    t.equal(chain.nonceOf(operator.address), 2n);
    t.equal(chain.get(tables.oracle, oracle(1).oracle)?.utility, "u0");
  },
);

t.test("a refused transaction's partial writes are dropped", async (t) => {
  // The handler writes, then refuses: the write must not survive.
  const writeThenReject = defineHandler("transferCredits", {
    authorise: () => undefined,
    execute(ctx, tx) {
      ctx.put(tables.oracle, tx.signer, {
        address: tx.signer,
        utility: "u0",
        active: true,
        registeredHeight: 1n,
      });
      reject("INSUFFICIENT_CREDITS");
    },
  });
  const registry = new HandlerRegistry([
    ...MODULES_WITHOUT_TRADING,
    { name: "test", handlers: [writeThenReject] },
  ]);
  const chain = new TestChain();
  const tx = chain.tx(stranger, "transferCredits", { to: operator.address, vintage: 0n, qty: 1n });
  const block = await chain.valid([tx], { registry });
  t.equal(codeOf(block.receipts[0]!), "INSUFFICIENT_CREDITS");
  t.same(changesBesidesNonce(block, stranger), []);
  t.equal(chain.nonceOf(stranger.address), 1n);
});

t.test("a later module adds a type and end-of-block jobs without touching the loop", async (t) => {
  const seen: bigint[] = [];
  const transfer = defineHandler("transferCredits", {
    authorise: () => undefined,
    execute(ctx) {
      ctx.emit({ kind: "utilityAdded", value: { utility: "marker" } });
    },
  });
  const registry = new HandlerRegistry([
    ...MODULES_WITHOUT_TRADING,
    {
      name: "test",
      handlers: [transfer],
      endBlock: [
        {
          name: "count",
          run(ctx) {
            seen.push(ctx.block.height);
            ctx.emit({ kind: "utilityRemoved", value: { utility: "job" } });
          },
        },
      ],
    },
  ]);
  const chain = new TestChain();
  const tx = chain.tx(stranger, "transferCredits", { to: operator.address, vintage: 0n, qty: 1n });
  const block = await chain.valid([tx], { registry });
  t.equal(codeOf(block.receipts[0]!), "ok");
  t.same(block.events, [{ kind: "utilityRemoved", value: { utility: "job" } }]);
  t.same(seen, [1n]);
  t.throws(
    () =>
      new HandlerRegistry([
        ...MODULES_WITHOUT_TRADING,
        { name: "twice", handlers: [transfer, transfer] },
      ]),
  );
});

t.test("a handler bug is not turned into a receipt: the block fails loudly", async (t) => {
  const buggy = defineHandler("transferCredits", {
    authorise: () => undefined,
    execute() {
      throw new TypeError("bug");
    },
  });
  const registry = new HandlerRegistry([
    ...MODULES_WITHOUT_TRADING,
    { name: "bug", handlers: [buggy] },
  ]);
  const chain = new TestChain();
  const tx = chain.tx(stranger, "transferCredits", { to: operator.address, vintage: 0n, qty: 1n });
  await t.rejects(chain.block([tx], { registry }), TypeError);
});

t.test(
  "determinism: the same blocks on two chains give byte-identical changes and receipts",
  async (t) => {
    const household = actor(42);
    async function run() {
      const chain = new TestChain(genesisJson([1, 1, 1, 1]));
      const out: string[] = [];
      const blocks = [
        [
          chain.tx(operator, "registerOracle", oracle(1)),
          chain.tx(operator, "registerHousehold", {
            household: household.address,
            meterIdHash: hash32(7),
            meterKey: undefined,
            registers: 1,
            baselines: Array.from({ length: 12 }, () => 100_000n),
          }),
        ],
        [
          chain.tx(operator, "recordPayment", {
            household: household.address,
            amount: 500n,
            reference: "a",
          }),
          chain.tx(operator, "recordCharge", {
            household: household.address,
            amount: 900n,
            reference: "b",
          }),
          chain.tx(stranger, "recordPayment", {
            household: household.address,
            amount: 1n,
            reference: "c",
          }),
        ],
        [chain.tx(operator, "reverseBillRecord", { reference: "a" })],
      ];
      for (const txs of blocks) {
        const block = await chain.valid(txs);
        out.push(block.changes.map(([k, v]) => `${toHex(k)}=${v ? toHex(v) : "-"}`).join(","));
        out.push(block.receipts.map((r) => toHex(encodeReceipt(r))).join(","));
      }
      return out;
    }
    const [a, b] = [await run(), await run()];
    t.same(a, b);
    t.ok(a.every((line) => line.length > 0));
  },
);

t.test("applyBlock refuses a state that has no genesis", async (t) => {
  const chain = new TestChain();
  await t.rejects(
    applyBlock({
      state: { get: () => undefined, scan: async () => [] },
      block: chain.blockContext(),
      txs: [],
      evidence: [],
    }),
  );
});

t.test("an oracle batch's per-reading results go into its receipt", async (t) => {
  const readings = defineHandler("submitReadings", {
    authorise: () => undefined,
    execute(ctx, tx) {
      ctx.setReadingResults(
        tx.payload.readings.map((r) =>
          r.time > 0n
            ? { kind: "accepted", value: {} }
            : { kind: "rejected", value: "READING_NOT_AFTER_LAST" },
        ),
      );
    },
  });
  // A stand-in for the readings module, so this checks only how the block loop carries
  // per-reading results into the receipt (test/vm/readings.test.ts covers the real rules).
  const registry = new HandlerRegistry([
    ...VM_MODULES.filter((m) => m.name !== "readings"),
    { name: "readings", handlers: [readings] },
  ]);
  const chain = new TestChain();
  const reading = (time: bigint) => ({
    meterIdHash: hash32(1),
    time,
    registers: [5n],
    signature: undefined,
  });
  const tx = chain.tx(stranger, "submitReadings", { readings: [reading(5n), reading(0n)] });
  const block = await chain.valid([tx], { registry });
  t.same(block.receipts[0]!.readingResults, [
    { kind: "accepted", value: {} },
    { kind: "rejected", value: "READING_NOT_AFTER_LAST" },
  ]);
  const plain = await chain.valid([chain.tx(operator, "registerOracle", oracle(1))]);
  t.equal(plain.receipts[0]!.readingResults, undefined);
});
