// Matching engines: the continuous book against hft-limit-order-book on one order stream, and the
// batch auction's cost per block as the resting book grows.
import { createRequire } from "node:module";
import { u64be } from "../lib/bytes.js";
import { sha256 } from "../lib/hash.js";
import { clearBatch } from "../vm/market/batch-auction.js";
import { ContinuousBook } from "../vm/market/continuous-book.js";
import type { Order, Side } from "../vm/market/order.js";
import { type BenchGroup, type Measurement, measure } from "./harness.js";

// The library's ESM build imports files without extensions, which Node refuses; its CommonJS
// entry loads.
const { OrderBook } = createRequire(import.meta.url)("hft-limit-order-book") as {
  OrderBook: new () => {
    limit(o: { side: Side; id: string; size: number; price: number }): unknown;
    cancel(id: string): unknown;
  };
};

interface Step {
  readonly cancel: boolean;
  readonly id: number;
  readonly side: Side;
  readonly qty: number;
  readonly price: number;
}

/** One deterministic stream of placements (about 1 in 5 steps cancels an earlier order). */
function stream(length: number): Step[] {
  let x = 0x9e3779b9;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const steps: Step[] = [];
  for (let i = 0; i < length; i++) {
    if (i > 10 && rand() < 0.2) {
      steps.push({ cancel: true, id: Math.floor(rand() * i), side: "buy", qty: 0, price: 0 });
      continue;
    }
    const side: Side = rand() < 0.5 ? "buy" : "sell";
    // Prices around 150 micro-units per Wh, buys a little below sells, so the book rests and crosses.
    const price = 100 + Math.floor(rand() * 100) + (side === "buy" ? -8 : 8);
    steps.push({ cancel: false, id: i, side, qty: 1 + Math.floor(rand() * 5000), price });
  }
  return steps;
}

const OWNER = new Uint8Array(20);

function orderOf(step: Step, ids: Uint8Array[]): Order {
  return {
    id: ids[step.id]!,
    owner: OWNER,
    side: step.side,
    qty: BigInt(step.qty),
    price: BigInt(step.price),
    placedHeight: 1n,
    seq: BigInt(step.id),
  };
}

function restingBook(orders: number): { buys: Order[]; sells: Order[] } {
  const buys: Order[] = [];
  const sells: Order[] = [];
  for (let i = 0; i < orders; i++) {
    const side: Side = i % 2 === 0 ? "buy" : "sell";
    const price = BigInt(100 + ((i * 7919) % 100));
    const order = {
      id: sha256(u64be(BigInt(i))),
      owner: OWNER,
      side,
      qty: BigInt(1 + ((i * 104729) % 5000)),
      price,
      placedHeight: 1n,
      seq: BigInt(i),
    };
    (side === "buy" ? buys : sells).push(order);
  }
  return { buys, sells };
}

export async function market(): Promise<BenchGroup> {
  const STREAM = 50_000;
  return {
    title: "Matching engines",
    description:
      `The continuous book and hft-limit-order-book (numbers, string ids) replay one stream of ${STREAM.toLocaleString("en-US")} ` +
      "limit orders and cancellations; ours uses bigint quantities and prices and checks every order. " +
      "The batch auction clears books of growing size in a band of 1 to 1,000 micro-units per Wh.",
    targets: [
      {
        description: "the continuous book within 2× of hft-limit-order-book's speed",
        check: (r) =>
          (r.get("book.wattcap")?.rate ?? 0) >= 0.5 * (r.get("book.hft")?.rate ?? Infinity),
      },
    ],
    async run(): Promise<Measurement[]> {
      const steps = stream(STREAM);
      const ids = steps.map((_, i) => sha256(u64be(BigInt(i))));
      const strIds = steps.map((_, i) => `o${i}`);
      const out: Measurement[] = [];
      out.push(
        await measure(
          "book.hft",
          "hft-limit-order-book",
          () => {
            const book = new OrderBook();
            for (const s of steps) {
              if (s.cancel) book.cancel(strIds[s.id]!);
              else book.limit({ side: s.side, id: strIds[s.id]!, size: s.qty, price: s.price });
            }
            return steps.length;
          },
          { unit: "orders/s" },
        ),
      );
      out.push(
        await measure(
          "book.wattcap",
          "Wattcap ContinuousBook",
          () => {
            const book = new ContinuousBook();
            for (const s of steps) {
              if (s.cancel) book.cancel(ids[s.id]!);
              else book.place(orderOf(s, ids));
            }
            return steps.length;
          },
          { unit: "orders/s", baseline: "book.hft" },
        ),
      );
      for (const size of [100, 1_000, 10_000]) {
        const book = restingBook(size);
        const params = {
          floor: 1n,
          penalty: 1_000n,
          referencePrice: 500n,
          tieSeed: new Uint8Array(32),
        };
        out.push(
          await measure(
            `auction.${size}`,
            `clearBatch, ${size.toLocaleString("en-US")} resting orders`,
            () => {
              clearBatch(book, params);
              return 1;
            },
            { unit: "auctions/s" },
          ),
        );
      }
      return out;
    },
  };
}
