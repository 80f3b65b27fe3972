import fc from "fast-check";
import t from "tap";
import { toHex } from "../../lib/bytes.js";
import { VM_MODULES } from "../../vm/modules.js";
import { adjustBalance, adjustUtilityBalance, sumBalances } from "../../vm/money/ledger.js";
import { tables } from "../../vm/tables.js";
import { HandlerRegistry } from "../../vm/tx/registry.js";
import {
  type Actor,
  actor,
  codeOf,
  expectRefused,
  genesisJson,
  hash32,
  operatorOf,
  TestChain,
} from "./helpers.js";

const op0 = operatorOf(0);
const op1 = operatorOf(1);

async function setup(households = 2) {
  const chain = new TestChain(genesisJson([1, 1]));
  const hs = Array.from({ length: households }, (_, i) => actor(20 + i));
  await chain.valid(
    hs.map((h, i) =>
      chain.tx(op0, "registerHousehold", {
        household: h.address,
        meterIdHash: hash32(i + 1),
        meterKey: undefined,
        registers: 1,
        baselines: Array.from({ length: 12 }, () => 1000n),
      }),
    ),
  );
  return { chain, hs };
}

const balanceOf = (chain: TestChain, h: Actor) =>
  chain.get(tables.account, h.address)?.balance ?? 0n;

async function invariantHolds(chain: TestChain): Promise<boolean> {
  const totals = chain.view().one(tables.totals);
  return (await sumBalances(chain.state)) === totals.payments - totals.charges;
}

t.test("payments and charges create and remove money under a unique reference", async (t) => {
  const { chain, hs } = await setup();
  const [h] = hs as [Actor];
  const paid = await chain.run(op0, "recordPayment", {
    household: h.address,
    amount: 700n,
    reference: "pay-1",
  });
  t.same(paid.receipt.events, [
    {
      kind: "billRecorded",
      value: {
        household: h.address,
        utility: "u0",
        kind: "payment",
        amount: 700n,
        reference: "pay-1",
        balance: 700n,
      },
    },
  ]);
  await chain.run(op0, "recordCharge", {
    household: h.address,
    amount: 1000n,
    reference: "bill-1",
  });
  t.equal(balanceOf(chain, h), -300n, "charges may take a household below zero");
  const totals = chain.view().one(tables.totals);
  t.equal(totals.payments, 700n);
  t.equal(totals.charges, 1000n);
  t.ok(await invariantHolds(chain));
  t.same(chain.get(tables.billRecord, ["u0", "pay-1"]), {
    kind: "payment",
    household: h.address,
    amount: 700n,
    height: 2n,
    reversed: false,
  });
});

t.test("bill refusals change nothing", async (t) => {
  const { chain, hs } = await setup();
  const [h] = hs as [Actor];
  await chain.run(op0, "recordPayment", { household: h.address, amount: 5n, reference: "r" });
  await expectRefused(
    t,
    chain,
    op0,
    "recordPayment",
    { household: h.address, amount: 5n, reference: "r" },
    "DUPLICATE_REFERENCE",
  );
  await expectRefused(
    t,
    chain,
    op0,
    "recordCharge",
    { household: h.address, amount: 5n, reference: "r" },
    "DUPLICATE_REFERENCE",
  );
  await expectRefused(
    t,
    chain,
    op0,
    "recordPayment",
    { household: h.address, amount: 0n, reference: "z" },
    "BAD_AMOUNT",
  );
  await expectRefused(
    t,
    chain,
    op0,
    "recordPayment",
    { household: h.address, amount: 1n << 63n, reference: "big" },
    "BAD_AMOUNT",
  );
  await expectRefused(
    t,
    chain,
    op1,
    "recordPayment",
    { household: h.address, amount: 5n, reference: "x" },
    "NOT_AUTHORISED",
  );
  await expectRefused(
    t,
    chain,
    op0,
    "recordPayment",
    { household: actor(99).address, amount: 5n, reference: "x" },
    "UNKNOWN_HOUSEHOLD",
  );
  await expectRefused(
    t,
    chain,
    h,
    "recordPayment",
    { household: h.address, amount: 5n, reference: "x" },
    "NOT_AUTHORISED",
  );
  await expectRefused(
    t,
    chain,
    op0,
    "reverseBillRecord",
    { reference: "nope" },
    "UNKNOWN_REFERENCE",
  );
  await expectRefused(t, chain, op1, "reverseBillRecord", { reference: "r" }, "UNKNOWN_REFERENCE");
  // References are per utility: another utility may use the same text.
  const other = actor(40);
  await chain.run(op1, "registerHousehold", {
    household: other.address,
    meterIdHash: hash32(40),
    meterKey: undefined,
    registers: 1,
    baselines: Array.from({ length: 12 }, () => 1000n),
  });
  t.equal(
    codeOf(
      (
        await chain.run(op1, "recordPayment", {
          household: other.address,
          amount: 1n,
          reference: "r",
        })
      ).receipt,
    ),
    "ok",
  );
});

t.test("a reversal undoes a payment or a charge once", async (t) => {
  const { chain, hs } = await setup();
  const [h] = hs as [Actor];
  await chain.run(op0, "recordPayment", { household: h.address, amount: 500n, reference: "p" });
  await chain.run(op0, "recordCharge", { household: h.address, amount: 200n, reference: "c" });
  const reversed = await chain.run(op0, "reverseBillRecord", { reference: "p" });
  t.same(reversed.receipt.events, [
    {
      kind: "billReversed",
      value: {
        household: h.address,
        utility: "u0",
        kind: "payment",
        amount: 500n,
        reference: "p",
        balance: -200n,
      },
    },
  ]);
  await chain.run(op0, "reverseBillRecord", { reference: "c" });
  t.equal(balanceOf(chain, h), 0n);
  const totals = chain.view().one(tables.totals);
  t.equal(totals.payments, 0n);
  t.equal(totals.charges, 0n);
  await expectRefused(t, chain, op0, "reverseBillRecord", { reference: "p" }, "ALREADY_REVERSED");
  await expectRefused(
    t,
    chain,
    op0,
    "recordPayment",
    { household: h.address, amount: 5n, reference: "p" },
    "DUPLICATE_REFERENCE",
  );
});

t.test("closing a household settles its balance and retires its key", async (t) => {
  const { chain, hs } = await setup(3);
  const [rich, poor, even] = hs as [Actor, Actor, Actor];
  await chain.valid([
    chain.tx(op0, "recordPayment", { household: rich.address, amount: 900n, reference: "p1" }),
    chain.tx(op0, "recordCharge", { household: poor.address, amount: 400n, reference: "c1" }),
    chain.tx(rich, "delegateAppKey", { appKey: actor(50).address }),
  ]);
  await expectRefused(
    t,
    chain,
    op1,
    "closeHousehold",
    { household: rich.address, reference: "out" },
    "NOT_AUTHORISED",
  );
  await expectRefused(
    t,
    chain,
    op0,
    "closeHousehold",
    { household: rich.address, reference: "p1" },
    "DUPLICATE_REFERENCE",
  );

  const closed = await chain.run(op0, "closeHousehold", {
    household: rich.address,
    reference: "out-rich",
  });
  t.same(
    closed.receipt.events.map((e) => e.kind),
    ["billRecorded", "householdClosed"],
  );
  t.same(closed.receipt.events[1]!.value, { household: rich.address, settled: 900n });
  t.equal(balanceOf(chain, rich), 0n);
  t.equal(
    chain.get(tables.billRecord, ["u0", "out-rich"])?.kind,
    "charge",
    "a refund leaves the chain",
  );
  const record = chain.get(tables.household, rich.address)!;
  t.equal(record.status, "closed");
  t.equal(record.closedAt, chain.time);
  t.equal(record.appKey, undefined);
  t.equal(chain.get(tables.householdKey, rich.address), undefined);
  t.equal(chain.get(tables.utility, "u0")?.activeHouseholds, 2);
  t.equal(chain.get(tables.utility, "u0")?.householdCount, 3);
  await expectRefused(t, chain, rich, "delegateAppKey", { appKey: undefined }, "NOT_AUTHORISED");
  await expectRefused(
    t,
    chain,
    op0,
    "closeHousehold",
    { household: rich.address, reference: "again" },
    "HOUSEHOLD_CLOSED",
  );
  await expectRefused(
    t,
    chain,
    op0,
    "updateBaselines",
    { household: rich.address, fromPeriod: 5n, baselines: Array.from({ length: 12 }, () => 1n) },
    "HOUSEHOLD_CLOSED",
  );
  // A closed account still takes payments and charges: debts settled after move-out.
  t.equal(
    codeOf(
      (
        await chain.run(op0, "recordCharge", {
          household: rich.address,
          amount: 3n,
          reference: "late",
        })
      ).receipt,
    ),
    "ok",
  );

  const owed = await chain.run(op0, "closeHousehold", {
    household: poor.address,
    reference: "out-poor",
  });
  t.same(owed.receipt.events[1]!.value, { household: poor.address, settled: -400n });
  t.equal(chain.get(tables.billRecord, ["u0", "out-poor"])?.kind, "payment", "a debt collected");
  const zero = await chain.run(op0, "closeHousehold", {
    household: even.address,
    reference: "out-even",
  });
  t.same(
    zero.receipt.events.map((e) => e.kind),
    ["householdClosed"],
  );
  t.equal(chain.get(tables.billRecord, ["u0", "out-even"]), undefined);
  t.ok(await invariantHolds(chain));
});

t.test("other modules' close hooks run before the settlement", async (t) => {
  const calls: string[] = [];
  const registry = new HandlerRegistry([
    ...VM_MODULES,
    {
      name: "market",
      handlers: [],
      // Stands in for a market paying out what the household's open orders held.
      async onHouseholdClose(ctx, household) {
        calls.push(toHex(household.address));
        adjustUtilityBalance(ctx, household.utility, -25n);
        adjustBalance(ctx, household.address, 25n);
      },
    },
  ]);
  const { chain, hs } = await setup(1);
  const [h] = hs as [Actor];
  const { receipt } = await chain.run(
    op0,
    "closeHousehold",
    { household: h.address, reference: "out" },
    { registry },
  );
  t.same(calls, [toHex(h.address)]);
  t.same(receipt.events.at(-1)?.value, { household: h.address, settled: 25n });
  t.equal(chain.get(tables.utility, "u0")?.balance, -25n);
  t.ok(await invariantHolds(chain));
});

type Op =
  | { kind: "payment" | "charge"; household: number; amount: bigint; ref: number }
  | { kind: "reverse"; ref: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("payment" as const, "charge" as const),
    household: fc.integer({ min: 0, max: 2 }),
    amount: fc.bigInt({ min: 0n, max: 1_000_000n }),
    ref: fc.integer({ min: 0, max: 8 }),
  }),
  fc.record({ kind: fc.constant("reverse" as const), ref: fc.integer({ min: 0, max: 8 }) }),
);

t.test(
  "property: any sequence of payments, charges and reversals keeps Σ balances = payments − charges",
  async (t) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(opArb, { maxLength: 5 }), { minLength: 1, maxLength: 4 }),
        async (blocks) => {
          const { chain, hs } = await setup(3);
          // The model: what each reference did, and each household's balance.
          const records = new Map<
            number,
            { household: number; delta: bigint; reversed: boolean }
          >();
          const balances = [0n, 0n, 0n];
          for (const ops of blocks) {
            const txs = ops.map((op) => {
              if (op.kind === "reverse")
                return chain.tx(op0, "reverseBillRecord", { reference: `r${op.ref}` });
              const type = op.kind === "payment" ? "recordPayment" : "recordCharge";
              return chain.tx(op0, type, {
                household: hs[op.household]!.address,
                amount: op.amount,
                reference: `r${op.ref}`,
              });
            });
            const block = await chain.valid(txs);
            ops.forEach((op, i) => {
              const ok = codeOf(block.receipts[i]!) === "ok";
              const record = records.get(op.ref);
              if (op.kind === "reverse") {
                const expected = record !== undefined && !record.reversed;
                if (ok !== expected) throw new Error(`reverse r${op.ref}: ok=${ok}`);
                if (ok && record) {
                  record.reversed = true;
                  balances[record.household]! -= record.delta;
                }
                return;
              }
              const expected = record === undefined && op.amount > 0n;
              if (ok !== expected) throw new Error(`${op.kind} r${op.ref}: ok=${ok}`);
              if (ok) {
                const delta = op.kind === "payment" ? op.amount : -op.amount;
                records.set(op.ref, { household: op.household, delta, reversed: false });
                balances[op.household]! += delta;
              }
            });
            if (!(await invariantHolds(chain))) return false;
            if (hs.some((h, i) => balanceOf(chain, h) !== balances[i])) return false;
          }
          return true;
        },
      ),
      { numRuns: 25 },
    );
    t.pass("the invariant held after every block of every run");
  },
);
