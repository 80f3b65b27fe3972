// The scenario reports as Markdown and SVG: one arm (report.md and its charts) and the
// comparison of every arm (comparison.md and its charts).
import { barChart } from "./charts.js";
import type { ArmReport, BillDistribution, Figure } from "./report.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** 1234567 → "1,234,567" (bigint strings stay exact). */
export function grouped(value: string | null): string {
  if (value === null) return "—";
  const negative = value.startsWith("-");
  const digits = negative ? value.slice(1) : value;
  const out = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return negative ? `−${out}` : out;
}

function figureTable(figures: readonly Figure[]): string {
  const rows = figures.map(
    (f) =>
      `| ${f.name} | ${f.unit} | ${grouped(f.chain)} | ${grouped(f.simulator)} | ${f.difference === null ? "—" : grouped(f.difference)} |`,
  );
  return [
    "| figure | unit | chain (RPC) | simulator | difference |",
    "| --- | --- | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
}

/** " (gain G / pay P)" for a kind, when the report has the counts. */
function gainPay(b: BillDistribution, kind: string): string {
  const counts = b.gainPayByKind?.[kind];
  return counts === undefined ? "" : ` (${counts.gain} gain / ${counts.pay} pay)`;
}

function billLine(b: BillDistribution): string {
  const kinds = Object.entries(b.meanByKind)
    .map(([k, v]) => `${k} ${grouped(v)}${gainPay(b, k)}`)
    .join(", ");
  return (
    `${b.gain} of ${b.households} households gain, ${b.pay} pay, ${b.unchanged} unchanged; ` +
    `change in micro-units (negative = better off): min ${grouped(b.min)}, p10 ${grouped(b.p10)}, ` +
    `median ${grouped(b.median)}, p90 ${grouped(b.p90)}, max ${grouped(b.max)}; mean by kind: ${kinds}`
  );
}

export function figure(figures: readonly Figure[], name: string): bigint {
  const f = figures.find((g) => g.name === name);
  return BigInt(f?.chain ?? f?.simulator ?? "0");
}

const percent = (part: bigint, whole: bigint) =>
  whole === 0n ? 0 : Number((part * 100_000n) / whole) / 1000;

export function armMarkdown(r: ArmReport): string {
  const lines = [
    `# Scenario arm: ${r.title}`,
    "",
    `Market mode \`${r.mode}\`. Every chain figure is recomputed from the chain through RPC after`,
    "the run; the simulator's own figure is beside it with the difference, which must be zero.",
    `Consistent: **${r.consistent ? "yes" : "NO"}**.`,
    "",
  ];
  for (const m of r.months) {
    lines.push(
      `## Period ${m.period} (${MONTHS[m.calendarMonth]})`,
      "",
      `Price the households saw when deciding: ${m.priceSignal ?? "none yet (reference)"}.` +
        (m.clearingPrices.length > 0
          ? ` Auction clearing prices: ${m.clearingPrices.join(", ")}.`
          : ""),
      "",
      figureTable(m.figures),
      "",
      `Bills: ${billLine(m.bills)}.`,
      "",
      ...(m.chain === undefined
        ? []
        : [
            `Chain while the month was open: ${m.chain.blocks} blocks, ${m.chain.transactions} ` +
              `transactions (${m.chain.readingBatches} reading batches), ${m.chain.txPerSecond} tx/s.`,
            "",
          ]),
    );
  }
  const c = r.chain;
  lines.push(
    "## Whole run",
    "",
    figureTable(r.total),
    "",
    `Bills over the run: ${billLine(r.bills)}.`,
    "",
    "## Conservation",
    "",
    figureTable(r.conservation),
    "",
    "## Chain",
    "",
    `${c.blocks} blocks in ${c.seconds} s (mean interval ${c.meanBlockIntervalMs} ms), ` +
      `${c.transactions} transactions (${c.readingBatches} reading batches), ${c.txPerSecond} tx/s; ` +
      `commit latency of the households' and utility's transactions p50 ${c.commitLatencyMs.p50} ms, ` +
      `p95 ${c.commitLatencyMs.p95} ms (n = ${c.commitLatencyMs.n}).`,
    "",
    `State roots at height ${c.stateRoots.height}: ${c.stateRootsAgree ? "all nodes agree" : "NODES DIFFER"}` +
      ` (${Object.entries(c.stateRoots.roots)
        .map(([n, root]) => `${n} ${root.slice(0, 10)}…`)
        .join(", ")}).`,
    "",
    "![consumption](consumption.svg)",
    "",
  );
  return `${lines.join("\n")}\n`;
}

export function armCharts(r: ArmReport): Record<string, string> {
  const categories = r.months.map((m) => `${m.period} ${MONTHS[m.calendarMonth]}`);
  const kWh = (name: string) => r.months.map((m) => Number(figure(m.figures, name) / 1000n));
  return {
    "consumption.svg": barChart({
      title: `${r.title}: consumption per month`,
      unit: "kWh",
      categories,
      series: [
        { name: "business as usual", values: kWh("business-as-usual consumption") },
        { name: "on chain", values: kWh("consumption") },
      ],
    }),
  };
}

/** One row per arm of the comparison's headline figures, over the whole run. */
export function comparisonRows(reports: readonly ArmReport[]) {
  return reports.map((r) => {
    const usual = figure(r.total, "business-as-usual consumption");
    const saved = figure(r.total, "energy saved vs business as usual");
    const peak = figure(r.total, "energy saved in peak hours (16:00–21:00)");
    return {
      arm: r.arm,
      title: r.title,
      savedPercent: percent(saved, usual),
      savedKWh: Number(saved / 1000n),
      peakKWh: Number(peak / 1000n),
      minted: figure(r.total, "credits minted"),
      traded: figure(r.total, "credits traded"),
      penalties: figure(r.total, "penalties"),
      rebates: figure(r.total, "rebates paid"),
      buybacks: figure(r.total, "buy-backs paid"),
      utilityNet: figure(r.total, "utility's net revenue (penalties − rebates − buy-backs)"),
      lostSales: figure(r.total, "utility's lost energy sales at the retail price"),
      under: figure(r.total, "households under cap"),
      over: figure(r.total, "households over cap"),
      bills: r.bills,
      consistent: r.consistent,
      prices: r.months.map((m) => {
        const f = m.figures.find((g) => g.name === "average trade price");
        return f?.chain ?? "0";
      }),
    };
  });
}

export function comparisonMarkdown(
  reports: readonly ArmReport[],
  header: readonly string[],
): string {
  const rows = comparisonRows(reports);
  const units = (micro: bigint) => grouped((micro / 1_000_000n).toString());
  const lines = [
    "# Scenario comparison",
    "",
    ...header,
    "",
    "| arm | energy saved | saved, kWh | peak-hour saved, kWh | under / over cap | credits minted, kWh | traded, kWh | penalties | rebates | buy-backs | utility net | lost sales | households gaining / paying | consistent |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${r.title} | ${r.savedPercent.toFixed(2)} % | ${grouped(String(r.savedKWh))} | ${grouped(String(r.peakKWh))} | ${r.under} / ${r.over} | ${grouped((r.minted / 1000n).toString())} | ${grouped((r.traded / 1000n).toString())} | ${units(r.penalties)} | ${units(r.rebates)} | ${units(r.buybacks)} | ${units(r.utilityNet)} | ${units(r.lostSales)} | ${r.bills.gain} / ${r.bills.pay} | ${r.consistent ? "yes" : "NO"} |`,
    ),
    "",
    "Money in whole currency units (10^6 micro-units). Under / over cap counts household-months.",
    "Utility net = penalties − rebates − buy-backs received on chain; lost sales = energy saved at",
    "the retail tariff (revenue the utility no longer bills, before the supply cost it avoids).",
    "",
    "Energy saved per month (% of business as usual; households under / over cap):",
    "",
    `| arm | ${(reports[0]?.months ?? []).map((m, j) => `month ${j + 1} (${MONTHS[m.calendarMonth]})`).join(" | ")} |`,
    `| --- |${(reports[0]?.months ?? []).map(() => " ---: |").join("")}`,
    ...reports.map(
      (r) =>
        `| ${r.title} | ${r.months
          .map((m) => {
            const saved = percent(
              figure(m.figures, "energy saved vs business as usual"),
              figure(m.figures, "business-as-usual consumption"),
            );
            return `${saved.toFixed(2)} % (${figure(m.figures, "households under cap")} / ${figure(m.figures, "households over cap")})`;
          })
          .join(" | ")} |`,
    ),
    "",
    "Average trade price per month (micro-units per Wh; 0: no trade):",
    "",
    ...rows.filter((r) => r.traded > 0n).map((r) => `- ${r.title}: ${r.prices.join(", ")}`),
    "",
    "Bill changes over the run (energy at the retail price plus the chain's money flows, against",
    "business as usual; micro-units, negative = better off):",
    "",
    "| arm | min | p10 | median | p90 | max | mean by kind |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${r.title} | ${grouped(r.bills.min)} | ${grouped(r.bills.p10)} | ${grouped(r.bills.median)} | ${grouped(r.bills.p90)} | ${grouped(r.bills.max)} | ${Object.entries(
          r.bills.meanByKind,
        )
          .map(([k, v]) => `${k} ${grouped(v)}${gainPay(r.bills, k)}`)
          .join(", ")} |`,
    ),
    "",
    "![energy saved](saved.svg)",
    "",
    "![utility](utility.svg)",
    "",
  ];
  return `${lines.join("\n")}\n`;
}

export function comparisonCharts(reports: readonly ArmReport[]): Record<string, string> {
  const rows = comparisonRows(reports);
  const categories = rows.map((r) => r.arm);
  return {
    "saved.svg": barChart({
      title: "Energy saved against business as usual",
      unit: "% of business-as-usual consumption",
      categories,
      series: [{ name: "energy saved", values: rows.map((r) => r.savedPercent) }],
    }),
    "utility.svg": barChart({
      title: "The utility's money over the run: on chain, and the energy sales it lost",
      unit: "currency units",
      categories,
      series: [
        { name: "penalties", values: rows.map((r) => Number(r.penalties) / 1e6) },
        { name: "rebates", values: rows.map((r) => -Number(r.rebates) / 1e6) },
        { name: "buy-backs", values: rows.map((r) => -Number(r.buybacks) / 1e6) },
        { name: "lost sales at retail", values: rows.map((r) => -Number(r.lostSales) / 1e6) },
      ],
    }),
  };
}
