// The `paper` mode's clearing (DESIGN.md §6, docs/market.md): Algorithm 1 of Aoun et al. runs
// once period k's trading window has closed, before compliance, over k's queues. Orders join
// the queues as they are placed, keyed in service order (book.ts paperRank): buyers by
// placement height then sha256(id), offers by price, height, sha256(id). Each block serves
// buyers from the head of the queue within the block's budget — one unit per buyer visited
// and one per offer it takes — with vm/market/paper.ts's PaperClearing over the buyer and the
// offers it can reach. Sold-out offers leave the queue as they sell out, so the head offer is
// always the cheapest left; a served buyer leaves its queue and its unfilled rest is closed.
// A buyer whose offers outrun the budget is served in parts over several blocks; taking the
// same offers in the same order, that gives exactly the trades of one uninterrupted run.
import type { ExecutionContext } from "../context.js";
import { keys } from "../keys.js";
import { PaperClearing } from "../market/paper.js";
import type { Utility } from "../model/utility.js";
import { periodRecord } from "../settlement/snapshot.js";
import type { PeriodStage, WorkBudget } from "../settlement/stage.js";
import { closeOrder, indexedOrder, paperQueueTable, paperRank } from "./book.js";
import { type OrderRecord, orderTable } from "./model.js";
import { MatchedBook, settleTrades } from "./settle.js";

const OFFER_PAGE = 16;

/** Offers the buyer can reach, cheapest first, until they cover it or the budget runs out. */
async function reachableOffers(
  ctx: ExecutionContext,
  utility: string,
  k: bigint,
  buyer: OrderRecord,
  windowEnd: bigint,
  budget: WorkBudget,
): Promise<{ offers: OrderRecord[]; complete: boolean }> {
  const prefix = keys.paperQueueSide(utility, k, "sell");
  const offers: OrderRecord[] = [];
  let covered = 0n;
  let after: Uint8Array | undefined;
  for (;;) {
    const page = await ctx.scan(
      prefix,
      after ? { after, limit: OFFER_PAGE } : { limit: OFFER_PAGE },
    );
    if (page.length === 0) return { offers, complete: true };
    for (const [key, value] of page) {
      after = key;
      const offer = indexedOrder(ctx, value);
      if (offer.price > buyer.price) return { offers, complete: true };
      if (offer.expiry < windowEnd) {
        // Its expiry passed before the window closed; the expiry job has not reached it yet.
        await closeOrder(ctx, offer, "expired");
        continue;
      }
      if (!budget.take(1)) return { offers, complete: false };
      offers.push(offer);
      covered += offer.qty;
      if (covered >= buyer.qty) return { offers, complete: true };
    }
  }
}

/** Serves buyers of (utility, k) while the budget lasts; true once every buyer is served. */
export async function clearPaperPeriod(
  ctx: ExecutionContext,
  utility: Utility,
  k: bigint,
  budget: WorkBudget,
): Promise<boolean> {
  if (ctx.params.marketMode !== "paper") return true;
  const buyers = keys.paperQueueSide(utility.id, k, "buy");
  const windowEnd = periodRecord(ctx, utility, k).tradingEndsAt;
  for (;;) {
    const head = await ctx.scan(buyers, { limit: 1 });
    const entry = head[0];
    if (!entry) return true;
    if (!budget.take(1)) return false;
    const buyer = indexedOrder(ctx, entry[1]);
    if (buyer.expiry < windowEnd) {
      await closeOrder(ctx, buyer, "expired");
      continue;
    }
    const { offers, complete } = await reachableOffers(
      ctx,
      utility.id,
      k,
      buyer,
      windowEnd,
      budget,
    );
    const matched = new MatchedBook([buyer], offers);
    const trades = new PaperClearing(matched.book).step(1);
    await settleTrades(ctx, matched, trades);
    if (!complete) return false;
    ctx.delete(paperQueueTable, [utility.id, k, "buy", paperRank(buyer)]);
    const rest = ctx.get(orderTable, buyer.id);
    if (rest) await closeOrder(ctx, rest, "paper-served");
  }
}

export const paperClearingStage: PeriodStage = {
  name: "paper-clearing",
  startsAt: "tradingEndsAt",
  begin: clearPaperPeriod,
};
