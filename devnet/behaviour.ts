// How simulated households respond (docs/scenario.md "Behaviour"): before a month starts, each
// household compares its usual consumption for the month with its cap and sees the marginal
// value of one saved Wh — the market price when it expects to be under its cap, the penalty
// when over, the rebate under traditional DSM. A responder cuts its load by the constant-
// elasticity response to that value added to its retail tariff; a free rider never responds; a
// rebounder responds like a responder except when comfortably under its cap, where it uses
// part of the slack. The result is a factor in parts per million of business as usual.

export type HouseholdKind = "responder" | "free-rider" | "rebounder";

/** What a saved Wh is worth to a household this month, by its position against the cap. */
export interface MarginalValues {
  /** Micro-units per Wh when it expects to be under its cap (price, buy-back or rebate). */
  readonly underCap: bigint;
  /** Micro-units per Wh when it expects to be over (penalty, or rebate in DSM). */
  readonly overCap: bigint;
}

export interface BehaviourModel {
  /** Shares of households, parts per million; the rest are responders. */
  readonly freeRiderPpm: number;
  readonly rebounderPpm: number;
  /** Each responder's short-run price elasticity (absolute value), uniform in this range. */
  readonly elasticity: readonly [min: number, max: number];
  /** The retail tariff the marginal value adds to, micro-units per Wh (150 = 0.15 per kWh). */
  readonly retailPrice: bigint;
  /** The largest cut any household makes, basis points of its usual load. */
  readonly maxReductionBps: number;
  /** A rebounder is "comfortably under" when its usual load is at least this far below its cap. */
  readonly comfortBps: number;
  /** Share of that slack a rebounder then uses, basis points. */
  readonly reboundBps: number;
}

export const DEFAULT_BEHAVIOUR: BehaviourModel = {
  freeRiderPpm: 250_000,
  rebounderPpm: 150_000,
  elasticity: [0.1, 0.3],
  retailPrice: 150n,
  maxReductionBps: 3000,
  comfortBps: 500,
  reboundBps: 5000,
};

export interface HouseholdTraits {
  readonly kind: HouseholdKind;
  /** Absolute short-run elasticity (0 for free riders). */
  readonly elasticity: number;
}

/** The household's kind and elasticity from two uniform draws in [0, 2^32). */
export function traitsOf(model: BehaviourModel, kindDraw: number, elasticityDraw: number) {
  const share = Math.floor((kindDraw / 2 ** 32) * 1_000_000);
  const kind: HouseholdKind =
    share < model.freeRiderPpm
      ? "free-rider"
      : share < model.freeRiderPpm + model.rebounderPpm
        ? "rebounder"
        : "responder";
  const [lo, hi] = model.elasticity;
  const elasticity = kind === "free-rider" ? 0 : lo + (hi - lo) * (elasticityDraw / 2 ** 32);
  return { kind, elasticity: Math.round(elasticity * 1000) / 1000 } satisfies HouseholdTraits;
}

/**
 * The household's consumption this month as parts per million of its usual load `usualWh`,
 * given its cap and the marginal values of a saved Wh. Rounded to whole ppm, so every party
 * that evaluates it (the simulation, the report) gets the same integer.
 */
export function responsePpm(
  model: BehaviourModel,
  traits: HouseholdTraits,
  usualWh: bigint,
  capWh: bigint,
  values: MarginalValues,
): number {
  if (traits.kind === "free-rider" || usualWh <= 0n) return 1_000_000;
  const slack = capWh - usualWh;
  if (traits.kind === "rebounder" && slack * 10_000n >= usualWh * BigInt(model.comfortBps)) {
    const extra = (slack * BigInt(model.reboundBps) * 1_000_000n) / (10_000n * usualWh);
    return 1_000_000 + Number(extra);
  }
  const value = slack < 0n ? values.overCap : values.underCap;
  if (value <= 0n || traits.elasticity === 0) return 1_000_000;
  const relative = 1 + Number(value) / Number(model.retailPrice);
  const kept = Math.max(relative ** -traits.elasticity, 1 - model.maxReductionBps / 10_000);
  return Math.round(kept * 1_000_000);
}
