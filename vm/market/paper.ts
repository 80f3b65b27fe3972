// The `paper` market mode: Algorithm 1 of Aoun et al., "Blockchain-Enabled Energy Demand Side
// Management Cap and Trade Model" (Energies 2021, 14, 8600), as DESIGN.md §6 fixes it. At the
// end of the trading window the sell offers are sorted from lowest to highest price, and each
// buyer in turn buys from the cheapest offers priced at or below its limit until its quantity is
// covered, paying each offer's own price (pay-as-offer). The paper leaves ties open; here equal
// prices go by placement height, then sha256(orderId), and buyers go by placement height, then
// sha256(orderId) — a hash no one can choose to come first, unlike arrival order.
import { compareBytes } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import { type Book, indexBook, minQty, type Order, type Trade } from "./order.js";

interface Ranked {
  readonly order: Order;
  readonly hash: Uint8Array;
}

function rank(orders: readonly Order[]): Ranked[] {
  return orders.map((order) => ({ order, hash: sha256(order.id) }));
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sell offers in the order buyers take them: price, placement height, sha256(id), ascending. */
export function offerQueue(sells: readonly Order[]): Order[] {
  return rank(sells)
    .sort(
      (a, b) =>
        cmp(a.order.price, b.order.price) ||
        cmp(a.order.placedHeight, b.order.placedHeight) ||
        compareBytes(a.hash, b.hash),
    )
    .map((r) => r.order);
}

/** Buyers in the order they are served: placement height, then sha256(id), ascending. */
export function buyerQueue(buys: readonly Order[]): Order[] {
  return rank(buys)
    .sort((a, b) => cmp(a.order.placedHeight, b.order.placedHeight) || compareBytes(a.hash, b.hash))
    .map((r) => r.order);
}

/**
 * One clearing, resumable buyer by buyer, so the vm can spread it over blocks with a bounded
 * amount of work in each. Stepping in any chunk sizes gives the trades of one full run.
 */
export class PaperClearing {
  private readonly offers: readonly Order[];
  private readonly offerLeft: bigint[];
  private readonly buyers: readonly Order[];
  /** Every offer before this one is sold out: each buyer takes the cheapest first. */
  private cheapest = 0;
  private nextBuyer = 0;

  /** Throws MarketError for a malformed book (see indexBook). */
  constructor(book: Book) {
    indexBook(book);
    this.offers = offerQueue(book.sells);
    this.offerLeft = this.offers.map((o) => o.qty);
    this.buyers = buyerQueue(book.buys);
  }

  get done(): boolean {
    return this.nextBuyer >= this.buyers.length;
  }

  /** Serves up to `maxBuyers` more buyers and returns their trades in execution order. */
  step(maxBuyers: number): Trade[] {
    const trades: Trade[] = [];
    const stop = Math.min(this.buyers.length, this.nextBuyer + Math.max(0, Math.floor(maxBuyers)));
    for (; this.nextBuyer < stop; this.nextBuyer++) {
      const buyer = this.buyers[this.nextBuyer]!;
      let need = buyer.qty;
      let i = this.cheapest;
      while (need > 0n && i < this.offers.length && this.offers[i]!.price <= buyer.price) {
        const offer = this.offers[i]!;
        const left = this.offerLeft[i]!;
        const qty = minQty(left, need);
        trades.push({
          buyOrderId: buyer.id,
          sellOrderId: offer.id,
          buyer: buyer.owner,
          seller: offer.owner,
          qty,
          price: offer.price,
        });
        need -= qty;
        this.offerLeft[i] = left - qty;
        if (left === qty) i++;
      }
      this.cheapest = i;
    }
    return trades;
  }
}

/** The whole clearing at once: every trade, buyer by buyer in service order. */
export function clearPaper(book: Book): Trade[] {
  const clearing = new PaperClearing(book);
  return clearing.step(Number.MAX_SAFE_INTEGER);
}
