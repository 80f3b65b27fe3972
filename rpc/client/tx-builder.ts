// Building, signing and sending transactions. One generic builder covers every transaction
// type of vm/tx/types.ts, typed by its payload schema, so a new type needs no SDK change; the
// payload is checked by encoding it (the chain's own schema) before anything is signed.
// A Signer keeps the account's nonce: it reads it once, counts up locally for transactions
// in flight, and re-reads it when the node says the count went wrong. Browser-safe.
import { addressOf, toChecksumAddress } from "../../lib/address.js";
import { to0x } from "../../lib/bytes.js";
import { CodecError } from "../../lib/codec.js";
import { publicKeyOf } from "../../lib/keys.js";
import { encodeTx, type SignedTx, signTx, type TxBody, txId } from "../../lib/tx.js";
import { encodePayload, type PayloadOf, type TxTypeName, txTypeNumber } from "../../vm/tx/types.js";
import { parseU64 } from "../json.js";
import type { ResultOf } from "../methods.js";
import type { WattcapClient } from "./client.js";
import { RpcClientError, TransportError } from "./transport.js";

export type TxBuildErrorCode = "BAD_PAYLOAD" | "BAD_KEY";

export class TxBuildError extends Error {
  override name = "TxBuildError";
  constructor(
    readonly code: TxBuildErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Quantities the chain refuses at zero; caught here so the user hears it before signing. */
const POSITIVE: Partial<Record<TxTypeName, readonly string[]>> = {
  placeOrder: ["qty", "price"],
  replaceOrder: ["qty", "price"],
  transferCredits: ["qty"],
  recordPayment: ["amount"],
  recordCharge: ["amount"],
};

/** The encoded payload of `type`, or TxBuildError("BAD_PAYLOAD") naming the field at fault. */
export function payloadBytes<N extends TxTypeName>(type: N, payload: PayloadOf<N>): Uint8Array {
  for (const field of POSITIVE[type] ?? []) {
    const value = (payload as Record<string, unknown>)[field];
    if (typeof value === "bigint" && value <= 0n) {
      throw new TxBuildError("BAD_PAYLOAD", `${type}.${field} must be positive`);
    }
  }
  try {
    return encodePayload(type, payload);
  } catch (e) {
    if (e instanceof CodecError) throw new TxBuildError("BAD_PAYLOAD", e.message);
    throw e;
  }
}

export function buildTxBody<N extends TxTypeName>(
  chainId: string,
  nonce: bigint,
  signer: Uint8Array,
  type: N,
  payload: PayloadOf<N>,
): TxBody {
  return { chainId, nonce, type: txTypeNumber(type), payload: payloadBytes(type, payload), signer };
}

export interface BuiltTx {
  readonly tx: SignedTx;
  /** The signed encoding, what tx_send takes. */
  readonly bytes: Uint8Array;
  /** Its id, what tx_get takes. */
  readonly id: Uint8Array;
}

/** Builds and signs one transaction. */
export function buildSignedTx<N extends TxTypeName>(
  secretKey: Uint8Array,
  chainId: string,
  nonce: bigint,
  type: N,
  payload: PayloadOf<N>,
): BuiltTx {
  let signer: Uint8Array;
  try {
    signer = publicKeyOf(secretKey);
  } catch (e) {
    throw new TxBuildError("BAD_KEY", (e as Error).message);
  }
  const tx = signTx(buildTxBody(chainId, nonce, signer, type, payload), secretKey);
  const bytes = encodeTx(tx);
  return { tx, bytes, id: txId(bytes) };
}

export type TxStatus = ResultOf<"tx_get">;

export interface Sent {
  readonly hash: string;
  readonly nonce: bigint;
}

export interface WaitOptions {
  /** Give up after this long; default 60 s. */
  readonly timeoutMs?: number;
  /** How often to ask; default 500 ms. */
  readonly pollMs?: number;
}

const NONCE_CODES = new Set(["NONCE_TOO_LOW", "NONCE_TOO_HIGH"]);

/** Signs for one key through one client: nonces, sending, waiting for finality. */
export class Signer {
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
  #chainId: string | undefined;
  #nextNonce: bigint | undefined;

  constructor(
    readonly client: WattcapClient,
    readonly secretKey: Uint8Array,
    options: { readonly chainId?: string } = {},
  ) {
    try {
      this.publicKey = publicKeyOf(secretKey);
    } catch (e) {
      throw new TxBuildError("BAD_KEY", (e as Error).message);
    }
    this.address = addressOf(this.publicKey);
    this.#chainId = options.chainId;
  }

  get addressText(): string {
    return toChecksumAddress(this.address);
  }

  async chainId(): Promise<string> {
    this.#chainId ??= (await this.client.rpc.chain_status()).chainId;
    return this.#chainId;
  }

  /** The nonce the next transaction will carry: the account's, plus those sent since. */
  async nextNonce(): Promise<bigint> {
    if (this.#nextNonce === undefined) {
      const account = await this.client.rpc.account_get({ address: this.addressText });
      this.#nextNonce = parseU64(account.nonce);
    }
    return this.#nextNonce;
  }

  /** Forget the local count; the next send reads the account's nonce again. */
  resyncNonce(): void {
    this.#nextNonce = undefined;
  }

  /** Builds and signs without sending (and without using up a nonce). */
  async build<N extends TxTypeName>(type: N, payload: PayloadOf<N>): Promise<BuiltTx> {
    return buildSignedTx(
      this.secretKey,
      await this.chainId(),
      await this.nextNonce(),
      type,
      payload,
    );
  }

  /**
   * Sends one transaction. A refusal for a stale nonce (another wallet used this key) re-reads
   * the account's nonce and tries once more; any other refusal is thrown as RpcClientError with
   * `reject` set, and the nonce is not used up.
   */
  async send<N extends TxTypeName>(type: N, payload: PayloadOf<N>): Promise<Sent> {
    for (let attempt = 0; ; attempt++) {
      const built = await this.build(type, payload);
      const nonce = built.tx.body.nonce;
      try {
        const { hash } = await this.client.rpc.tx_send({ tx: to0x(built.bytes) });
        this.#nextNonce = nonce + 1n;
        return { hash, nonce };
      } catch (e) {
        this.resyncNonce();
        const stale = e instanceof RpcClientError && NONCE_CODES.has(e.reject ?? "");
        if (!stale || attempt > 0) throw e;
      }
    }
  }

  async sendAndWait<N extends TxTypeName>(
    type: N,
    payload: PayloadOf<N>,
    options?: WaitOptions,
  ): Promise<TxStatus> {
    const { hash } = await this.send(type, payload);
    return waitForFinality(this.client, hash, options);
  }
}

/**
 * Polls tx_get until the transaction is in a committed block (finalized, or rejected by a
 * state rule with its receipt). Blocks are final once committed, so this is the whole wait.
 */
export async function waitForFinality(
  client: WattcapClient,
  hash: string,
  options: WaitOptions = {},
): Promise<TxStatus> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollMs = options.pollMs ?? 500;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await client.rpc.tx_get({ hash });
    if (status.status === "finalized" || status.status === "rejected") return status;
    if (Date.now() >= deadline) {
      throw new TransportError(
        "TIMEOUT",
        `${hash} is still ${status.status} after ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
