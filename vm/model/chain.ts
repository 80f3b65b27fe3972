// Chain-wide records: the genesis parameters, the rules-version schedule, and the running totals
// that the money and credit invariants (DESIGN.md §6 "Money") are checked against.
import {
  CodecError,
  enumeration,
  type Infer,
  i64,
  list,
  struct,
  text,
  type UnionOf,
  u32,
  u64,
  union,
} from "../../lib/codec.js";
import { calendarSchedule, fixedSchedule, PeriodError, type PeriodSchedule } from "../period.js";
import { intRange, mapped } from "./common.js";

const scheduleVariants = {
  fixed: [0, struct("FixedSchedule", { start: u64, length: u64, firstMonth: intRange(0, 11) })],
  calendar: [
    1,
    struct("CalendarSchedule", { firstYear: i64, firstMonth: intRange(0, 11), offsetMinutes: i64 }),
  ],
} as const;
const ScheduleWire = union("PeriodSchedule", scheduleVariants);
type ScheduleWire = UnionOf<typeof scheduleVariants>;

function checkedSchedule(make: () => PeriodSchedule, path: string): PeriodSchedule {
  try {
    return make();
  } catch (e) {
    if (e instanceof PeriodError) throw new CodecError("SCHEMA", `${path}: ${e.message}`);
    throw e;
  }
}

/** vm/period.ts's schedule, checked by its own constructors on the way in. */
export const PeriodScheduleSchema = mapped(
  "PeriodSchedule",
  ScheduleWire,
  (w, path): PeriodSchedule =>
    w.kind === "fixed"
      ? checkedSchedule(
          () => fixedSchedule(w.value.start, w.value.length, w.value.firstMonth),
          path,
        )
      : checkedSchedule(
          () =>
            calendarSchedule(
              Number(w.value.firstYear),
              w.value.firstMonth,
              Number(w.value.offsetMinutes),
            ),
          path,
        ),
  (s): ScheduleWire =>
    s.kind === "fixed"
      ? { kind: "fixed", value: { start: s.start, length: s.length, firstMonth: s.firstMonth } }
      : {
          kind: "calendar",
          value: {
            firstYear: BigInt(s.firstYear),
            firstMonth: s.firstMonth,
            offsetMinutes: BigInt(s.offsetMinutes),
          },
        },
);

export const MARKET_MODES = ["batch", "continuous", "paper", "none"] as const;
export const MarketModeSchema = enumeration("MarketMode", MARKET_MODES);
export type MarketMode = Infer<typeof MarketModeSchema>;

export const ParamsSchema = struct("Params", {
  chainId: text(64),
  /** Unix ms; the first block's time is after it. */
  genesisTime: u64,
  schedule: PeriodScheduleSchema,
  marketMode: MarketModeSchema,
  governance: struct("GovernanceParams", {
    /** A proposal can be approved for this many blocks after the one it was made in. */
    proposalTtlBlocks: u64,
  }),
  limits: struct("Limits", {
    maxReadingsPerBatch: u32,
    /** The bound on each end-of-block job's work (households or orders touched) per block. */
    maxJobWorkPerBlock: u32,
    /** How long a household key rotation waits, so the real owner can object (ms). */
    keyRotationDelay: u64,
  }),
});
export type Params = Infer<typeof ParamsSchema>;

export const UpgradeSchema = struct("Upgrade", { version: u32, height: u64 });
export type Upgrade = Infer<typeof UpgradeSchema>;

export const UpgradesSchema = struct("Upgrades", {
  /** The rules version from genesis. */
  genesisVersion: u32,
  /** Scheduled by governance; heights and versions both strictly increase. */
  scheduled: list(UpgradeSchema, 64),
});
export type Upgrades = Infer<typeof UpgradesSchema>;

/** The rules version in force at `height`: the last upgrade at or below it. */
export function rulesVersionAt(upgrades: Upgrades, height: bigint): number {
  let version = upgrades.genesisVersion;
  for (const u of upgrades.scheduled) if (u.height <= height) version = u.version;
  return version;
}

/**
 * Money is created and removed only by bill payments and charges (net of reversals), so
 * Σ balances = payments − charges at every block. Credits come into existence only by minting
 * and leave only by surrender, expiry or rebate.
 */
export const TotalsSchema = struct("Totals", {
  payments: i64,
  charges: i64,
  creditsMinted: u64,
  creditsSurrendered: u64,
  creditsExpired: u64,
  creditsRebated: u64,
});
export type Totals = Infer<typeof TotalsSchema>;

export const ZERO_TOTALS: Totals = {
  payments: 0n,
  charges: 0n,
  creditsMinted: 0n,
  creditsSurrendered: 0n,
  creditsExpired: 0n,
  creditsRebated: 0n,
};
