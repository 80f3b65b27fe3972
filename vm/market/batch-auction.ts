// The `batch` market mode (DESIGN.md §6): a uniform-price call auction over one utility's book.
// `clearBatch` is pure: the same book and parameters give the same price and fills on every
// node, whatever order the orders arrived in — it reads neither seq nor placedHeight.
import { compareBytes, concatBytes } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import {
  type Book,
  type Fill,
  indexBook,
  MarketError,
  minQty,
  type Order,
  type Side,
} from "./order.js";

export interface BatchParams {
  /** Lowest candidate price, the policy's floorPrice. */
  readonly floor: bigint;
  /** Highest candidate price, the policy's penaltyPrice. */
  readonly penalty: bigint;
  /** The last clearing price, or initialReferencePrice before the first auction. */
  readonly referencePrice: bigint;
  /** The parent block hash: breaks pro-rata ties so that no one can buy a place in a queue. */
  readonly tieSeed: Uint8Array;
}

/** `[price, quantity]`. */
export type PriceLevel = readonly [price: bigint, qty: bigint];

/**
 * The auction's step curves, one point per distinct order price, ascending by price:
 * demand holds D(p) = Σ buys priced ≥ p, supply holds S(p) = Σ sells priced ≤ p. Between two
 * points demand equals its value at the higher one and supply its value at the lower one.
 */
export interface Curves {
  readonly demand: readonly PriceLevel[];
  readonly supply: readonly PriceLevel[];
}

export type BatchResult =
  | {
      readonly price: bigint;
      readonly volume: bigint;
      /** One per order that trades, buys then sells, each by order id; all at `price`. */
      readonly fills: readonly Fill[];
      readonly curves: Curves;
    }
  | {
      /** No price crosses: nothing trades and the reference price stays as it was. */
      readonly price: undefined;
      readonly volume: 0n;
      readonly fills: readonly [];
      readonly curves: Curves;
    };

/** The reference price before a market's first auction: the middle of the band, floored. */
export function initialReferencePrice(floor: bigint, penalty: bigint): bigint {
  return (floor + penalty) / 2n;
}

interface Level {
  readonly price: bigint;
  readonly orders: Order[];
  qty: bigint;
}

/** Orders grouped by price, in the given price order. */
function levels(orders: readonly Order[], ascending: boolean): Level[] {
  const byPrice = new Map<bigint, Level>();
  for (const o of orders) {
    const level = byPrice.get(o.price);
    if (level) {
      level.orders.push(o);
      level.qty += o.qty;
    } else {
      byPrice.set(o.price, { price: o.price, orders: [o], qty: o.qty });
    }
  }
  const sorted = [...byPrice.values()];
  sorted.sort((a, b) => (a.price === b.price ? 0 : a.price < b.price === ascending ? -1 : 1));
  return sorted;
}

function cumulative(sorted: readonly Level[]): PriceLevel[] {
  let total = 0n;
  return sorted.map((l) => {
    total += l.qty;
    return [l.price, total] as const;
  });
}

interface Candidate {
  readonly price: bigint;
  readonly volume: bigint;
  readonly imbalance: bigint;
  readonly distance: bigint;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** Is `a` preferred to `b` by the rule: volume ↑, |D − S| ↓, distance to reference ↓, price ↓. */
function better(a: Candidate, b: Candidate): boolean {
  if (a.volume !== b.volume) return a.volume > b.volume;
  if (a.imbalance !== b.imbalance) return a.imbalance < b.imbalance;
  if (a.distance !== b.distance) return a.distance < b.distance;
  return a.price < b.price;
}

/**
 * The price a scan of every integer in [floor, penalty] would choose, found from breakpoints.
 * D(p) only changes between b and b + 1 for a buy price b, and S(p) only between s − 1 and s
 * for a sell price s, so the band splits into runs [lo, hi] on which D and S — hence volume
 * and imbalance — are constant. Within a run the scan's remaining tie-breaks (nearest the
 * reference, then lower) pick the reference clamped to [lo, hi]; comparing those picks across
 * runs with the full rule therefore picks what the scan picks.
 */
function choosePrice(
  buysAscending: readonly Level[],
  sellsAscending: readonly Level[],
  params: BatchParams,
): Candidate {
  const { floor, penalty, referencePrice } = params;
  const starts = new Set<bigint>([floor]);
  for (const l of buysAscending)
    if (l.price + 1n > floor && l.price + 1n <= penalty) starts.add(l.price + 1n);
  for (const l of sellsAscending) if (l.price > floor && l.price <= penalty) starts.add(l.price);
  const runStarts = [...starts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  let demand = 0n;
  for (const l of buysAscending) demand += l.qty;
  let supply = 0n;
  let b = 0; // buy levels below the current price, already taken out of demand
  let s = 0; // sell levels at or below the current price, already in supply
  let best: Candidate | undefined;
  for (let i = 0; i < runStarts.length; i++) {
    const lo = runStarts[i]!;
    const hi = i + 1 < runStarts.length ? runStarts[i + 1]! - 1n : penalty;
    while (b < buysAscending.length && buysAscending[b]!.price < lo)
      demand -= buysAscending[b++]!.qty;
    while (s < sellsAscending.length && sellsAscending[s]!.price <= lo)
      supply += sellsAscending[s++]!.qty;
    const price = referencePrice < lo ? lo : referencePrice > hi ? hi : referencePrice;
    const candidate: Candidate = {
      price,
      volume: minQty(demand, supply),
      imbalance: abs(demand - supply),
      distance: abs(price - referencePrice),
    };
    if (best === undefined || better(candidate, best)) best = candidate;
  }
  // runStarts always holds floor, so the loop ran at least once.
  return best!;
}

/**
 * Splits R Wh over one price level in proportion to size: ⌊qᵢ·R/Q⌋ each, then one Wh each by
 * largest remainder qᵢ·R mod Q, ties by sha256(seed ‖ id) ascending. R < Q, so no order gets
 * more than it asked for, and only orders with a non-zero remainder get an extra Wh.
 */
function prorate(level: Level, r: bigint, seed: Uint8Array): Map<Order, bigint> {
  const q = level.qty;
  const shares = new Map<Order, bigint>();
  let left = r;
  for (const o of level.orders) {
    const share = (o.qty * r) / q;
    shares.set(o, share);
    left -= share;
  }
  if (left > 0n) {
    const ranked = level.orders.map((o) => ({
      order: o,
      remainder: (o.qty * r) % q,
      tie: sha256(concatBytes(seed, o.id)),
    }));
    ranked.sort((x, y) =>
      x.remainder !== y.remainder
        ? x.remainder > y.remainder
          ? -1
          : 1
        : compareBytes(x.tie, y.tie),
    );
    for (let i = 0; left > 0n; i++, left--) {
      const o = ranked[i]!.order;
      shares.set(o, shares.get(o)! + 1n);
    }
  }
  return shares;
}

/**
 * Allocates `volume` over the levels that can trade, best price first: whole levels while they
 * fit, then the first level that does not fit pro rata. When that level is at the clearing
 * price this is exactly DESIGN §6's rule. It can also be a better-priced level — when the
 * excess side has no orders at the price, as when the reference price lands inside a run — and
 * then "strictly better orders fill fully" cannot hold for all of them, so price priority
 * decides which fill and the pro-rata rule applies at the marginal level.
 */
function allocate(
  bestFirst: readonly Level[],
  volume: bigint,
  seed: Uint8Array,
): Map<Order, bigint> {
  const out = new Map<Order, bigint>();
  let left = volume;
  for (const level of bestFirst) {
    if (left === 0n) break;
    if (level.qty <= left) {
      for (const o of level.orders) out.set(o, o.qty);
      left -= level.qty;
    } else {
      for (const [o, share] of prorate(level, left, seed)) if (share > 0n) out.set(o, share);
      left = 0n;
    }
  }
  return out;
}

function toFills(allocation: Map<Order, bigint>, side: Side, price: bigint): Fill[] {
  const fills: Fill[] = [];
  for (const [o, qty] of allocation) fills.push({ orderId: o.id, side, qty, price });
  return fills.sort((a, b) => compareBytes(a.orderId, b.orderId));
}

/**
 * Clears a book at one uniform price. Throws MarketError: BAD_PARAMS (floor < 0, floor >
 * penalty), or the book errors of indexBook.
 */
export function clearBatch(book: Book, params: BatchParams): BatchResult {
  if (params.floor < 0n || params.floor > params.penalty) {
    throw new MarketError("BAD_PARAMS", "the price band must satisfy 0 ≤ floor ≤ penalty");
  }
  if (!(params.tieSeed instanceof Uint8Array)) {
    throw new MarketError("BAD_PARAMS", "the tie seed must be bytes");
  }
  indexBook(book);
  const buysAscending = levels(book.buys, true);
  const sellsAscending = levels(book.sells, true);
  const curves: Curves = {
    demand: cumulative([...buysAscending].reverse()).reverse(),
    supply: cumulative(sellsAscending),
  };
  const chosen = choosePrice(buysAscending, sellsAscending, params);
  if (chosen.volume === 0n) return { price: undefined, volume: 0n, fills: [], curves };

  const { price, volume } = chosen;
  const eligibleBuys = buysAscending.filter((l) => l.price >= price).reverse();
  const eligibleSells = sellsAscending.filter((l) => l.price <= price);
  const fills = [
    ...toFills(allocate(eligibleBuys, volume, params.tieSeed), "buy", price),
    ...toFills(allocate(eligibleSells, volume, params.tieSeed), "sell", price),
  ];
  return { price, volume, fills, curves };
}
