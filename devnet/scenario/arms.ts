// The experiment's arms (docs/scenario.md "Arms"): each is a genesis policy and market mode run
// on the chain, and the marginal value of a saved Wh the households see under it.
import type { MarketMode } from "../../vm/model/chain.js";
import type { MarginalValues } from "../behaviour.js";

export const ARM_NAMES = ["bau", "dsm", "cap", "paper", "batch", "continuous"] as const;
export type ArmName = (typeof ARM_NAMES)[number];

export interface Arm {
  readonly name: ArmName;
  readonly title: string;
  readonly mode: MarketMode;
  /** Policy fields replacing the scenario's defaults (genesis JSON form). */
  readonly policy: Record<string, string | number>;
  /** The marginal values of a saved Wh, given the latest settled market price. */
  values(price: bigint | undefined): MarginalValues;
  /** False in business as usual: no household responds or rebounds, every factor is 1. */
  readonly responds: boolean;
}

/** The scenario's policy (prices in micro-units per Wh), before an arm's changes. */
export const SCENARIO_PRICES = { penalty: 300n, floor: 10n, buyback: 5n, rebate: 155n } as const;
/** Before any trade, households expect the batch auction's reference price, mid-band. */
export const REFERENCE_PRICE = (SCENARIO_PRICES.floor + SCENARIO_PRICES.penalty) / 2n;

/**
 * The chain refuses a zero penalty (it is also the top of the price band), so the arms without
 * one use the smallest, 1 micro-unit per Wh, and no household responds to it.
 */
const NO_PENALTY = { penaltyPrice: "1", floorPrice: "1", buybackPrice: "0" };

const market = (name: ArmName, title: string, mode: MarketMode): Arm => ({
  name,
  title,
  mode,
  policy: {},
  responds: true,
  values: (price) => ({
    underCap: price ?? REFERENCE_PRICE,
    overCap: SCENARIO_PRICES.penalty,
  }),
});

export const ARMS: Record<ArmName, Arm> = {
  bau: {
    name: "bau",
    title: "Business as usual",
    mode: "none",
    policy: { ...NO_PENALTY, reductionBps: 0, rebatePrice: "0" },
    responds: false,
    values: () => ({ underCap: 0n, overCap: 0n }),
  },
  dsm: {
    name: "dsm",
    title: "Traditional DSM (rebate)",
    mode: "none",
    policy: { ...NO_PENALTY, reductionBps: 0, rebatePrice: SCENARIO_PRICES.rebate.toString() },
    responds: true,
    values: () => ({ underCap: SCENARIO_PRICES.rebate, overCap: SCENARIO_PRICES.rebate }),
  },
  cap: {
    name: "cap",
    title: "Cap with penalty, no market",
    mode: "none",
    policy: {},
    responds: true,
    values: () => ({ underCap: SCENARIO_PRICES.buyback, overCap: SCENARIO_PRICES.penalty }),
  },
  paper: market("paper", "Cap and trade, paper's matching", "paper"),
  batch: market("batch", "Cap and trade, batch auction", "batch"),
  continuous: market("continuous", "Cap and trade, continuous book", "continuous"),
};

/** The scenario's policy for utility u0's households: the devnet's, with these prices. */
export function scenarioPolicy(periodMs: bigint, arm: Arm): Record<string, string | number> {
  return {
    reductionBps: 1000,
    penaltyPrice: SCENARIO_PRICES.penalty.toString(),
    floorPrice: SCENARIO_PRICES.floor.toString(),
    buybackPrice: SCENARIO_PRICES.buyback.toString(),
    rebatePrice: "0",
    // Enough overdraft for a household to cover a shortfall of a tenth of its month.
    creditLimit: "100000000",
    // A longer grace than the devnet's: every boundary reading lands before finalisation, so
    // no household is settled on an estimate.
    readingGrace: (periodMs / 2n).toString(),
    ...arm.policy,
  };
}
