// The stateless checks the block loop and the mempool share: from a verified envelope to a
// typed transaction with its handler, or the block-level reject code that refuses it.
import { AddressError, addressOf } from "../../lib/address.js";
import type { TxBody } from "../../lib/tx.js";
import type { RejectCode } from "../codes.js";
import type { AnyHandler, HandlerRegistry, Tx } from "./registry.js";
import { decodePayload } from "./types.js";

export type TxDecode =
  | { readonly ok: true; readonly tx: Tx; readonly handler: AnyHandler }
  | { readonly ok: false; readonly code: RejectCode; readonly message: string };

export function decodeTxBody(
  registry: HandlerRegistry,
  id: Uint8Array,
  body: TxBody,
  chainId: string,
): TxDecode {
  if (body.chainId !== chainId) {
    return { ok: false, code: "WRONG_CHAIN_ID", message: `for chain ${body.chainId}` };
  }
  let signer: Uint8Array;
  try {
    signer = addressOf(body.signer);
  } catch (e) {
    if (!(e instanceof AddressError)) throw e;
    return { ok: false, code: "BAD_SIGNER_KEY", message: e.message };
  }
  const handler = registry.handlerFor(body.type);
  if (!handler) {
    return { ok: false, code: "UNKNOWN_TX_TYPE", message: `type ${body.type} is not executed` };
  }
  const payload = decodePayload(body.type, body.payload);
  if (!payload.ok) return payload;
  const { type, value } = payload.payload;
  return { ok: true, tx: { id, signer, nonce: body.nonce, type, payload: value } as Tx, handler };
}

/**
 * In a block a nonce must be exactly the account's; the mempool also holds later nonces of the
 * same account, waiting for the gap to close.
 */
export function nonceProblem(
  txNonce: bigint,
  accountNonce: bigint,
  rule: "exact" | "not-used",
): { readonly code: RejectCode; readonly message: string } | undefined {
  if (txNonce < accountNonce) {
    return { code: "NONCE_TOO_LOW", message: `nonce ${txNonce}, account is at ${accountNonce}` };
  }
  if (rule === "exact" && txNonce > accountNonce) {
    return { code: "NONCE_TOO_HIGH", message: `nonce ${txNonce}, account is at ${accountNonce}` };
  }
  return undefined;
}
