import t from "tap";
import { creditHolding } from "../../vm/settlement/credits.js";
import { periodTable } from "../../vm/settlement/snapshot.js";
import { tables } from "../../vm/tables.js";
import { Harness } from "./fixtures/settlement/harness.js";
import { type Action, SCENARIOS } from "./fixtures/settlement/scenarios.js";
import { codeOf } from "./helpers.js";

async function act(h: Harness, at: number, action: Action): Promise<void> {
  switch (action.kind) {
    case "readings": {
      const results = await h.read(at, action.readings);
      for (const r of results) if (r.kind !== "accepted") throw new Error(`reading ${r.kind}`);
      return;
    }
    case "tick":
      await h.tick(at);
      return;
    case "explicitCap":
      return expectOk(
        await h.operator(at, "setExplicitCap", {
          household: h.address(action.household),
          period: action.period,
          cap: action.cap,
        }),
      );
    case "baselines":
      return expectOk(
        await h.operator(at, "updateBaselines", {
          household: h.address(action.household),
          fromPeriod: action.fromPeriod,
          baselines: Array.from({ length: 12 }, () => action.baseline),
        }),
      );
    case "policy":
      return expectOk(
        await h.operator(at, "setPolicy", {
          fromPeriod: action.fromPeriod,
          policy: h.policyWith(action.policy),
        }),
      );
    case "correction":
      return expectOk(
        await h.operator(at, "postCorrection", {
          household: h.address(action.household),
          period: action.period,
          reason: "misread",
          consumptionDelta: action.delta,
          reference: action.reference,
        }),
      );
  }
}

function expectOk(receipt: Parameters<typeof codeOf>[0]): void {
  if (codeOf(receipt) !== "ok") throw new Error(`refused: ${codeOf(receipt)}`);
}

for (const scenario of SCENARIOS) {
  t.test(scenario.title, async (t) => {
    const h = await Harness.create(scenario.given);
    for (const step of scenario.when) await act(h, step.at, step.action);
    for (const e of scenario.expect) {
      const s = h.statement(e.household, e.period);
      const label = `${e.household} period ${e.period}`;
      if (!s) {
        t.fail(`${label}: no statement`);
        continue;
      }
      t.same(
        {
          status: s.status,
          cap: s.cap,
          capSource: s.capSource,
          consumption: s.consumption,
          peak: s.peak,
          weightedConsumption: s.weightedConsumption,
          estimated: s.estimated,
          estimateAdjustment: s.estimateAdjustment,
          corrected: s.corrections.reduce((sum, c) => sum + c.amount, 0n),
          settledConsumption: s.settledConsumption,
          minted: s.minted,
          obligation: s.obligation,
        },
        {
          status: "settled",
          cap: e.cap,
          capSource: e.capSource ?? "baseline",
          consumption: e.consumption,
          peak: e.peak ?? 0n,
          weightedConsumption: e.weightedConsumption,
          estimated: e.estimated,
          estimateAdjustment: e.estimateAdjustment,
          corrected: e.corrected ?? 0n,
          settledConsumption: e.settledConsumption,
          minted: e.minted,
          obligation: e.obligation,
        },
        label,
      );
      t.equal(
        creditHolding(h.chain.view(), h.address(e.household), e.period).amount,
        e.minted,
        `${label}: credits of vintage ${e.period}`,
      );
    }
    for (const [name, k] of scenario.unsettled ?? []) {
      t.equal(h.statement(name, k), undefined, `${name} period ${k}: not settled`);
    }
    // The period totals agree with the statements.
    const periods = [...new Set(scenario.expect.map((e) => e.period))];
    for (const k of periods) {
      const rows = scenario.expect.filter((e) => e.period === k);
      const totals = h.chain.get(periodTable, ["u0", k])!.totals;
      t.equal(totals.settled, rows.length, `period ${k}: households settled`);
      t.equal(totals.creditsMinted, sum(rows.map((e) => e.minted)), `period ${k}: minted`);
      t.equal(totals.obligations, sum(rows.map((e) => e.obligation)), `period ${k}: obligations`);
      t.equal(totals.underCap, rows.filter((e) => e.minted > 0n).length);
      t.equal(totals.overCap, rows.filter((e) => e.obligation > 0n).length);
      t.equal(totals.estimated, rows.filter((e) => e.estimated).length);
    }
    const minted = sum(scenario.expect.map((e) => e.minted));
    t.equal(h.chain.view().one(tables.totals).creditsMinted, minted, "chain totals: minted");
  });
}

function sum(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => a + b, 0n);
}
