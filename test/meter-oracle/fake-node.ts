// A fake node for the oracle's unit tests (oracle-e2e.test.ts runs the real chain): it keeps
// nonces, a mempool and blocks, and applies readings with the chain's per-reading rules that
// matter here (duplicate, order, monotonic registers, unknown meter), so a test can count how
// often each reading landed. Like node/mempool.ts it holds a nonce past the account's behind
// the gap, and a block takes only the run of consecutive nonces from the account's.
import { addressOf, toChecksumAddress } from "../../lib/address.js";
import { to0x, toHex } from "../../lib/bytes.js";
import { publicKeyOf } from "../../lib/keys.js";
import { decodeTx, txId } from "../../lib/tx.js";
import type {
  ChainHead,
  OracleChain,
  SendResult,
  TxLookup,
} from "../../meter-oracle/service/chain.js";
import type { ReadingOutcome } from "../../meter-oracle/service/outbox.js";
import { decodePayload } from "../../vm/tx/types.js";

export const CHAIN = "wattcap-test";
export const ORACLE_KEY = new Uint8Array(32).fill(3);
export const ORACLE = toChecksumAddress(addressOf(publicKeyOf(ORACLE_KEY)));
export const A = new Uint8Array(32).fill(0xaa);
export const B = new Uint8Array(32).fill(0xbb);

interface Included {
  readonly height: bigint;
  readonly reject: string | undefined;
  readonly readings: ReadingOutcome[] | undefined;
}

export class FakeNode implements OracleChain {
  nonceOf = 0n;
  height = 0n;
  time = 1_000_000n;
  down = 0;
  maxReadings = 1000;
  authorised = true;
  /** Lookups that answer "unknown" even for an included transaction (a lagging index). */
  blindLookups = 0;
  /** Lookups that answer "pending" even for an included transaction (a lagging index). */
  laggingLookups = 0;
  /** Every lookup makes a block first; off, the test calls mine() itself. */
  autoMine = true;
  /** Nonces the mempool refuses (as MEMPOOL_FULL, say), whatever the bytes. */
  readonly refuse = new Map<bigint, string>();
  readonly meters = new Map<string, { time: bigint; registers: bigint[] }>([
    [toHex(A), { time: 0n, registers: [0n] }],
    [toHex(B), { time: 0n, registers: [0n] }],
  ]);
  /** The mempool by transaction id. */
  readonly pool = new Map<string, { readonly nonce: bigint; readonly bytes: Uint8Array }>();
  /** Every transaction id sent, in order, resends included. */
  readonly sent: string[] = [];
  readonly included = new Map<string, Included>();
  /** Every reading applied, as meter@time. */
  readonly applied: string[] = [];
  calls = 0;

  #gate(): void {
    this.calls += 1;
    if (this.down > 0) {
      this.down -= 1;
      throw new Error("connect ECONNREFUSED");
    }
  }

  async head(): Promise<ChainHead> {
    this.#gate();
    return { chainId: CHAIN, height: this.height, time: this.time };
  }

  async nonce(address: string): Promise<bigint> {
    this.#gate();
    if (address !== ORACLE) throw new Error("wrong address");
    return this.nonceOf;
  }

  async send(bytes: Uint8Array): Promise<SendResult> {
    this.#gate();
    const id = to0x(txId(bytes));
    this.sent.push(id);
    const { nonce } = decodeTx(bytes).body;
    if (nonce < this.nonceOf) {
      return { kind: "refused", code: "NONCE_TOO_LOW", message: "used" };
    }
    // ALREADY_KNOWN and NONCE_TAKEN, as clientChain reads them.
    if ([...this.pool.values()].some((p) => p.nonce === nonce)) return { kind: "known" };
    if (nonce - this.nonceOf >= 64n) {
      return { kind: "refused", code: "NONCE_TOO_FAR", message: "gap" };
    }
    const code = this.refuse.get(nonce);
    if (code) return { kind: "refused", code, message: "refused" };
    if (!this.authorised) return { kind: "refused", code: "NOT_AUTHORISED", message: "no oracle" };
    this.pool.set(id, { nonce, bytes });
    return { kind: "admitted" };
  }

  async lookup(id: string): Promise<TxLookup> {
    this.#gate();
    if (this.autoMine) this.mine();
    if (this.blindLookups > 0) {
      this.blindLookups -= 1;
      return { status: "unknown" };
    }
    if (this.laggingLookups > 0) {
      this.laggingLookups -= 1;
      return { status: "pending" };
    }
    const found = this.included.get(id);
    if (found) return { status: "included", ...found };
    return { status: this.pool.has(id) ? "pending" : "unknown" };
  }

  /** Includes the pool's run of consecutive nonces from the account's in a block. */
  mine(): void {
    const run = [...this.pool]
      .sort(([, a], [, b]) => (a.nonce < b.nonce ? -1 : 1))
      .filter(([, p], i) => p.nonce === this.nonceOf + BigInt(i));
    if (run.length === 0) return;
    this.height += 1n;
    for (const [id, { bytes }] of run) {
      this.pool.delete(id);
      const tx = decodeTx(bytes);
      const payload = decodePayload(tx.body.type, tx.body.payload);
      if (!payload.ok || payload.payload.type !== "submitReadings") throw new Error("bad tx");
      const { readings } = payload.payload.value;
      this.nonceOf += 1n;
      if (readings.length > this.maxReadings) {
        this.included.set(id, {
          height: this.height,
          reject: "BATCH_TOO_LARGE",
          readings: undefined,
        });
        continue;
      }
      const outcomes = readings.map((r): ReadingOutcome => {
        const state = this.meters.get(toHex(r.meterIdHash));
        if (!state) return { kind: "rejected", code: "READING_UNKNOWN_METER" };
        const same = r.time === state.time && r.registers.every((v, i) => v === state.registers[i]);
        if (same) return { kind: "duplicate" };
        if (r.time <= state.time) return { kind: "rejected", code: "READING_NOT_AFTER_LAST" };
        if (r.registers.some((v, i) => v < (state.registers[i] ?? 0n))) {
          return { kind: "rejected", code: "READING_NOT_MONOTONIC" };
        }
        state.time = r.time;
        state.registers = [...r.registers];
        this.applied.push(`${toHex(r.meterIdHash).slice(0, 2)}@${r.time}`);
        return { kind: "accepted" };
      });
      this.included.set(id, { height: this.height, reject: undefined, readings: outcomes });
    }
  }
}
