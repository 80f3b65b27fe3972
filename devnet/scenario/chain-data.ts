// Everything the report needs, read back from the chain through RPC after a run: every
// household's statement and the period totals, the auctions, every block (transactions and
// times), balances and credit holdings for the conservation checks, and each node's state root
// at one common height.
import type { WattcapClient } from "../../rpc/client/client.js";
import type { ResultOf } from "../../rpc/methods.js";

export type Statement = ResultOf<"export_settlement">["statements"]["items"][number];
export type PeriodTotals = NonNullable<ResultOf<"export_settlement">["totals"]>;

export interface ChainPeriod {
  readonly period: string;
  readonly statements: Statement[];
  readonly totals: PeriodTotals | null;
  /** Batch-auction clearing prices of the period (micro-units per Wh), in order. */
  readonly auctionPrices: string[];
}

export interface ChainBlocks {
  readonly height: number;
  readonly transactions: number;
  readonly readingBatches: number;
  /** Unix ms of the first and last block. */
  readonly firstTime: string;
  readonly lastTime: string;
}

export interface ChainData {
  readonly periods: ChainPeriod[];
  readonly blocks: ChainBlocks;
  /** Σ balances of the households, and the utility u0's balance, micro-units. */
  readonly householdBalances: string;
  readonly utilityBalance: string;
  /** Σ credits the households hold, Wh. */
  readonly creditsHeld: string;
  readonly stateRoots: { readonly height: string; readonly roots: Record<string, string> };
}

/** Every household statement of utility u0's period k, and the period's totals. */
export async function statementsOf(client: WattcapClient, k: bigint) {
  const statements: Statement[] = [];
  let totals: PeriodTotals | null = null;
  let cursor: string | null = null;
  do {
    const page = await client.rpc.export_settlement({
      utility: "u0",
      period: k.toString(),
      cursor,
      limit: 100,
    });
    totals = page.totals;
    statements.push(...page.statements.items);
    cursor = page.statements.nextCursor;
  } while (cursor !== null);
  return { statements, totals };
}

async function auctionsOf(client: WattcapClient) {
  const items: ResultOf<"market_auctions">["items"] = [];
  let cursor: string | null = null;
  do {
    const page = await client.rpc.market_auctions({ utility: "u0", cursor, limit: 100 });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items.reverse();
}

async function blocksOf(client: WattcapClient, head: number): Promise<ChainBlocks> {
  let transactions = 0;
  let readingBatches = 0;
  let firstTime = "0";
  let lastTime = "0";
  for (let h = 1; h <= head; h++) {
    const block = await client.rpc.chain_getBlock({ height: String(h) });
    if (block === null) continue;
    transactions += block.transactions.length;
    readingBatches += block.transactions.filter((t) => t.typeName === "submitReadings").length;
    if (h === 1) firstTime = block.header.time;
    lastTime = block.header.time;
  }
  return { height: head, transactions, readingBatches, firstTime, lastTime };
}

export async function collectChainData(
  client: WattcapClient,
  nodes: readonly { readonly name: string; readonly client: WattcapClient }[],
  households: readonly string[],
  firstPeriod: bigint,
  months: number,
): Promise<ChainData> {
  const auctions = await auctionsOf(client);
  const periods: ChainPeriod[] = [];
  for (let j = 0; j < months; j++) {
    const k = firstPeriod + BigInt(j);
    const { statements, totals } = await statementsOf(client, k);
    const auctionPrices = auctions
      .filter((a) => a.period === k.toString() && a.price !== null && a.volume !== "0")
      .map((a) => a.price as string);
    periods.push({ period: k.toString(), statements, totals, auctionPrices });
  }
  let balances = 0n;
  let held = 0n;
  for (const address of households) {
    const account = await client.rpc.account_get({ address });
    balances += BigInt(account.balance);
    for (const c of account.credits) held += BigInt(c.amount);
  }
  const utility = await client.rpc.utility_get({ utility: "u0", limit: 1 });
  // Every node's state root at the lowest head among them: all must agree.
  const heads = await Promise.all(nodes.map((n) => n.client.rpc.chain_status()));
  const common = heads.reduce((m, s) => (BigInt(s.height) < m ? BigInt(s.height) : m), 2n ** 63n);
  const roots: Record<string, string> = {};
  for (const n of nodes) {
    const block = await n.client.rpc.chain_getBlock({ height: common.toString() });
    roots[n.name] = block?.header.stateRoot ?? "missing";
  }
  const head = Number((await client.rpc.chain_status()).height);
  return {
    periods,
    blocks: await blocksOf(client, head),
    householdBalances: balances.toString(),
    utilityBalance: utility?.balance ?? "0",
    creditsHeld: held.toString(),
    stateRoots: { height: common.toString(), roots },
  };
}
