// Utilities and one utility's audit views: its policy and how it changed, its baseline and cap
// changes, and what each of its households was issued — what makes a utility's own abuse
// (quietly inflating a favoured household's baseline, say) visible to anyone.
import type { PolicyJson, ResultOf, StatementJson } from "../../../rpc/methods.js";
import { decodeTxHex } from "../decode.js";
import { facts, h, link, section, table } from "../dom.js";
import { exportButton } from "../export.js";
import { grouped, money, pricePerKwh, time } from "../format.js";
import { to } from "../router.js";
import type { PageContext } from "./context.js";
import { addressLink, blockLink, jsonBlock, pageTitle, txLink, utilityLink } from "./widgets.js";

type Utility = NonNullable<ResultOf<"utility_get">>;
type HistoryItem = Utility["history"]["items"][number];

/** Operator transactions that change what households are capped against. */
const AUDITED_TYPES = new Set([
  "updateBaselines",
  "setExplicitCap",
  "setPolicy",
  "registerHousehold",
  "postCorrection",
  "closeHousehold",
]);

function policyFacts(p: PolicyJson): HTMLElement {
  return facts([
    ["Cap reduction", `${p.reductionBps} bps`],
    ["Penalty price", pricePerKwh(p.penaltyPrice)],
    ["Floor price", pricePerKwh(p.floorPrice)],
    ["Buy-back price", pricePerKwh(p.buybackPrice)],
    ["Rebate price", pricePerKwh(p.rebatePrice)],
    ["Credit lifetime (periods)", String(p.creditLifetime)],
    ["Holding limit (Wh)", grouped(p.holdingLimit)],
    ["Credit limit", money(p.creditLimit)],
    ["Reading grace (ms)", grouped(p.readingGrace)],
    ["Trading window (ms)", grouped(p.tradingWindow)],
    ["Notice period (ms)", grouped(p.noticePeriod)],
    ["Peak weight", `${p.peakWeightBps} bps`],
    [
      "Peak windows (minutes of day)",
      p.peakWindows.map((w) => `${w.startMinute}–${w.endMinute}`).join(", ") || "none",
    ],
  ]);
}

export async function utilitiesPage(ctx: PageContext): Promise<HTMLElement> {
  const ids = await ctx.utilities();
  const all = (
    await Promise.all(ids.map((id) => ctx.api.call("utility_get", { utility: id, limit: 1 })))
  ).filter((u): u is Utility => u !== null);
  return h(
    "div",
    {},
    pageTitle("Utilities"),
    table(
      "Utilities",
      [
        { title: "Id", cell: (u: Utility) => utilityLink(u.id) },
        { title: "Name", cell: (u) => u.name },
        { title: "Operator", cell: (u) => addressLink(u.operator) },
        { title: "Status", cell: (u) => u.status },
        {
          title: "Households",
          cell: (u) => `${u.activeHouseholds} active of ${u.householdCount}`,
          numeric: true,
        },
        { title: "Balance", cell: (u) => money(u.balance), numeric: true },
        { title: "Market", cell: (u) => link(to.market(u.id), "market") },
      ],
      all,
    ),
  );
}

interface AuditedTx {
  readonly hash: string;
  readonly height: string;
  readonly type: string;
  readonly payload: unknown;
}

/** The operator's latest transactions that touch caps, decoded from their blocks. */
async function auditedTxs(ctx: PageContext, operator: string): Promise<AuditedTx[]> {
  const refs = await ctx.api.call("txs_byAddress", { address: operator, limit: 50 });
  const heights = [...new Set(refs.items.map((r) => r.height))];
  const blocks = new Map(
    await Promise.all(
      heights.map(
        async (hgt) => [hgt, await ctx.api.call("chain_getBlock", { height: hgt })] as const,
      ),
    ),
  );
  const out: AuditedTx[] = [];
  for (const ref of refs.items) {
    const tx = blocks.get(ref.height)?.transactions[ref.index];
    if (!tx || ref.role !== "signer") continue;
    const decoded = decodeTxHex(tx.bytes);
    if (decoded.ok && AUDITED_TYPES.has(decoded.type)) {
      out.push({ hash: tx.hash, height: ref.height, type: decoded.type, payload: decoded.payload });
    }
  }
  return out;
}

export async function utilityPage(ctx: PageContext, id: string): Promise<HTMLElement> {
  const [utility, period] = await Promise.all([
    ctx.api.call("utility_get", { utility: id, limit: 50 }),
    ctx.api.call("period_get", { utility: id }),
  ]);
  if (utility === null)
    return h("div", {}, pageTitle("Utility not found"), h("p", {}, `No utility ${id}.`));
  const changes = await auditedTxs(ctx, utility.operator).catch(() => [] as AuditedTx[]);
  // Issuance: the last period whose statements are settled (the current one never is).
  const last = BigInt(period.period) > 0n ? (BigInt(period.period) - 1n).toString() : period.period;
  const issuance = await ctx.api
    .call("export_settlement", { utility: id, period: last, limit: 100 })
    .catch(() => null);
  return h(
    "div",
    {},
    pageTitle(`Utility ${utility.id}`),
    facts([
      ["Name", utility.name],
      ["Operator", addressLink(utility.operator)],
      ["Status", utility.status],
      ["Households", `${utility.activeHouseholds} active of ${utility.householdCount}`],
      ["Balance", money(utility.balance)],
      [
        "Current period",
        link(to.period(utility.id, period.period), `${period.period} (${period.phase})`),
      ],
      ["Market", link(to.market(utility.id), "order book, auctions and trades")],
    ]),
    section("Policy in force", policyFacts(utility.policy)),
    section(
      "Scheduled policies",
      utility.pendingPolicies.length === 0
        ? h("p", { class: "empty" }, "None scheduled.")
        : h(
            "div",
            {},
            ...utility.pendingPolicies.map((p) =>
              h("div", {}, h("h3", {}, `From period ${p.fromPeriod}`), policyFacts(p.value)),
            ),
          ),
    ),
    section(
      "Policy history",
      table(
        "Policy changes as they landed, newest first",
        [
          { title: "Block", cell: (c: HistoryItem) => blockLink(c.height), numeric: true },
          { title: "Time (UTC)", cell: (c) => time(c.time) },
          { title: "From period", cell: (c) => c.fromPeriod, numeric: true },
          { title: "Transaction", cell: (c) => (c.tx ? txLink(c.tx) : "genesis") },
        ],
        utility.history.items,
      ),
    ),
    section(
      "Baseline and cap changes",
      table(
        "The operator's latest changes to households, caps and policy",
        [
          { title: "Block", cell: (c: AuditedTx) => blockLink(c.height), numeric: true },
          { title: "Type", cell: (c) => c.type },
          { title: "Transaction", cell: (c) => txLink(c.hash) },
          { title: "Payload", cell: (c) => jsonBlock(c.payload) },
        ],
        changes,
      ),
    ),
    section(
      `Issuance per household, period ${last}`,
      issuance === null
        ? h("p", {}, "Restricted on this node: sign in to see statements.")
        : table(
            `Credits minted and obligations in period ${last}`,
            [
              { title: "Household", cell: (st: StatementJson) => addressLink(st.household) },
              {
                title: "Cap (Wh)",
                cell: (st) => `${grouped(st.cap)} (${st.capSource})`,
                numeric: true,
              },
              { title: "Consumption (Wh)", cell: (st) => grouped(st.consumption), numeric: true },
              { title: "Minted (Wh)", cell: (st) => grouped(st.minted), numeric: true },
              { title: "Obligation (Wh)", cell: (st) => grouped(st.obligation), numeric: true },
            ],
            issuance.statements.items,
          ),
    ),
    exportButton(
      `policy-history-${utility.id}`,
      [
        { title: "height", value: (c: HistoryItem) => c.height },
        { title: "time", value: (c) => c.time },
        { title: "fromPeriod", value: (c) => c.fromPeriod },
        { title: "tx", value: (c) => c.tx },
      ],
      async (cursor) => {
        const u = await ctx.api.call("utility_get", { utility: id, cursor, limit: 100 });
        return u ? u.history : { items: [], nextCursor: null };
      },
    ),
  );
}
