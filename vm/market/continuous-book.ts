// The `continuous` market mode (DESIGN.md §6): a limit order book with price-time priority,
// matched as each placement executes. An incoming order trades with the best opposite levels
// while they cross, at the resting order's price, oldest first within a level; what is left rests.
//
// Each side keeps its price levels in an array sorted worst to best, so the best level is the
// last element (matching pops it in O(1)) and a new level is found by binary search; new levels
// mostly open near the top of the book, where the array shift is short. Each level is a doubly
// linked FIFO, so a cancel unlinks in O(1) without leaving tombstones to skip later.
import { toHex } from "../../lib/bytes.js";
import type { PriceLevel } from "./batch-auction.js";
import {
  checkOrder,
  MarketError,
  minQty,
  type Order,
  orderKey,
  type Side,
  type Trade,
} from "./order.js";

interface Resting {
  readonly id: Uint8Array;
  readonly owner: Uint8Array;
  readonly side: Side;
  readonly price: bigint;
  readonly placedHeight: bigint;
  readonly seq: bigint;
  qty: bigint;
  prev: Resting | undefined;
  next: Resting | undefined;
  readonly level: Level;
}

interface Level {
  readonly price: bigint;
  qty: bigint;
  head: Resting | undefined;
  tail: Resting | undefined;
}

class BookSide {
  /** Worst to best: ascending prices for bids, descending for asks. */
  readonly levels: Level[] = [];
  private readonly byPrice = new Map<bigint, Level>();

  constructor(readonly side: Side) {}

  best(): Level | undefined {
    return this.levels[this.levels.length - 1];
  }

  /** Is price `a` worse than price `b` for this side? */
  private worse(a: bigint, b: bigint): boolean {
    return this.side === "buy" ? a < b : a > b;
  }

  /** Index of the first level not worse than `price`. */
  private search(price: bigint): number {
    let lo = 0;
    let hi = this.levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.worse(this.levels[mid]!.price, price)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  levelAt(price: bigint): Level {
    let level = this.byPrice.get(price);
    if (level === undefined) {
      level = { price, qty: 0n, head: undefined, tail: undefined };
      this.byPrice.set(price, level);
      const n = this.levels.length;
      // Most new levels improve on the best or sit just below it: skip the search then.
      if (n === 0 || this.worse(this.levels[n - 1]!.price, price)) this.levels.push(level);
      else this.levels.splice(this.search(price), 0, level);
    }
    return level;
  }

  append(entry: Resting): void {
    const level = entry.level;
    entry.prev = level.tail;
    if (level.tail) level.tail.next = entry;
    else level.head = entry;
    level.tail = entry;
    level.qty += entry.qty;
  }

  /** Unlinks an entry whose quantity has already left level.qty; drops the level when empty. */
  unlink(entry: Resting): void {
    const level = entry.level;
    if (entry.prev) entry.prev.next = entry.next;
    else level.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else level.tail = entry.prev;
    if (level.head === undefined) {
      this.byPrice.delete(level.price);
      const n = this.levels.length;
      if (this.levels[n - 1] === level) this.levels.pop();
      else this.levels.splice(this.search(level.price), 1);
    }
  }

  depth(maxLevels: number): PriceLevel[] {
    const out: PriceLevel[] = [];
    for (let i = this.levels.length - 1; i >= 0 && out.length < maxLevels; i--) {
      const l = this.levels[i]!;
      out.push([l.price, l.qty]);
    }
    return out;
  }
}

function snapshot(e: Resting): Order {
  return {
    id: e.id,
    owner: e.owner,
    side: e.side,
    qty: e.qty,
    price: e.price,
    placedHeight: e.placedHeight,
    seq: e.seq,
  };
}

export class ContinuousBook {
  private readonly bids = new BookSide("buy");
  private readonly asks = new BookSide("sell");
  private readonly byId = new Map<string, Resting>();
  private lastSeq: bigint | undefined;

  /** Number of resting orders. */
  get size(): number {
    return this.byId.size;
  }

  bestBid(): bigint | undefined {
    return this.bids.best()?.price;
  }

  bestAsk(): bigint | undefined {
    return this.asks.best()?.price;
  }

  /** Up to `maxLevels` levels a side, best first, each with the quantity resting there. */
  depth(maxLevels: number): { bids: PriceLevel[]; asks: PriceLevel[] } {
    return { bids: this.bids.depth(maxLevels), asks: this.asks.depth(maxLevels) };
  }

  /** A resting order with its remaining quantity. */
  get(id: Uint8Array): Order | undefined {
    const e = this.byId.get(orderKey(id));
    return e && snapshot(e);
  }

  /**
   * Matches an order against the book and rests what is left. Throws MarketError: BAD_ORDER,
   * DUPLICATE_ORDER (the id rests already), STALE_SEQ (seq not after every earlier placement,
   * which would break time priority). The book is unchanged when it throws.
   */
  place(order: Order): Trade[] {
    checkOrder(order);
    const key = orderKey(order.id);
    if (this.byId.has(key))
      throw new MarketError("DUPLICATE_ORDER", `order ${toHex(order.id)} rests already`);
    if (this.lastSeq !== undefined && order.seq <= this.lastSeq) {
      throw new MarketError("STALE_SEQ", `seq ${order.seq} is not after ${this.lastSeq}`);
    }
    this.lastSeq = order.seq;

    const isBuy = order.side === "buy";
    const opposite = isBuy ? this.asks : this.bids;
    const trades: Trade[] = [];
    let left = order.qty;
    for (;;) {
      const level = opposite.best();
      if (level === undefined || (isBuy ? level.price > order.price : level.price < order.price)) {
        break;
      }
      const maker = level.head!;
      const qty = minQty(maker.qty, left);
      trades.push(
        isBuy
          ? {
              buyOrderId: order.id,
              sellOrderId: maker.id,
              buyer: order.owner,
              seller: maker.owner,
              qty,
              price: level.price,
            }
          : {
              buyOrderId: maker.id,
              sellOrderId: order.id,
              buyer: maker.owner,
              seller: order.owner,
              qty,
              price: level.price,
            },
      );
      maker.qty -= qty;
      level.qty -= qty;
      left -= qty;
      if (maker.qty === 0n) {
        this.byId.delete(orderKey(maker.id));
        opposite.unlink(maker);
      }
      if (left === 0n) return trades;
    }
    this.rest(order, left, key);
    return trades;
  }

  private rest(order: Order, qty: bigint, key: string): void {
    const side = order.side === "buy" ? this.bids : this.asks;
    const entry: Resting = {
      id: order.id,
      owner: order.owner,
      side: order.side,
      price: order.price,
      placedHeight: order.placedHeight,
      seq: order.seq,
      qty,
      prev: undefined,
      next: undefined,
      level: side.levelAt(order.price),
    };
    side.append(entry);
    this.byId.set(key, entry);
  }

  /** Removes a resting order; returns it with its remaining quantity, or undefined if absent. */
  cancel(id: Uint8Array): Order | undefined {
    const key = orderKey(id);
    const entry = this.byId.get(key);
    if (entry === undefined) return undefined;
    this.byId.delete(key);
    entry.level.qty -= entry.qty;
    (entry.side === "buy" ? this.bids : this.asks).unlink(entry);
    return snapshot(entry);
  }

  /**
   * Every resting order in priority order — bids best first, oldest first within a level, then
   * asks the same way — with remaining quantities: what the vm persists.
   */
  orders(): Order[] {
    const out: Order[] = [];
    for (const side of [this.bids, this.asks]) {
      for (let i = side.levels.length - 1; i >= 0; i--) {
        for (let e = side.levels[i]!.head; e; e = e.next) out.push(snapshot(e));
      }
    }
    return out;
  }

  /**
   * Rebuilds a book from its resting orders, in any order: time priority comes from seq.
   * Throws MarketError: BAD_ORDER, DUPLICATE_ORDER, STALE_SEQ (two orders share a seq, so
   * their priority would depend on the input order), CROSSED_BOOK.
   */
  static fromOrders(orders: readonly Order[]): ContinuousBook {
    for (const o of orders) checkOrder(o);
    const sorted = [...orders].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    const book = new ContinuousBook();
    for (const o of sorted) {
      const key = orderKey(o.id);
      if (book.byId.has(key))
        throw new MarketError("DUPLICATE_ORDER", `order ${toHex(o.id)} appears twice`);
      if (book.lastSeq === o.seq)
        throw new MarketError("STALE_SEQ", `two orders share seq ${o.seq}`);
      book.rest(o, o.qty, key);
      book.lastSeq = o.seq;
    }
    const bid = book.bestBid();
    const ask = book.bestAsk();
    if (bid !== undefined && ask !== undefined && bid >= ask) {
      throw new MarketError("CROSSED_BOOK", `best bid ${bid} reaches best ask ${ask}`);
    }
    return book;
  }
}
