// A transaction's payload, decoded in the browser from the bytes the block carries, so the
// explorer shows what was signed rather than what a node says was signed. The codec and the
// payload schemas are the chain's own (lib/tx.ts, vm/tx/types.ts), shown in rpc/json.ts forms.

import { fromHex } from "../../lib/bytes.js";
import { decodeTx } from "../../lib/tx.js";
import { type Json, toJson } from "../../rpc/json.js";
import { REJECT_CODES } from "../../vm/codes.js";
import { decodePayload } from "../../vm/tx/types.js";

export type DecodedTx =
  | { readonly ok: true; readonly type: string; readonly chainId: string; readonly payload: Json }
  | { readonly ok: false; readonly message: string };

export function decodeTxHex(hex: string): DecodedTx {
  try {
    const tx = decodeTx(fromHex(hex));
    const payload = decodePayload(tx.body.type, tx.body.payload);
    if (!payload.ok) return { ok: false, message: `${payload.code}: ${payload.message}` };
    return {
      ok: true,
      type: payload.payload.type,
      chainId: tx.body.chainId,
      payload: toJson(payload.payload.value),
    };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** A reject code's meaning from the chain's one table (docs/reject-codes.md). */
export function rejectMeaning(code: string): string {
  return Object.hasOwn(REJECT_CODES, code)
    ? REJECT_CODES[code as keyof typeof REJECT_CODES].meaning
    : "not a code this explorer knows";
}
