// market_orderBook, market_orders, market_trades, market_auctions; txs_byAddress and
// readings_byMeter (the node's indexes).
import { decode } from "../../lib/codec.js";
import { keys } from "../../vm/keys.js";
import { HashSchema } from "../../vm/model/common.js";
import { tables } from "../../vm/tables.js";
import { marketTable, type OrderRecord, orderTable } from "../../vm/trading/model.js";
import type { RpcBackend } from "../backend.js";
import { invalidParams } from "../errors.js";
import { addressJson, bigintJson, bytesJson } from "../json.js";
import type { OrderJson } from "../methods.js";
import { type Handler, headView, indexPage, pageRequest, parse } from "./context.js";
import { scanPage } from "./utilities.js";

function orderJson(o: OrderRecord): OrderJson {
  return {
    id: bytesJson(o.id),
    owner: addressJson(o.owner),
    utility: o.utility,
    side: o.side,
    qty: bigintJson(o.qty),
    price: bigintJson(o.price),
    placedHeight: bigintJson(o.placedHeight),
    seq: bigintJson(o.seq),
    period: bigintJson(o.period),
    expiry: bigintJson(o.expiry),
    standing: o.standing,
  };
}

function order(backend: RpcBackend, id: Uint8Array): OrderJson | undefined {
  const bytes = backend.state().get(orderTable.key(id));
  return bytes === undefined ? undefined : orderJson(decode(orderTable.schema, bytes));
}

export const marketOrderBook: Handler<"market_orderBook"> = async (params, { backend }) => {
  const view = headView(backend);
  if (!view.get(tables.utility, params.utility)) {
    throw invalidParams(`no utility ${params.utility}`, { param: "utility" });
  }
  const page = await scanPage(
    backend,
    keys.orderBookSide(params.utility, params.side),
    params,
    (_key, value) => order(backend, decode(HashSchema, value)),
  );
  const market = view.get(marketTable, params.utility);
  return {
    ...page,
    lastPrice: market?.lastPrice === undefined ? null : bigintJson(market.lastPrice),
  };
};

export const marketOrders: Handler<"market_orders"> = (params, { backend }) => {
  const address = parse.address("address", params.address);
  return scanPage(backend, keys.householdOrdersOf(address), params, (key) =>
    order(backend, key.subarray(key.length - 32)),
  );
};

export const marketTrades: Handler<"market_trades"> = (params, { backend }) =>
  indexPage(
    () => backend.indexes.trades(params.utility, pageRequest(params)),
    (t) => ({
      height: bigintJson(t.height),
      time: bigintJson(t.time),
      order: bytesJson(t.order),
      household: addressJson(t.household),
      side: t.side,
      qty: bigintJson(t.qty),
      price: bigintJson(t.price),
    }),
  );

export const marketAuctions: Handler<"market_auctions"> = (params, { backend }) =>
  indexPage(
    () => backend.indexes.auctions(params.utility, pageRequest(params)),
    (a) => ({
      height: bigintJson(a.height),
      time: bigintJson(a.time),
      period: bigintJson(a.period),
      price: a.price === undefined ? null : bigintJson(a.price),
      volume: bigintJson(a.volume),
      demand: a.demand.map((p) => ({ price: bigintJson(p.price), qty: bigintJson(p.qty) })),
      supply: a.supply.map((p) => ({ price: bigintJson(p.price), qty: bigintJson(p.qty) })),
    }),
  );

export const txsByAddress: Handler<"txs_byAddress"> = (params, { backend }) => {
  const address = parse.address("address", params.address);
  return indexPage(
    () => backend.indexes.txsByAddress(address, pageRequest(params)),
    (r) => ({
      hash: bytesJson(r.txId),
      height: bigintJson(r.height),
      index: r.index,
      role: r.role,
    }),
  );
};

export const readingsByMeter: Handler<"readings_byMeter"> = (params, { backend }) => {
  const meter = parse.hash("meterIdHash", params.meterIdHash);
  return indexPage(
    () => backend.indexes.readingsByMeter(meter, pageRequest(params)),
    (r) => ({
      height: bigintJson(r.height),
      tx: bytesJson(r.txId),
      index: r.index,
      time: bigintJson(r.time),
      registers: r.registers.map(bigintJson),
      result: r.result,
      reject: r.reject ?? null,
    }),
  );
};
