// Home: the chain at a glance and a live feed of blocks and trades.
import type { ResultOf } from "../../../rpc/methods.js";
import { facts, h, link, section, table } from "../dom.js";
import { duration, grouped, pricePerKwh, short, time } from "../format.js";
import { to } from "../router.js";
import type { PageContext } from "./context.js";
import { addressLink, blockLink, pageTitle, utilityLink } from "./widgets.js";

/** Blocks averaged over for the block time. */
const SPAN = 10n;

interface UtilitySummary {
  readonly id: string;
  readonly period: ResultOf<"period_get">;
  /** The period before: its credits are minted when it finalises, during this one. */
  readonly previous: ResultOf<"period_get"> | undefined;
  readonly lastPrice: string | null;
  readonly traded: bigint;
}

async function utilitySummary(ctx: PageContext, id: string): Promise<UtilitySummary> {
  const [period, book] = await Promise.all([
    ctx.api.call("period_get", { utility: id }),
    ctx.api.call("market_orderBook", { utility: id, side: "sell", limit: 1 }),
  ]);
  const k = BigInt(period.period);
  const previous =
    k > 0n
      ? await ctx.api.call("period_get", { utility: id, period: (k - 1n).toString() })
      : undefined;
  // Trades are newest first: read pages until one is older than the period's start.
  let traded = 0n;
  let cursor: string | null = null;
  for (let pages = 0; pages < 20; pages++) {
    const trades: ResultOf<"market_trades"> = await ctx.api.call("market_trades", {
      utility: id,
      cursor,
      limit: 100,
    });
    let older = false;
    for (const t of trades.items) {
      if (BigInt(t.time) < BigInt(period.start)) older = true;
      else if (t.side === "buy") traded += BigInt(t.qty);
    }
    if (older || trades.nextCursor === null) break;
    cursor = trades.nextCursor;
  }
  return { id, period, previous, lastPrice: book.lastPrice, traded };
}

export async function homePage(ctx: PageContext): Promise<HTMLElement> {
  const status = await ctx.api.call("chain_status", {});
  const height = BigInt(status.height);
  const span = height > SPAN ? SPAN : height - 1n;
  const [head, past, validators, utilities] = await Promise.all([
    ctx.api.call("chain_getBlock", { height: status.height }),
    span > 0n ? ctx.api.call("chain_getBlock", { height: String(height - span) }) : null,
    ctx.validators(),
    ctx.utilities(),
  ]);
  const summaries = await Promise.all(utilities.map((u) => utilitySummary(ctx, u)));
  const blockTime =
    head && past
      ? duration(Number(BigInt(head.header.time) - BigInt(past.header.time)) / Number(span))
      : "–";
  const online = head?.commit?.signatures.length ?? head?.lastCommit?.signatures.length ?? 0;

  const feed = h("ol", { class: "feed", "aria-live": "polite", "aria-label": "Live feed" });
  const addFeed = (...item: (Node | string)[]) => {
    feed.prepend(h("li", {}, ...item));
    while (feed.childElementCount > 20) feed.lastElementChild?.remove();
  };
  if (head)
    addFeed(
      `block `,
      blockLink(head.height),
      ` · ${head.transactions.length} txs · ${time(head.header.time)}`,
    );
  const heightEl = h("span", { id: "head-height" }, status.height);
  ctx.live({ topic: "newHeads" }, (result) => {
    const r = result as {
      height?: string;
      header?: { height?: string; time?: string };
      txCount?: number;
    };
    const hgt = r.height ?? r.header?.height;
    if (typeof hgt !== "string") return;
    heightEl.textContent = hgt;
    addFeed("block ", blockLink(hgt), ` · ${r.txCount ?? "?"} txs · ${time(r.header?.time ?? "")}`);
  });
  ctx.live({ topic: "trades" }, (result) => {
    const t = result as { utility?: string; qty?: string; price?: string; side?: string };
    if (typeof t.qty !== "string" || typeof t.price !== "string") return;
    addFeed(
      `trade ${t.utility ?? ""} · ${t.side ?? ""} ${grouped(t.qty)} Wh at ${pricePerKwh(t.price)}`,
    );
  });

  return h(
    "div",
    {},
    pageTitle("Wattcap"),
    facts([
      ["Chain", status.chainId],
      ["Height", heightEl],
      ["Head", link(to.block(status.height), short(status.headHash))],
      ["Head time", time(status.headTime)],
      [`Block time (last ${span} blocks)`, blockTime],
      ["Validators online", `${online} of ${validators.length} signed the last commit`],
      ["Syncing", status.syncing ? "yes" : "no"],
    ]),
    section(
      "Utilities this period",
      table(
        "Current period per utility",
        [
          { title: "Utility", cell: (u: UtilitySummary) => utilityLink(u.id) },
          {
            title: "Period",
            cell: (u) => link(to.period(u.id, u.period.period), u.period.period),
            numeric: true,
          },
          { title: "Phase", cell: (u) => u.period.phase },
          {
            title: "Credits minted (Wh)",
            cell: (u) =>
              u.previous
                ? `${grouped(u.previous.totals?.creditsMinted ?? "0")} for period ${u.previous.period}`
                : "–",
            numeric: true,
          },
          {
            title: "Credits traded (Wh)",
            cell: (u) => grouped(u.traded.toString()),
            numeric: true,
          },
          {
            title: "Last clearing price",
            cell: (u) => (u.lastPrice ? link(to.market(u.id), pricePerKwh(u.lastPrice)) : "–"),
            numeric: true,
          },
        ],
        summaries,
      ),
    ),
    section("Live feed", feed),
    section(
      "Proposer of the head",
      head
        ? addressLink(
            head.header.proposer,
            validators.find((v) => v.address === head.header.proposer)?.utility,
          )
        : "–",
    ),
  );
}
