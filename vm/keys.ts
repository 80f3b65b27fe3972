// The world-state key layout: one table of one-byte prefixes, and a typed builder per kind of
// record. Integers in keys are big-endian so that an ordered scan follows numeric order, and
// variable-length parts (utility ids, text) carry a length byte so that no key of one record
// can be a prefix of another's ("ab" || x never collides with "abc"). Adding a kind of record
// means adding a row here; test/vm/keys.test.ts rejects duplicate prefixes.
import { concatBytes, u32be, utf8, writeU64be } from "../lib/bytes.js";

export const PREFIX = {
  /** () → Params: the genesis parameters, fixed for the chain's life. */
  params: 0x01,
  /** () → Upgrades: the rules version and the upgrades governance scheduled. */
  upgrades: 0x02,
  /** () → Totals: running sums that the money and credit invariants are checked against. */
  totals: 0x03,
  /** () → ValidatorSchedule: the sets by first height, and the queue of changes. */
  validators: 0x04,
  /** proposalId(32) → Proposal. */
  proposal: 0x05,
  /** expiresHeight(u64) ‖ proposalId(32) → empty: proposals in expiry order. */
  proposalExpiry: 0x06,

  /** address(20) → Account: nonce and balance. */
  account: 0x10,
  /** key address(20) → household address: who may sign as which household. */
  householdKey: 0x11,
  /** operator address(20) → utility id. */
  operator: 0x12,

  /** utility id → Utility. */
  utility: 0x20,
  /** household address(20) → Household. */
  household: 0x21,
  /** utility id ‖ index(u32) → household address: per-household jobs walk this with a cursor. */
  householdIndex: 0x22,
  /** meterIdHash(32) → household address. */
  meter: 0x23,
  /** oracle address(20) → Oracle. */
  oracle: 0x24,
  /** household address(20) ‖ period(u64) → explicit cap in Wh. */
  explicitCap: 0x25,
  /** utility id ‖ external reference → BillRecord: payments and charges, for idempotency. */
  billRecord: 0x26,
  /** meterIdHash(32) → the meter's last reading (readings module). */
  meterReading: 0x27,
  /** household address(20) ‖ period(u64) → register values at start_k (readings module). */
  boundary: 0x28,

  /** utility id ‖ period(u64) → the period's record: snapshot, phase progress (period module). */
  period: 0x30,
  /** household address(20) ‖ period(u64) → the household's settlement of the period. */
  householdPeriod: 0x31,

  /** household address(20) ‖ vintage(u64) → credits held of that vintage. */
  credits: 0x40,
  /** orderId(32) → Order. */
  order: 0x41,
  /** utility id ‖ side(1) ‖ price key(u64) ‖ seq(u64) [‖ orderId(32)] → orderId: the book. */
  orderBook: 0x42,
  /** household address(20) ‖ side(1) → standing order. */
  standingOrder: 0x43,
  /** utility id → the utility's market: order sequence, last clearing price (trading module). */
  market: 0x44,
  /** household address(20) → its trading account: money locked by buys, open orders, owed Wh. */
  tradingAccount: 0x45,
  /** expiry(u64) ‖ orderId(32) → empty: orders that expire before their window closes. */
  orderExpiry: 0x46,
  /** household address(20) ‖ orderId(32) → empty: a household's open orders. */
  householdOrder: 0x47,
  /** utility id ‖ period(u64) ‖ side(1) ‖ rank → orderId: the `paper` mode's service queues. */
  paperQueue: 0x48,
  /** household address(20) → the vintages it holds credits of, ascending (settlement module). */
  creditVintages: 0x49,

  /** household address(20) ‖ period(u64) → Statement. */
  statement: 0x50,

  /** job name → the job's cursor: resumable bounded end-of-block work. */
  job: 0x60,
} as const;

export type PrefixName = keyof typeof PREFIX;

const ADDRESS = 20;
const HASH = 32;

function fixed(name: string, bytes: Uint8Array, length: number): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new RangeError(`${name}: expected ${length} bytes`);
  }
  return bytes;
}

/** A length byte, then the bytes: keeps variable-length key parts prefix-free. */
function sized(name: string, bytes: Uint8Array): Uint8Array {
  if (bytes.length > 255) throw new RangeError(`${name}: over 255 bytes`);
  return concatBytes(Uint8Array.of(bytes.length), bytes);
}

// One allocation per key, u64 parts written straight into it: a block builds tens of thousands.
function key(prefix: number, ...parts: Array<Uint8Array | bigint>): Uint8Array {
  let length = 1;
  for (const part of parts) length += typeof part === "bigint" ? 8 : part.length;
  const out = new Uint8Array(length);
  out[0] = prefix;
  let offset = 1;
  for (const part of parts) {
    if (typeof part === "bigint") {
      writeU64be(out, offset, part);
      offset += 8;
    } else {
      out.set(part, offset);
      offset += part.length;
    }
  }
  return out;
}

const address = (a: Uint8Array) => fixed("address", a, ADDRESS);
const hash = (h: Uint8Array) => fixed("hash", h, HASH);

// Utility ids are few and in most keys a block builds (utility, market, period, book, ...):
// their sized UTF-8 form is kept rather than encoded every time. Shared, so never written to:
// key() copies it into each key.
const utilityParts = new Map<string, Uint8Array>();
const MAX_UTILITY_PARTS = 1024;

function utility(id: string): Uint8Array {
  let part = utilityParts.get(id);
  if (part === undefined) {
    part = sized("utility id", utf8(id));
    if (utilityParts.size >= MAX_UTILITY_PARTS) utilityParts.clear();
    utilityParts.set(id, part);
  }
  return part;
}

export type BookSide = "buy" | "sell";
// Shared, so never written to: key() copies them into each key.
const BUY = Uint8Array.of(0);
const SELL = Uint8Array.of(1);
const sideByte = (side: BookSide) => (side === "buy" ? BUY : SELL);
const U64_MAX = (1n << 64n) - 1n;
const bookPrice = (side: BookSide, price: bigint) => (side === "buy" ? U64_MAX - price : price);

export const keys = {
  params: () => key(PREFIX.params),
  upgrades: () => key(PREFIX.upgrades),
  totals: () => key(PREFIX.totals),
  validators: () => key(PREFIX.validators),
  proposal: (id: Uint8Array) => key(PREFIX.proposal, hash(id)),
  proposalExpiry: (height: bigint, id: Uint8Array) => key(PREFIX.proposalExpiry, height, hash(id)),

  account: (a: Uint8Array) => key(PREFIX.account, address(a)),
  householdKey: (signer: Uint8Array) => key(PREFIX.householdKey, address(signer)),
  operator: (a: Uint8Array) => key(PREFIX.operator, address(a)),

  utility: (id: string) => key(PREFIX.utility, utility(id)),
  household: (a: Uint8Array) => key(PREFIX.household, address(a)),
  householdIndex: (utilityId: string, index: number) =>
    key(PREFIX.householdIndex, utility(utilityId), u32be(index)),
  /** Every index entry of one utility, for scans. */
  householdIndexOf: (utilityId: string) => key(PREFIX.householdIndex, utility(utilityId)),
  meter: (meterIdHash: Uint8Array) => key(PREFIX.meter, hash(meterIdHash)),
  oracle: (a: Uint8Array) => key(PREFIX.oracle, address(a)),
  explicitCap: (household: Uint8Array, period: bigint) =>
    key(PREFIX.explicitCap, address(household), period),
  billRecord: (utilityId: string, reference: string) =>
    key(PREFIX.billRecord, utility(utilityId), sized("reference", utf8(reference))),
  meterReading: (meterIdHash: Uint8Array) => key(PREFIX.meterReading, hash(meterIdHash)),
  boundary: (household: Uint8Array, period: bigint) =>
    key(PREFIX.boundary, address(household), period),

  period: (utilityId: string, period: bigint) => key(PREFIX.period, utility(utilityId), period),
  householdPeriod: (household: Uint8Array, period: bigint) =>
    key(PREFIX.householdPeriod, address(household), period),

  credits: (household: Uint8Array, vintage: bigint) =>
    key(PREFIX.credits, address(household), vintage),
  /** Every vintage a household holds, oldest first. */
  creditsOf: (household: Uint8Array) => key(PREFIX.credits, address(household)),
  creditVintages: (household: Uint8Array) => key(PREFIX.creditVintages, address(household)),
  order: (id: Uint8Array) => key(PREFIX.order, hash(id)),
  /**
   * Buys are keyed by (2^64 − 1 − price) so that an ascending scan of either side meets the
   * best price first; within a price, the lower seq (earlier placement) comes first.
   */
  orderBook: (utilityId: string, side: BookSide, price: bigint, seq: bigint) =>
    key(PREFIX.orderBook, utility(utilityId), sideByte(side), bookPrice(side, price), seq),
  /**
   * The book entry the trading module writes: orderBook's key then the order id, so that orders
   * of one price and seq (the batch and paper modes use the placement height as seq, which
   * keeps the book independent of the order of a block's transactions) stay distinct.
   */
  orderBookEntry: (utilityId: string, side: BookSide, price: bigint, seq: bigint, id: Uint8Array) =>
    key(
      PREFIX.orderBook,
      utility(utilityId),
      sideByte(side),
      bookPrice(side, price),
      seq,
      hash(id),
    ),
  /** One side of one utility's book, best first. */
  orderBookSide: (utilityId: string, side: BookSide) =>
    key(PREFIX.orderBook, utility(utilityId), sideByte(side)),
  standingOrder: (household: Uint8Array, side: BookSide) =>
    key(PREFIX.standingOrder, address(household), sideByte(side)),
  market: (utilityId: string) => key(PREFIX.market, utility(utilityId)),
  tradingAccount: (household: Uint8Array) => key(PREFIX.tradingAccount, address(household)),
  orderExpiry: (expiry: bigint, id: Uint8Array) => key(PREFIX.orderExpiry, expiry, hash(id)),
  householdOrder: (household: Uint8Array, id: Uint8Array) =>
    key(PREFIX.householdOrder, address(household), hash(id)),
  /** Every open order of one household, by id. */
  householdOrdersOf: (household: Uint8Array) => key(PREFIX.householdOrder, address(household)),
  /**
   * Sells rank by price ‖ placement height ‖ sha256(orderId), buys by height ‖ sha256(orderId):
   * an ascending scan meets them in the order Algorithm 1 serves them.
   */
  paperQueue: (utilityId: string, period: bigint, side: BookSide, rank: Uint8Array) =>
    key(PREFIX.paperQueue, utility(utilityId), period, sideByte(side), rank),
  paperQueueSide: (utilityId: string, period: bigint, side: BookSide) =>
    key(PREFIX.paperQueue, utility(utilityId), period, sideByte(side)),

  statement: (household: Uint8Array, period: bigint) =>
    key(PREFIX.statement, address(household), period),

  job: (name: string) => key(PREFIX.job, sized("job name", utf8(name))),
};
