// `wattcap scenario`: the experiment, headless (docs/scenario.md). One arm is a whole devnet —
// validator processes, a follower, the meter oracle process — with the arm's policy and market
// mode in genesis; the households are registered, set their standing orders and decide their
// monthly consumption through RPC; after the last month's compliance every figure is read back
// from the chain and set beside the simulator's own. An arm's finished report is kept in
// DIR/arms/<arm>/, so a comparison interrupted between arms resumes where it stopped.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CliError, EXIT_SOFTWARE } from "../../cli/usage.js";
import { loadProfiles } from "../../meter-oracle/profile.js";
import { readKeyFile } from "../../node/home.js";
import { WattcapClient } from "../../rpc/client/client.js";
import type { BehaviourModel } from "../behaviour.js";
import {
  calendarMonth,
  decidePeriod,
  type HouseholdRun,
  householdAddress,
  registerHouseholds,
  setStandingOrders,
  waitForPhase,
} from "../households.js";
import { prepareOracle } from "../oracle-setup.js";
import {
  baselines,
  monthSplit,
  type PopulationHousehold,
  population,
  registeredBaselines,
  runMonth,
} from "../population.js";
import { nodeProcess, prepareDevnet, Supervisor } from "../supervisor.js";
import { type Arm, scenarioPolicy } from "./arms.js";
import { collectChainData } from "./chain-data.js";
import { type ArmReport, armReport, type SimHousehold, type SimMonth } from "./report.js";
import { armCharts, armMarkdown } from "./report-md.js";

export interface ScenarioOptions {
  readonly households: number;
  readonly months: number;
  readonly seed: number;
  readonly periodMs: bigint;
  readonly validators: number;
  readonly out: string;
  readonly basePort: number;
  readonly rpcPort: number;
  /** The calendar month (1..12) the first simulated month replays. */
  readonly startMonth: number;
  /** Time from the chain being up to the first simulated month, for the households to register. */
  readonly setupMs: bigint;
  readonly behaviour: BehaviourModel;
  readonly say: (line: string) => void;
  /** Aborting stops the arm between steps; its devnet is stopped either way. */
  readonly signal?: AbortSignal;
}

export interface Population {
  readonly households: readonly PopulationHousehold[];
  readonly baselines: readonly (readonly bigint[])[];
  readonly addresses: readonly string[];
}

export async function preparePopulation(o: ScenarioOptions): Promise<Population> {
  const profiles = await loadProfiles();
  const households = population(profiles, {
    seed: o.seed,
    households: o.households,
    startMonth: o.startMonth,
    behaviour: o.behaviour,
  });
  return {
    households,
    baselines: households.map((h) => baselines(h, o.startMonth)),
    addresses: households.map(householdAddress),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForChain(
  client: WattcapClient,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (;;) {
    if (signal?.aborted) throw new CliError("scenario: stopped", EXIT_SOFTWARE);
    try {
      const status = await client.rpc.chain_status();
      if (BigInt(status.height) >= 2n) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      throw new CliError("scenario: the devnet did not produce a block in time", EXIT_SOFTWARE);
    }
    await sleep(250);
  }
}

/** The simulator's month: every household's usual and actual consumption and its cap. */
export function simMonth(
  o: Pick<ScenarioOptions, "startMonth">,
  pop: Population,
  layout: {
    readonly firstPeriod: bigint;
    readonly firstChainMonth: number;
    readonly baselines: readonly (readonly bigint[])[];
  },
  reductionBps: number,
  j: number,
  ppm: readonly number[],
  priceSignal: bigint | undefined,
): SimMonth {
  const span = runMonth(o.startMonth, j);
  const chainMonth = (layout.firstChainMonth + j) % 12;
  const households: SimHousehold[] = pop.households.map((h, i) => {
    const factor = ppm[i] ?? 1_000_000;
    const usual = monthSplit(h.sim, span);
    const actual = monthSplit(h.sim, span, factor);
    const baseline = layout.baselines[i]?.[chainMonth] ?? 0n;
    return {
      address: pop.addresses[i]!,
      kind: h.traits.kind,
      cap: (baseline * BigInt(10_000 - reductionBps)) / 10_000n,
      usual: usual.total,
      consumption: actual.total,
      usualPeak: usual.peak,
      consumptionPeak: actual.peak,
      ppm: factor,
    };
  });
  return {
    period: layout.firstPeriod + BigInt(j),
    calendarMonth: calendarMonth(o.startMonth, j),
    priceSignal,
    households,
  };
}

/**
 * Runs one arm on its own devnet; returns its report (the kept one if it already finished).
 * The first simulated month is the first period that starts `setupMs` after the chain is up:
 * node start-up time (which varies a lot with the machine's load) never cuts into the time
 * the households have to register. The households' baselines are registered in the slots of
 * the chain months the run will replay, so results do not depend on which period that is.
 */
export async function runArm(arm: Arm, o: ScenarioOptions, pop: Population): Promise<ArmReport> {
  const dir = join(o.out, "arms", arm.name);
  const reportFile = join(dir, "report.json");
  if (existsSync(reportFile)) {
    o.say(`${arm.name}: already done, kept from ${reportFile}`);
    const kept = JSON.parse(await readFile(reportFile, "utf8")) as ArmReport;
    await writeArm(dir, kept); // its Markdown and charts, as this version renders them
    return kept;
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const policy = scenarioPolicy(o.periodMs, arm);
  const { layout, dir: devnetDir } = await prepareDevnet(
    {
      validators: o.validators,
      households: o.households,
      periodMs: o.periodMs,
      mode: arm.mode,
      reset: true,
      dir: join(dir, "devnet"),
      basePort: o.basePort,
      rpcPort: o.rpcPort,
    },
    BigInt(Date.now()),
    { policy, genesisMonth: 0 },
  );
  const genesis = JSON.parse(await readFile(join(devnetDir, "genesis.json"), "utf8"));
  const rpcUrl = `http://127.0.0.1:${o.rpcPort}/`;
  const say = (line: string) => o.say(`${arm.name}: ${line}`);
  const nodes = new Supervisor(layout.nodes.map(nodeProcess), devnetDir, say);
  let oracleProcess: Supervisor | undefined;
  nodes.start();
  const client = new WattcapClient({ url: rpcUrl, timeoutMs: 20_000 });
  const validatorUrl = `http://127.0.0.1:${layout.nodes[0]!.rpcPort}/`;
  const sendClient = new WattcapClient({ url: validatorUrl, timeoutMs: 20_000 });
  try {
    await waitForChain(client, Date.now() + 180_000, o.signal);
    const periodStart = BigInt(genesis.periods.startMs);
    const ready = BigInt(Date.now()) + o.setupMs;
    const firstPeriod =
      ready <= periodStart ? 0n : (ready - periodStart + o.periodMs - 1n) / o.periodMs;
    const startMs = periodStart + firstPeriod * o.periodMs;
    const firstChainMonth = Number((BigInt(genesis.periods.genesisMonth) + firstPeriod) % 12n);
    const baselinesOnChain = pop.baselines.map((b) =>
      registeredBaselines(b, o.startMonth, firstChainMonth),
    );
    say(`the chain is up; the households' first month is period ${firstPeriod}`);
    const oracle = await prepareOracle({
      dir: devnetDir,
      rpcUrl: validatorUrl,
      chainId: genesis.chainId,
      periods: genesis.periods,
      seed: o.seed,
      households: pop.households,
      startMonth: o.startMonth,
      firstPeriod,
      months: o.months,
      readingIntervalMs: BigInt(genesis.utilities[0].policy.readingInterval),
      // One snapshot a month besides the boundaries: the oracle, one batch in flight, then
      // lands every boundary well within the grace even when blocks are slow.
      snapshotEvery: 30n,
      httpPort: o.basePort + 3 * (o.validators + 1),
    });
    oracleProcess = new Supervisor([oracle.process], devnetDir, say);
    oracleProcess.start();
    const latencies: number[] = [];
    const reductionBps = Number(policy.reductionBps);
    const run: HouseholdRun = {
      client,
      sendClient,
      chainId: genesis.chainId,
      operatorKey: await operatorKey(devnetDir),
      oracleAddress: oracle.address,
      households: pop.households,
      baselines: baselinesOnChain,
      firstChainMonth,
      policy: {
        reductionBps,
        floorPrice: BigInt(policy.floorPrice ?? 0),
        penaltyPrice: BigInt(policy.penaltyPrice ?? 0),
      },
      standingOrders: arm.mode !== "none",
      behaviour: o.behaviour,
      startMonth: o.startMonth,
      firstPeriod,
      responsesDir: join(devnetDir, "responses"),
      values: (price) => arm.values(price),
      responds: arm.responds,
    };
    await registerHouseholds(run, latencies);
    const spare = Number(startMs) - Date.now();
    say(
      `${o.households} households registered, ${Math.round(spare / 1000)} s before their first month`,
    );
    if (spare < 0) {
      throw new CliError(
        "scenario: registering the households took longer than --setup; give it more time",
        EXIT_SOFTWARE,
      );
    }
    const sims: SimMonth[] = [];
    const shape = { firstPeriod, firstChainMonth, baselines: baselinesOnChain };
    const decide = async (j: number) => {
      const { ppm, price } = await decidePeriod(run, j, o.signal);
      sims.push(simMonth(o, pop, shape, reductionBps, j, ppm, price));
      say(`month ${j + 1}/${o.months} decided (price seen: ${price ?? "none"})`);
    };
    // The first two months need no market result: decided at once, so the meters never wait.
    for (let j = 0; j < Math.min(2, o.months); j++) await decide(j);
    // The standing orders must be on chain before the first finalisation.
    await setStandingOrders(run, latencies);
    const finalisesAt = startMs + o.periodMs + BigInt(policy.readingGrace ?? 0);
    if (BigInt(Date.now()) > finalisesAt - 2000n) {
      throw new CliError(
        "scenario: the standing orders landed too late for the first month; give --setup more",
        EXIT_SOFTWARE,
      );
    }
    for (let j = 2; j < o.months; j++) await decide(j);
    const last = firstPeriod + BigInt(o.months - 1);
    await waitForPhase(client, last, "closed", o.signal);
    const period = await client.rpc.period_get({ utility: "u0", period: last.toString() });
    // Compliance runs in the first block after the trading window: wait for a few after it.
    const after = BigInt(period.tradingEndsAt) + 3000n;
    while (BigInt((await client.rpc.chain_status()).headTime) < after) {
      if (o.signal?.aborted) throw new CliError("scenario: stopped", EXIT_SOFTWARE);
      await sleep(500);
    }
    say("last month settled; reading the chain back");
    const nodeClients = layout.nodes.map((n) => ({
      name: n.name,
      client: new WattcapClient({ url: `http://127.0.0.1:${n.rpcPort}/`, timeoutMs: 20_000 }),
    }));
    const chain = await collectChainData(client, nodeClients, pop.addresses, firstPeriod, o.months);
    for (const n of nodeClients) n.client.close();
    const report = armReport({
      arm: arm.name,
      title: arm.title,
      mode: arm.mode,
      retailPrice: o.behaviour.retailPrice,
      sim: sims,
      chain,
      latencies,
    });
    await writeArm(dir, report);
    return report;
  } finally {
    client.close();
    sendClient.close();
    await oracleProcess?.stop();
    await nodes.stop();
  }
}

async function operatorKey(devnetDir: string): Promise<Uint8Array> {
  return (await readKeyFile(join(devnetDir, "keys", "operator-u0.json"), "operator")).secretKey;
}

/** report.json (written last: its presence means the arm is done), report.md and the charts. */
export async function writeArm(dir: string, report: ArmReport): Promise<void> {
  for (const [name, svg] of Object.entries(armCharts(report))) {
    await writeFile(join(dir, name), svg);
  }
  await writeFile(join(dir, "report.md"), armMarkdown(report));
  await writeFile(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
}
