// JSON-RPC 2.0 error codes (the standard five) and the server's own, in the -32000..-32099 range
// the spec reserves for implementations. Handlers throw RpcError; anything else a handler throws
// becomes INTERNAL_ERROR with no detail, so internals never leak to clients.
import type { Json } from "./json.js";

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** tx_send: the transaction was refused; data.reject carries the stable reject code. */
export const TX_REJECTED = -32000;
/** Rate limit, batch length, connection or subscription limits; data.limit names which. */
export const LIMIT_EXCEEDED = -32005;
/** Access control: household data needs a request signed by an allowed key. */
export const UNAUTHORISED = -32003;
/** A state version or block the node no longer (or does not yet) keep. */
export const UNAVAILABLE = -32001;

export class RpcError extends Error {
  override name = "RpcError";
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Json,
  ) {
    super(message);
  }
}

export function invalidParams(message: string, data?: Json): RpcError {
  return new RpcError(INVALID_PARAMS, message, data);
}

export interface ErrorObject {
  code: number;
  message: string;
  data?: Json;
}

export function errorObject(error: unknown): ErrorObject {
  if (error instanceof RpcError) {
    return error.data === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, data: error.data };
  }
  return { code: INTERNAL_ERROR, message: "internal error" };
}
