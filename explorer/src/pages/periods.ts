// Periods: one utility's period — its phase timeline and the totals auditors reconcile.
import type { PeriodTotalsJson, ResultOf, StatementJson } from "../../../rpc/methods.js";
import type { CsvColumn } from "../csv.js";
import { facts, h, link, s, section, table } from "../dom.js";
import { exportButton } from "../export.js";
import { grouped, money, time } from "../format.js";
import { to } from "../router.js";
import { isRestricted } from "../session.js";
import type { PageContext } from "./context.js";
import { restrictedPanel } from "./sign-in.js";
import { addressLink, pageTitle, utilityLink } from "./widgets.js";

type Period = ResultOf<"period_get">;

const PHASES = [
  ["open", "consumption", "start", "end"],
  ["reading-grace", "reading grace", "end", "finalisesAt"],
  ["trading", "trading window", "finalisesAt", "tradingEndsAt"],
] as const;

/** The phases as a bar: each phase's share of the period's whole span, the current one marked. */
function timeline(period: Period, now: bigint): HTMLElement {
  const start = BigInt(period.start);
  const span = BigInt(period.tradingEndsAt) - start || 1n;
  const pct = (t: bigint) => Number(((t - start) * 10000n) / span) / 100;
  const W = 100;
  const marks = PHASES.map(([phase, label, from, until]) => {
    const x = pct(BigInt(period[from]));
    const w = pct(BigInt(period[until])) - x;
    return s(
      "rect",
      {
        class: `phase ${phase}${period.phase === phase ? " current" : ""}`,
        x,
        y: 0,
        width: Math.max(w, 0.5),
        height: 10,
      },
      s("title", {}, `${label}: ${time(period[from])} – ${time(period[until])}`),
    );
  });
  const nowX = Math.min(Math.max(pct(now), 0), W);
  const label = `Period ${period.period} is ${period.phase}`;
  return h(
    "figure",
    {},
    s(
      "svg",
      {
        viewBox: "0 0 100 14",
        preserveAspectRatio: "none",
        class: "timeline",
        role: "img",
        "aria-label": label,
      },
      s("title", {}, label),
      ...marks,
      s("line", { class: "now", x1: nowX, x2: nowX, y1: 0, y2: 14 }),
    ),
    h(
      "ol",
      { class: "phases" },
      ...PHASES.map(([phase, name, from, until]) =>
        h(
          "li",
          { class: period.phase === phase ? "current" : "" },
          h("strong", {}, name),
          ` ${time(period[from])} → ${time(period[until])}`,
          period.phase === phase ? " (now)" : "",
        ),
      ),
    ),
    h("figcaption", {}, label),
  );
}

function totalsFacts(totals: PeriodTotalsJson | null): HTMLElement {
  if (totals === null)
    return h("p", {}, "No totals yet: the period's snapshot has not been taken.");
  return facts([
    ["Households settled", String(totals.settled)],
    ["Under cap", String(totals.underCap)],
    ["Over cap", String(totals.overCap)],
    ["Estimated", String(totals.estimated)],
    ["Skipped", String(totals.skipped)],
    ["Consumption (Wh)", grouped(totals.consumption)],
    ["Credits minted (Wh)", grouped(totals.creditsMinted)],
    ["Obligations (Wh)", grouped(totals.obligations)],
    ["Credits surrendered (Wh)", grouped(totals.creditsSurrendered)],
    ["Uncovered (Wh)", grouped(totals.uncovered)],
    ["Penalties", money(totals.penalties)],
    ["Credits rebated (Wh)", grouped(totals.creditsRebated)],
    ["Rebates paid", money(totals.rebatesPaid)],
    ["Credits expired (Wh)", grouped(totals.creditsExpired)],
    ["Buy-backs paid", money(totals.buybacksPaid)],
  ]);
}

const settlementColumns: readonly CsvColumn<StatementJson>[] = [
  { title: "household", value: (st) => st.household },
  { title: "period", value: (st) => st.period },
  { title: "status", value: (st) => st.status },
  { title: "cap", value: (st) => st.cap },
  { title: "consumption", value: (st) => st.consumption },
  { title: "estimated", value: (st) => st.estimated },
  { title: "minted", value: (st) => st.minted },
  { title: "obligation", value: (st) => st.obligation },
  { title: "surrendered", value: (st) => st.surrendered },
  { title: "uncovered", value: (st) => st.uncovered },
  { title: "penalty", value: (st) => st.penalty },
  { title: "gainAgainstNoMarket", value: (st) => st.gainAgainstNoMarket },
];

export async function periodsPage(
  ctx: PageContext,
  utility: string | undefined,
  periodId: string | undefined,
): Promise<HTMLElement> {
  const utilities = await ctx.utilities();
  const chosen = utility ?? utilities[0];
  const picker = h(
    "nav",
    { class: "pills", "aria-label": "Utilities" },
    ...utilities.map((u) => link(to.period(u), u)),
  );
  if (chosen === undefined) return h("div", {}, pageTitle("Periods"), h("p", {}, "No utilities."));
  const [period, status] = await Promise.all([
    ctx.api.call(
      "period_get",
      periodId ? { utility: chosen, period: periodId } : { utility: chosen },
    ),
    ctx.api.call("chain_status", {}),
  ]);
  const k = BigInt(period.period);
  const statements = await ctx.api
    .call("export_settlement", { utility: chosen, period: period.period, limit: 50 })
    .then((r) => r.statements)
    .catch((e: unknown) => {
      if (isRestricted(e)) return null;
      throw e;
    });
  return h(
    "div",
    {},
    pageTitle(`Period ${period.period} of ${chosen}`),
    picker,
    h(
      "p",
      { class: "pager" },
      k > 0n ? link(to.period(chosen, (k - 1n).toString()), "← Previous period") : null,
      " ",
      link(to.period(chosen, (k + 1n).toString()), "Next period →"),
    ),
    facts([
      ["Utility", utilityLink(chosen)],
      ["Phase", period.phase],
      ["Month", String(period.month + 1)],
      ["Snapshot taken", period.snapshotTaken ? "yes" : "no"],
      ["Cap reduction", period.policy ? `${period.policy.reductionBps / 100}%` : "–"],
    ]),
    section("Timeline", timeline(period, BigInt(status.headTime))),
    section("Totals", totalsFacts(period.totals)),
    section(
      "Statements",
      statements === null
        ? restrictedPanel(
            ctx.session,
            "This node shows households' statements only to their utility or an auditor.",
            to.period(chosen, period.period),
          )
        : table(
            `Households' statements (first ${statements.items.length})`,
            [
              { title: "Household", cell: (st: StatementJson) => addressLink(st.household) },
              { title: "Status", cell: (st) => st.status },
              { title: "Cap (Wh)", cell: (st) => grouped(st.cap), numeric: true },
              {
                title: "Consumption (Wh)",
                cell: (st) => `${grouped(st.consumption)}${st.estimated ? " (est.)" : ""}`,
                numeric: true,
              },
              { title: "Minted", cell: (st) => grouped(st.minted), numeric: true },
              { title: "Obligation", cell: (st) => grouped(st.obligation), numeric: true },
              { title: "Penalty", cell: (st) => money(st.penalty), numeric: true },
            ],
            statements.items,
          ),
      exportButton(`statements-${chosen}-${period.period}`, settlementColumns, async (cursor) => {
        const r = await ctx.api.call("export_settlement", {
          utility: chosen,
          period: period.period,
          cursor,
          limit: 100,
        });
        return r.statements;
      }),
    ),
  );
}
