// The handler registry. Each vm module contributes handlers for its transaction types, jobs for
// the end of every block and, optionally, a reaction to a household being closed; the block
// loop (vm/apply.ts) knows nothing of any of them. A type without a handler is refused
// statelessly with UNKNOWN_TX_TYPE, so a type whose module is not in the chain's rules can
// never be accepted by accident.
import type { RejectCode } from "../codes.js";
import type { ExecutionContext, HouseholdCloseHook, StateView } from "../context.js";
import { type PayloadOf, type TxTypeName, txTypeName } from "./types.js";

/** A decoded transaction whose signature the host verified and whose stateless checks passed. */
export interface Tx<N extends TxTypeName = TxTypeName> {
  readonly id: Uint8Array;
  /** The signer's address. */
  readonly signer: Uint8Array;
  readonly nonce: bigint;
  readonly type: N;
  readonly payload: PayloadOf<N>;
}

export interface Handler<N extends TxTypeName> {
  readonly type: N;
  /**
   * Whether the signer may send this transaction: the role check, also run by the mempool.
   * Returns the refusal's code, or undefined when the signer may.
   */
  authorise(view: StateView, tx: Tx<N>): RejectCode | undefined;
  /** Applies the transaction, or throws Reject; runs only after authorise passed. */
  execute(ctx: ExecutionContext, tx: Tx<N>): void | Promise<void>;
}

export type AnyHandler = { [N in TxTypeName]: Handler<N> }[TxTypeName];

export function defineHandler<N extends TxTypeName>(
  type: N,
  handler: Omit<Handler<N>, "type">,
): Handler<N> {
  return { type, ...handler };
}

/** Bounded work at the end of every block; it keeps its own cursor in state if it needs one. */
export interface EndBlockJob {
  readonly name: string;
  run(ctx: ExecutionContext): void | Promise<void>;
}

export interface VmModule {
  readonly name: string;
  readonly handlers: readonly AnyHandler[];
  /** Run in module order, then in list order, after the block's transactions. */
  readonly endBlock?: readonly EndBlockJob[];
  /** Runs when a utility closes a household, before its balance is settled. */
  readonly onHouseholdClose?: HouseholdCloseHook;
}

export class HandlerRegistry {
  private readonly handlers = new Map<TxTypeName, AnyHandler>();
  readonly endBlockJobs: readonly EndBlockJob[];
  readonly householdCloseHooks: readonly HouseholdCloseHook[];

  constructor(readonly modules: readonly VmModule[]) {
    const jobs: EndBlockJob[] = [];
    const hooks: HouseholdCloseHook[] = [];
    for (const module of modules) {
      for (const handler of module.handlers) {
        if (this.handlers.has(handler.type)) {
          throw new Error(`${module.name}: a handler for ${handler.type} is already registered`);
        }
        this.handlers.set(handler.type, handler);
      }
      jobs.push(...(module.endBlock ?? []));
      if (module.onHouseholdClose) hooks.push(module.onHouseholdClose);
    }
    this.endBlockJobs = jobs;
    this.householdCloseHooks = hooks;
  }

  /** The handler for an envelope type number, or undefined if these rules do not execute it. */
  handlerFor(typeNumber: number): AnyHandler | undefined {
    const name = txTypeName(typeNumber);
    return name === undefined ? undefined : this.handlers.get(name);
  }

  handler(type: TxTypeName): AnyHandler | undefined {
    return this.handlers.get(type);
  }
}

/**
 * Runs a handler on a transaction of its type. The registry pairs each handler with its own
 * type, which TypeScript cannot follow through the union, hence the one cast here.
 */
export function authoriseTx(handler: AnyHandler, view: StateView, tx: Tx): RejectCode | undefined {
  return (handler as Handler<TxTypeName>).authorise(view, tx);
}

export function executeTx(
  handler: AnyHandler,
  ctx: ExecutionContext,
  tx: Tx,
): void | Promise<void> {
  return (handler as Handler<TxTypeName>).execute(ctx, tx);
}
