// A small chain for the transaction and vm fuzzers, and random transactions for it. The world is
// the trading tests' harness: utility u0 with households a (surplus) and b (short), utility u1
// with household c, an oracle each, period 1 settled so credits, obligations and a trading
// window exist. Transactions come from anyone in the cast — operators, oracles, households of
// both utilities, a validator, an app key, a stranger — of any type, with payloads drawn from the
// cast's own addresses, meters and orders and from edge values, so most are plausible and many
// break a rule. Some are also broken at the block level (nonce, chain id, type, payload bytes).
import fc from "fast-check";
import { toHex } from "../../../lib/bytes.js";
import { decode } from "../../../lib/codec.js";
import { encodeTx, signTx, type TxBody, txId } from "../../../lib/tx.js";
import type { BlockTx } from "../../../vm/apply.js";
import { parseGenesis } from "../../../vm/genesis.js";
import { PREFIX } from "../../../vm/keys.js";
import { OrderRecordSchema } from "../../../vm/trading/model.js";
import {
  encodePayload,
  type PayloadOf,
  TX_TYPE_NAMES,
  type TxTypeName,
  txTypeNumber,
} from "../../../vm/tx/types.js";
import { TradingHarness } from "../../vm/fixtures/trading/harness.js";
import {
  type Actor,
  actor,
  at,
  genesisJson,
  hash32,
  operatorOf,
  policyJson,
  validatorOf,
} from "../../vm/helpers.js";

export const MAX_U64 = (1n << 64n) - 1n;

/** Who can sign: the cast, by index into World.cast. */
const CAST = ["op0", "op1", "oracle0", "oracle1", "a", "b", "c", "validator", "app", "stranger"];

export class World {
  readonly cast: readonly Actor[];
  readonly addresses: readonly Uint8Array[];
  readonly meters: readonly Uint8Array[];
  /** Nonces of transactions built for the next block, per signer. */
  readonly #pending = new Map<string, bigint>();
  /** Ids of transactions built so far: proposals are named by them. */
  readonly recentIds: Uint8Array[] = [];

  private constructor(readonly harness: TradingHarness) {
    const h = harness;
    this.cast = [
      operatorOf(0),
      operatorOf(1),
      actor(60),
      actor(61),
      h.actor("a"),
      h.actor("b"),
      h.actor("c"),
      validatorOf(0, 0),
      actor(1500),
      actor(999),
    ];
    this.addresses = this.cast.map((a) => a.address);
    // The harness numbers meters 5000 + n in the order households were added.
    this.meters = [hash32(5000), hash32(5001), hash32(5002)];
  }

  /** A fresh world: period 1 settled (a minted 300 credits, b owes 300), at 210 s. */
  static async create(): Promise<World> {
    const h = await TradingHarness.create({
      households: { a: undefined, b: undefined },
      others: { c: undefined },
      maxJobWorkPerBlock: 10,
    });
    await h.pay("b", 50_000n);
    await h.settle(1, { a: 600n, b: 1200n, c: 800n });
    return new World(h);
  }

  get chainId(): string {
    return this.harness.chain.chainId;
  }

  /** Every open order's id, from the committed state. */
  async openOrders(): Promise<Uint8Array[]> {
    const rows = await this.harness.chain.state.scan(Uint8Array.of(PREFIX.order));
    return rows.map(([, value]) => decode(OrderRecordSchema, value).id);
  }

  /** Signs a planned transaction with the signer's next nonce (or a broken one). */
  build(
    plan: TxPlan,
    openOrders: readonly Uint8Array[],
  ): BlockTx & { encoded: Uint8Array; broken: boolean } {
    const signer = this.cast[plan.signer % this.cast.length]!;
    const key = toHex(signer.address);
    const nonce = this.harness.chain.nonceOf(signer.address) + (this.#pending.get(key) ?? 0n);
    this.#pending.set(key, (this.#pending.get(key) ?? 0n) + 1n);
    let { type, payload, fits } = encodePlan(plan, openOrders, this.recentIds);
    if (plan.fault === "unknownType") type = 99;
    if (plan.fault === "payloadBytes") payload = plan.junk;
    const body: TxBody = {
      chainId: plan.fault === "chainId" ? `${this.chainId}-other` : this.chainId,
      nonce:
        plan.fault === "nonceLow" ? nonce - 1n : plan.fault === "nonceHigh" ? nonce + 1n : nonce,
      type,
      payload,
      signer: signer.publicKey,
    };
    // No nonce below 0 exists to be "too low"; a gap is as broken.
    if (body.nonce < 0n) body.nonce = nonce + 2n;
    const encoded = encodeTx(signTx(body, signer.secretKey));
    const id = txId(encoded);
    this.recentIds.push(id);
    if (this.recentIds.length > 8) this.recentIds.shift();
    return { id, body, encoded, broken: plan.fault !== "none" || !fits };
  }

  /** Forgets the nonces handed out for a block that was applied (or refused). */
  endBlock(): void {
    this.#pending.clear();
  }
}

type Fault = "none" | "nonceLow" | "nonceHigh" | "chainId" | "unknownType" | "payloadBytes";

export interface TxPlan {
  readonly signer: number;
  readonly type: TxTypeName;
  /** The payload's fields; a number as orderId or proposalId picks an open order or a recent
   * transaction when the transaction is built. */
  readonly fields: Record<string, unknown>;
  readonly fault: Fault;
  readonly junk: Uint8Array;
}

/** The payload's encoding, or, if the fields break its schema (`fits` false), junk bytes. */
function encodePlan(
  plan: TxPlan,
  openOrders: readonly Uint8Array[],
  recentIds: readonly Uint8Array[],
): { type: number; payload: Uint8Array; fits: boolean } {
  const fields: Record<string, unknown> = { ...plan.fields };
  const resolve = (pick: unknown, from: readonly Uint8Array[]) =>
    typeof pick === "number" ? (from[pick % Math.max(1, from.length)] ?? hash32(pick)) : pick;
  if ("orderId" in fields) fields.orderId = resolve(fields.orderId, openOrders);
  if ("proposalId" in fields) fields.proposalId = resolve(fields.proposalId, recentIds);
  const type = txTypeNumber(plan.type);
  try {
    const payload = encodePayload(plan.type, fields as PayloadOf<typeof plan.type>);
    return { type, payload, fits: true };
  } catch {
    return { type, payload: plan.junk, fits: false };
  }
}

// -----------------------------------------------------------------------------------------------
// Field values.

const castIndex = fc.nat(CAST.length - 1);
const smallBig = fc.bigInt({ min: 0n, max: 400n });
const edgeBig = fc.constantFrom(
  0n,
  1n,
  2n,
  1n << 32n,
  1n << 48n,
  (1n << 63n) - 1n,
  1n << 63n,
  MAX_U64,
);
const u64 = fc.oneof({ weight: 4, arbitrary: smallBig }, { weight: 1, arbitrary: edgeBig });
const price = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 5n, max: 320n }) },
  { weight: 1, arbitrary: edgeBig },
);
const seconds = fc.integer({ min: 0, max: 500 });
const time = fc.oneof(
  { weight: 4, arbitrary: seconds.map((s) => at(s)) },
  { weight: 1, arbitrary: edgeBig },
);
const period = fc.oneof(fc.bigInt({ min: 0n, max: 6n }), edgeBig);
const side = fc.constantFrom("buy" as const, "sell" as const);
const reference = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("ref-1", "ref-2", "", "x".repeat(64)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 70 }) },
);
const bytesOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const baselines = fc.oneof(
  { weight: 8, arbitrary: fc.array(u64, { minLength: 12, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.array(u64, { maxLength: 13 }) },
);
/** Mostly what the schema admits, sometimes just outside it. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: bad });

function fieldArbitraries(world: World) {
  const address = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...world.addresses) },
    { weight: 1, arbitrary: bytesOf(20) },
  );
  // Households a, b, c (cast 4-6) most of the time.
  const household = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...world.addresses.slice(4, 7)) },
    { weight: 1, arbitrary: address },
  );
  const meter = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...world.meters) },
    { weight: 1, arbitrary: bytesOf(32) },
  );
  // A number stands for a recent transaction's id (a proposal is named by its transaction).
  const proposalId = fc.oneof(
    { weight: 4, arbitrary: fc.nat() },
    { weight: 1, arbitrary: bytesOf(32) },
  );
  const publicKey = fc.oneof(fc.constantFrom(...world.cast.map((a) => a.publicKey)), bytesOf(33));
  const meterKey = optional(
    fc.record({ type: fc.constantFrom("secp256k1" as const, "p256" as const), publicKey }),
  );
  const reading = fc.record({
    meterIdHash: meter,
    time,
    registers: mostly(
      fc.array(fc.oneof(fc.bigInt({ min: 0n, max: 5000n }), edgeBig), {
        minLength: 1,
        maxLength: 1,
      }),
      fc.array(fc.bigInt({ min: 0n, max: 5000n }), { maxLength: 3 }),
    ),
    signature: optional(bytesOf(64)),
  });
  const policyField = fc.constantFrom(
    ...Object.entries(policyJson())
      .filter(([, v]) => typeof v !== "object")
      .map(([k]) => k),
  );
  const basePolicy = parseGenesis(genesisJson([1])).utilities[0]!.policy;
  const policy = fc.tuple(policyField, fc.oneof(fc.nat(20_000), edgeBig)).map(([key, value]) => {
    const current = (basePolicy as unknown as Record<string, unknown>)[key];
    const v = typeof current === "bigint" ? BigInt(value) : Number(value);
    return { ...basePolicy, [key]: v };
  });
  const utilityId = fc.constantFrom("u0", "u1", "u2", "U-bad", "");
  const validator = fc.record({
    address: fc.constantFrom(validatorOf(0, 1).address, validatorOf(0, 0).address),
    publicKey: fc.constantFrom(validatorOf(0, 1).publicKey, validatorOf(1, 0).publicKey),
    operator: address,
    utility: utilityId,
  });
  const action = fc.oneof(
    validator.map((v) => ({ kind: "addValidator" as const, value: { validator: v } })),
    address.map((a) => ({ kind: "removeValidator" as const, value: { address: a } })),
    fc
      .record({ address, publicKey })
      .map((value) => ({ kind: "rotateValidatorKey" as const, value })),
    fc
      .record({ id: utilityId, name: fc.string({ maxLength: 10 }), operator: address, policy })
      .map((value) => ({ kind: "addUtility" as const, value })),
    utilityId.map((id) => ({ kind: "removeUtility" as const, value: { id } })),
    fc
      .record({ version: fc.nat(5), height: u64 })
      .map((value) => ({ kind: "scheduleUpgrade" as const, value })),
    fc
      .record({ utility: utilityId, operator: address })
      .map((value) => ({ kind: "rotateOperatorKey" as const, value })),
  );
  const orderId = fc.oneof(
    { weight: 4, arbitrary: fc.nat() },
    { weight: 1, arbitrary: bytesOf(32) },
  );
  const byType: { [N in TxTypeName]: fc.Arbitrary<Record<string, unknown>> } = {
    proposeGovernance: fc.record({ action }),
    approveGovernance: fc.record({ proposalId }),
    registerHousehold: fc.record({
      household,
      meterIdHash: meter,
      meterKey,
      registers: mostly(fc.integer({ min: 1, max: 2 }), fc.constantFrom(0, 3)),
      baselines,
    }),
    updateBaselines: fc.record({ household, fromPeriod: period, baselines }),
    replaceMeter: fc.record({
      household,
      meterIdHash: meter,
      meterKey,
      oldFinal: reading,
      newFirst: reading,
    }),
    requestKeyRotation: fc.record({ household, newKey: address }),
    completeKeyRotation: fc.record({ household }),
    cancelKeyRotation: fc.record({ household }),
    closeHousehold: fc.record({ household, reference }),
    setExplicitCap: fc.record({ household, period, cap: optional(u64) }),
    registerOracle: fc.record({ oracle: address }),
    revokeOracle: fc.record({ oracle: address }),
    setPolicy: fc.record({ fromPeriod: period, policy }),
    recordPayment: fc.record({ household, amount: u64, reference }),
    recordCharge: fc.record({ household, amount: u64, reference }),
    reverseBillRecord: fc.record({ reference }),
    postCorrection: fc.record({
      household,
      period,
      reason: fc.constantFrom("meter-fault", "misread", "tamper", "billing-error", "other"),
      consumptionDelta: fc.oneof(
        fc.bigInt({ min: -500n, max: 500n }),
        fc.constantFrom(-(1n << 63n), (1n << 63n) - 1n),
      ),
      reference,
    }),
    submitReadings: fc.record({ readings: fc.array(reading, { maxLength: 5 }) }),
    placeOrder: fc.record({ side, qty: u64, price, expiry: time }),
    cancelOrder: fc.record({ orderId }),
    replaceOrder: fc.record({ orderId, qty: u64, price, expiry: time }),
    setStandingOrder: fc.record({ household, side, price }),
    clearStandingOrder: fc.record({ household, side }),
    transferCredits: fc.record({ to: address, vintage: fc.bigInt({ min: 0n, max: 3n }), qty: u64 }),
    delegateAppKey: fc.record({ appKey: optional(address) }),
  };
  return byType;
}

/** The cast members whose role the type needs (and the app key for standing orders). */
function roleOf(type: TxTypeName): number[] {
  const n = txTypeNumber(type);
  if (n < 30) return [0, 1];
  if (n < 40) return [2, 3];
  return type === "setStandingOrder" || type === "clearStandingOrder" ? [4, 5, 6, 8] : [4, 5, 6];
}

/** Random transactions for this world; `faultWeight` in 100 are broken at the block level. */
export function txPlans(world: World, faultWeight = 4): fc.Arbitrary<TxPlan> {
  const byType = fieldArbitraries(world);
  const fault = fc.oneof(
    { weight: 100 - faultWeight, arbitrary: fc.constant("none" as const) },
    {
      weight: faultWeight,
      arbitrary: fc.constantFrom(
        "nonceLow",
        "nonceHigh",
        "chainId",
        "unknownType",
        "payloadBytes",
      ) as fc.Arbitrary<Fault>,
    },
  );
  return fc.constantFrom(...TX_TYPE_NAMES).chain((type) =>
    fc.record({
      signer: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...roleOf(type)) },
        { weight: 1, arbitrary: castIndex },
      ),
      type: fc.constant(type),
      fields: byType[type],
      fault,
      junk: fc.uint8Array({ maxLength: 24 }),
    }),
  );
}
