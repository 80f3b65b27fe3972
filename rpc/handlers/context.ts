// What every handler gets, and the helpers they share: parsing the JSON forms of params the
// schemas already accepted, reading the head state through the vm's tables, and paging.
import type { Header } from "../../lib/block.js";
import type { Commit } from "../../lib/commit.js";
import type { StateView } from "../../vm/context.js";
import { readParams, StateView as View } from "../../vm/context.js";
import type { Params } from "../../vm/model/chain.js";
import type { AccessPolicy } from "../access.js";
import type { IndexPage, PageRequest, RpcBackend } from "../backend.js";
import { invalidParams } from "../errors.js";
import {
  addressJson,
  bigintJson,
  bytesJson,
  type Json,
  JsonFormError,
  parseAddressJson,
  parseBytes,
  parseU64,
} from "../json.js";
import {
  type CommitJson,
  DEFAULT_PAGE,
  type HeaderJson,
  type MethodName,
  type Page,
  type PageParams,
  type ParamsOf,
  type ResultOf,
} from "../methods.js";
import type { SessionStore } from "../sessions.js";

export interface HandlerContext {
  readonly backend: RpcBackend;
  /** Who may read household data (the policy is open when the node restricts nothing). */
  readonly access: { readonly policy: AccessPolicy; readonly sessions: SessionStore };
  /** The rpc_discover document, built once. */
  readonly discover: () => { [key: string]: Json };
}

export type Handler<M extends MethodName> = (
  params: ParamsOf<M>,
  ctx: HandlerContext,
) => ResultOf<M> | Promise<ResultOf<M>>;

export type HandlerTable = { readonly [M in MethodName]?: Handler<M> };

/** Runs a parser on a param, turning its domain error into -32602 naming the param. */
function param<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof JsonFormError || e instanceof RangeError) {
      throw invalidParams(`params.${name}: ${e.message}`, { param: name });
    }
    throw e;
  }
}

export const parse = {
  address: (name: string, text: string) => param(name, () => parseAddressJson(text)),
  hash: (name: string, text: string) => param(name, () => parseBytes(text, 32)),
  bytes: (name: string, text: string) => param(name, () => parseBytes(text)),
  u64: (name: string, text: string) => param(name, () => parseU64(text)),
};

export function pageRequest(params: PageParams): PageRequest {
  const limit = params.limit ?? DEFAULT_PAGE;
  const cursor = params.cursor;
  if (cursor === undefined || cursor === null) return { limit };
  return { limit, after: parse.bytes("cursor", cursor) };
}

/** Maps an index page, turning a cursor from another list into -32602. */
export async function indexPage<T, J>(
  read: () => Promise<IndexPage<T>>,
  item: (value: T) => J,
): Promise<Page<J>> {
  let page: IndexPage<T>;
  try {
    page = await read();
  } catch (e) {
    if (e instanceof RangeError) throw invalidParams(`params.cursor: ${e.message}`);
    throw e;
  }
  return {
    items: page.items.map(item),
    nextCursor: page.next === undefined ? null : bytesJson(page.next),
  };
}

// Genesis parameters are fixed for the chain's life: decoded once per backend.
const paramsOf = new WeakMap<RpcBackend, Params>();

/** A read-only vm view of the head state, as of the head block. */
export function headView(backend: RpcBackend): StateView {
  const state = backend.state();
  const head = backend.head();
  let params = paramsOf.get(backend);
  if (!params) {
    params = readParams(state);
    paramsOf.set(backend, params);
  }
  return new View(
    state,
    {
      chainId: backend.chainId,
      height: head.height,
      time: head.header.time,
      parentHash: head.header.parentHash,
      proposer: head.header.proposer,
    },
    params,
  );
}

export function headerJson(h: Header): HeaderJson {
  return {
    version: h.version,
    chainId: h.chainId,
    height: bigintJson(h.height),
    time: bigintJson(h.time),
    parentHash: bytesJson(h.parentHash),
    proposer: addressJson(h.proposer),
    txRoot: bytesJson(h.txRoot),
    stateRoot: bytesJson(h.stateRoot),
    receiptsRoot: bytesJson(h.receiptsRoot),
    validatorsHash: bytesJson(h.validatorsHash),
    nextValidatorsHash: bytesJson(h.nextValidatorsHash),
    lastCommitHash: bytesJson(h.lastCommitHash),
    evidenceHash: bytesJson(h.evidenceHash),
  };
}

export function commitJson(c: Commit): CommitJson {
  return {
    height: bigintJson(c.height),
    round: c.round,
    blockHash: bytesJson(c.blockHash),
    signatures: c.signatures.map((s) => ({
      validator: addressJson(s.validator),
      signature: bytesJson(s.signature),
    })),
  };
}
