// In-process nodes for the consensus driver and sync tests: a store in a temporary directory, the
// chain, mempool, evidence pool, producer, signer with its WAL, driver and sync, joined to a
// MemoryHub. The clock starts just after the test genesis time and runs in real time, so the
// time rule and the target block time behave as in production.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Test } from "tap";
import type { TimeoutConfig } from "../../consensus/timeout.js";
import { toHex } from "../../lib/bytes.js";
import { encodeTx, signTx } from "../../lib/tx.js";
import { Chain } from "../../node/chain.js";
import { type Clock, offsetClock, systemClock } from "../../node/clock.js";
import { ConsensusDriver } from "../../node/consensus-driver.js";
import { EvidencePool } from "../../node/evidence-pool.js";
import type { ChainGenesis } from "../../node/genesis.js";
import { Mempool } from "../../node/mempool.js";
import { Producer } from "../../node/producer.js";
import { GuardedSigner, LocalFileSigner } from "../../node/signer.js";
import { Sync } from "../../node/sync.js";
import { Wal } from "../../node/wal.js";
import { Store } from "../../state/store.js";
import { encodePayload, type PayloadOf, type TxTypeName, txTypeNumber } from "../../vm/tx/types.js";
import { type Actor, actor, hash32, T0 } from "../vm/helpers.js";
import type { MemoryHub, MemoryNetwork } from "./memory-network.js";

export const FAST_TIMEOUTS: TimeoutConfig = {
  propose: { baseMs: 1500n, deltaMs: 500n },
  prevote: { baseMs: 600n, deltaMs: 300n },
  precommit: { baseMs: 600n, deltaMs: 300n },
};

/** One clock for every node of a test: real time, starting just after the genesis. */
export function testClock(): Clock {
  return offsetClock(systemClock, T0 + 1000n - BigInt(Date.now()));
}

export interface TestNodeOptions {
  readonly genesis: ChainGenesis;
  readonly hub: MemoryHub;
  readonly id: string;
  readonly clock: Clock;
  /** The validator key; a follower has none. */
  readonly validator?: Actor;
  /** Reuse a directory (a restart); a fresh one otherwise. */
  readonly dir?: string;
  readonly timeouts?: TimeoutConfig;
  readonly targetBlockTimeMs?: bigint;
}

export interface TestNode {
  readonly dir: string;
  readonly store: Store;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly evidence: EvidencePool;
  readonly driver: ConsensusDriver;
  readonly sync: Sync;
  readonly network: MemoryNetwork;
  readonly wal: Wal | undefined;
  /** Stops the driver and sync and closes the WAL and store (the directory stays). */
  stop(): Promise<void>;
}

export async function startTestNode(t: Test, options: TestNodeOptions): Promise<TestNode> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "wattcap-driver-")));
  if (options.dir === undefined) {
    t.teardown(() => rm(dir, { recursive: true, force: true }));
  }
  const store = await Store.open(join(dir, "data"));
  const chain = await Chain.open(store, options.genesis, { clock: options.clock });
  const mempool = new Mempool(chain);
  const evidence = new EvidencePool(chain);
  const targetBlockTimeMs = options.targetBlockTimeMs ?? 20n;
  let wal: Wal | undefined;
  let signer: GuardedSigner | undefined;
  let producer: Producer | undefined;
  if (options.validator) {
    wal = await Wal.open(join(dir, "wal", "signing.wal"));
    signer = new GuardedSigner(LocalFileSigner.fromSecretKey(options.validator.secretKey), wal);
    producer = new Producer(chain, mempool, {
      proposer: signer.address,
      pendingEvidence: () => evidence.pending(),
      targetBlockTimeMs,
    });
  }
  // The driver and sync are built after the network they use; the endpoint reaches them late.
  let driver: ConsensusDriver | undefined;
  let sync: Sync | undefined;
  const network = options.hub.join(options.id, {
    gossip: (kind, data, from) => {
      if (!driver) return "ignore";
      switch (kind) {
        case "proposal":
          return driver.onProposal(data, from);
        case "vote":
          return driver.onVote(data, from);
        case "evidence":
          return driver.onEvidence(data, from);
        case "tx":
          return mempool.add(data).then((r) => (r.ok ? "accept" : "ignore"));
      }
    },
    status: () => sync!.status(),
    blocksByRange: (request) => sync!.blocksByRange(request),
    votes: (request) => driver!.votes(request),
    proposal: (request) => driver!.proposal(request),
  });
  mempool.on("admitted", (tx) => void network.publish("tx", tx.bytes));
  driver = new ConsensusDriver({
    chain,
    network,
    evidencePool: evidence,
    mempool,
    ...(producer ? { producer } : {}),
    ...(signer ? { signer } : {}),
    timeouts: options.timeouts ?? FAST_TIMEOUTS,
    targetBlockTimeMs,
  });
  sync = new Sync({ chain, network, pollIntervalMs: 0 });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    options.hub.leave(options.id);
    await driver!.stop();
    await sync!.stop();
    await wal?.close();
    await store.close();
  };
  t.teardown(stop);
  return { dir, store, chain, mempool, evidence, driver, sync, network, wal, stop };
}

const CHAIN_ID = "wattcap-test";

export function signedTx<N extends TxTypeName>(
  signer: Actor,
  nonce: bigint,
  type: N,
  payload: PayloadOf<N>,
): Uint8Array {
  const body = {
    chainId: CHAIN_ID,
    nonce,
    type: txTypeNumber(type),
    payload: encodePayload(type, payload),
    signer: signer.publicKey,
  };
  return encodeTx(signTx(body, signer.secretKey));
}

/** An operator's registerHousehold transaction; `n` picks the household. */
export function registerHousehold(operator: Actor, nonce: bigint, n: number): Uint8Array {
  return signedTx(operator, nonce, "registerHousehold", {
    household: actor(500 + n).address,
    meterIdHash: hash32(500 + n),
    meterKey: undefined,
    registers: 1,
    baselines: Array.from({ length: 12 }, () => 1000n),
  });
}

export async function waitFor(
  label: string,
  predicate: () => boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function hashAt(node: TestNode, height: bigint): string | undefined {
  const hash = node.store.chain.getBlockHash(height);
  return hash === undefined ? undefined : toHex(hash);
}
