// tx_send and tx_get.
import type { Receipt } from "../../vm/receipt.js";
import { RpcError, TX_REJECTED } from "../errors.js";
import { bigintJson, bytesJson, toJson } from "../json.js";
import type { EventJson, ReceiptJson } from "../methods.js";
import { type Handler, parse } from "./context.js";

export const txSend: Handler<"tx_send"> = async (params, { backend }) => {
  const bytes = parse.bytes("tx", params.tx);
  const result = await backend.submitTx(bytes);
  if (!result.ok) {
    throw new RpcError(TX_REJECTED, result.message, { reject: result.code });
  }
  return { hash: bytesJson(result.id) };
};

export function receiptJson(receipt: Receipt): ReceiptJson {
  return {
    outcome: receipt.outcome.kind,
    reject: receipt.outcome.kind === "rejected" ? receipt.outcome.value : null,
    events: receipt.events.map((e) => toJson(e) as EventJson),
    readingResults: receipt.readingResults
      ? receipt.readingResults.map((r) => ({
          result: r.kind,
          reject: r.kind === "rejected" ? r.value : null,
        }))
      : null,
  };
}

export const txGet: Handler<"tx_get"> = (params, { backend }) => {
  const id = parse.hash("hash", params.hash);
  const location = backend.txLocation(id);
  const receipt = location ? backend.receipt(id) : undefined;
  if (location && receipt) {
    return {
      hash: bytesJson(id),
      status: receipt.outcome.kind === "ok" ? "finalized" : "rejected",
      height: bigintJson(location.height),
      index: location.index,
      receipt: receiptJson(receipt),
    };
  }
  return {
    hash: bytesJson(id),
    status: backend.isPending(id) ? "pending" : "unknown",
    height: null,
    index: null,
    receipt: null,
  };
};
