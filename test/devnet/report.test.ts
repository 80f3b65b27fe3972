// The scenario report's arithmetic, on hand-made chain data: figures beside the simulator's,
// the consistency verdict, the month's chain work, bill changes by kind, and the comparison.
import t from "tap";
import type { ChainData, Statement } from "../../devnet/scenario/chain-data.js";
import { type ArmReport, armReport, type SimMonth } from "../../devnet/scenario/report.js";
import { armMarkdown, comparisonMarkdown } from "../../devnet/scenario/report-md.js";

const A = "0x000000000000000000000000000000000000000A";
const B = "0x000000000000000000000000000000000000000B";
const none = { qty: "0", value: "0" };

function statement(household: string, fields: Partial<Statement>): Statement {
  return {
    household,
    utility: "u0",
    period: "3",
    status: "settled",
    cap: "1000",
    capSource: "baseline",
    weighted: false,
    consumption: "0",
    peak: "0",
    weightedConsumption: "0",
    estimated: false,
    estimateAdjustment: "0",
    corrections: [],
    settledConsumption: "0",
    minted: "0",
    obligation: "0",
    bought: none,
    sold: none,
    surrendered: "0",
    uncovered: "0",
    penalty: "0",
    rebate: none,
    buyback: none,
    penaltyPrice: "300",
    gainAgainstNoMarket: "0",
    ...fields,
  };
}

// A (a responder) saves 100 Wh to 800 against a cap of 1000 and sells 100 credits at 50 to B
// (a free rider, 1100 against 1000), which surrenders them: no penalty, money only moves.
const sim: SimMonth = {
  period: 3n,
  calendarMonth: 0,
  priceSignal: undefined,
  households: [
    {
      address: A,
      kind: "responder",
      cap: 1000n,
      usual: 900n,
      consumption: 800n,
      usualPeak: 300n,
      consumptionPeak: 250n,
      ppm: 888_888,
    },
    {
      address: B,
      kind: "free-rider",
      cap: 1000n,
      usual: 1100n,
      consumption: 1100n,
      usualPeak: 400n,
      consumptionPeak: 400n,
      ppm: 1_000_000,
    },
  ],
};

function chain(consumptionOfA: string): ChainData {
  return {
    periods: [
      {
        period: "3",
        statements: [
          statement(A, {
            settledConsumption: consumptionOfA,
            minted: "200",
            sold: { qty: "100", value: "5000" },
          }),
          statement(B, {
            settledConsumption: "1100",
            obligation: "100",
            bought: { qty: "100", value: "5000" },
            surrendered: "100",
          }),
        ],
        totals: {
          settled: 2,
          skipped: 0,
          underCap: 1,
          overCap: 1,
          estimated: 0,
          consumption: "1900",
          creditsMinted: "200",
          obligations: "100",
          creditsSurrendered: "100",
          uncovered: "0",
          penalties: "0",
          creditsRebated: "0",
          rebatesPaid: "0",
          creditsExpired: "0",
          buybacksPaid: "0",
        },
        auctionPrices: ["50"],
        blocks: { blocks: 8, transactions: 20, readingBatches: 4, ms: "10000" },
      },
    ],
    blocks: { height: 30, transactions: 60, readingBatches: 9, firstTime: "0", lastTime: "29000" },
    householdBalances: "0",
    utilityBalance: "0",
    creditsHeld: "100",
    stateRoots: { height: "30", roots: { v0: "0xaa", follower: "0xaa" } },
  };
}

const report = (data: ChainData, arm = "batch"): ArmReport =>
  armReport({
    arm,
    title: arm,
    mode: "batch",
    retailPrice: 150n,
    sim: [sim],
    chain: data,
    latencies: [10, 30, 20],
  });

t.test("chain and simulator agree: every figure beside its twin, the run consistent", async (t) => {
  const r = report(chain("800"));
  const month = r.months[0]!;
  const get = (name: string) => month.figures.find((f) => f.name === name)!;
  const triple = (name: string) => [get(name).chain, get(name).simulator, get(name).difference];
  t.same(triple("credits minted"), ["200", "200", "0"], "minted = Σ max(0, cap − consumption)");
  t.same(triple("obligations"), ["100", "100", "0"]);
  t.same(triple("energy saved vs business as usual"), ["100", "100", "0"]);
  t.same(triple("households under cap"), ["1", "1", "0"]);
  t.same(get("energy saved in peak hours (16:00–21:00)").simulator, "50", "peak: simulator only");
  t.equal(get("energy saved in peak hours (16:00–21:00)").chain, null);
  t.equal(get("credits traded").chain, "100");
  t.equal(get("average trade price").chain, "50");
  t.equal(get("credits expired").chain, "0");
  t.same(month.clearingPrices, ["50"]);
  t.same(month.chain, { blocks: 8, transactions: 20, readingBatches: 4, txPerSecond: "2.00" });
  t.ok(r.consistent);
  t.equal(r.chain.txPerSecond, "2.07", "60 transactions in 29 s");
  t.same(r.chain.commitLatencyMs, { p50: 20, p95: 30, n: 3 });

  // A: 100 Wh less at 150 = 15,000 less on the bill, plus 5,000 from the sale; B paid 5,000.
  t.same([r.bills.gain, r.bills.pay, r.bills.min, r.bills.max], [1, 1, "-20000", "5000"]);
  t.same(r.bills.gainPayByKind, {
    responder: { gain: 1, pay: 0 },
    "free-rider": { gain: 0, pay: 1 },
  });
  t.match(armMarkdown(r), /Consistent: \*\*yes\*\*/);
  t.match(armMarkdown(r), /Chain while the month was open: 8 blocks, 20 transactions/);
  t.match(armMarkdown(r), /responder −20,000 \(1 gain \/ 0 pay\)/);
});

t.test("a chain figure that differs from the simulator's makes the run inconsistent", async (t) => {
  const r = report(chain("810"));
  const consumption = r.months[0]!.figures.find((f) => f.name === "consumption")!;
  t.equal(consumption.difference, "10");
  t.notOk(r.consistent);
  t.match(armMarkdown(r), /Consistent: \*\*NO\*\*/);
  const split = chain("800");
  const roots = { height: "30", roots: { v0: "0xaa", follower: "0xbb" } };
  t.notOk(report({ ...split, stateRoots: roots }).consistent, "nodes that differ fail the run");
});

t.test("the comparison: one row per arm, months side by side", async (t) => {
  const md = comparisonMarkdown([report(chain("800"), "bau"), report(chain("800"))], ["header"]);
  t.match(md, /\| bau \| 5\.00 % \| 0 \| 0 \| 1 \/ 1 \|/);
  t.match(md, /\| month 1 \(Jan\) \|/);
  t.match(md, /\| batch \| 5\.00 % \(1 \/ 1\) \|/);
});
