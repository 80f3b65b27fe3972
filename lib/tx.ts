// The transaction envelope (DESIGN §4). lib knows only the envelope: the payload is the vm's own
// canonical encoding of the type's payload, opaque here. The signer's public key travels in the
// transaction because signatures are verified without key recovery (OpenSSL cannot recover).
// Nonces and everything else that needs state are the vm's.
import { concatBytes, equalBytes } from "./bytes.js";
import { bytes, CodecError, decode, encode, type Infer, struct, text, u32, u64 } from "./codec.js";
import { domainHash, domainPrefix } from "./hash.js";
import { isValidPublicKey, publicKeyOf } from "./keys.js";
import { sign, verify } from "./signature.js";
import type { VerifyFn } from "./vote.js";

/** The limit on a signed transaction's whole encoding; the payload is bounded by it too. */
export const MAX_TX_BYTES = 256 * 1024;

export const TxBodySchema = struct("TxBody", {
  chainId: text(64),
  nonce: u64,
  /** The transaction type's number, owned by the vm. */
  type: u32,
  payload: bytes({ max: MAX_TX_BYTES }),
  /** The signer's compressed public key; the vm derives its address. */
  signer: bytes({ length: 33 }),
});
export type TxBody = Infer<typeof TxBodySchema>;

export const SignedTxSchema = struct("SignedTx", {
  body: TxBodySchema,
  signature: bytes({ length: 64 }),
});
export type SignedTx = Infer<typeof SignedTxSchema>;

export function txSignBytes(body: TxBody): Uint8Array {
  return concatBytes(domainPrefix("tx"), encode(TxBodySchema, body));
}

/** Signs a body; throws if the body does not name the public key of `secretKey` as its signer. */
export function signTx(body: TxBody, secretKey: Uint8Array): SignedTx {
  if (!equalBytes(publicKeyOf(secretKey), body.signer)) {
    throw new Error("signTx: the body's signer is not the public key of this secret key");
  }
  return { body, signature: sign(secretKey, txSignBytes(body)) };
}

/** Encodes a signed transaction; throws CodecError("TOO_LARGE") over MAX_TX_BYTES. */
export function encodeTx(tx: SignedTx): Uint8Array {
  const data = encode(SignedTxSchema, tx);
  if (data.length > MAX_TX_BYTES) {
    throw new CodecError("TOO_LARGE", `SignedTx: ${data.length} bytes is over ${MAX_TX_BYTES}`);
  }
  return data;
}

export function decodeTx(data: Uint8Array): SignedTx {
  return decode(SignedTxSchema, data, { maxBytes: MAX_TX_BYTES });
}

/**
 * A transaction's id: the hash of its signed encoding. The signed bytes (prefix || TxBody, an
 * array of 5) and the id's input (prefix || SignedTx, an array of 2) share the "tx" domain but
 * differ from the first encoded byte on, so neither can stand for the other.
 */
export function txId(encodedSignedTx: Uint8Array): Uint8Array {
  return domainHash("tx", encodedSignedTx);
}

export function verifyTxSignature(tx: SignedTx, verifyFn: VerifyFn = verify): boolean {
  let message: Uint8Array;
  try {
    message = txSignBytes(tx.body);
  } catch {
    return false;
  }
  return verifyFn(tx.body.signer, message, tx.signature);
}

/** Stable reject codes of the checks that need no state. */
export type TxStatelessErrorCode =
  | "TX_MALFORMED"
  | "TX_TOO_LARGE"
  | "WRONG_CHAIN_ID"
  | "BAD_SIGNER_KEY"
  | "BAD_SIGNATURE";

export type TxStatelessCheck =
  | { readonly ok: true; readonly tx: SignedTx; readonly id: Uint8Array }
  | { readonly ok: false; readonly code: TxStatelessErrorCode; readonly message: string };

/**
 * Everything about a transaction that can be checked without state, cheapest first: size,
 * encoding, chain id, key, signature. A transaction failing any of these never enters the
 * mempool and makes a block that contains it invalid (DESIGN §4).
 */
export function checkTxStateless(
  data: Uint8Array,
  chainId: string,
  verifyFn: VerifyFn = verify,
): TxStatelessCheck {
  if (data.length > MAX_TX_BYTES) {
    return reject("TX_TOO_LARGE", `${data.length} bytes is over the limit of ${MAX_TX_BYTES}`);
  }
  let tx: SignedTx;
  try {
    tx = decodeTx(data);
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    return reject(e.code === "TOO_LARGE" ? "TX_TOO_LARGE" : "TX_MALFORMED", e.message);
  }
  if (tx.body.chainId !== chainId) {
    return reject("WRONG_CHAIN_ID", `for chain ${JSON.stringify(tx.body.chainId)}`);
  }
  if (!isValidPublicKey(tx.body.signer)) {
    return reject("BAD_SIGNER_KEY", "the signer is not a valid public key");
  }
  if (!verifyFn(tx.body.signer, signBytesIn(data), tx.signature)) {
    return reject("BAD_SIGNATURE", "the signature does not match the signer");
  }
  return { ok: true, tx, id: txId(data) };
}

/** What follows the body in a SignedTx: the 64-byte signature as a msgpack bin8. */
const SIGNATURE_FIELD_BYTES = 2 + 64;

/**
 * txSignBytes of a transaction, cut from its own canonical encoding rather than encoding its
 * body again: a SignedTx is a two-item array header, the body's canonical bytes, the signature.
 * Only for bytes decodeTx accepted, so they are canonical.
 */
function signBytesIn(data: Uint8Array): Uint8Array {
  return concatBytes(domainPrefix("tx"), data.subarray(1, data.length - SIGNATURE_FIELD_BYTES));
}

function reject(code: TxStatelessErrorCode, message: string): TxStatelessCheck {
  return { ok: false, code, message };
}
