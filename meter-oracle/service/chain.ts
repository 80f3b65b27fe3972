// What the oracle needs from a node, as a small interface: the head's time (readings ahead of it
// wait), the oracle's account nonce, sending a transaction and looking one up. The service uses
// the SDK's WattcapClient through `clientChain`; unit tests use a fake of this interface.
// Anything these calls throw is a transient fault (node down, timeout): the caller retries.
import { to0x } from "../../lib/bytes.js";
import type { WattcapClient } from "../../rpc/client/client.js";
import { RpcClientError } from "../../rpc/client/transport.js";
import { TX_REJECTED } from "../../rpc/errors.js";
import type { ReadingOutcome } from "./outbox.js";

export interface ChainHead {
  readonly chainId: string;
  readonly height: bigint;
  /** The head block's time, unix ms. */
  readonly time: bigint;
}

/**
 * How the node took a transaction: admitted to its mempool, already there (the same bytes
 * sent twice), or refused with a reject code (NONCE_TOO_LOW for one already on chain).
 */
export type SendResult =
  | { readonly kind: "admitted" }
  | { readonly kind: "known" }
  | { readonly kind: "refused"; readonly code: string; readonly message: string };

export type TxLookup =
  | { readonly status: "pending" | "unknown" }
  | {
      readonly status: "included";
      readonly height: bigint;
      /** Whole-transaction reject code (e.g. NOT_AUTHORISED, BATCH_TOO_LARGE), or undefined. */
      readonly reject: string | undefined;
      /** One per reading when the transaction executed. */
      readonly readings: readonly ReadingOutcome[] | undefined;
    };

export interface OracleChain {
  head(): Promise<ChainHead>;
  /** The next nonce the chain expects from `address` (0x EIP-55 or lower-case hex). */
  nonce(address: string): Promise<bigint>;
  send(tx: Uint8Array): Promise<SendResult>;
  lookup(id: string): Promise<TxLookup>;
}

/** The mempool's answer to bytes it already holds (node/mempool.ts MempoolCode). */
const ALREADY_KNOWN = new Set(["ALREADY_KNOWN", "NONCE_TAKEN"]);

export function clientChain(client: WattcapClient): OracleChain {
  return {
    async head() {
      const s = await client.call("chain_status", {});
      return { chainId: s.chainId, height: BigInt(s.height), time: BigInt(s.headTime) };
    },
    async nonce(address) {
      const account = await client.call("account_get", { address });
      return BigInt(account.nonce);
    },
    async send(tx) {
      try {
        await client.call("tx_send", { tx: to0x(tx) });
        return { kind: "admitted" };
      } catch (error) {
        if (error instanceof RpcClientError && error.code === TX_REJECTED) {
          const code = error.reject ?? "UNKNOWN";
          return ALREADY_KNOWN.has(code)
            ? { kind: "known" }
            : { kind: "refused", code, message: error.message };
        }
        throw error;
      }
    },
    async lookup(id) {
      const r = await client.call("tx_get", { hash: id });
      if (r.status === "pending" || r.status === "unknown") return { status: r.status };
      if (r.height === null) return { status: "pending" };
      const receipt = r.receipt;
      return {
        status: "included",
        height: BigInt(r.height),
        reject: receipt?.outcome === "rejected" ? (receipt.reject ?? "UNKNOWN") : undefined,
        readings:
          receipt?.readingResults?.map((x): ReadingOutcome => {
            if (x.result === "rejected") return { kind: "rejected", code: x.reject ?? "UNKNOWN" };
            return { kind: x.result };
          }) ?? undefined,
      };
    },
  };
}
