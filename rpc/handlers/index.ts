// Every method's handler, by name; subscribe and unsubscribe are the WebSocket server's own.
import { authChallenge, authSignIn, authSignOut } from "./auth.js";
import { chainGetBlock, chainGetValidators, chainStatus, stateGetProof } from "./chain.js";
import type { HandlerTable } from "./context.js";
import { accountGet, householdGet, householdStatement } from "./households.js";
import {
  marketAuctions,
  marketOrderBook,
  marketOrders,
  marketTrades,
  readingsByMeter,
  txsByAddress,
} from "./market.js";
import { txGet, txSend } from "./tx.js";
import { exportSettlement, oracleList, periodGet, utilityGet } from "./utilities.js";

export const handlers: HandlerTable = {
  chain_status: chainStatus,
  chain_getBlock: chainGetBlock,
  chain_getValidators: chainGetValidators,
  tx_send: txSend,
  tx_get: txGet,
  account_get: accountGet,
  household_get: householdGet,
  household_statement: householdStatement,
  period_get: periodGet,
  market_orderBook: marketOrderBook,
  market_orders: marketOrders,
  market_trades: marketTrades,
  market_auctions: marketAuctions,
  oracle_list: oracleList,
  utility_get: utilityGet,
  txs_byAddress: txsByAddress,
  readings_byMeter: readingsByMeter,
  export_settlement: exportSettlement,
  state_getProof: stateGetProof,
  rpc_discover: (_params, ctx) => ctx.discover(),
  auth_challenge: authChallenge,
  auth_signIn: authSignIn,
  auth_signOut: authSignOut,
};
