// Settling what an engine matched (DESIGN.md §6 "keep clear(book) -> fills pure and apply
// fills in a separate validated step"). The fills or trades are first checked against the very
// book the engine was given (vm/market/fills.ts); a set that fails is a bug in this chain's
// code, not a user's fault, so it throws and fails the block rather than applying half of it.
// Then, per fill: credits move seller → buyer, oldest vintage first (locks.ts); money moves
// buyer → seller, exactly qty × price; each order's lock shrinks with its remaining size; and
// both statements of the orders' window period record the trade.
import type { ExecutionContext } from "../context.js";
import { validateFills, validateTrades } from "../market/fills.js";
import type { Book, Fill, Trade } from "../market/order.js";
import { minQty, orderKey } from "../market/order.js";
import { adjustBalance } from "../money/ledger.js";
import { addTrade, updateStatement } from "../settlement/statement.js";
import { engineOrder, shrinkOrder } from "./book.js";
import { type CreditChunk, giveCredits, takeLockedCredits } from "./locks.js";
import type { OrderRecord } from "./model.js";

/** The orders an engine was given, by id, and the book built from them. */
export class MatchedBook {
  private readonly byId = new Map<string, OrderRecord>();
  readonly book: Book;

  constructor(buys: readonly OrderRecord[], sells: readonly OrderRecord[]) {
    for (const o of buys) this.byId.set(orderKey(o.id), o);
    for (const o of sells) this.byId.set(orderKey(o.id), o);
    this.book = { buys: buys.map(engineOrder), sells: sells.map(engineOrder) };
  }

  order(id: Uint8Array): OrderRecord {
    const order = this.byId.get(orderKey(id));
    if (!order) throw new Error("a validated fill names an order outside the book");
    return order;
  }

  update(order: OrderRecord): void {
    this.byId.set(orderKey(order.id), order);
  }
}

function book(
  ctx: ExecutionContext,
  order: OrderRecord,
  qty: bigint,
  price: bigint,
  matched: MatchedBook,
): void {
  const value = qty * price;
  const field = order.side === "buy" ? "bought" : "sold";
  updateStatement(ctx, order.owner, order.period, (s) => ({
    ...s,
    [field]: addTrade(s[field], qty, value),
  }));
  matched.update(shrinkOrder(ctx, order, qty));
  ctx.emit({
    kind: "orderFilled",
    value: { order: order.id, household: order.owner, side: order.side, qty, price },
  });
}

async function sell(
  ctx: ExecutionContext,
  matched: MatchedBook,
  id: Uint8Array,
  qty: bigint,
  price: bigint,
): Promise<CreditChunk[]> {
  const order = matched.order(id);
  const chunks = takeLockedCredits(ctx, order.owner, qty);
  adjustBalance(ctx, order.owner, qty * price);
  book(ctx, order, qty, price, matched);
  return chunks;
}

function buy(
  ctx: ExecutionContext,
  matched: MatchedBook,
  id: Uint8Array,
  qty: bigint,
  price: bigint,
  chunks: readonly CreditChunk[],
): void {
  const order = matched.order(id);
  giveCredits(ctx, order.owner, chunks);
  adjustBalance(ctx, order.owner, -(qty * price));
  book(ctx, order, qty, price, matched);
}

/**
 * A uniform-price clearing: fills name orders, not counterparties. The sellers' credits go into
 * one pool, oldest vintage first, and the buyers take from it in fill order (by order id).
 */
export async function settleFills(
  ctx: ExecutionContext,
  matched: MatchedBook,
  fills: readonly Fill[],
): Promise<void> {
  const check = validateFills(matched.book, fills);
  if (!check.ok) throw new Error(`invalid fills: ${check.error.code}: ${check.error.message}`);
  const pool: CreditChunk[] = [];
  for (const f of fills) {
    if (f.side === "sell") pool.push(...(await sell(ctx, matched, f.orderId, f.qty, f.price)));
  }
  pool.sort((a, b) => (a.vintage < b.vintage ? -1 : a.vintage > b.vintage ? 1 : 0));
  let next = 0;
  let leftInChunk = pool[0]?.qty ?? 0n;
  for (const f of fills) {
    if (f.side !== "buy") continue;
    const chunks: CreditChunk[] = [];
    let need = f.qty;
    while (need > 0n) {
      const chunk = pool[next];
      if (!chunk) throw new Error("validated fills sold fewer credits than they bought");
      const take = minQty(leftInChunk, need);
      chunks.push({ vintage: chunk.vintage, qty: take });
      need -= take;
      leftInChunk -= take;
      if (leftInChunk === 0n) {
        next++;
        leftInChunk = pool[next]?.qty ?? 0n;
      }
    }
    buy(ctx, matched, f.orderId, f.qty, f.price, chunks);
  }
}

/** Bilateral trades (continuous, paper), in execution order. */
export async function settleTrades(
  ctx: ExecutionContext,
  matched: MatchedBook,
  trades: readonly Trade[],
): Promise<void> {
  const check = validateTrades(matched.book, trades);
  if (!check.ok) throw new Error(`invalid trades: ${check.error.code}: ${check.error.message}`);
  for (const t of trades) {
    const chunks = await sell(ctx, matched, t.sellOrderId, t.qty, t.price);
    buy(ctx, matched, t.buyOrderId, t.qty, t.price, chunks);
  }
}
