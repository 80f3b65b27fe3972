// A real node with a market's worth of history for the explorer's browser tests, built on the
// RPC tests' node (test/rpc/rpc-fixtures.ts): two households of utility u0 read through period
// 1, one under and one over its cap; credits minted at finalisation; a sell and a buy that
// clear in a batch auction. Chain text that must never become markup rides along: the
// utility's name holds a <script> element and a bill reference holds <b> markup.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Test } from "tap";
import { buildExplorer } from "../../explorer/build.js";
import { startExplorerServer } from "../../explorer/serve.js";
import { to0x, utf8 } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import { buildGenesis } from "../../node/genesis.js";
import type { AccessPolicy } from "../../rpc/access.js";
import { signedTx } from "../node/chain-fixtures.js";
import { type RpcNode, startNode } from "../rpc/rpc-fixtures.js";
import { actor, genesisJson, hash32, operatorOf, PERIOD, T0 } from "../vm/helpers.js";

export const SCRIPT_NAME = "Utility <script>alert(1)</script>";
export const MARKUP_REFERENCE = "<b>markup</b>";
/** A meter known by its id: the chain keeps sha256 of the id's UTF-8 text. */
export const METER_ID = "MTR-0042";

export interface ExplorerChain {
  readonly node: RpcNode;
  /** The explorer's page, served alone and pointed at the node's RPC. */
  readonly explorerUrl: string;
  readonly under: ReturnType<typeof actor>;
  readonly over: ReturnType<typeof actor>;
  readonly meterUnder: string;
  readonly meterById: string;
  readonly paymentTx: string;
  readonly orderTx: string;
}

async function send(node: RpcNode, tx: Uint8Array): Promise<string> {
  const response = await node.call("tx_send", { tx: to0x(tx) });
  if (response.error) throw new Error(`tx_send: ${response.error.message}`);
  return (response.result as { hash: string }).hash;
}

/** Moves the node's clock so the next produced block is at `time`. */
async function blockAt(node: RpcNode, time: bigint): Promise<void> {
  const now = node.clock.now();
  if (time - 1000n > now) node.clock.advance(time - 1000n - now);
  await node.produce();
}

/** `access`: the node restricts household data (rpc/access.ts), as a public node may. */
export async function explorerChain(t: Test, access?: AccessPolicy): Promise<ExplorerChain> {
  const json = genesisJson([1]);
  json.utilities[0] = { ...json.utilities[0]!, name: SCRIPT_NAME };
  const node = await startNode(t, { cors: "*", access }, buildGenesis(json));
  const op = operatorOf(0);
  const oracle = actor(60);
  const under = actor(50);
  const over = actor(51);
  const meters = [hash32(50), hash32(51), sha256(utf8(METER_ID))] as const;
  const third = actor(52);
  const register = (h: typeof under, meter: Uint8Array, nonce: bigint) =>
    signedTx(op, nonce, "registerHousehold", {
      household: h.address,
      meterIdHash: meter,
      meterKey: undefined,
      registers: 1,
      baselines: Array.from({ length: 12 }, () => 1000n),
    });
  await send(node, register(under, meters[0], 0n));
  await send(node, register(over, meters[1], 1n));
  await send(node, register(third, meters[2], 2n));
  await send(node, signedTx(op, 3n, "registerOracle", { oracle: oracle.address }));
  const paymentTx = await send(
    node,
    signedTx(op, 4n, "recordPayment", {
      household: over.address,
      amount: 1_000_000n,
      reference: MARKUP_REFERENCE,
    }),
  );
  await node.produce();

  // Readings: a first one in period 0, then exactly at the boundaries of period 1, so period 1
  // is the households' first settled period: 500 Wh (under the 900 Wh cap) and 1500 Wh (over).
  let oracleNonce = 0n;
  const read = async (time: bigint, registers: readonly [bigint, bigint, bigint]) => {
    await send(
      node,
      signedTx(oracle, oracleNonce++, "submitReadings", {
        readings: meters.map((meterIdHash, i) => ({
          meterIdHash,
          time,
          registers: [registers[i]!],
          signature: undefined,
        })),
      }),
    );
    await blockAt(node, time + 500n);
  };
  await read(T0 + 2500n, [0n, 0n, 0n]);
  await read(T0 + PERIOD, [100n, 100n, 100n]);
  await read(T0 + 2n * PERIOD, [600n, 1600n, 1000n]);
  // Past the reading grace: period 1 finalises, minting credits to `under`.
  await blockAt(node, T0 + 2n * PERIOD + 11_000n);
  await node.produce();

  const expiry = T0 + 2n * PERIOD + 39_000n;
  const orderTx = await send(
    node,
    signedTx(under, 0n, "placeOrder", { side: "sell", qty: 300n, price: 100n, expiry }),
  );
  await send(
    node,
    signedTx(over, 0n, "placeOrder", { side: "buy", qty: 200n, price: 150n, expiry }),
  );
  await node.produce();
  await node.produce();

  // Each test file builds its own copy, so files running at once never share an output folder.
  const dir = await mkdtemp(join(tmpdir(), "wattcap-explorer-"));
  await buildExplorer(undefined, dir);
  const explorer = await startExplorerServer({ rpcUrl: node.url, dir });
  t.teardown(async () => {
    await explorer.app.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    node,
    explorerUrl: explorer.url,
    under,
    over,
    meterUnder: to0x(meters[0]),
    meterById: to0x(meters[2]),
    paymentTx,
    orderTx,
  };
}
