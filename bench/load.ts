// The network benchmark's load generator: household accounts sending signed transactions to a
// testnet's nodes through the RPC client SDK (one WebSocket per node), and a tracker that reads
// every committed block from one node to learn when each transaction committed. Transactions
// are signed before a phase starts, so the generator spends no CPU on signatures while the nodes
// are measured. Each household sends its own nonces one at a time (a send waits for the node's
// answer), so no nonce ever arrives before the one it follows; many households give parallelism.
import WsClass from "ws";
import { addressOf } from "../lib/address.js";
import { to0x } from "../lib/bytes.js";
import { sha256 } from "../lib/hash.js";
import { generateSecretKey, publicKeyOf } from "../lib/keys.js";
import {
  type BuiltTx,
  buildSignedTx,
  WattcapClient,
  type WebSocketConstructor,
  WsTransport,
} from "../rpc/client/index.js";
import type { Json } from "../rpc/json.js";
import type { Testnet } from "../test/harness/testnet.js";

const WebSocket = WsClass as unknown as WebSocketConstructor;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Household {
  readonly secretKey: Uint8Array;
  readonly address: Uint8Array;
  /** 0x-hex, lower case, as blocks name signers (compared case-insensitively). */
  readonly key: string;
  /** Its node's socket. */
  readonly transport: WsTransport;
  readonly txs: BuiltTx[];
  /** Index in txs of the next to send. */
  next: number;
  /** Transactions of this household committed so far (its account nonce). */
  committed: number;
  sending: boolean;
  /** After a refusal, saturation sends nothing more for this household until then. */
  retryAt: number;
}

/** One committed block as the tracker saw it. */
interface Seen {
  readonly at: number;
  readonly txs: number;
}

/** A setting of an app key: valid for a registered household at any time, any number of times. */
const APP_KEY = addressOf(publicKeyOf(generateSecretKey()));

export class LoadGenerator {
  readonly #chainId: string;
  readonly #transports: WsTransport[];
  readonly #reader: WattcapClient;
  readonly #households: Household[] = [];
  readonly #byKey = new Map<string, Household>();
  /** Send time (ms, performance.now) by 0x tx hash, for transactions whose latency counts. */
  readonly #sentAt = new Map<string, number>();
  readonly #latencies: number[] = [];
  readonly #blocks: Seen[] = [];
  readonly #committedHashes = new Set<string>();
  /** When each height's head notification arrived. */
  readonly #headAt = new Map<bigint, number>();
  #nextHeight = 1n;
  #reading: Promise<void> = Promise.resolve();
  #closeSubscription: (() => Promise<void>) | undefined;
  #waiters: (() => void)[] = [];
  /** Sends the nodes refused (mempool full and the like); retried. */
  refused = 0;
  /** Block reads that failed (and were retried at the next head). */
  readErrors = 0;

  private constructor(chainId: string, transports: WsTransport[], reader: WattcapClient) {
    this.#chainId = chainId;
    this.#transports = transports;
    this.#reader = reader;
  }

  /** Connects to the named nodes (load is spread over them) and follows blocks on the first. */
  static async connect(net: Testnet, nodes: readonly string[]): Promise<LoadGenerator> {
    const transports = nodes.map((n) => new WsTransport(`${wsUrl(net.rpcUrl(n))}`, { WebSocket }));
    const reader = new WattcapClient({ url: net.rpcUrl(nodes[0]!), WebSocket });
    const status = await reader.rpc.chain_status();
    const load = new LoadGenerator(status.chainId, transports, reader);
    load.#nextHeight = BigInt(status.height) + 1n;
    const sub = await reader.subscribe<{ height: string; txCount: number }>(
      "newHeads",
      {},
      (head) => {
        const upTo = BigInt(head.height);
        // Commit times are when heads arrive: reading the blocks' contents may lag behind.
        const now = performance.now();
        load.#headAt.set(upTo, now);
        load.#blocks.push({ at: now, txs: head.txCount });
        // A failed read is retried from the same height at the next head.
        load.#reading = load.#reading
          .then(() => load.#readUpTo(upTo))
          .catch(() => {
            load.readErrors++;
          });
      },
    );
    load.#closeSubscription = () => sub.close();
    return load;
  }

  /**
   * Registers `count` households, spread over the operators (each operator's nonces sent in
   * order), and waits until all of them are committed.
   */
  async registerHouseholds(
    operators: readonly { secretKey: Uint8Array }[],
    count: number,
  ): Promise<void> {
    const queues: BuiltTx[][] = operators.map(() => []);
    for (let i = 0; i < count; i++) {
      const secretKey = generateSecretKey();
      const address = addressOf(publicKeyOf(secretKey));
      const household: Household = {
        secretKey,
        address,
        key: to0x(address).toLowerCase(),
        transport: this.#transports[i % this.#transports.length]!,
        txs: [],
        next: 0,
        committed: 0,
        sending: false,
        retryAt: 0,
      };
      this.#households.push(household);
      this.#byKey.set(household.key, household);
      const o = i % operators.length;
      const queue = queues[o]!;
      queue.push(
        buildSignedTx(
          operators[o]!.secretKey,
          this.#chainId,
          BigInt(queue.length),
          "registerHousehold",
          {
            household: address,
            meterIdHash: sha256(address),
            meterKey: undefined,
            registers: 1,
            baselines: Array.from({ length: 12 }, () => 1000n),
          },
        ),
      );
    }
    // Each operator's registrations go, in nonce order, through one socket.
    await Promise.all(
      queues.map(async (queue, o) => {
        const transport = this.#transports[o % this.#transports.length]!;
        for (const tx of queue) await this.#sendUntilAccepted(transport, tx);
      }),
    );
    const hashes = queues.flat().map((tx) => to0x(tx.id));
    await this.waitCommitted(hashes, 60_000);
  }

  get households(): number {
    return this.#households.length;
  }

  /** Signs `perHousehold` more transactions for every household, continuing its nonces. */
  presign(perHousehold: number): void {
    for (const h of this.#households) {
      const start = h.txs.length;
      for (let i = 0; i < perHousehold; i++) {
        h.txs.push(
          buildSignedTx(h.secretKey, this.#chainId, BigInt(start + i), "delegateAppKey", {
            appKey: APP_KEY,
          }),
        );
      }
    }
  }

  /** Transactions signed and not yet sent. */
  unsent(): number {
    let n = 0;
    for (const h of this.#households) n += h.txs.length - h.next;
    return n;
  }

  /**
   * Closed loop: every household keeps up to `window` transactions sent and not yet committed,
   * for `warmupMs + measureMs`. Returns committed transactions per second over the measured part.
   */
  async saturate(window: number, warmupMs: number, measureMs: number): Promise<number> {
    const start = performance.now();
    const from = start + warmupMs;
    const end = from + measureMs;
    const loop = async (h: Household) => {
      while (performance.now() < end) {
        if (
          h.next - h.committed >= window ||
          h.next >= h.txs.length ||
          performance.now() < h.retryAt
        ) {
          await this.#commitOrTimeout(100);
          continue;
        }
        this.#sendAhead(h);
      }
    };
    await Promise.all(this.#households.map(loop));
    return this.#rate(from, end);
  }

  /**
   * Open loop at `rate` transactions per second for `durationMs`, then waits up to `drainMs`
   * for them to commit. Returns each sent transaction's commit latency (ms), and how many had
   * not committed by the end.
   */
  async steady(
    rate: number,
    durationMs: number,
    drainMs: number,
  ): Promise<{ latencies: number[]; missing: number; achievedRate: number }> {
    this.#latencies.length = 0;
    this.#sentAt.clear();
    const start = performance.now();
    let sent = 0;
    let cursor = 0;
    const hashes: string[] = [];
    while (performance.now() - start < durationMs) {
      const due = Math.floor((rate * (performance.now() - start)) / 1000) - sent;
      for (let i = 0; i < due; i++) {
        // The next household that is free and has a transaction left.
        let h: Household | undefined;
        for (let tries = 0; tries < this.#households.length; tries++) {
          const candidate = this.#households[cursor++ % this.#households.length]!;
          if (!candidate.sending && candidate.next < candidate.txs.length) {
            h = candidate;
            break;
          }
        }
        if (h === undefined) break;
        hashes.push(to0x(h.txs[h.next]!.id));
        void this.#send(h, true);
        sent++;
      }
      await sleep(10);
    }
    const elapsed = performance.now() - start;
    try {
      await this.waitCommitted(hashes, drainMs);
    } catch {
      // Counted as missing below.
    }
    const missing = hashes.filter((x) => !this.#committedHashes.has(x)).length;
    return { latencies: [...this.#latencies], missing, achievedRate: (sent * 1000) / elapsed };
  }

  /** Waits until every hash has been seen in a committed block; throws after timeoutMs. */
  async waitCommitted(hashes: readonly string[], timeoutMs: number): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (hashes.some((x) => !this.#committedHashes.has(x))) {
      if (performance.now() > end) {
        const left = hashes.filter((x) => !this.#committedHashes.has(x)).length;
        throw new Error(
          `${left} of ${hashes.length} transactions not committed in ${timeoutMs} ms`,
        );
      }
      await this.#commitOrTimeout(200);
    }
  }

  async close(): Promise<void> {
    await this.#closeSubscription?.().catch(() => {});
    await this.#reading.catch(() => {});
    this.#reader.close();
    for (const t of this.#transports) t.close();
  }

  async #send(h: Household, timed: boolean): Promise<void> {
    const tx = h.txs[h.next]!;
    h.sending = true;
    try {
      if (timed) this.#sentAt.set(to0x(tx.id), performance.now());
      const ok = await this.#trySend(h.transport, tx);
      if (ok) h.next++;
      else {
        this.#sentAt.delete(to0x(tx.id));
        await sleep(100);
      }
    } finally {
      h.sending = false;
    }
  }

  /**
   * Sends the household's next transaction without waiting for the answer, as a wallet
   * pipelines its nonces over one socket: the node admits them in arrival order, so waiting for
   * each answer would cap a household at one transaction per admission round trip. A refused
   * one (mempool full) is sent again after a pause, with every later nonce; those the node took
   * meanwhile come back ALREADY_KNOWN.
   */
  #sendAhead(h: Household): void {
    const index = h.next++;
    void this.#trySend(h.transport, h.txs[index]!).then((ok) => {
      if (ok) return;
      h.next = Math.min(h.next, index);
      h.retryAt = performance.now() + 100;
    });
  }

  async #sendUntilAccepted(transport: WsTransport, tx: BuiltTx): Promise<void> {
    while (!(await this.#trySend(transport, tx))) await sleep(100);
  }

  /** True when the node admitted it (or already had it); false when it refused for now. */
  async #trySend(transport: WsTransport, tx: BuiltTx): Promise<boolean> {
    try {
      await transport.request("tx_send", { tx: to0x(tx.bytes) } as Json);
      return true;
    } catch (error) {
      const reject = (error as { data?: { reject?: string } }).data?.reject;
      if (reject === "ALREADY_KNOWN" || reject === "NONCE_TOO_LOW") return true;
      this.refused++;
      return false;
    }
  }

  async #readUpTo(height: bigint): Promise<void> {
    while (this.#nextHeight <= height) {
      const height = this.#nextHeight;
      const block = await this.#reader.rpc.chain_getBlock({ height: height.toString() });
      if (block === null) return;
      const now = this.#headAt.get(height) ?? performance.now();
      this.#headAt.delete(height);
      for (const tx of block.transactions) {
        this.#committedHashes.add(tx.hash);
        const sentAt = this.#sentAt.get(tx.hash);
        if (sentAt !== undefined) {
          this.#latencies.push(now - sentAt);
          this.#sentAt.delete(tx.hash);
        }
        const h = this.#byKey.get(tx.signer.toLowerCase());
        if (h) h.committed = Math.max(h.committed, Number(tx.nonce) + 1);
      }
      this.#nextHeight++;
      for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  #commitOrTimeout(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Transactions per second committed in blocks whose heads arrived within [from, to). */
  #rate(from: number, to: number): number {
    let txs = 0;
    for (const b of this.#blocks) if (b.at >= from && b.at < to) txs += b.txs;
    return (txs * 1000) / (to - from);
  }
}

function wsUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = "ws:";
  url.pathname = "/ws";
  return url.toString();
}

/** The p-th percentile (0-100) of the values, nearest-rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
