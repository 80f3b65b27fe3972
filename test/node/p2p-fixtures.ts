// Shared set-up for the p2p tests: real libp2p nodes on 127.0.0.1 in one process.
import {
  DEFAULT_SCORING,
  DEFAULT_TUNING,
  type GossipValidators,
  Network,
  type NetworkOptions,
  type NetworkTuning,
  type ReqRespHandlers,
  type Status,
} from "../../node/p2p/index.js";

export const CHAIN = "wattcap-test";

/** A valid secp256k1 secret for small n. */
export function nodeKey(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

export function acceptAll(): GossipValidators {
  return {
    tx: () => "accept",
    proposal: () => "accept",
    vote: () => "accept",
    evidence: () => "accept",
  };
}

export const STATUS: Status = {
  latestHeight: 7n,
  latestHash: new Uint8Array(32).fill(7),
  earliestHeight: 1n,
};

export function handlers(overrides: Partial<ReqRespHandlers> = {}): ReqRespHandlers {
  return {
    status: () => STATUS,
    blocksByRange: () => [],
    votes: () => [],
    proposal: () => undefined,
    voteBitmaps: () => undefined,
    ...overrides,
  };
}

/**
 * Quick heartbeats and backoff, no periodic vote exchange (tests run passes by hand), and scores
 * that do not decay, so they can be compared exactly (decay has its own unit test).
 */
export const TEST_TUNING: Partial<NetworkTuning> = {
  scoring: { ...DEFAULT_SCORING, halfLifeMs: Number.POSITIVE_INFINITY },
  heartbeatMs: 100,
  directConnectTicks: 5,
  voteExchange: { ...DEFAULT_TUNING.voteExchange, intervalMs: 0 },
  links: { baseMs: 100, maxMs: 800, dialTimeoutMs: 1000 },
};

export type TestOptions = Partial<Omit<NetworkOptions, "tuning">> & {
  readonly key: number;
  readonly port?: number;
  readonly tuning?: Partial<NetworkTuning>;
};

export function startNetwork(options: TestOptions): Promise<Network> {
  const { key, port, tuning, ...rest } = options;
  return Network.create({
    chainId: CHAIN,
    nodeKey: nodeKey(key),
    listen: [`/ip4/127.0.0.1/tcp/${port ?? 0}`],
    allowList: ["/ip4/127.0.0.1"],
    validators: acceptAll(),
    handlers: handlers(),
    ...rest,
    tuning: { ...TEST_TUNING, ...tuning },
  });
}

export async function waitFor(
  label: string,
  predicate: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Dials b from a and waits until each knows the other subscribes to every topic. */
export async function link(a: Network, b: Network): Promise<void> {
  await a.dial(b.addresses()[0]!);
  await waitFor(`${a.peerId} <-> ${b.peerId} subscriptions`, () =>
    (["tx", "proposal", "vote", "evidence"] as const).every(
      (kind) => a.subscribers(kind).includes(b.peerId) && b.subscribers(kind).includes(a.peerId),
    ),
  );
}

export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
