// Block execution (issue #3): how many transactions of a realistic mix the vm executes per
// second, first with the block's writes discarded (applyBlock on the committed state, as a
// validator executes a proposal), then through the whole commit path node/chain.ts takes
// (applyBlock, the state root, receipts, the encoded block and the store's fsynced commit).
// Signatures are excluded: transactions reach applyBlock already verified, as the host hands
// them over, and the meter signatures of the oracle batches are passed as verified, as the host's
// worker pool reports them. There is no peer library for this, so each rate is reported against
// a row holding its target.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { type Block, blockHash, computeTxRoot, encodeBlock, zeroHash } from "../lib/block.js";
import { toHex, u64be } from "../lib/bytes.js";
import { meterPublicKeyOf, signMeter } from "../lib/meter-key.js";
import { encodeTx, txId } from "../lib/tx.js";
import { computeReceiptsRoot } from "../node/chain.js";
import { Store } from "../state/store.js";
import { FastChain } from "../test/vm/fixtures/trading/sorted-state.js";
import {
  type Actor,
  actor,
  at,
  codeOf,
  genesisJson,
  hash32,
  operatorOf,
  validatorOf,
} from "../test/vm/helpers.js";
import { type AppliedBlock, applyBlock, type BlockTx } from "../vm/apply.js";
import type { BlockContext } from "../vm/context.js";
import { PREFIX } from "../vm/keys.js";
import { type Reading, readingSignBytes } from "../vm/model/reading.js";
import { meterSignatureKey } from "../vm/readings/signature.js";
import { encodeReceipt, type Receipt } from "../vm/receipt.js";
import { tables } from "../vm/tables.js";
import { orderIdOf } from "../vm/trading/orders.js";
import { encodePayload, type PayloadOf, type TxTypeName, txTypeNumber } from "../vm/tx/types.js";
import type { BenchGroup, Measurement, Target } from "./harness.js";
import { measure, single } from "./harness.js";

/** Households per utility; two utilities. Half of each saved in period 1, half overran. */
const PER_UTILITY = 1_500;
/** One block's transactions, per utility (both utilities send the same mix). */
const MIX = {
  readingBatches: 5,
  crossingPairs: 75,
  resting: 75,
  cancels: 75,
  transfers: 75,
  standing: 50,
  payments: 70,
} as const;
const READINGS_PER_BATCH = 50;
const TXS_PER_BLOCK =
  2 *
  (MIX.readingBatches +
    2 * MIX.crossingPairs +
    MIX.resting +
    MIX.cancels +
    MIX.transfers +
    MIX.standing +
    MIX.payments);
const READINGS_PER_BLOCK = 2 * MIX.readingBatches * READINGS_PER_BATCH;
/** A resting order is cancelled this many blocks after it was placed. */
const RESTING_BLOCKS = 10;
/** Blocks 200 ms apart: each meter is read every 6 blocks, over the policy's 1 s interval. */
const STEP_MS = 200n;
/** The commit path: blocks of warm-up, then three runs of this many blocks each. */
const COMMIT_WARMUP = 2;
const COMMIT_RUN_BLOCKS = 5;

const TARGET_EXECUTE = 20_000;
const TARGET_COMMIT = 5_000;

const ZERO_SIGNATURE = new Uint8Array(64);
/** Every cap is 900 Wh (baselines of 1,000, a 10% reduction): 300 credits or 300 owed. */
const CAP = 900n;
const SAVED = 600n;
const OVERRAN = 1_200n;

interface Household {
  readonly who: Actor;
  readonly utility: number;
  readonly meter: Uint8Array;
  readonly meterSecret: Uint8Array;
  readonly meterPublicKey: Uint8Array;
  /** Savers (the even-numbered households of each utility) consumed under their cap. */
  readonly saver: boolean;
  register: bigint;
}

/** A transaction before its nonce is known; `rests` marks an order to cancel later. */
interface Spec {
  readonly signer: Actor;
  readonly type: TxTypeName;
  readonly payload: unknown;
  readonly rests?: boolean;
}

function spec<N extends TxTypeName>(signer: Actor, type: N, payload: PayloadOf<N>): Spec {
  return { signer, type, payload };
}

/** A block ready to execute: its transactions (encoded too) and the meter signatures verified. */
interface PreparedBlock {
  readonly height: bigint;
  readonly time: bigint;
  readonly txs: readonly BlockTx[];
  readonly encoded: readonly Uint8Array[];
  readonly verified: Set<string>;
}

const oracleOf = (u: number) => actor(60 + u);

function meterSecret(n: number): Uint8Array {
  const secret = new Uint8Array(32);
  secret.set(u64be(BigInt(70_000 + n)), 24);
  return secret;
}

/**
 * The chain the blocks run on: two utilities with an oracle each, their households registered
 * with secp256k1 meter keys, and period 1 read and finalised, so savers hold 300 credits and
 * overrunners owe 300. Built in memory; its state then becomes the store's first version.
 */
async function settledChain(): Promise<{ chain: FastChain; households: Household[] }> {
  const chain = new FastChain(
    genesisJson([1, 1], {
      limits: { maxReadingsPerBatch: 1_000, maxJobWorkPerBlock: 1_000, keyRotationDelayMs: 20_000 },
    }),
  );
  const households: Household[] = [];
  for (let n = 0; n < 2 * PER_UTILITY; n++) {
    const secret = meterSecret(n);
    households.push({
      who: actor(1_000 + n),
      utility: n % 2,
      meter: hash32(5_000 + n),
      meterSecret: secret,
      meterPublicKey: meterPublicKeyOf("secp256k1", secret),
      saver: Math.floor(n / 2) % 2 === 0,
      register: 0n,
    });
  }
  const setup: BlockTx[] = [0, 1].map((u) =>
    chain.tx(operatorOf(u), "registerOracle", { oracle: oracleOf(u).address }),
  );
  for (const h of households) {
    setup.push(
      chain.tx(operatorOf(h.utility), "registerHousehold", {
        household: h.who.address,
        meterIdHash: h.meter,
        meterKey: { type: "secp256k1", publicKey: h.meterPublicKey },
        registers: 1,
        baselines: Array.from({ length: 12 }, () => 1_000n),
      }),
    );
  }
  await expectAllOk(chain.valid(setup, { time: at(1.5) }));
  // A first reading in period 0, so period 1 is every household's first settled period.
  await expectAllOk(chain.valid(readingTxs(chain, households, [2]), { time: at(2.5) }));
  for (const h of households) h.register = h.saver ? SAVED : OVERRAN;
  await expectAllOk(chain.valid(readingTxs(chain, households, [100, 200]), { time: at(201) }));
  // Finalisation starts at 210 s and visits at most 1,000 households a block.
  const minted = BigInt(PER_UTILITY) * (CAP - SAVED);
  for (let s = 210; s < 215; s += 0.2) {
    const block = await chain.valid([], { time: at(s) });
    const working = block.changes.some(([k]) => k[0] === PREFIX.job);
    if (!working && chain.view().one(tables.totals).creditsMinted === minted) {
      return { chain, households };
    }
  }
  throw new Error("bench set-up: period 1 did not finalise");
}

/**
 * Signed readings of every household at each of `seconds`: 0 Wh at the first instant, the
 * household's register as it stands at the others.
 */
function readingTxs(
  chain: FastChain,
  households: readonly Household[],
  seconds: readonly number[],
): BlockTx[] {
  const txs: BlockTx[] = [];
  for (const u of [0, 1]) {
    const readings: Reading[] = [];
    for (const h of households) {
      if (h.utility !== u) continue;
      for (const s of seconds) {
        readings.push(signedReading(chain.chainId, h, at(s), s === seconds[0] ? 0n : h.register));
      }
    }
    for (let i = 0; i < readings.length; i += 1_000) {
      txs.push(chain.tx(oracleOf(u), "submitReadings", { readings: readings.slice(i, i + 1_000) }));
    }
  }
  return txs;
}

function signedReading(chainId: string, h: Household, time: bigint, register: bigint): Reading {
  const unsigned: Reading = {
    meterIdHash: h.meter,
    time,
    registers: [register],
    signature: undefined,
  };
  const signature = signMeter("secp256k1", h.meterSecret, readingSignBytes(chainId, unsigned));
  return { ...unsigned, signature };
}

async function expectAllOk(result: Promise<AppliedBlock>): Promise<AppliedBlock> {
  const block = await result;
  expectReceiptsOk(block.receipts);
  return block;
}

function expectReceiptsOk(receipts: readonly Receipt[]): void {
  for (const r of receipts) {
    if (codeOf(r) !== "ok")
      throw new Error(`bench set-up: a transaction was refused: ${codeOf(r)}`);
    for (const x of r.readingResults ?? []) {
      if (x.kind === "rejected") throw new Error(`bench set-up: a reading was refused: ${x.value}`);
    }
  }
}

/**
 * Makes the mixed blocks, one after another, for a chain that commits each before the next:
 * it keeps each signer's nonce, each meter's register and the resting orders to cancel.
 */
class MixedBlocks {
  private readonly nonces = new Map<string, bigint>();
  private readonly savers: Household[][] = [[], []];
  private readonly overrunners: Household[][] = [[], []];
  private readonly utilityByAddress = new Map<string, number>();
  private readonly next = { saver: [0, 0], overrunner: [0, 0], meter: [0, 0], standing: [0, 0] };
  /** Per block made, the resting orders it placed: [owner, order id]. */
  private readonly resting: Array<Array<[Actor, Uint8Array]>> = [];
  private height: bigint;
  private time: bigint;

  constructor(
    private readonly chain: FastChain,
    households: readonly Household[],
  ) {
    for (const h of households) {
      (h.saver ? this.savers : this.overrunners)[h.utility]!.push(h);
      this.utilityByAddress.set(toHex(h.who.address), h.utility);
    }
    this.height = chain.height;
    this.time = chain.time;
  }

  make(): PreparedBlock {
    this.height++;
    this.time += STEP_MS;
    const verified = new Set<string>();
    const lanes: Spec[][] = [];
    const toCancel = this.resting[this.resting.length - RESTING_BLOCKS] ?? [];
    for (const u of [0, 1]) {
      lanes.push(this.readings(u, verified));
      lanes.push(this.crossing(u));
      lanes.push(this.restingOrders(u));
      lanes.push(
        toCancel
          .filter(([owner]) => this.utilityOf(owner) === u)
          .map(([owner, orderId]) => spec(owner, "cancelOrder", { orderId })),
      );
      lanes.push(this.transfers(u));
      lanes.push(this.standing(u));
      lanes.push(this.payments(u));
    }
    // Interleaved, as a mempool would order transactions from many senders; nonces follow
    // the block order.
    const txs: BlockTx[] = [];
    const encoded: Uint8Array[] = [];
    const placedResting: Array<[Actor, Uint8Array]> = [];
    const longest = Math.max(...lanes.map((l) => l.length));
    for (let i = 0; i < longest; i++) {
      for (const lane of lanes) {
        const s = lane[i];
        if (!s) continue;
        const tx = this.tx(s);
        txs.push({ id: tx.id, body: tx.body });
        encoded.push(tx.encoded);
        if (s.rests) placedResting.push([s.signer, orderIdOf(tx.id, 0)]);
      }
    }
    this.resting.push(placedResting);
    return { height: this.height, time: this.time, txs, encoded, verified };
  }

  private utilityOf(a: Actor): number {
    return this.utilityByAddress.get(toHex(a.address)) ?? 0;
  }

  private pick(kind: "saver" | "overrunner", u: number): Household {
    const group = (kind === "saver" ? this.savers : this.overrunners)[u]!;
    const i = this.next[kind][u]!;
    this.next[kind][u] = (i + 1) % group.length;
    return group[i]!;
  }

  private tx({ signer, type, payload }: Spec) {
    const key = toHex(signer.address);
    const nonce = this.nonces.get(key) ?? this.chain.nonceOf(signer.address);
    this.nonces.set(key, nonce + 1n);
    const body = {
      chainId: this.chain.chainId,
      nonce,
      type: txTypeNumber(type),
      payload: encodePayload(type, payload as never),
      signer: signer.publicKey,
    };
    const encoded = encodeTx({ body, signature: ZERO_SIGNATURE });
    return { id: txId(encoded), body, encoded };
  }

  private readings(u: number, verified: Set<string>): Spec[] {
    const members = [...this.savers[u]!, ...this.overrunners[u]!];
    const txs: Spec[] = [];
    for (let b = 0; b < MIX.readingBatches; b++) {
      const readings: Reading[] = [];
      for (let r = 0; r < READINGS_PER_BATCH; r++) {
        const i = this.next.meter[u]!;
        this.next.meter[u] = (i + 1) % members.length;
        const h = members[i]!;
        h.register += 1n + BigInt(i % 7);
        const reading = signedReading(this.chain.chainId, h, this.time, h.register);
        readings.push(reading);
        verified.add(
          meterSignatureKey(
            "secp256k1",
            h.meterPublicKey,
            readingSignBytes(this.chain.chainId, reading),
            reading.signature!,
          ),
        );
      }
      txs.push(spec(oracleOf(u), "submitReadings", { readings }));
    }
    return txs;
  }

  /** Pairs of a sell and a buy of the same size that cross: the auction fills them all. */
  private crossing(u: number): Spec[] {
    const txs: Spec[] = [];
    for (let j = 0; j < MIX.crossingPairs; j++) {
      const qty = 1n + BigInt(j % 5);
      const expiry = (1n << 64n) - 1n;
      txs.push(
        spec(this.pick("saver", u).who, "placeOrder", {
          side: "sell",
          qty,
          price: 100n + BigInt(j % 41),
          expiry,
        }),
        spec(this.pick("overrunner", u).who, "placeOrder", {
          side: "buy",
          qty,
          price: 160n + BigInt(j % 41),
          expiry,
        }),
      );
    }
    return txs;
  }

  /** Orders priced away from the crossing ones, so they rest until they are cancelled. */
  private restingOrders(u: number): Spec[] {
    return Array.from({ length: MIX.resting }, (_, j) => {
      const sell = j % 2 === 0;
      const owner = this.pick(sell ? "saver" : "overrunner", u).who;
      const order = spec(owner, "placeOrder", {
        side: sell ? "sell" : "buy",
        qty: 1n + BigInt(j % 3),
        price: sell ? 280n + BigInt(j % 21) : 10n + BigInt(j % 31),
        expiry: (1n << 64n) - 1n,
      });
      return { ...order, rests: true };
    });
  }

  private transfers(u: number): Spec[] {
    return Array.from({ length: MIX.transfers }, () =>
      spec(this.pick("saver", u).who, "transferCredits", {
        to: this.pick("overrunner", u).who.address,
        vintage: 1n,
        qty: 1n,
      }),
    );
  }

  private standing(u: number): Spec[] {
    const members = [...this.savers[u]!, ...this.overrunners[u]!];
    return Array.from({ length: MIX.standing }, (_, j) => {
      const i = this.next.standing[u]!;
      this.next.standing[u] = (i + 1) % members.length;
      const h = members[i]!;
      const sell = h.saver;
      return spec(h.who, "setStandingOrder", {
        household: h.who.address,
        side: sell ? "sell" : "buy",
        price: (sell ? 100n : 150n) + BigInt(j % 50),
      });
    });
  }

  private payments(u: number): Spec[] {
    return Array.from({ length: MIX.payments }, (_, j) =>
      spec(operatorOf(u), "recordPayment", {
        household: this.pick("overrunner", u).who.address,
        amount: 10_000n + BigInt(j),
        reference: `bill-${this.height}-${j}`,
      }),
    );
  }
}

/** The chain's head as the blocks need it: the store, and the parent's hash. */
class Head {
  parentHash = zeroHash();
  constructor(
    readonly store: Store,
    private readonly chainId: string,
  ) {}

  context(block: PreparedBlock): BlockContext {
    return {
      chainId: this.chainId,
      height: block.height,
      time: block.time,
      parentHash: this.parentHash,
      proposer: validatorOf(0, 0).address,
    };
  }

  /** applyBlock on the committed state; the result's writes are the caller's to keep or drop. */
  async execute(block: PreparedBlock): Promise<AppliedBlock> {
    const applied = await applyBlock({
      state: this.store.state(),
      block: this.context(block),
      txs: block.txs,
      evidence: [],
      verifiedSignatures: block.verified,
    });
    if (!applied.ok) throw new Error(`bench block invalid: ${applied.code} ${applied.message}`);
    return applied;
  }

  /** What node/chain.ts does from executing a block to its commit, less the vote signatures. */
  async executeAndCommit(prepared: PreparedBlock): Promise<AppliedBlock> {
    const applied = await this.execute(prepared);
    const { rootHash, treeBatch } = this.store.computeStateRoot(applied.changes, prepared.height);
    const receipts = applied.receipts.map(encodeReceipt);
    const context = this.context(prepared);
    const block: Block = {
      header: {
        version: 1,
        chainId: context.chainId,
        height: context.height,
        time: context.time,
        parentHash: context.parentHash,
        proposer: context.proposer,
        txRoot: computeTxRoot(prepared.encoded),
        stateRoot: rootHash,
        receiptsRoot: computeReceiptsRoot(receipts),
        validatorsHash: zeroHash(),
        nextValidatorsHash: zeroHash(),
        lastCommitHash: zeroHash(),
        evidenceHash: zeroHash(),
      },
      txs: [...prepared.encoded],
      lastCommit: undefined,
      evidence: [],
    };
    const hash = blockHash(block);
    await this.store.commitBlock({
      height: prepared.height,
      blockHash: hash,
      block: encodeBlock(block),
      commit: new Uint8Array(0),
      txIds: prepared.txs.map((t) => t.id),
      receipts,
      changes: applied.changes,
      treeBatch,
    });
    this.parentHash = hash;
    return applied;
  }
}

/** The commit path consumes its blocks, so it runs a fixed number of them per run. */
async function measureCommits(head: Head, blocks: PreparedBlock[]): Promise<Measurement> {
  const runBlocks = async (count: number): Promise<number> => {
    const start = performance.now();
    const receipts: Receipt[] = [];
    for (let i = 0; i < count; i++) {
      receipts.push(...(await head.executeAndCommit(blocks.shift()!)).receipts);
    }
    const elapsed = performance.now() - start;
    expectReceiptsOk(receipts);
    return (count * TXS_PER_BLOCK * 1000) / elapsed;
  };
  await runBlocks(COMMIT_WARMUP);
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) runs.push(await runBlocks(COMMIT_RUN_BLOCKS));
  return {
    id: "vm.commit",
    label: "execute and commit, one block after another",
    rate: [...runs].sort((a, b) => a - b)[1]!,
    unit: "tx/s",
    runs,
    baseline: "vm.target.commit",
  };
}

export async function vm(): Promise<BenchGroup> {
  const targets: Target[] = [
    {
      description: `at least ${TARGET_EXECUTE.toLocaleString("en-US")} tx/s of the mix executed without the state commit`,
      check: (r) => (r.get("vm.execute")?.rate ?? 0) >= TARGET_EXECUTE,
    },
    {
      description: `at least ${TARGET_COMMIT.toLocaleString("en-US")} tx/s of the mix executed and committed`,
      check: (r) => (r.get("vm.commit")?.rate ?? 0) >= TARGET_COMMIT,
    },
  ];
  const share = (n: number) => `${Math.round((200 * n) / TXS_PER_BLOCK)}%`;
  return {
    title: "Block execution (vm, realistic mix)",
    description:
      `Two utilities of ${PER_UTILITY.toLocaleString("en-US")} households each, period 1 settled ` +
      `(half hold 300 credits, half owe 300), in the trading window, in batch mode. Each block has ` +
      `${TXS_PER_BLOCK.toLocaleString("en-US")} transactions: ${share(MIX.readingBatches)} oracle batches ` +
      `of ${READINGS_PER_BATCH} signed readings (${READINGS_PER_BLOCK} readings a block), ` +
      `${share(2 * MIX.crossingPairs)} orders that cross and fill in the end-of-block auction, ` +
      `${share(MIX.resting)} orders that rest and ${share(MIX.cancels)} cancellations of those ` +
      `placed ${RESTING_BLOCKS} blocks before, ${share(MIX.transfers)} credit transfers, ` +
      `${share(MIX.standing)} standing-order changes and ${share(MIX.payments)} bill payments. ` +
      "Signatures are excluded (transactions arrive verified; meter signatures are in the verified " +
      "set). Without commit, one block runs again and again on the committed state and its writes " +
      "are dropped; with commit, blocks follow one another through the state root, receipts, " +
      "block encoding and the store's fsynced commit (the node's index writes and vote checks " +
      `are not included), ${COMMIT_RUN_BLOCKS} blocks a run. Rates are against their targets.`,
    targets,
    async run(): Promise<Measurement[]> {
      const { chain, households } = await settledChain();
      const dir = mkdtempSync(join(tmpdir(), "wattcap-bench-vm-"));
      const out: Measurement[] = [];
      try {
        const store = await Store.open(join(dir, "store"));
        // The settled state becomes the store's first version.
        const changes = await chain.state.scan(new Uint8Array(0));
        const { treeBatch } = store.computeStateRoot(changes, chain.height);
        await store.commitBlock({
          height: chain.height,
          blockHash: zeroHash(),
          block: new Uint8Array(0),
          commit: new Uint8Array(0),
          txIds: [],
          receipts: [],
          changes,
          treeBatch,
        });
        const head = new Head(store, chain.chainId);
        const maker = new MixedBlocks(chain, households);
        // The first blocks fill the book with resting orders, so later ones cancel some.
        for (let i = 0; i < RESTING_BLOCKS; i++) {
          expectReceiptsOk((await head.executeAndCommit(maker.make())).receipts);
        }
        const blocks = Array.from({ length: 1 + COMMIT_WARMUP + 3 * COMMIT_RUN_BLOCKS }, () =>
          maker.make(),
        );
        const next = blocks[0]!;
        expectReceiptsOk((await head.execute(next)).receipts);

        out.push(
          single("vm.target.execute", "target: execution without commit", TARGET_EXECUTE, "tx/s"),
          single("vm.target.commit", "target: execution with commit", TARGET_COMMIT, "tx/s"),
        );
        const execute = await measure(
          "vm.execute",
          "applyBlock, writes dropped",
          async () => {
            await head.execute(next);
            return TXS_PER_BLOCK;
          },
          { unit: "tx/s", baseline: "vm.target.execute" },
        );
        out.push(
          execute,
          single(
            "vm.execute.readings",
            "… of which meter readings",
            (execute.rate * READINGS_PER_BLOCK) / TXS_PER_BLOCK,
            "readings/s",
          ),
        );
        const commit = await measureCommits(head, blocks);
        out.push(
          commit,
          single(
            "vm.commit.readings",
            "… of which meter readings",
            (commit.rate * READINGS_PER_BLOCK) / TXS_PER_BLOCK,
            "readings/s",
          ),
        );
        await store.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return out;
    },
  };
}
