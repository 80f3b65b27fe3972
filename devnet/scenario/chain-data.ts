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
  /** The blocks committed while the period was open (from its start to its end). */
  readonly blocks: PeriodBlocks;
}

export interface PeriodBlocks {
  readonly blocks: number;
  readonly transactions: number;
  readonly readingBatches: number;
  /** The period's length, ms: the span these blocks fall in. */
  readonly ms: string;
}

interface BlockSummary {
  readonly time: bigint;
  readonly transactions: number;
  readonly readingBatches: number;
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

async function blocksOf(client: WattcapClient, head: number): Promise<BlockSummary[]> {
  const blocks: BlockSummary[] = [];
  for (let h = 1; h <= head; h++) {
    const block = await client.rpc.chain_getBlock({ height: String(h) });
    if (block === null) continue;
    blocks.push({
      time: BigInt(block.header.time),
      transactions: block.transactions.length,
      readingBatches: block.transactions.filter((t) => t.typeName === "submitReadings").length,
    });
  }
  return blocks;
}

function tally(blocks: readonly BlockSummary[]) {
  let transactions = 0;
  let readingBatches = 0;
  for (const b of blocks) {
    transactions += b.transactions;
    readingBatches += b.readingBatches;
  }
  return { blocks: blocks.length, transactions, readingBatches };
}

export async function collectChainData(
  client: WattcapClient,
  nodes: readonly { readonly name: string; readonly client: WattcapClient }[],
  households: readonly string[],
  firstPeriod: bigint,
  months: number,
): Promise<ChainData> {
  const auctions = await auctionsOf(client);
  const head = Number((await client.rpc.chain_status()).height);
  const blocks = await blocksOf(client, head);
  const periods: ChainPeriod[] = [];
  for (let j = 0; j < months; j++) {
    const k = firstPeriod + BigInt(j);
    const { statements, totals } = await statementsOf(client, k);
    const auctionPrices = auctions
      .filter((a) => a.period === k.toString() && a.price !== null && a.volume !== "0")
      .map((a) => a.price as string);
    const { start, end } = await client.rpc.period_get({ utility: "u0", period: k.toString() });
    const open = blocks.filter((b) => b.time >= BigInt(start) && b.time < BigInt(end));
    const periodBlocks = { ...tally(open), ms: (BigInt(end) - BigInt(start)).toString() };
    periods.push({ period: k.toString(), statements, totals, auctionPrices, blocks: periodBlocks });
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
  const all = tally(blocks);
  return {
    periods,
    blocks: {
      height: head,
      transactions: all.transactions,
      readingBatches: all.readingBatches,
      firstTime: (blocks[0]?.time ?? 0n).toString(),
      lastTime: (blocks.at(-1)?.time ?? 0n).toString(),
    },
    householdBalances: balances.toString(),
    utilityBalance: utility?.balance ?? "0",
    creditsHeld: held.toString(),
    stateRoots: { height: common.toString(), roots },
  };
}
