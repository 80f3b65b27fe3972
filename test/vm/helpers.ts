// Test doubles and a small chain harness for the vm tests: an in-memory committed state, fixed
// keys, a genesis builder and a chain that signs, applies and commits blocks.

import type { Test } from "tap";
import { addressOf, toChecksumAddress } from "../../lib/address.js";
import { compareBytes, fromHex, toHex, u64be } from "../../lib/bytes.js";
import type { Evidence } from "../../lib/evidence.js";
import { publicKeyOf } from "../../lib/keys.js";
import { encodeTx, signTx, txId } from "../../lib/tx.js";
import type { Change, ScanOptions, StateReader } from "../../state/overlay.js";
import { type AppliedBlock, applyBlock, type BlockTx, type InvalidBlock } from "../../vm/apply.js";
import type { RejectCode } from "../../vm/codes.js";
import { type BlockContext, readParams, StateView } from "../../vm/context.js";
import { genesisState, parseGenesis } from "../../vm/genesis.js";
import { keys } from "../../vm/keys.js";
import { VM_MODULES } from "../../vm/modules.js";
import type { Receipt } from "../../vm/receipt.js";
import { type Table, tables } from "../../vm/tables.js";
import { HandlerRegistry } from "../../vm/tx/registry.js";
import { encodePayload, type PayloadOf, type TxTypeName, txTypeNumber } from "../../vm/tx/types.js";

/** A committed state: a map kept sorted by key, scanned like the LevelDB reader. */
export class MemoryState implements StateReader {
  private readonly entries = new Map<string, Uint8Array>();

  get(key: Uint8Array): Uint8Array | undefined {
    return this.entries.get(toHex(key));
  }

  async scan(prefix: Uint8Array, options: ScanOptions = {}) {
    const p = toHex(prefix);
    const after = options.after === undefined ? undefined : toHex(options.after);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const out: Array<readonly [Uint8Array, Uint8Array]> = [];
    for (const hex of [...this.entries.keys()].sort()) {
      if (out.length >= limit) break;
      if (hex.startsWith(p) && (after === undefined || hex > after)) {
        out.push([fromHex(hex), this.entries.get(hex)!]);
      }
    }
    return out;
  }

  commit(changes: readonly Change[]): void {
    for (const [key, value] of changes) {
      if (value === undefined) this.entries.delete(toHex(key));
      else this.entries.set(toHex(key), value);
    }
  }

  /** The whole state as hex pairs, for byte-equality checks. */
  dump(): string[] {
    return [...this.entries.entries()].map(([k, v]) => `${k}=${toHex(v)}`).sort();
  }
}

export interface Actor {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
  /** EIP-55 form, as genesis files write it. */
  readonly hex: string;
}

/** A fixed key per number, so tests are reproducible. */
export function actor(n: number): Actor {
  const secretKey = u64be(BigInt(n) + 1000n);
  const padded = new Uint8Array(32);
  padded.set(secretKey, 24);
  const publicKey = publicKeyOf(padded);
  const address = addressOf(publicKey);
  return { secretKey: padded, publicKey, address, hex: toChecksumAddress(address) };
}

/** Period 0 starts at T0 and every period lasts 100 s. */
export const T0 = 1_700_000_000_000n;

/** Unix ms of `seconds` after T0 (fractions of a second in ms: 1.5 → T0 + 1500). */
export const at = (seconds: number): bigint => T0 + BigInt(Math.round(seconds * 1000));
export const PERIOD = 100_000n;

export function policyJson(overrides: Record<string, unknown> = {}) {
  return {
    reductionBps: 1000,
    penaltyPrice: 300,
    floorPrice: 10,
    buybackPrice: 5,
    rebatePrice: 0,
    creditLifetime: 3,
    holdingLimit: "1000000",
    creditLimit: "5000000",
    readingGrace: 10_000,
    tradingWindow: 30_000,
    noticePeriod: 150_000,
    peakWindows: [{ startMinute: 1020, endMinute: 1260 }],
    peakWeightBps: 15_000,
    readingInterval: 1000,
    maxReadingDrift: 5000,
    ...overrides,
  };
}

/** The operator of utility i and the validators of each utility. */
export const operatorOf = (i: number) => actor(100 + i);
export const validatorOf = (i: number, j: number) => actor(200 + 10 * i + j);

/**
 * A genesis with one utility per entry of `validatorsPerUtility` (utility ids u0, u1, ...),
 * each with that many validators.
 */
export function genesisJson(
  validatorsPerUtility: readonly number[],
  extra: Record<string, unknown> = {},
) {
  return {
    chainId: "wattcap-test",
    genesisTime: T0.toString(),
    periods: { kind: "fixed", startMs: T0.toString(), lengthMs: Number(PERIOD), genesisMonth: 0 },
    marketMode: "batch",
    utilities: validatorsPerUtility.map((_, i) => ({
      id: `u${i}`,
      name: `Utility ${i}`,
      operator: operatorOf(i).hex,
      policy: policyJson(),
    })),
    validators: validatorsPerUtility.flatMap((count, i) =>
      Array.from({ length: count }, (_, j) => {
        const v = validatorOf(i, j);
        return {
          address: v.hex,
          publicKey: toHex(v.publicKey),
          operator: operatorOf(i).hex,
          utility: `u${i}`,
        };
      }),
    ),
    governance: { proposalTtlBlocks: 5 },
    limits: { maxReadingsPerBatch: 100, maxJobWorkPerBlock: 50, keyRotationDelayMs: 20_000 },
    ...extra,
  };
}

export interface BlockOptions {
  readonly time?: bigint;
  readonly evidence?: readonly Evidence[];
  readonly registry?: HandlerRegistry;
  readonly chainId?: string;
}

/** A chain on a MemoryState: signs transactions with the right nonces, applies and commits. */
export class TestChain {
  readonly state = new MemoryState();
  height = 0n;
  time = T0 + 1000n;
  readonly chainId: string;
  private readonly pending = new Map<string, bigint>();

  constructor(json: unknown = genesisJson([1])) {
    const genesis = parseGenesis(json);
    this.chainId = genesis.params.chainId;
    this.state.commit(genesisState(genesis));
  }

  nonceOf(address: Uint8Array): bigint {
    return this.view().get(tables.account, address)?.nonce ?? 0n;
  }

  /** A signed transaction with the signer's next nonce (counting ones built for this block). */
  tx<N extends TxTypeName>(
    signer: Actor,
    type: N,
    payload: PayloadOf<N>,
    options: { nonce?: bigint; chainId?: string } = {},
  ): BlockTx & { encoded: Uint8Array } {
    const id = toHex(signer.address);
    const nonce = options.nonce ?? this.nonceOf(signer.address) + (this.pending.get(id) ?? 0n);
    this.pending.set(id, (this.pending.get(id) ?? 0n) + 1n);
    const body = {
      chainId: options.chainId ?? this.chainId,
      nonce,
      type: txTypeNumber(type),
      payload: encodePayload(type, payload),
      signer: signer.publicKey,
    };
    const encoded = encodeTx(signTx(body, signer.secretKey));
    return { id: txId(encoded), body, encoded };
  }

  blockContext(time = this.time + 1000n): BlockContext {
    return {
      chainId: this.chainId,
      height: this.height + 1n,
      time,
      parentHash: new Uint8Array(32),
      proposer: validatorOf(0, 0).address,
    };
  }

  /** Applies a block at the next height; commits it if valid. */
  async block(txs: readonly BlockTx[], options: BlockOptions = {}) {
    this.pending.clear();
    const block = { ...this.blockContext(options.time), chainId: options.chainId ?? this.chainId };
    const result = await applyBlock({
      state: this.state,
      block,
      txs,
      evidence: options.evidence ?? [],
      ...(options.registry ? { registry: options.registry } : {}),
    });
    if (result.ok) {
      this.state.commit(result.changes);
      this.height = block.height;
      this.time = block.time;
    }
    return result;
  }

  /** Applies a block that must be valid. */
  async valid(txs: readonly BlockTx[], options: BlockOptions = {}): Promise<AppliedBlock> {
    const result = await this.block(txs, options);
    if (!result.ok) throw new Error(`block invalid: ${result.code} ${result.message}`);
    return result;
  }

  /** One transaction in its own block; returns its receipt and the block. */
  async run<N extends TxTypeName>(
    signer: Actor,
    type: N,
    payload: PayloadOf<N>,
    options: BlockOptions = {},
  ): Promise<{ receipt: Receipt; block: AppliedBlock }> {
    const block = await this.valid([this.tx(signer, type, payload)], options);
    return { receipt: block.receipts[0]!, block };
  }

  view(): StateView {
    return new StateView(this.state, this.blockContext(), readParams(this.state));
  }

  get<K, V>(table: Table<K, V>, key: K): V | undefined {
    return this.view().get(table, key);
  }
}

export function codeOf(receipt: Receipt): RejectCode | "ok" {
  return receipt.outcome.kind === "ok" ? "ok" : receipt.outcome.value;
}

/** The block's changed keys other than the signer's account (its nonce), as hex. */
export function changesBesidesNonce(block: AppliedBlock, signer: Actor): string[] {
  const nonceKey = toHex(keys.account(signer.address));
  return block.changes.map(([k]) => toHex(k)).filter((k) => k !== nonceKey);
}

export function isInvalid(result: AppliedBlock | InvalidBlock): result is InvalidBlock {
  return !result.ok;
}

export function sortedHex(items: readonly Uint8Array[]): string[] {
  return [...items].sort(compareBytes).map(toHex);
}

/** 32 bytes from a number: meter id hashes and other ids in tests. */
export function hash32(n: number): Uint8Array {
  const out = new Uint8Array(32);
  out.set(u64be(BigInt(n)), 24);
  return out;
}

/** The assertions the helpers use, from tap's Test. */
export type Asserts = Pick<Test, "equal" | "same">;

/** Runs one transaction that must be refused with `code` and change nothing but the nonce. */
export async function expectRefused<N extends TxTypeName>(
  t: Asserts,
  chain: TestChain,
  signer: Actor,
  type: N,
  payload: PayloadOf<N>,
  code: RejectCode,
  options: BlockOptions = {},
): Promise<void> {
  const { receipt, block } = await chain.run(signer, type, payload, options);
  t.equal(codeOf(receipt), code, `${type} → ${code}`);
  t.same(receipt.events, [], `${code}: no events`);
  t.same(changesBesidesNonce(block, signer), [], `${code}: nothing but the nonce changed`);
}

/**
 * The chain's rules without the trading module: every transaction type has a handler in the
 * full rules, so tests of how the loop treats a type without one, or of stand-in handlers for
 * trading types, run against these.
 */
export const MODULES_WITHOUT_TRADING = VM_MODULES.filter((m) => m.name !== "trading");
export const rulesWithoutTrading = new HandlerRegistry(MODULES_WITHOUT_TRADING);
