// An account or household: what a household, its utility or an auditor would check first — the
// cap against consumption this period, credits by vintage, orders, transactions, statements.
// Where the node restricts household data, the page says so and offers sign-in (session.ts).
import type { OrderJson, ResultOf, StatementJson } from "../../../rpc/methods.js";
import { capChart } from "../charts.js";
import type { CsvColumn } from "../csv.js";
import { facts, h, link, section, table } from "../dom.js";
import { exportButton } from "../export.js";
import { grouped, money, pricePerKwh, time } from "../format.js";
import { to } from "../router.js";
import { isRestricted } from "../session.js";
import { verifyPanel } from "../verify.js";
import type { PageContext } from "./context.js";
import { restrictedPanel } from "./sign-in.js";
import { blockLink, meterLink, mono, pageTitle, txLink, utilityLink } from "./widgets.js";

type TxRef = ResultOf<"txs_byAddress">["items"][number];

/** Statements shown on the page; older ones are in the CSV export. */
const STATEMENTS_SHOWN = 6n;

const statementColumns: readonly CsvColumn<StatementJson>[] = [
  { title: "period", value: (s) => s.period },
  { title: "status", value: (s) => s.status },
  { title: "cap", value: (s) => s.cap },
  { title: "consumption", value: (s) => s.consumption },
  { title: "estimated", value: (s) => s.estimated },
  { title: "minted", value: (s) => s.minted },
  { title: "obligation", value: (s) => s.obligation },
  { title: "boughtQty", value: (s) => s.bought.qty },
  { title: "boughtValue", value: (s) => s.bought.value },
  { title: "soldQty", value: (s) => s.sold.qty },
  { title: "soldValue", value: (s) => s.sold.value },
  { title: "surrendered", value: (s) => s.surrendered },
  { title: "penalty", value: (s) => s.penalty },
  { title: "gainAgainstNoMarket", value: (s) => s.gainAgainstNoMarket },
];

const RESTRICTED = Symbol("restricted");

/** A restricted call: RESTRICTED when the node wants a signed request the reader has not given. */
async function personal<T>(read: () => Promise<T>): Promise<T | typeof RESTRICTED> {
  try {
    return await read();
  } catch (e) {
    if (isRestricted(e)) return RESTRICTED;
    throw e;
  }
}

const shown = <T>(value: T | typeof RESTRICTED): value is T => value !== RESTRICTED;

function ordersTable(orders: readonly OrderJson[]): HTMLElement {
  return table(
    "Open orders",
    [
      { title: "Side", cell: (o: OrderJson) => o.side },
      { title: "Qty (Wh)", cell: (o) => grouped(o.qty), numeric: true },
      { title: "Price", cell: (o) => pricePerKwh(o.price), numeric: true },
      { title: "Period", cell: (o) => o.period, numeric: true },
      { title: "Placed at", cell: (o) => blockLink(o.placedHeight), numeric: true },
      { title: "Expiry", cell: (o) => time(o.expiry) },
      { title: "Standing", cell: (o) => (o.standing ? "yes" : "no") },
    ],
    orders,
  );
}

export async function addressPage(ctx: PageContext, address: string): Promise<HTMLElement> {
  const [household, account, orders, txs] = await Promise.all([
    personal(() => ctx.api.call("household_get", { address })),
    personal(() => ctx.api.call("account_get", { address })),
    personal(() => ctx.api.call("market_orders", { address, limit: 50 })),
    personal(() => ctx.api.call("txs_byAddress", { address, limit: 25 })),
  ]);
  const restricted = [household, account, orders, txs].some((v) => v === RESTRICTED);
  const parts: (HTMLElement | null)[] = [
    pageTitle(shown(household) && household ? "Household" : "Account"),
  ];
  parts.push(facts([["Address", mono(address)]]));
  if (restricted) {
    parts.push(
      restrictedPanel(
        ctx.session,
        "This node shows household data only to the household, its utility or an auditor.",
        to.address(address),
      ),
    );
  }
  if (shown(household) && household) {
    const current = household.currentPeriod;
    parts.push(
      section(
        "Household",
        facts([
          ["Utility", utilityLink(household.utility)],
          ["Key", mono(household.key)],
          ["Meter (id hash)", meterLink(household.meterIdHash)],
          ["Meter key", household.meterKeyType ?? "none (readings signed by the oracle only)"],
          ["Status", household.status],
          ["Registered", time(household.registeredAt)],
          ["Baselines (Wh, Jan–Dec)", household.baselines.map(grouped).join(" · ")],
          [
            "Standing sell at ≥",
            household.standingOrders.sell ? pricePerKwh(household.standingOrders.sell) : "–",
          ],
          [
            "Standing buy at ≤",
            household.standingOrders.buy ? pricePerKwh(household.standingOrders.buy) : "–",
          ],
        ]),
      ),
    );
    if (current) {
      parts.push(
        section(
          `Period ${current.period} (${current.phase})`,
          current.cap !== null && current.consumptionSoFar !== null
            ? capChart(current.cap, current.consumptionSoFar)
            : h("p", {}, "No cap or consumption for this period yet."),
          h(
            "p",
            {},
            link(to.period(household.utility, current.period), "The period across the utility"),
          ),
        ),
      );
    }
  } else if (household === null) {
    parts.push(h("p", {}, "Not a household."));
  }
  if (shown(account)) {
    parts.push(
      section(
        "Account",
        facts([
          ["Balance", money(account.balance)],
          ["Nonce", account.nonce],
          ["Locked money", money(account.lockedMoney)],
          ["Locked credits (Wh)", grouped(account.lockedCredits)],
          ["Owed (Wh)", grouped(account.owed)],
          ["Open orders", String(account.openOrders)],
        ]),
        table(
          "Credits by vintage",
          [
            {
              title: "Vintage (period)",
              cell: (c: { vintage: string; amount: string; locked: string }) => c.vintage,
              numeric: true,
            },
            { title: "Credits (Wh)", cell: (c) => grouped(c.amount), numeric: true },
            { title: "Locked in sell orders", cell: (c) => grouped(c.locked), numeric: true },
          ],
          account.credits,
        ),
        verifyPanel(ctx, address, account),
      ),
    );
  }
  if (shown(household) && household) {
    // New events for this household arrive over the WebSocket; the values above are as loaded.
    const feed = h("ol", { class: "feed", "aria-live": "polite" });
    const notice = h("p", { class: "empty" }, "Nothing new since this page loaded.");
    ctx.live({ topic: "household", address }, (result) => {
      const r = result as { height?: string; tx?: string | null; event?: { kind?: string } };
      if (typeof r.height !== "string") return;
      notice.remove();
      feed.prepend(
        h(
          "li",
          {},
          `${r.event?.kind ?? "event"} in block `,
          blockLink(r.height),
          r.tx ? " · " : "",
          r.tx ? txLink(r.tx) : null,
        ),
      );
    });
    parts.push(section("Live activity", notice, feed));
  }
  if (shown(orders)) parts.push(section("Orders", ordersTable(orders.items)));
  if (shown(txs)) {
    parts.push(
      section(
        "Transactions",
        table(
          "Latest transactions",
          [
            { title: "Hash", cell: (t: TxRef) => txLink(t.hash) },
            { title: "Block", cell: (t) => blockLink(t.height), numeric: true },
            { title: "Role", cell: (t) => t.role },
          ],
          txs.items,
        ),
        exportButton(
          "transactions",
          [
            { title: "hash", value: (t: TxRef) => t.hash },
            { title: "height", value: (t) => t.height },
            { title: "index", value: (t) => t.index },
            { title: "role", value: (t) => t.role },
          ],
          (cursor) => ctx.api.call("txs_byAddress", { address, cursor, limit: 100 }),
        ),
      ),
    );
  }
  if (shown(household) && household?.currentPeriod) {
    const latest = BigInt(household.currentPeriod.period);
    const periods: bigint[] = [];
    for (let p = latest; p >= 0n && periods.length < Number(STATEMENTS_SHOWN); p--) periods.push(p);
    const statements = (
      await Promise.all(
        periods.map((p) =>
          personal(() => ctx.api.call("household_statement", { address, period: p.toString() })),
        ),
      )
    ).filter((s): s is StatementJson => shown(s) && s !== null);
    parts.push(
      section(
        "Statements",
        table(
          "Statements per period",
          [
            { title: "Period", cell: (s: StatementJson) => s.period, numeric: true },
            { title: "Status", cell: (s) => s.status },
            { title: "Cap (Wh)", cell: (s) => grouped(s.cap), numeric: true },
            {
              title: "Consumption (Wh)",
              cell: (s) => `${grouped(s.consumption)}${s.estimated ? " (est.)" : ""}`,
              numeric: true,
            },
            { title: "Minted", cell: (s) => grouped(s.minted), numeric: true },
            { title: "Obligation", cell: (s) => grouped(s.obligation), numeric: true },
            { title: "Bought", cell: (s) => grouped(s.bought.qty), numeric: true },
            { title: "Sold", cell: (s) => grouped(s.sold.qty), numeric: true },
            { title: "Penalty", cell: (s) => money(s.penalty), numeric: true },
            {
              title: "Gain vs no market",
              cell: (s) => money(s.gainAgainstNoMarket),
              numeric: true,
            },
          ],
          statements,
        ),
        exportButton("statements", statementColumns, async (cursor) => {
          // One statement per page, walking periods down from the current one.
          const period = cursor === null ? latest : BigInt(cursor);
          const s = await ctx.api.call("household_statement", {
            address,
            period: period.toString(),
          });
          return { items: s ? [s] : [], nextCursor: period > 0n ? (period - 1n).toString() : null };
        }),
      ),
    );
  }
  return h("div", {}, ...parts);
}
