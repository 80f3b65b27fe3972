// An arm's report (docs/scenario.md "Report"): per month, every figure recomputed from the
// chain's data (read through RPC after the run) beside the simulator's own figure and their
// difference, which must be zero; figures only the chain knows (trades, prices, penalties) and
// those only the simulator knows (business as usual, peak hours) are marked as such. Pure:
// all inputs are data, all integers are bigint, emitted as decimal strings.
import type { HouseholdKind } from "../behaviour.js";
import type { ChainData, ChainPeriod, Statement } from "./chain-data.js";

/** One household's month as the simulator has it. */
export interface SimHousehold {
  readonly address: string;
  readonly kind: HouseholdKind;
  readonly cap: bigint;
  /** Business as usual and actual consumption (after its response), Wh; peak-hour shares. */
  readonly usual: bigint;
  readonly consumption: bigint;
  readonly usualPeak: bigint;
  readonly consumptionPeak: bigint;
  readonly ppm: number;
}

export interface SimMonth {
  readonly period: bigint;
  readonly calendarMonth: number;
  /** The settled market price the households saw when deciding (undefined: none yet). */
  readonly priceSignal: bigint | undefined;
  readonly households: readonly SimHousehold[];
}

export interface Figure {
  readonly name: string;
  readonly unit: string;
  /** From chain data; null when only the simulator knows it. */
  readonly chain: string | null;
  /** The simulator's own figure; null when only the chain knows it. */
  readonly simulator: string | null;
  /** chain − simulator where both exist. */
  readonly difference: string | null;
}

export interface BillDistribution {
  readonly households: number;
  readonly gain: number;
  readonly pay: number;
  readonly unchanged: number;
  /** Bill change quantiles, micro-units (negative: the household is better off). */
  readonly min: string;
  readonly p10: string;
  readonly median: string;
  readonly p90: string;
  readonly max: string;
  readonly meanByKind: Record<string, string>;
  /** Per kind: households better off and worse off (absent in reports of earlier versions). */
  readonly gainPayByKind?: Record<string, { readonly gain: number; readonly pay: number }>;
}

export interface MonthReport {
  readonly period: string;
  readonly calendarMonth: number;
  readonly priceSignal: string | null;
  readonly figures: Figure[];
  readonly clearingPrices: string[];
  readonly bills: BillDistribution;
  /** Absent in reports kept from versions before it was recorded. */
  readonly chain?: MonthChain;
}

/** The chain's work while a month was open (from its start to its end). */
export interface MonthChain {
  readonly blocks: number;
  readonly transactions: number;
  readonly readingBatches: number;
  readonly txPerSecond: string;
}

export interface ArmReport {
  readonly arm: string;
  readonly title: string;
  readonly mode: string;
  readonly months: MonthReport[];
  readonly total: Figure[];
  readonly bills: BillDistribution;
  readonly chain: {
    readonly blocks: number;
    readonly transactions: number;
    readonly readingBatches: number;
    readonly seconds: string;
    readonly txPerSecond: string;
    readonly meanBlockIntervalMs: string;
    readonly commitLatencyMs: { readonly p50: number; readonly p95: number; readonly n: number };
    readonly stateRoots: ChainData["stateRoots"];
    readonly stateRootsAgree: boolean;
  };
  readonly conservation: Figure[];
  /** Every figure with both sides agrees (difference zero) and the conservation checks hold. */
  readonly consistent: boolean;
}

const sum = (values: Iterable<bigint>) => {
  let total = 0n;
  for (const v of values) total += v;
  return total;
};
const pos = (v: bigint) => (v > 0n ? v : 0n);

function both(name: string, unit: string, chain: bigint, simulator: bigint): Figure {
  return {
    name,
    unit,
    chain: chain.toString(),
    simulator: simulator.toString(),
    difference: (chain - simulator).toString(),
  };
}
const chainOnly = (name: string, unit: string, chain: bigint): Figure => ({
  name,
  unit,
  chain: chain.toString(),
  simulator: null,
  difference: null,
});
const simOnly = (name: string, unit: string, simulator: bigint): Figure => ({
  name,
  unit,
  chain: null,
  simulator: simulator.toString(),
  difference: null,
});

/** A household's money result on chain: sales − purchases − penalty + rebate + buy-back. */
export function chainGain(s: Statement): bigint {
  return (
    BigInt(s.sold.value) -
    BigInt(s.bought.value) -
    BigInt(s.penalty) +
    BigInt(s.rebate.value) +
    BigInt(s.buyback.value)
  );
}

function quantile(sorted: readonly bigint[], q: number): bigint {
  if (sorted.length === 0) return 0n;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0n;
}

/** Bill changes (energy at the retail price, less the chain's money result) as a distribution. */
export function billDistribution(
  changes: readonly { kind: HouseholdKind; change: bigint }[],
): BillDistribution {
  const sorted = changes.map((c) => c.change).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const meanByKind: Record<string, string> = {};
  const gainPayByKind: Record<string, { gain: number; pay: number }> = {};
  for (const kind of ["responder", "free-rider", "rebounder"] as const) {
    const of = changes.filter((c) => c.kind === kind);
    if (of.length === 0) continue;
    meanByKind[kind] = (sum(of.map((c) => c.change)) / BigInt(of.length)).toString();
    gainPayByKind[kind] = {
      gain: of.filter((c) => c.change < 0n).length,
      pay: of.filter((c) => c.change > 0n).length,
    };
  }
  return {
    households: changes.length,
    gain: changes.filter((c) => c.change < 0n).length,
    pay: changes.filter((c) => c.change > 0n).length,
    unchanged: changes.filter((c) => c.change === 0n).length,
    min: quantile(sorted, 0).toString(),
    p10: quantile(sorted, 0.1).toString(),
    median: quantile(sorted, 0.5).toString(),
    p90: quantile(sorted, 0.9).toString(),
    max: quantile(sorted, 1).toString(),
    meanByKind,
    gainPayByKind,
  };
}

function monthFigures(sim: SimMonth, period: ChainPeriod | undefined, retail: bigint) {
  const statements = period?.statements ?? [];
  const byAddress = new Map(statements.map((s) => [s.household, s]));
  const rows = sim.households.map((h) => ({ h, s: byAddress.get(h.address) }));
  const settled = rows.filter((r) => r.s?.status === "settled");
  const complete = settled.filter((r) => r.s?.estimated === false);
  const chainCons = sum(settled.map((r) => BigInt(r.s!.settledConsumption)));
  const simCons = sum(sim.households.map((h) => h.consumption));
  const usual = sum(sim.households.map((h) => h.usual));
  const minted = sum(complete.map((r) => BigInt(r.s!.minted)));
  const obligations = sum(complete.map((r) => BigInt(r.s!.obligation)));
  const penalties = sum(settled.map((r) => BigInt(r.s!.penalty)));
  const rebates = sum(settled.map((r) => BigInt(r.s!.rebate.value)));
  const buybacks = sum(settled.map((r) => BigInt(r.s!.buyback.value)));
  const soldQty = sum(settled.map((r) => BigInt(r.s!.sold.qty)));
  const soldValue = sum(settled.map((r) => BigInt(r.s!.sold.value)));
  const figures: Figure[] = [
    both("households settled", "households", BigInt(settled.length), BigInt(sim.households.length)),
    both(
      "households settled on an estimate",
      "households",
      BigInt(settled.length - complete.length),
      0n,
    ),
    simOnly("business-as-usual consumption", "Wh", usual),
    both("consumption", "Wh", chainCons, simCons),
    both("energy saved vs business as usual", "Wh", usual - chainCons, usual - simCons),
    simOnly(
      "energy saved in peak hours (16:00–21:00)",
      "Wh",
      sum(sim.households.map((h) => h.usualPeak - h.consumptionPeak)),
    ),
    both(
      "households under cap",
      "households",
      BigInt(complete.filter((r) => BigInt(r.s!.minted) > 0n).length),
      BigInt(complete.filter((r) => r.h.cap > r.h.consumption).length),
    ),
    both(
      "households over cap",
      "households",
      BigInt(complete.filter((r) => BigInt(r.s!.obligation) > 0n).length),
      BigInt(complete.filter((r) => r.h.consumption > r.h.cap).length),
    ),
    both("credits minted", "Wh", minted, sum(complete.map((r) => pos(r.h.cap - r.h.consumption)))),
    both(
      "obligations",
      "Wh",
      obligations,
      sum(complete.map((r) => pos(r.h.consumption - r.h.cap))),
    ),
    chainOnly("credits traded", "Wh", soldQty),
    chainOnly("traded value", "micro-units", soldValue),
    chainOnly("average trade price", "micro-units/Wh", soldQty === 0n ? 0n : soldValue / soldQty),
    chainOnly("credits surrendered", "Wh", sum(settled.map((r) => BigInt(r.s!.surrendered)))),
    chainOnly("credits rebated", "Wh", sum(settled.map((r) => BigInt(r.s!.rebate.qty)))),
    chainOnly("credits bought back", "Wh", sum(settled.map((r) => BigInt(r.s!.buyback.qty)))),
    // Credits of this vintage that reached the end of their lifetime (bought back or not).
    chainOnly("credits expired", "Wh", BigInt(period?.totals?.creditsExpired ?? "0")),
    chainOnly("uncovered obligations", "Wh", sum(settled.map((r) => BigInt(r.s!.uncovered)))),
    chainOnly("penalties", "micro-units", penalties),
    chainOnly("rebates paid", "micro-units", rebates),
    chainOnly("buy-backs paid", "micro-units", buybacks),
    chainOnly(
      "utility's net revenue (penalties − rebates − buy-backs)",
      "micro-units",
      penalties - rebates - buybacks,
    ),
    both(
      "utility's lost energy sales at the retail price",
      "micro-units",
      (usual - chainCons) * retail,
      (usual - simCons) * retail,
    ),
  ];
  const changes = rows.map(({ h, s }) => ({
    kind: h.kind,
    change: (BigInt(s?.settledConsumption ?? h.usual) - h.usual) * retail - (s ? chainGain(s) : 0n),
  }));
  return { figures, changes };
}

/** Blocks and transactions committed while the month was open, and their rate. */
function monthChain(period: ChainPeriod | undefined): MonthChain {
  const b = period?.blocks ?? { blocks: 0, transactions: 0, readingBatches: 0, ms: "0" };
  const ms = Number(b.ms);
  return {
    blocks: b.blocks,
    transactions: b.transactions,
    readingBatches: b.readingBatches,
    txPerSecond: ms > 0 ? ((b.transactions * 1000) / ms).toFixed(2) : "0",
  };
}

/** Adds figures of the same name across months (all are sums). */
function totalOf(months: readonly Figure[][]): Figure[] {
  const first = months[0] ?? [];
  return first
    .filter((f) => !f.name.startsWith("average"))
    .map((f) => {
      const add = (pick: (g: Figure) => string | null) => {
        const values = months
          .map((m) => m.find((g) => g.name === f.name))
          .map((g) => (g ? pick(g) : null));
        return values.some((v) => v === null)
          ? null
          : sum(values.map((v) => BigInt(v as string))).toString();
      };
      return {
        ...f,
        chain: add((g) => g.chain),
        simulator: add((g) => g.simulator),
        difference: add((g) => g.difference),
      };
    });
}

export function armReport(input: {
  readonly arm: string;
  readonly title: string;
  readonly mode: string;
  readonly retailPrice: bigint;
  readonly sim: readonly SimMonth[];
  readonly chain: ChainData;
  readonly latencies: readonly number[];
}): ArmReport {
  const { chain, retailPrice } = input;
  const perHousehold = new Map<string, { kind: HouseholdKind; change: bigint }>();
  const months: MonthReport[] = input.sim.map((sim) => {
    const period = chain.periods.find((p) => p.period === sim.period.toString());
    const { figures, changes } = monthFigures(sim, period, retailPrice);
    for (const [i, c] of changes.entries()) {
      const address = sim.households[i]!.address;
      const before = perHousehold.get(address);
      perHousehold.set(address, { kind: c.kind, change: (before?.change ?? 0n) + c.change });
    }
    return {
      period: sim.period.toString(),
      calendarMonth: sim.calendarMonth,
      priceSignal: sim.priceSignal?.toString() ?? null,
      figures,
      clearingPrices: period?.auctionPrices ?? [],
      bills: billDistribution(changes),
      chain: monthChain(period),
    };
  });
  const total = totalOf(months.map((m) => m.figures));
  const totals = chain.periods.map((p) => p.totals);
  const fromTotals = (pick: (t: NonNullable<(typeof totals)[number]>) => string) =>
    sum(totals.map((t) => (t ? BigInt(pick(t)) : 0n)));
  const mintedAll = fromTotals((t) => t.creditsMinted);
  const gone =
    fromTotals((t) => t.creditsSurrendered) +
    fromTotals((t) => t.creditsExpired) +
    fromTotals((t) => t.creditsRebated);
  const money = BigInt(chain.householdBalances) + BigInt(chain.utilityBalance);
  const conservation: Figure[] = [
    both(
      "credits held = minted − surrendered − expired − rebated",
      "Wh",
      BigInt(chain.creditsHeld),
      mintedAll - gone,
    ),
    both("Σ household balances + utility balance (no bills recorded)", "micro-units", money, 0n),
    both(
      "credits minted: statements = period totals",
      "Wh",
      sum(chain.periods.map((p) => sum(p.statements.map((s) => BigInt(s.minted))))),
      mintedAll,
    ),
    both(
      "penalties: statements = period totals",
      "micro-units",
      sum(chain.periods.map((p) => sum(p.statements.map((s) => BigInt(s.penalty))))),
      fromTotals((t) => t.penalties),
    ),
  ];
  const b = chain.blocks;
  const ms = BigInt(b.lastTime) - BigInt(b.firstTime);
  const lat = [...input.latencies].sort((x, y) => x - y);
  const roots = Object.values(chain.stateRoots.roots);
  const stateRootsAgree = roots.length > 0 && roots.every((r) => r === roots[0] && r !== "missing");
  const differences = [...months.flatMap((m) => m.figures), ...conservation];
  return {
    arm: input.arm,
    title: input.title,
    mode: input.mode,
    months,
    total,
    bills: billDistribution([...perHousehold.values()]),
    chain: {
      blocks: b.height,
      transactions: b.transactions,
      readingBatches: b.readingBatches,
      seconds: (Number(ms) / 1000).toFixed(1),
      txPerSecond: ms > 0n ? ((b.transactions * 1000) / Number(ms)).toFixed(2) : "0",
      meanBlockIntervalMs: b.height > 1 ? (Number(ms) / (b.height - 1)).toFixed(0) : "0",
      commitLatencyMs: {
        p50: lat[Math.floor(lat.length / 2)] ?? 0,
        p95: lat[Math.floor(lat.length * 0.95)] ?? 0,
        n: lat.length,
      },
      stateRoots: chain.stateRoots,
      stateRootsAgree,
    },
    conservation,
    consistent:
      stateRootsAgree && differences.every((f) => f.difference === null || f.difference === "0"),
  };
}
