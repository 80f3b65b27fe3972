// The checks the mempool runs before admitting a transaction (DESIGN.md §4): the stateless ones
// (those whose failure would make a block invalid) and a stateful pre-check of the nonce and the
// signer's role against the latest committed state. Passing the stateful check does not promise
// success in a block: the state may change before the transaction is executed.
import { checkTxStateless as checkEnvelope, type TxBody } from "../lib/tx.js";
import type { VerifyFn } from "../lib/vote.js";
import type { StateReader } from "../state/overlay.js";
import { Reject, type RejectCode } from "./codes.js";
import { type BlockContext, readParams, StateView } from "./context.js";
import { NEW_ACCOUNT } from "./model/account.js";
import { defaultRegistry } from "./modules.js";
import { tables } from "./tables.js";
import { decodeTxBody, nonceProblem } from "./tx/decode.js";
import { authoriseTx, type HandlerRegistry, type Tx } from "./tx/registry.js";

export type TxCheck<T> =
  | ({ readonly ok: true } & T)
  | { readonly ok: false; readonly code: RejectCode; readonly message: string };

/**
 * Decodes and checks a signed transaction's bytes: size, encoding, chain id, signature, type and
 * payload. `body` and `tx.id` are what applyBlock takes.
 */
export function checkTxStateless(
  data: Uint8Array,
  chainId: string,
  options: { readonly verify?: VerifyFn; readonly registry?: HandlerRegistry } = {},
): TxCheck<{ readonly tx: Tx; readonly body: TxBody }> {
  const envelope = checkEnvelope(data, chainId, options.verify);
  if (!envelope.ok) return envelope;
  const decoded = decodeTxBody(
    options.registry ?? defaultRegistry,
    envelope.id,
    envelope.tx.body,
    chainId,
  );
  if (!decoded.ok) return decoded;
  return { ok: true, tx: decoded.tx, body: envelope.tx.body };
}

/**
 * Checks a statelessly valid transaction against `state`: its nonce is not used yet, and its
 * signer holds the role its type needs, as of the block `next` the mempool expects.
 */
export function checkTxStateful(
  state: StateReader,
  tx: Tx,
  next: BlockContext,
  registry: HandlerRegistry = defaultRegistry,
): TxCheck<object> {
  return statefulChecker(state, next, registry)(tx);
}

/**
 * checkTxStateful for many transactions against one unchanging state: the chain's parameters
 * are decoded once, not once per transaction (the mempool re-checks every pending transaction
 * after each commit).
 */
export function statefulChecker(
  state: StateReader,
  next: BlockContext,
  registry: HandlerRegistry = defaultRegistry,
): (tx: Tx) => TxCheck<object> {
  const view = new StateView(state, next, readParams(state));
  return (tx) => {
    const handler = registry.handler(tx.type);
    if (!handler) {
      return { ok: false, code: "UNKNOWN_TX_TYPE", message: `${tx.type} is not executed` };
    }
    const account = view.get(tables.account, tx.signer) ?? NEW_ACCOUNT;
    const nonce = nonceProblem(tx.nonce, account.nonce, "not-used");
    if (nonce) return { ok: false, ...nonce };
    let code: RejectCode | undefined;
    try {
      code = authoriseTx(handler, view, tx);
    } catch (e) {
      if (!(e instanceof Reject)) throw e;
      code = e.code;
    }
    return code === undefined ? { ok: true } : { ok: false, code, message: code };
  };
}
