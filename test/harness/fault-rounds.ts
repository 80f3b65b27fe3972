// Randomised fault rounds over a fault-layer testnet (Testnet with faults: true), under a steady
// transaction load: SIGKILL and restart of validators, followers and the meter oracle (when the
// run has one, test/harness/testnet-oracle.ts), 2/2 splits, a cut-off validator, flapping links
// and slow, lossy links. After each round every node must pass the height the network had
// before it, and the oracle must be running and serving its status. The load remembers every
// transaction it saw committed, so a run can check at the end that each is still committed, at
// the same height, on every node.
// Used by test/network/fault-rounds.test.ts (a few rounds) and `npm run faults` (many).
import { addressOf, toChecksumAddress } from "../../lib/address.js";
import { to0x } from "../../lib/bytes.js";
import { generateSecretKey, publicKeyOf } from "../../lib/keys.js";
import { buildSignedTx, WattcapClient } from "../../rpc/client/index.js";
import type { OracleProcess } from "./oracle-process.js";
import type { Testnet } from "./testnet.js";

export const FAULT_KINDS = [
  "kill-validator",
  "kill-follower",
  "kill-oracle",
  "split-halves",
  "isolate-validator",
  "flap",
  "lossy-links",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultFigures {
  rounds: number;
  kills: { validator: number; follower: number; oracle: number };
  partitionsHealed: number;
  flaps: number;
  lossyRounds: number;
}

export interface FaultRoundOptions {
  readonly rounds: number;
  /** Stops starting new rounds after this time (Date.now() ms); default: no limit. */
  readonly deadline?: number;
  readonly random: () => number;
  readonly kinds?: readonly FaultKind[];
  /** How long every node may take to pass the pre-round height after a round. */
  readonly catchUpMs?: number;
  readonly log?: (line: string) => void;
  /** The run's meter oracle, started: "kill-oracle" rounds need one. */
  readonly oracle?: OracleProcess;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Transactions an operator sends before waiting for them to commit. */
const BURST = 5n;

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Runs fault rounds; throws if the network fails to recover from one. */
export async function runFaultRounds(
  net: Testnet,
  options: FaultRoundOptions,
): Promise<FaultFigures> {
  const { random, oracle } = options;
  const all = net.nodes.map((n) => n.name);
  const kinds = (options.kinds ?? FAULT_KINDS).filter(
    (k) =>
      (k !== "kill-follower" || net.followers.length > 0) &&
      (k !== "kill-oracle" || oracle !== undefined),
  );
  const figures: FaultFigures = {
    rounds: 0,
    kills: { validator: 0, follower: 0, oracle: 0 },
    partitionsHealed: 0,
    flaps: 0,
    lossyRounds: 0,
  };
  for (let round = 0; round < options.rounds; round++) {
    if (options.deadline !== undefined && Date.now() > options.deadline) break;
    const kind = pick(kinds, random);
    const before = await net.maxHeight(all);
    options.log?.(`round ${round}: ${kind} at about height ${before}`);
    switch (kind) {
      case "kill-validator":
      case "kill-follower": {
        const role = kind === "kill-validator" ? "validator" : "follower";
        const victim = pick(role === "validator" ? net.validators : net.followers, random);
        await sleep(Math.floor(random() * 1500));
        await net.kill(victim);
        await sleep(Math.floor(random() * 2000));
        net.start(victim);
        figures.kills[role]++;
        break;
      }
      case "kill-oracle": {
        // Its outbox is its only state: a kill at any moment (mid-batch, mid-write) loses nothing.
        await sleep(Math.floor(random() * 1500));
        await oracle?.kill();
        await sleep(Math.floor(random() * 2000));
        oracle?.start();
        figures.kills.oracle++;
        break;
      }
      case "split-halves": {
        const shuffled = [...net.validators].sort(() => random() - 0.5);
        const half = shuffled.slice(0, Math.floor(shuffled.length / 2));
        const other = all.filter((n) => !half.includes(n));
        await net.partition([half, other]);
        await sleep(2000 + Math.floor(random() * 3000));
        await net.heal();
        figures.partitionsHealed++;
        break;
      }
      case "isolate-validator": {
        const loner = pick(net.validators, random);
        await net.partition([all.filter((n) => n !== loner), [loner]]);
        await sleep(2000 + Math.floor(random() * 3000));
        await net.heal();
        figures.partitionsHealed++;
        break;
      }
      case "flap": {
        for (let i = 0; i < 4; i++) {
          const loner = pick(all, random);
          await net.partition([all.filter((n) => n !== loner), [loner]]);
          await sleep(300 + Math.floor(random() * 700));
          await net.heal();
          await sleep(300 + Math.floor(random() * 700));
          figures.flaps++;
        }
        figures.partitionsHealed++;
        break;
      }
      case "lossy-links": {
        const fault = { delayMs: Math.floor(random() * 200), drop: random() * 0.3 };
        for (const name of all) await net.setFaults(name, { links: { "*": fault } });
        await sleep(3000);
        for (const name of all) await net.setFaults(name, { links: {} });
        figures.lossyRounds++;
        break;
      }
    }
    await net.waitForHeight(all, before + 1, options.catchUpMs ?? 60_000);
    if (oracle !== undefined) {
      if (!oracle.running) throw new Error(`the oracle exited during round ${round}`);
      await oracle.waitFor("the oracle's status", () => true, options.catchUpMs ?? 60_000, 200);
    }
    figures.rounds++;
  }
  return figures;
}

/**
 * A steady load of transactions to random running nodes: each utility operator registers
 * oracles (fresh random addresses), a burst of BURST consecutive nonces at a time, reading its
 * next nonce from the chain before each burst so a burst lost with a crashed node's mempool is
 * simply sent again under the same nonces.
 */
export class TxLoad {
  /** Hashes a node accepted (tx_send answered). */
  readonly accepted = new Set<string>();
  /** Hash -> the height a node reported it finalized at. */
  readonly committed = new Map<string, string>();
  #running = false;
  #loops: Promise<void>[] = [];

  constructor(
    private readonly net: Testnet,
    private readonly random: () => number,
  ) {}

  /** Short timeouts while nodes crash; a patient client for the final check. */
  #client(name: string, timeoutMs = 3000): WattcapClient {
    return new WattcapClient({ url: `http://127.0.0.1:${this.net.node(name).rpcPort}`, timeoutMs });
  }

  #up(): string[] {
    return this.net.nodes.map((n) => n.name).filter((n) => this.net.isRunning(n));
  }

  start(chainId: string): void {
    this.#running = true;
    this.#loops = this.net.operators.map(({ secretKey }) => this.#operatorLoop(chainId, secretKey));
  }

  async #operatorLoop(chainId: string, secretKey: Uint8Array): Promise<void> {
    const address = toChecksumAddress(addressOf(publicKeyOf(secretKey)));
    while (this.#running) {
      const name = pick(this.#up(), this.random);
      try {
        if (name === undefined) throw new Error("no node is up");
        const rpc = this.#client(name).rpc;
        const next = BigInt((await rpc.account_get({ address })).nonce);
        for (let i = 0n; i < BURST; i++) {
          const tx = buildSignedTx(secretKey, chainId, next + i, "registerOracle", {
            oracle: generateSecretKey().subarray(0, 20),
          });
          this.accepted.add((await rpc.tx_send({ tx: to0x(tx.bytes) })).hash.toLowerCase());
        }
        // Until the burst is committed (or it is clearly lost), nothing new is sent.
        const end = Date.now() + 10_000;
        while (this.#running && Date.now() < end) {
          await sleep(500);
          if (BigInt((await rpc.account_get({ address })).nonce) >= next + BURST) break;
        }
      } catch {
        await sleep(500); // the node is down or restarting: try another
      }
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** Asks a running node about every accepted transaction not yet seen committed. */
  async poll(): Promise<void> {
    const name = pick(this.#up(), this.random);
    if (name === undefined) return;
    const rpc = this.#client(name).rpc;
    for (const hash of this.accepted) {
      if (this.committed.has(hash)) continue;
      try {
        const status = await rpc.tx_get({ hash });
        if (status.status === "finalized" && status.height !== null) {
          this.committed.set(hash, status.height);
        }
      } catch {
        return; // the node went away; ask again later
      }
    }
  }

  /** Committed transactions that some running node no longer has at their height. */
  async lost(names: readonly string[]): Promise<string[]> {
    const committed = [...this.committed];
    const perNode = await Promise.all(
      names.map(async (name) => {
        const rpc = this.#client(name, 30_000).rpc;
        const lost: string[] = [];
        // A few requests in flight per node: thousands of sequential calls take minutes.
        for (let i = 0; i < committed.length; i += 4) {
          const statuses = await Promise.all(
            committed.slice(i, i + 4).map(([hash]) => rpc.tx_get({ hash })),
          );
          statuses.forEach((status, j) => {
            const [hash, height] = committed[i + j]!;
            if (status.status !== "finalized" || status.height !== height) {
              lost.push(`${name}:${hash}`);
            }
          });
        }
        return lost;
      }),
    );
    return perNode.flat();
  }
}
