// A utility's market: the book's depth, each auction's curves with its clearing point, the
// price history, and the trades.
import type { AuctionJson, OrderJson, TradeJson } from "../../../rpc/methods.js";
import { curvesChart, priceChart } from "../charts.js";
import { facts, h, link, section, table } from "../dom.js";
import { exportButton } from "../export.js";
import { grouped, pricePerKwh, time } from "../format.js";
import { to } from "../router.js";
import type { PageContext } from "./context.js";
import { addressLink, blockLink, pageTitle, utilityLink } from "./widgets.js";

/** Orders aggregated by price level, with the running depth from the best price. */
function depth(orders: readonly OrderJson[]): { price: string; qty: bigint; cumulative: bigint }[] {
  const levels: { price: string; qty: bigint; cumulative: bigint }[] = [];
  let cumulative = 0n;
  for (const o of orders) {
    cumulative += BigInt(o.qty);
    const last = levels[levels.length - 1];
    if (last && last.price === o.price) {
      last.qty += BigInt(o.qty);
      last.cumulative = cumulative;
    } else levels.push({ price: o.price, qty: BigInt(o.qty), cumulative });
  }
  return levels;
}

/** A bar sized through the CSSOM: the page's CSP allows no inline style attributes. */
function bar(percent: number): HTMLElement {
  const el = h("span", { class: "depth-bar" });
  el.style.width = `${percent}%`;
  return el;
}

function depthTable(caption: string, orders: readonly OrderJson[]): HTMLElement {
  const levels = depth(orders);
  // The deepest level is the last: depth only grows away from the best price.
  const max = levels[levels.length - 1]?.cumulative || 1n;
  return table(
    caption,
    [
      { title: "Price", cell: (l: (typeof levels)[number]) => pricePerKwh(l.price), numeric: true },
      { title: "Qty (Wh)", cell: (l) => grouped(l.qty.toString()), numeric: true },
      {
        title: "Depth",
        cell: (l) =>
          h(
            "span",
            { class: "depth" },
            bar(Number((l.cumulative * 100n) / max)),
            grouped(l.cumulative.toString()),
          ),
      },
    ],
    levels,
  );
}

const tradeColumns = [
  { title: "Block", cell: (t: TradeJson) => blockLink(t.height), numeric: true },
  { title: "Time (UTC)", cell: (t: TradeJson) => time(t.time) },
  { title: "Household", cell: (t: TradeJson) => addressLink(t.household) },
  { title: "Side", cell: (t: TradeJson) => t.side },
  { title: "Qty (Wh)", cell: (t: TradeJson) => grouped(t.qty), numeric: true },
  { title: "Price", cell: (t: TradeJson) => pricePerKwh(t.price), numeric: true },
];

function auctionDetails(a: AuctionJson, open: boolean): HTMLElement {
  const details = h(
    "details",
    open ? { open: true } : {},
    h(
      "summary",
      {},
      `Block ${a.height} · period ${a.period} · `,
      a.price === null ? "no clearing" : `${grouped(a.volume)} Wh at ${pricePerKwh(a.price)}`,
    ),
  );
  // The chart is built when first opened: a page of auctions costs one chart, not fifty.
  let drawn = false;
  const draw = () => {
    if (drawn || !details.open) return;
    drawn = true;
    details.append(curvesChart(a.demand, a.supply, { price: a.price, volume: a.volume }));
  };
  details.addEventListener("toggle", draw);
  if (open) draw();
  return details;
}

export async function marketPage(
  ctx: PageContext,
  utility: string | undefined,
): Promise<HTMLElement> {
  const utilities = await ctx.utilities();
  const chosen = utility ?? utilities[0];
  const picker = h(
    "nav",
    { class: "pills", "aria-label": "Utilities" },
    ...utilities.map((u) => link(to.market(u), u)),
  );
  if (chosen === undefined) return h("div", {}, pageTitle("Market"), h("p", {}, "No utilities."));
  const [buys, sells, auctions, trades] = await Promise.all([
    ctx.api.call("market_orderBook", { utility: chosen, side: "buy", limit: 100 }),
    ctx.api.call("market_orderBook", { utility: chosen, side: "sell", limit: 100 }),
    ctx.api.call("market_auctions", { utility: chosen, limit: 50 }),
    ctx.api.call("market_trades", { utility: chosen, limit: 50 }),
  ]);
  const history = auctions.items
    .filter((a): a is AuctionJson & { price: string } => a.price !== null)
    .map((a) => ({ height: a.height, price: a.price }))
    .reverse();
  const tradesTable = table(`Trades in ${chosen}`, tradeColumns, trades.items);
  ctx.live({ topic: "trades", utility: chosen }, (result) => {
    const t = result as Partial<TradeJson>;
    if (typeof t.height !== "string" || typeof t.qty !== "string" || typeof t.price !== "string")
      return;
    const trade = t as TradeJson;
    tradesTable
      .querySelector("tbody")
      ?.prepend(
        h(
          "tr",
          { class: "new" },
          ...tradeColumns.map((c) => h("td", c.numeric ? { class: "num" } : {}, c.cell(trade))),
        ),
      );
  });
  return h(
    "div",
    {},
    pageTitle(`Market of ${chosen}`),
    picker,
    facts([
      ["Utility", utilityLink(chosen)],
      ["Last clearing price", buys.lastPrice ? pricePerKwh(buys.lastPrice) : "–"],
      ["Open buy orders (first page)", String(buys.items.length)],
      ["Open sell orders (first page)", String(sells.items.length)],
    ]),
    section(
      "Order book",
      h(
        "div",
        { class: "two" },
        depthTable("Bids (buy), best first", buys.items),
        depthTable("Asks (sell), best first", sells.items),
      ),
    ),
    section("Price history", priceChart(history)),
    section(
      "Auctions",
      auctions.items.length === 0
        ? h("p", { class: "empty" }, "No auctions yet.")
        : h(
            "div",
            { class: "auctions" },
            ...auctions.items.map((a, i) => auctionDetails(a, i === 0)),
          ),
    ),
    section(
      "Trades",
      tradesTable,
      exportButton(
        `trades-${chosen}`,
        [
          { title: "height", value: (t: TradeJson) => t.height },
          { title: "time", value: (t) => t.time },
          { title: "order", value: (t) => t.order },
          { title: "household", value: (t) => t.household },
          { title: "side", value: (t) => t.side },
          { title: "qty", value: (t) => t.qty },
          { title: "price", value: (t) => t.price },
        ],
        (cursor) => ctx.api.call("market_trades", { utility: chosen, cursor, limit: 100 }),
      ),
    ),
  );
}
