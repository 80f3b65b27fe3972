// The fault plan a test gives one node of a testnet (test/harness/fault-node.ts): a JSON file the
// node re-reads while it runs, so a test can cut and heal links, slow them, skew the clock and
// switch Byzantine behaviour on and off at run time. The node writes back a report beside it.
// This is test-only code: `wattcap start` has no way to read a plan.

export const BYZANTINE_MODES = [
  /** Double signing: a second, conflicting prevote for each prevote, a second proposal for each. */
  "equivocate",
  /** Proposes blocks whose header names a wrong transaction root. */
  "invalid-block",
  /** Proposes blocks whose header names a wrong state root. */
  "wrong-state-root",
  /** Never sends its votes, by gossip or in answer to vote requests. */
  "withhold-votes",
  /** Floods the vote and transaction topics with garbage. */
  "flood",
] as const;
export type ByzantineMode = (typeof BYZANTINE_MODES)[number];

export interface LinkFault {
  /** Every inbound gossip message and request from the peer waits this long first. */
  readonly delayMs: number;
  /** The share (0..1) of the peer's inbound gossip messages dropped unseen. */
  readonly drop: number;
}

export interface FaultPlan {
  /** Peer ids this node refuses and hangs up on: they are across a partition. */
  readonly cut: readonly string[];
  /** Faults on inbound traffic by peer id; "*" applies to every peer not listed. */
  readonly links: Readonly<Record<string, LinkFault>>;
  /** Added to the node's wall clock; also how a proposer chooses its blocks' timestamps. */
  readonly clockOffsetMs: number;
  readonly byzantine: readonly ByzantineMode[];
}

export const NO_FAULTS: FaultPlan = { cut: [], links: {}, clockOffsetMs: 0, byzantine: [] };

/** What the node writes beside its plan file every half second. */
export interface FaultReport {
  /** Our score of every peer we ever scored or that is connected, and whether it is banned. */
  readonly peers: Readonly<Record<string, { readonly score: number; readonly banned: boolean }>>;
  readonly connected: readonly string[];
  readonly rssBytes: number;
  /** What the Byzantine modes did: messages forged, withheld or flooded. */
  readonly byzantine: Readonly<Record<string, number>>;
  /** Gossip messages dropped and delayed by the link faults. */
  readonly dropped: number;
  readonly delayed: number;
}

export class FaultPlanError extends Error {
  override name = "FaultPlanError";
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function finite(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
    throw new FaultPlanError(`${what}: a number in [${min}, ${max}]`);
  }
  return v;
}

/** Validates a plan's JSON; every field is optional and defaults to no fault. */
export function parseFaultPlan(json: unknown): FaultPlan {
  if (!isRecord(json)) throw new FaultPlanError("a fault plan is a JSON object");
  const cut = json.cut ?? [];
  if (!Array.isArray(cut) || !cut.every((p) => typeof p === "string")) {
    throw new FaultPlanError("cut: a list of peer ids");
  }
  const linksIn = json.links ?? {};
  if (!isRecord(linksIn)) throw new FaultPlanError("links: an object by peer id");
  const links: Record<string, LinkFault> = {};
  for (const [peer, fault] of Object.entries(linksIn)) {
    if (!isRecord(fault)) throw new FaultPlanError(`links.${peer}: an object`);
    links[peer] = {
      delayMs: finite(fault.delayMs ?? 0, `links.${peer}.delayMs`, 0, 60_000),
      drop: finite(fault.drop ?? 0, `links.${peer}.drop`, 0, 1),
    };
  }
  const byzantine = json.byzantine ?? [];
  if (
    !Array.isArray(byzantine) ||
    !byzantine.every((m) => (BYZANTINE_MODES as readonly unknown[]).includes(m))
  ) {
    throw new FaultPlanError(`byzantine: a list of ${BYZANTINE_MODES.join(", ")}`);
  }
  return {
    cut: cut as string[],
    links,
    clockOffsetMs: finite(json.clockOffsetMs ?? 0, "clockOffsetMs", -3_600_000, 3_600_000),
    byzantine: byzantine as ByzantineMode[],
  };
}

/** The fault on inbound traffic from a peer under a plan. */
export function linkFault(plan: FaultPlan, peer: string): LinkFault {
  return plan.links[peer] ?? plan.links["*"] ?? { delayMs: 0, drop: 0 };
}
