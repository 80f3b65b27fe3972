// The simulated households on chain, through the wallet SDK: the utility's operator registers
// the oracle and every household with its meter key and baselines; each household sets its
// standing orders with its own key; then, month by month, the household simulation decides how
// much each household consumes (devnet/behaviour.ts) and hands the factors to the oracle's
// simulated meters (meter-oracle/responses.ts). Every step is idempotent: a restarted devnet
// checks what the chain already holds and what files exist, and carries on.
import { existsSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { CliError, EXIT_SOFTWARE } from "../cli/usage.js";
import { addressOf, parseAddress, toChecksumAddress } from "../lib/address.js";
import { publicKeyOf } from "../lib/keys.js";
import { meterPublicKeyOf } from "../lib/meter-key.js";
import { parseResponses, responsesFile, writeResponses } from "../meter-oracle/responses.js";
import { meterIdHashOf } from "../meter-oracle/service/config.js";
import type { WattcapClient } from "../rpc/client/client.js";
import { Signer, waitForFinality } from "../rpc/client/tx-builder.js";
import type { PayloadOf, TxTypeName } from "../vm/tx/types.js";
import { type BehaviourModel, type MarginalValues, responsePpm } from "./behaviour.js";
import { monthWh, type PopulationHousehold, priceAt, runMonth } from "./population.js";
import { statementsOf } from "./scenario/chain-data.js";

/** What the household simulation needs of the chain's policy for utility u0. */
export interface MarketPolicy {
  readonly reductionBps: number;
  readonly floorPrice: bigint;
  readonly penaltyPrice: bigint;
}

export interface HouseholdRun {
  /** Reads: the follower. */
  readonly client: WattcapClient;
  /**
   * Transactions: a validator's RPC. A validator proposes what its own pool holds, so a
   * transaction reaches a block even when gossip from the follower is slow or lost.
   */
  readonly sendClient: WattcapClient;
  readonly chainId: string;
  readonly operatorKey: Uint8Array;
  readonly oracleAddress: string;
  readonly households: readonly PopulationHousehold[];
  /** Each household's twelve baselines as registered, by the chain's month (registeredBaselines). */
  readonly baselines: readonly (readonly bigint[])[];
  /** The chain's month (0..11) of period firstPeriod. */
  readonly firstChainMonth: number;
  readonly policy: MarketPolicy;
  /** Whether households set standing orders (not in market mode `none`). */
  readonly standingOrders: boolean;
  readonly behaviour: BehaviourModel;
  /** The calendar month (1..12) the first simulated month replays, and the period it becomes. */
  readonly startMonth: number;
  readonly firstPeriod: bigint;
  /** Where the factors for the oracle go (its simulated meters' `responses`). */
  readonly responsesDir: string;
  /** The marginal values of a saved Wh in a month, given the latest settled market price. */
  readonly values: (price: bigint | undefined) => MarginalValues;
  /** False: business as usual, every household consumes its usual load. */
  readonly responds: boolean;
}

/** Transactions one signer keeps in flight: below the mempool's per-account quota (64). */
const IN_FLIGHT = 60;

export function householdAddress(h: PopulationHousehold): string {
  return toChecksumAddress(addressOf(publicKeyOf(h.secretKey)));
}

/** Commit latencies (ms, send → seen final) of the transactions the simulation sent. */
export type Latencies = number[];

async function sendPaced<N extends TxTypeName>(
  signer: Signer,
  type: N,
  payloads: readonly PayloadOf<N>[],
  latencies: Latencies,
): Promise<void> {
  for (let i = 0; i < payloads.length; i += IN_FLIGHT) {
    const sent: { hash: string; at: number }[] = [];
    for (const payload of payloads.slice(i, i + IN_FLIGHT)) {
      const at = Date.now();
      sent.push({ ...(await signer.send(type, payload)), at });
    }
    for (const s of sent) {
      const status = await waitForFinality(signer.client, s.hash, { pollMs: 200 });
      latencies.push(Date.now() - s.at);
      if (status.receipt?.outcome !== "ok") {
        throw new Error(`${type} ${s.hash} rejected: ${status.receipt?.reject ?? status.status}`);
      }
    }
  }
}

/** Registers the oracle and the households and sets standing orders, skipping what exists. */
export async function setUpHouseholds(run: HouseholdRun, latencies: Latencies): Promise<void> {
  await registerHouseholds(run, latencies);
  await setStandingOrders(run, latencies);
}

/** Registers the oracle and the households the chain does not hold yet. */
export async function registerHouseholds(run: HouseholdRun, latencies: Latencies): Promise<void> {
  const { client, chainId } = run;
  const operator = new Signer(run.sendClient, run.operatorKey, { chainId });
  const oracles = await client.rpc.oracle_list({ utility: "u0", limit: 100 });
  if (!oracles.items.some((o) => o.address === run.oracleAddress && o.active)) {
    const oracle = parseAddress(run.oracleAddress);
    await sendPaced(operator, "registerOracle", [{ oracle }], latencies);
  }
  const missing: PayloadOf<"registerHousehold">[] = [];
  const present = await inPool(run.households, (h) =>
    client.rpc.household_get({ address: householdAddress(h) }),
  );
  for (const [i, h] of run.households.entries()) {
    if (present[i] !== null) continue;
    missing.push({
      household: addressOf(publicKeyOf(h.secretKey)),
      meterIdHash: meterIdHashOf(h.meterId),
      meterKey: { type: "secp256k1", publicKey: meterPublicKeyOf("secp256k1", h.meterSecretKey) },
      registers: 1,
      baselines: [...(run.baselines[i] ?? [])],
    });
  }
  await sendPaced(operator, "registerHousehold", missing, latencies);
}

/** Households working at once: a validator under load answers a few dozen requests at a time. */
const POOL = 16;

async function inPool<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(POOL, items.length) }, worker));
  return results;
}

/**
 * Each household's standing sell and buy orders, with its own key (market modes only). They
 * must land before the first finalisation, not before the first month starts.
 */
export async function setStandingOrders(run: HouseholdRun, latencies: Latencies): Promise<void> {
  if (!run.standingOrders) return;
  const { client, chainId } = run;
  const { floorPrice, penaltyPrice } = run.policy;
  const mid = (floorPrice + penaltyPrice) / 2n;
  await inPool(run.households, async (h) => {
    const household = addressOf(publicKeyOf(h.secretKey));
    const orders = (await client.rpc.household_get({ address: householdAddress(h) }))
      ?.standingOrders;
    const signer = new Signer(run.sendClient, h.secretKey, { chainId });
    const payloads: PayloadOf<"setStandingOrder">[] = [];
    // Sellers ask at least the floor and at most a little above the middle of the band;
    // buyers bid from a little below the middle up to the penalty they would otherwise pay.
    if (orders?.sell == null) {
      const price = priceAt(floorPrice, mid + (penaltyPrice - mid) / 4n, h.sellDraw);
      payloads.push({ household, side: "sell", price });
    }
    if (orders?.buy == null) {
      const price = priceAt(mid - (mid - floorPrice) / 4n, penaltyPrice, h.buyDraw);
      payloads.push({ household, side: "buy", price });
    }
    await sendPaced(signer, "setStandingOrder", payloads, latencies);
  });
}

/** The volume-weighted price of period k's trades from its statements; undefined if none. */
export async function periodPrice(client: WattcapClient, k: bigint): Promise<bigint | undefined> {
  const { statements } = await statementsOf(client, k);
  const qty = statements.reduce((n, s) => n + BigInt(s.sold.qty), 0n);
  const value = statements.reduce((n, s) => n + BigInt(s.sold.value), 0n);
  return qty === 0n ? undefined : value / qty;
}

/** Run month j's usual (business-as-usual) consumption of each household, Wh. */
export function usualLoads(run: Pick<HouseholdRun, "households" | "startMonth">, j: number) {
  const span = runMonth(run.startMonth, j);
  return run.households.map((h) => monthWh(h.sim, span));
}

/** The calendar month (0..11) of run month j. */
export function calendarMonth(startMonth: number, j: number): number {
  return (startMonth - 1 + j) % 12;
}

/**
 * The factors for period k = firstPeriod + j, decided from the latest settled price: that of
 * period k − 2, the last whose trading is over before k starts (a household sees a month's
 * market result on its bill a month later). Written for the oracle; returned with the price.
 */
export async function decidePeriod(
  run: HouseholdRun,
  j: number,
  signal?: AbortSignal,
): Promise<{ ppm: number[]; price: bigint | undefined }> {
  const k = run.firstPeriod + BigInt(j);
  const file = responsesFile(run.responsesDir, k);
  if (existsSync(file)) {
    const known = parseResponses(await readFile(file, "utf8"), k);
    return { ppm: [...known.ppm], price: undefined };
  }
  const priceFrom = k - 2n;
  let price: bigint | undefined;
  if (priceFrom >= run.firstPeriod) {
    await waitForPhase(run.client, priceFrom, "closed", signal);
    price = await periodPrice(run.client, priceFrom);
  }
  const values = run.values(price);
  const month = (run.firstChainMonth + j) % 12;
  const usual = usualLoads(run, j);
  const ppm = run.households.map((h, i) => {
    if (!run.responds) return 1_000_000;
    const baseline = run.baselines[i]?.[month] ?? 0n;
    const cap = (baseline * BigInt(10_000 - run.policy.reductionBps)) / 10_000n;
    return responsePpm(run.behaviour, h.traits, usual[i] ?? 0n, cap, values);
  });
  mkdirSync(run.responsesDir, { recursive: true });
  await writeResponses(run.responsesDir, { period: k, ppm });
  return { ppm, price };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls period_get until period k of u0 is in `phase` (or past it). */
export async function waitForPhase(
  client: WattcapClient,
  k: bigint,
  phase: "trading" | "closed",
  signal?: AbortSignal,
): Promise<void> {
  const order = ["upcoming", "open", "reading-grace", "trading", "closed"];
  for (;;) {
    if (signal?.aborted) throw new CliError("stopped", EXIT_SOFTWARE);
    try {
      const p = await client.rpc.period_get({ utility: "u0", period: k.toString() });
      if (order.indexOf(p.phase) >= order.indexOf(phase)) return;
    } catch {
      // the node is restarting: ask again
    }
    await sleep(500);
  }
}
