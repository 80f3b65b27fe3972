// The devnet's households (`npm start`): the meter oracle as one more supervised process, and
// the household simulation in the devnet's own process — register the oracle and households
// during period 0, then decide every month's consumption from period 1 on, for as long as the
// devnet runs. On a restart everything already on chain or on disk is kept.
import { join } from "node:path";
import { loadProfiles } from "../meter-oracle/profile.js";
import { readKeyFile } from "../node/home.js";
import { WattcapClient } from "../rpc/client/client.js";
import { DEFAULT_BEHAVIOUR } from "./behaviour.js";
import { decidePeriod, type HouseholdRun, setUpHouseholds } from "./households.js";
import type { DevnetOptions } from "./options.js";
import { prepareOracle, RESPONSES_DIR } from "./oracle-setup.js";
import { baselines, population, registeredBaselines } from "./population.js";
import { ARMS } from "./scenario/arms.js";
import type { MarketFigures } from "./status-line.js";
import type { DevnetLayout, SupervisedProcess } from "./supervisor.js";

/** The devnet's households replay ten years of months from period 1. */
const FIRST_PERIOD = 1n;
const MONTHS = 120;
/** The devnet's simulation seed: every devnet has the same households. */
const SEED = 1;

interface Genesis {
  chainId: string;
  periods: { readonly genesisMonth: number } & Record<string, unknown>;
  utilities: {
    policy: {
      readingInterval: string;
      reductionBps: number;
      floorPrice: string;
      penaltyPrice: string;
    };
  }[];
}

export interface DevnetHouseholds {
  readonly oracle: SupervisedProcess;
  /** Sets the households up and decides month after month until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
  /** Readings relayed, open orders and the last clearing price, from the follower's RPC. */
  figures(): Promise<MarketFigures>;
  close(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Pages of the order book the status line reads at most, per side and poll: a household holds
 * orders on one side only, so this covers the largest devnet (10,000 households).
 */
const ORDER_PAGES = 100;

/**
 * The open orders of one side of u0's book, counted over its pages (200 households' standing
 * orders alone fill more than one), and the book's last trade price.
 */
async function openOrders(client: WattcapClient, side: "buy" | "sell") {
  let count = 0n;
  let cursor: string | null = null;
  let lastPrice: string | null = null;
  for (let page = 0; page < ORDER_PAGES; page++) {
    const book = await client.rpc.market_orderBook({ utility: "u0", side, cursor, limit: 100 });
    count += BigInt(book.items.length);
    lastPrice = book.lastPrice;
    cursor = book.nextCursor;
    if (cursor === null) break;
  }
  return { count, lastPrice };
}

export async function devnetHouseholds(
  dir: string,
  layout: DevnetLayout,
  options: DevnetOptions,
  genesis: Genesis,
  say: (line: string) => void,
): Promise<DevnetHouseholds> {
  // Period 1 replays the calendar month that follows period 0's.
  const startMonth = ((genesis.periods.genesisMonth + Number(FIRST_PERIOD)) % 12) + 1;
  const households = population(await loadProfiles(), {
    seed: SEED,
    households: options.households,
    startMonth,
    behaviour: DEFAULT_BEHAVIOUR,
  });
  const rpcUrl = `http://127.0.0.1:${options.rpcPort}/`;
  // Transactions go to validator v0's RPC (see HouseholdRun.sendClient); reads to the follower.
  const validatorUrl = `http://127.0.0.1:${layout.nodes[0]!.rpcPort}/`;
  const policy = genesis.utilities[0]!.policy;
  const oracle = await prepareOracle({
    dir,
    rpcUrl: validatorUrl,
    chainId: genesis.chainId,
    periods: genesis.periods,
    seed: SEED,
    households,
    startMonth,
    firstPeriod: FIRST_PERIOD,
    months: MONTHS,
    readingIntervalMs: BigInt(policy.readingInterval),
    snapshotEvery: 10n,
    // The first port after the nodes' three each.
    httpPort: options.basePort + 3 * layout.nodes.length,
  });
  const client = new WattcapClient({ url: rpcUrl, timeoutMs: 10_000 });
  const sendClient = new WattcapClient({ url: validatorUrl, timeoutMs: 10_000 });
  const arm = options.mode === "none" ? ARMS.cap : ARMS.batch;
  const run: HouseholdRun = {
    client,
    sendClient,
    chainId: genesis.chainId,
    operatorKey: (await readKeyFile(join(dir, "keys", "operator-u0.json"), "operator")).secretKey,
    oracleAddress: oracle.address,
    households,
    baselines: households.map((h) =>
      registeredBaselines(baselines(h, startMonth), startMonth, startMonth - 1),
    ),
    firstChainMonth: startMonth - 1,
    policy: {
      reductionBps: policy.reductionBps,
      floorPrice: BigInt(policy.floorPrice),
      penaltyPrice: BigInt(policy.penaltyPrice),
    },
    standingOrders: options.mode !== "none",
    behaviour: DEFAULT_BEHAVIOUR,
    startMonth,
    firstPeriod: FIRST_PERIOD,
    responsesDir: join(dir, RESPONSES_DIR),
    values: (price) => arm.values(price),
    responds: true,
  };
  return {
    oracle: oracle.process,
    async run(signal) {
      // Transactions sent before the validators are linked would sit in the follower's pool.
      while (!signal.aborted) {
        const status = await client.rpc.chain_status().catch(() => undefined);
        if (status !== undefined && BigInt(status.height) >= 2n) break;
        await sleep(1000);
      }
      // A node may restart meanwhile: retry each step until it holds.
      for (;;) {
        if (signal.aborted) return;
        try {
          await setUpHouseholds(run, []);
          say(`  ${households.length} households registered and metered by the oracle`);
          break;
        } catch (error) {
          if (signal.aborted) return;
          say(`household setup: ${(error as Error).message}; retrying`);
          await sleep(2000);
        }
      }
      for (let j = 0; j < MONTHS && !signal.aborted; ) {
        try {
          await decidePeriod(run, j, signal);
          j++;
        } catch (error) {
          if (signal.aborted) return;
          say(`household simulation: ${(error as Error).message}; retrying`);
          await sleep(2000);
        }
      }
    },
    async figures() {
      const [oracles, buys, sells] = await Promise.all([
        client.rpc.oracle_list({ utility: "u0", limit: 100 }),
        openOrders(client, "buy"),
        openOrders(client, "sell"),
      ]);
      const readings = oracles.items.reduce((n, o) => n + BigInt(o.readingsRelayed), 0n);
      const last = sells.lastPrice ?? buys.lastPrice;
      return {
        readings,
        orders: buys.count + sells.count,
        ...(last === null ? {} : { lastClearingPrice: BigInt(last) }),
      };
    },
    close: () => {
      client.close();
      sendClient.close();
    },
  };
}
