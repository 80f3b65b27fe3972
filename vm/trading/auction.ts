// End-of-block market work. First the orders whose expiry has come are closed (bounded by the
// block's job budget; any left over are already out of every match, which only takes orders
// whose expiry is after the block time). Then, in the `batch` mode, each utility whose book
// changed in this block holds its uniform-price call auction (DESIGN.md §6, docs/market.md):
// clearBatch over the live book with the open window's band, the utility's last clearing price
// as reference (initialReferencePrice before its first trade) and the parent block hash as the
// tie seed; the fills are validated and settled (settle.ts), and an `auction` event carries the
// price and the demand and supply curves by price level.
import { fromUtf8, readU64be } from "../../lib/bytes.js";
import { decode } from "../../lib/codec.js";
import type { ExecutionContext } from "../context.js";
import { PREFIX } from "../keys.js";
import { clearBatch, initialReferencePrice } from "../market/batch-auction.js";
import { tables } from "../tables.js";
import type { EndBlockJob } from "../tx/registry.js";
import { closeOrder, loadSide, marketState } from "./book.js";
import { MarketStateSchema, marketTable, orderTable } from "./model.js";
import { MatchedBook, settleFills } from "./settle.js";
import { openWindow } from "./window.js";

export const orderExpiryJob: EndBlockJob = {
  name: "order-expiry",
  async run(ctx) {
    const rows = await ctx.scan(Uint8Array.of(PREFIX.orderExpiry), {
      limit: ctx.params.limits.maxJobWorkPerBlock,
    });
    for (const [key] of rows) {
      if (readU64be(key, 1) > ctx.block.time) return;
      const order = ctx.get(orderTable, key.subarray(9));
      if (!order) throw new Error("an expiry index entry without its order");
      await closeOrder(ctx, order, "expired");
    }
  },
};

/** Runs one utility's auction over its live book. */
export async function runAuction(ctx: ExecutionContext, utilityId: string): Promise<void> {
  const utility = ctx.get(tables.utility, utilityId);
  if (!utility) throw new Error(`market of unknown utility ${utilityId}`);
  const window = openWindow(ctx, utility);
  if (!window) return;
  const time = ctx.block.time;
  const buys = await loadSide(ctx, utilityId, "buy", time);
  const sells = await loadSide(ctx, utilityId, "sell", time);
  const { floorPrice: floor, penaltyPrice: penalty } = window.policy;
  const before = marketState(ctx, utilityId);
  const matched = new MatchedBook(buys, sells);
  const result = clearBatch(matched.book, {
    floor,
    penalty,
    referencePrice: before.lastPrice ?? initialReferencePrice(floor, penalty),
    tieSeed: ctx.block.parentHash,
  });
  if (result.price !== undefined) {
    await settleFills(ctx, matched, result.fills);
    ctx.put(marketTable, utilityId, { ...marketState(ctx, utilityId), lastPrice: result.price });
  }
  const points = (curve: readonly (readonly [bigint, bigint])[]) =>
    curve.map(([price, qty]) => ({ price, qty }));
  ctx.emit({
    kind: "auction",
    value: {
      utility: utilityId,
      period: window.period,
      price: result.price,
      volume: result.volume,
      demand: points(result.curves.demand),
      supply: points(result.curves.supply),
    },
  });
}

export const batchAuctionJob: EndBlockJob = {
  name: "batch-auction",
  async run(ctx) {
    if (ctx.params.marketMode !== "batch") return;
    const due: string[] = [];
    for (const [key, value] of await ctx.scan(Uint8Array.of(PREFIX.market))) {
      if (decode(MarketStateSchema, value).changedHeight === ctx.block.height) {
        due.push(fromUtf8(key.subarray(2)));
      }
    }
    for (const utility of due) {
      // A fill that would take a balance beyond 64 bits fails this utility's clearing alone.
      const reason = await ctx.attempt((c) => runAuction(c, utility));
      if (reason !== undefined) ctx.emit({ kind: "auctionSkipped", value: { utility, reason } });
    }
  },
};
