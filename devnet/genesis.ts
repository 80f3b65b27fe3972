// The devnet's genesis: one utility per validator (so none holds a third of the set once there
// are four), fixed-length compressed months, and a policy scaled to them.

/** Days in a compressed month: the devnet's reading interval is one such day. */
const MONTH_DAYS = 30n;

export interface DevnetValidator {
  /** EIP-55 address and compressed public key (hex) of the consensus key. */
  readonly address: string;
  readonly publicKey: string;
  /** EIP-55 address of its utility's operator account. */
  readonly operator: string;
}

export interface DevnetGenesisInput {
  readonly validators: readonly DevnetValidator[];
  readonly periodMs: bigint;
  readonly mode: string;
  /** Unix ms: genesis time; the first period starts at the next whole second. */
  readonly now: bigint;
  readonly custom?: GenesisCustom;
}

/** What a scenario changes in the devnet's genesis: the policy, and when and in which month it starts. */
export interface GenesisCustom {
  /** Fields replacing those of devnetPolicy, in the genesis JSON's form. */
  readonly policy?: Record<string, string | number>;
  /** Unix ms when period 0 starts (default: the second after genesis). */
  readonly startMs?: bigint;
  /** The calendar month (0..11) of period 0 (default: genesis's UTC month). */
  readonly genesisMonth?: number;
}

/** The policy every devnet utility starts with, its durations scaled to the compressed month. */
export function devnetPolicy(periodMs: bigint): Record<string, string | number | unknown[]> {
  const day = periodMs / MONTH_DAYS;
  return {
    reductionBps: 1000,
    penaltyPrice: "300",
    floorPrice: "10",
    buybackPrice: "5",
    rebatePrice: "0",
    creditLifetime: 3,
    holdingLimit: "100000000",
    creditLimit: "5000000",
    readingGrace: (periodMs / 10n).toString(),
    tradingWindow: (periodMs / 4n).toString(),
    noticePeriod: (periodMs / 2n).toString(),
    peakWindows: [],
    peakWeightBps: 10_000,
    readingInterval: day.toString(),
    maxReadingDrift: day.toString(),
  };
}

export function devnetGenesis(input: DevnetGenesisInput): Record<string, unknown> {
  const start = input.custom?.startMs ?? (input.now / 1000n + 1n) * 1000n;
  const policy = { ...devnetPolicy(input.periodMs), ...input.custom?.policy };
  return {
    chainId: "wattcap-devnet",
    genesisTime: input.now.toString(),
    periods: {
      kind: "fixed",
      startMs: start.toString(),
      lengthMs: input.periodMs.toString(),
      genesisMonth: input.custom?.genesisMonth ?? new Date(Number(input.now)).getUTCMonth(),
    },
    marketMode: input.mode,
    utilities: input.validators.map((v, i) => ({
      id: `u${i}`,
      name: `Utility ${i}`,
      operator: v.operator,
      policy,
    })),
    validators: input.validators.map((v, i) => ({
      address: v.address,
      publicKey: v.publicKey,
      operator: v.operator,
      utility: `u${i}`,
    })),
    governance: { proposalTtlBlocks: 600 },
    limits: { maxReadingsPerBatch: 500, maxJobWorkPerBlock: 500, keyRotationDelayMs: "60000" },
  };
}
