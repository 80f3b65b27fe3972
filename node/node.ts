import { isIP } from "node:net";
import { explorerRoutes } from "../explorer/serve.js";
import { parseAddress, toChecksumAddress } from "../lib/address.js";
import { to0x } from "../lib/bytes.js";
import type { Logger } from "../lib/log.js";
import { VerifyPool } from "../lib/verify-pool.js";
import { RpcServer } from "../rpc/server.js";
import { StoreError } from "../state/errors.js";
import { Store } from "../state/store.js";
import { Chain, type CommittedBlock } from "./chain.js";
import type { Clock } from "./clock.js";
import type { NodeConfig } from "./config.js";
import { consensusTimeouts } from "./config.js";
import { ConsensusDriver, type PeerNetwork } from "./consensus-driver.js";
import { EvidencePool } from "./evidence-pool.js";
import type { ChainGenesis } from "./genesis.js";
import { homePaths } from "./home.js";
import { NodeIndexes } from "./indexes/indexes.js";
import { Mempool } from "./mempool.js";
import { createMetrics, MetricsServer, type NodeMetrics } from "./metrics.js";
import { type GossipKind, Network, type NetworkOptions } from "./p2p/index.js";
import { Producer } from "./producer.js";
import { nodeRpcBackend } from "./rpc-backend.js";
import type { Closer, Shutdown } from "./shutdown.js";
import { type ConsensusSigner, GuardedSigner } from "./signer.js";
import { Sync } from "./sync.js";
import { admitTxBatch, encodeTxBatch } from "./tx-gossip.js";
import { TxRelay } from "./tx-relay.js";
import { Wal } from "./wal.js";

/** What `GET /status` on the metrics port returns; the test harness and `wattcap status` read it. */
export interface NodeStatus {
  readonly chainId: string;
  readonly genesisHash: string;
  /** The last committed height. */
  readonly height: number;
  readonly blockHash: string;
  readonly stateRoot: string;
  /** The head block's time, Unix milliseconds. */
  readonly time: number;
  /** Consensus round and step at the height being decided (height + 1). */
  readonly round: number;
  readonly step: string;
  readonly peers: number;
  readonly syncing: boolean;
  readonly role: "validator" | "follower";
  /** EIP-55 address of this node's consensus key, or null for a follower. */
  readonly validatorAddress: string | null;
  readonly peerId: string;
  readonly p2pAddresses: readonly string[];
}

export interface NodeOptions {
  readonly config: NodeConfig;
  readonly genesis: ChainGenesis;
  /** The libp2p identity (keys/node.key). */
  readonly nodeKey: Uint8Array;
  /** The consensus key's signer, unguarded; required for the validator role. */
  readonly signer?: ConsensusSigner;
  readonly logger: Logger;
  /**
   * Fault injection for the test harness only (test/harness/fault-node.ts); `wattcap start`
   * never sets it. It can delay, drop or forge what this node sends and receives — what a
   * faulty link or a Byzantine operator running other code could do — but it never reaches
   * the GuardedSigner: this node's own signatures still go through the signing WAL.
   */
  readonly testHooks?: NodeTestHooks;
}

export interface NodeTestHooks {
  /** The node's wall clock (default: the system clock), e.g. a skewed one. */
  readonly clock?: Clock;
  /** Rewrites the network's options before it starts: gate peers, wrap validators/handlers. */
  readonly network?: (options: NetworkOptions) => NetworkOptions;
  /** Stands between consensus and gossip: every message consensus publishes goes through it. */
  readonly publish?: (
    kind: GossipKind,
    data: Uint8Array,
    send: (kind: GossipKind, data: Uint8Array) => Promise<unknown>,
  ) => Promise<unknown>;
}

function listenAddress(host: string, port: number): string {
  return `/${isIP(host) === 6 ? "ip6" : "ip4"}/${host}/tcp/${port}`;
}

export class WattcapNode {
  readonly config: NodeConfig;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly evidence: EvidencePool;
  readonly driver: ConsensusDriver;
  readonly sync: Sync;
  readonly network: Network;
  readonly metrics: NodeMetrics;
  /** This validator's address, or undefined for a follower. */
  readonly validatorAddress: Uint8Array | undefined;
  readonly #parts: { name: string; close: Closer }[];
  readonly #log: Logger;
  #statusPort: number | undefined;
  #rpcPort: number | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(
    fields: {
      config: NodeConfig;
      chain: Chain;
      mempool: Mempool;
      evidence: EvidencePool;
      driver: ConsensusDriver;
      sync: Sync;
      network: Network;
      metrics: NodeMetrics;
      validatorAddress: Uint8Array | undefined;
    },
    parts: { name: string; close: Closer }[],
    logger: Logger,
  ) {
    this.#log = logger;
    this.config = fields.config;
    this.chain = fields.chain;
    this.mempool = fields.mempool;
    this.evidence = fields.evidence;
    this.driver = fields.driver;
    this.sync = fields.sync;
    this.network = fields.network;
    this.metrics = fields.metrics;
    this.validatorAddress = fields.validatorAddress;
    this.#parts = parts;
  }

  /**
   * Opens the store and WAL, joins the network, starts consensus, sync and the status server.
   * On failure, whatever was opened is closed again before the error is rethrown.
   */
  static async start(options: NodeOptions): Promise<WattcapNode> {
    const parts: { name: string; close: Closer }[] = [];
    try {
      return await WattcapNode.#build(options, parts);
    } catch (error) {
      await closeAll(parts, options.logger);
      throw error;
    }
  }

  static async #build(
    options: NodeOptions,
    parts: { name: string; close: Closer }[],
  ): Promise<WattcapNode> {
    const { config, genesis, logger } = options;
    const hooks = options.testHooks ?? {};
    const log = (module: string) => logger.child({ module });
    const nodeLog = log("node");
    const paths = homePaths(config.home);
    const metrics = createMetrics({ labels: { moniker: config.moniker } });

    const store = await Store.open(paths.data, {
      keepVersions: config.storage.keepVersions,
      blockRetention: config.storage.blockRetention,
    });
    parts.push({ name: "store", close: () => store.close() });

    let wal: Wal | undefined;
    if (config.role === "validator") {
      if (!options.signer) throw new Error("the validator role needs a consensus signer");
      const opened = await Wal.openWithReport(paths.signingWal);
      wal = opened.wal;
      parts.push({ name: "wal", close: () => opened.wal.close() });
      if (opened.truncatedBytes > 0) {
        nodeLog.warn({ bytes: opened.truncatedBytes }, "cut a torn last write off the signing WAL");
      }
    }

    if (wal) refuseRolledBackStore(store, wal, paths.data);

    const pool =
      config.verifyWorkers > 0
        ? new VerifyPool(config.verifyWorkers, {
            onWorkerError: (error) => nodeLog.warn({ err: error }, "verify worker failed"),
          })
        : undefined;
    if (pool) parts.push({ name: "verify-pool", close: () => pool.close() });

    const chainLog = log("chain");
    const indexLog = log("indexes");
    // The indexes read validator sets from the chain they are a hook of; it exists once opened.
    let opened: Chain | undefined;
    const indexes = new NodeIndexes(store, {
      validatorSetAt: (h) => {
        try {
          return opened?.validatorSetAt(h);
        } catch {
          return undefined;
        }
      },
      onError: (err, height) => indexLog.error({ err, height }, "indexing a block failed"),
    });
    const chain = await Chain.open(store, genesis, {
      ...(pool ? { pool } : {}),
      clockDriftMs: BigInt(config.consensus.clockDriftMs),
      ...(hooks.clock ? { clock: hooks.clock } : {}),
      indexHooks: [indexes.hook],
      onListenerError: (error) => chainLog.error({ err: error }, "committed listener threw"),
    });
    opened = chain;
    const mempoolLog = log("mempool");
    const mempool = new Mempool(chain, {
      maxTxs: config.mempool.maxTxs,
      maxBytes: config.mempool.maxBytes,
      maxTxsPerAccount: config.mempool.maxTxsPerAccount,
      ...(pool ? { pool } : {}),
      onListenerError: (error) => mempoolLog.error({ err: error }, "mempool listener threw"),
      onPreverifyError: (error) =>
        mempoolLog.warn({ err: error }, "verifying an oracle batch on admission failed"),
    });
    const evidence = new EvidencePool(chain);
    const targetBlockTimeMs = BigInt(config.consensus.targetBlockTimeMs);

    const signer =
      wal && options.signer
        ? new GuardedSigner(options.signer, wal, chain.consensusVerify)
        : undefined;
    const producer = signer
      ? new Producer(chain, mempool, {
          proposer: signer.address,
          pendingEvidence: () => evidence.pending(),
          targetBlockTimeMs,
        })
      : undefined;

    // The driver and sync publish and request through the network, which is created after them
    // because its validators and handlers are theirs; until then, nothing is sent.
    let network: Network | undefined;
    const connected = (): Network => {
      if (!network) throw new Error("the network has not started");
      return network;
    };
    const send = (kind: GossipKind, data: Uint8Array): Promise<unknown> =>
      network ? network.publish(kind, data) : Promise.resolve([]);
    const peers: PeerNetwork = {
      publish: (kind, data) => (hooks.publish ? hooks.publish(kind, data, send) : send(kind, data)),
      penalize: (peer, reason) => network?.penalize(peer, reason),
      connectedPeers: () => network?.connectedPeers() ?? [],
      reqresp: {
        status: (peer) => connected().reqresp.status(peer),
        blocksByRange: (peer, request) => connected().reqresp.blocksByRange(peer, request),
        votes: (peer, request) => connected().reqresp.votes(peer, request),
        proposal: (peer, hash) => connected().reqresp.proposal(peer, hash),
      },
    };
    const driver = new ConsensusDriver({
      chain,
      network: peers,
      evidencePool: evidence,
      mempool,
      ...(producer ? { producer } : {}),
      ...(signer ? { signer } : {}),
      timeouts: consensusTimeouts(config),
      targetBlockTimeMs,
      logger: log("consensus"),
      metrics,
    });
    // A node started from a snapshot holds no blocks below its first head, and block retention
    // prunes old bodies as the chain grows; before any block, the next is the first served.
    const earliestHeight = () => store.earliestBlockHeight() ?? chain.head().height + 1n;
    const sync = new Sync({ chain, network: peers, logger: log("sync"), metrics, earliestHeight });

    const p2pLog = log("p2p");
    const networkOptions: NetworkOptions = {
      chainId: genesis.chainId,
      nodeKey: options.nodeKey,
      listen: [listenAddress(config.p2p.host, config.p2p.port)],
      bootstrap: config.p2p.bootstrapPeers,
      validatorPeers: config.p2p.persistentPeers,
      validatorPeerIds: config.p2p.validatorPeerIds,
      acceptOnlyKnownValidators: config.p2p.acceptOnlyKnownValidators,
      allowList: ["/ip4/127.0.0.1"],
      validators: {
        tx: (data) => admitTxBatch(data, (tx) => mempool.add(tx, "gossip")),
        proposal: driver.onProposal,
        vote: driver.onVote,
        evidence: driver.onEvidence,
      },
      handlers: {
        status: sync.status,
        blocksByRange: (request) => sync.blocksByRange(request),
        votes: (request) => driver.votes(request),
        proposal: (request) => driver.proposal(request),
        voteBitmaps: driver.voteBitmaps,
      },
      consensusRound: driver.currentRound,
      logger: p2pLog,
    };
    network = await Network.create(hooks.network ? hooks.network(networkOptions) : networkOptions);
    const net = network;
    parts.push({ name: "network", close: () => net.stop() });
    net.on("peer:status", sync.onStatus);
    net.on("peer:disconnected", sync.onDisconnected);
    net.on("peer:connected", (peer) => p2pLog.info({ peer }, "peer connected"));
    const relay = new TxRelay({
      publish: async (txs) =>
        (await net.publish("tx", encodeTxBatch(txs), { onlyIfHeard: true })).length,
      pending: (id) => mempool.has(id),
      logger: mempoolLog,
    });
    parts.push({ name: "tx-relay", close: () => relay.stop() });
    net.on("peer:connected", () => void relay.retry());
    // Transactions admitted from gossip were forwarded by gossipsub already; only those
    // submitted to this node (RPC) are published.
    mempool.on("admitted", (tx) => {
      if (tx.origin === "rpc") void relay.relay(tx.id, tx.bytes);
    });

    const node = new WattcapNode(
      {
        config,
        chain,
        mempool,
        evidence,
        driver,
        sync,
        network: net,
        metrics,
        validatorAddress: signer?.address,
      },
      parts,
      nodeLog,
    );
    node.#watchCommits(log("chain"));
    driver.start();
    parts.push({ name: "consensus", close: () => driver.stop() });
    sync.start();
    parts.push({ name: "sync", close: () => sync.stop() });
    if (config.metrics.enabled) {
      const server = await MetricsServer.start(metrics.registry, config.metrics, {
        status: () => node.status(),
        beforeScrape: () => node.#sampleGauges(),
      });
      node.#statusPort = server.port;
      parts.push({ name: "status-server", close: () => server.stop() });
    }
    const rpcLog = log("rpc");
    const rpc = new RpcServer(
      nodeRpcBackend({ chain, mempool, indexes, syncing: () => sync.syncing }),
      {
        host: config.rpc.host,
        port: config.rpc.port,
        access: config.rpc.restrictHouseholdData
          ? { auditors: config.rpc.auditors.map(parseAddress) }
          : undefined,
        onError: (err, method) => rpcLog.error({ err, method }, "rpc handler failed"),
        routes: (app) => {
          if (!explorerRoutes(app))
            rpcLog.warn("the explorer is not built; /explorer/ answers 404");
        },
      },
    );
    node.#rpcPort = (await rpc.listen()).port;
    // Pushed last, so it closes first: no request reaches a part that has stopped.
    parts.push({ name: "rpc", close: () => rpc.close() });
    nodeLog.info(
      {
        chainId: genesis.chainId,
        height: chain.head().height,
        role: config.role,
        peerId: net.peerId,
        addresses: net.addresses(),
        validator: signer ? toChecksumAddress(signer.address) : null,
        statusPort: node.#statusPort,
        rpcPort: node.#rpcPort,
      },
      "node started",
    );
    return node;
  }

  /** The port of the JSON-RPC server (HTTP and WebSocket), once it listens. */
  get rpcPort(): number | undefined {
    return this.#rpcPort;
  }

  /** The port of the metrics/status server, once it listens. */
  get statusPort(): number | undefined {
    return this.#statusPort;
  }

  /** Gauges read on demand at each scrape rather than kept up to date on every change. */
  #sampleGauges(): void {
    this.metrics.peers.set(this.network.connectedPeers().length);
    this.metrics.mempoolTxs.set(this.mempool.size);
    this.metrics.mempoolBytes.set(this.mempool.bytes);
  }

  status(): NodeStatus {
    const head = this.chain.head();
    return {
      chainId: this.chain.chainId,
      genesisHash: to0x(this.chain.genesis.hash),
      height: Number(head.height),
      blockHash: to0x(head.hash),
      stateRoot: to0x(head.stateRoot),
      time: Number(head.header.time),
      round: this.driver.round,
      step: this.driver.step,
      peers: this.network.connectedPeers().length,
      syncing: this.sync.syncing,
      role: this.config.role,
      validatorAddress: this.validatorAddress ? toChecksumAddress(this.validatorAddress) : null,
      peerId: this.network.peerId,
      p2pAddresses: this.network.addresses(),
    };
  }

  /** Registers each part with the process's shutdown, to close in reverse order on a signal. */
  registerWith(shutdown: Shutdown): void {
    for (const part of this.#parts) shutdown.register(part.name, part.close);
  }

  /** Closes every part in reverse order; for in-process use (tests, tools). */
  stop(): Promise<void> {
    this.#stopping ??= closeAll(this.#parts, this.#log);
    return this.#stopping;
  }

  #watchCommits(log: Logger): void {
    let lastTime: bigint | undefined;
    this.chain.on("committed", (block: CommittedBlock) => {
      const { metrics } = this;
      metrics.height.set(Number(block.height));
      metrics.committedTxs.inc(block.txIds.length);
      metrics.mempoolTxs.set(this.mempool.size);
      metrics.mempoolBytes.set(this.mempool.bytes);
      if (lastTime !== undefined) {
        metrics.blockInterval.observe(Number(block.header.time - lastTime) / 1000);
      }
      lastTime = block.header.time;
      log.info(
        {
          height: block.height,
          hash: block.hash,
          txs: block.txIds.length,
          round: block.commit.round,
          proposer: toChecksumAddress(block.header.proposer),
        },
        "committed",
      );
    });
  }
}

/**
 * A validator signs at height h only once its store holds h - 1, and commits are fsynced, so a
 * signing WAL ahead of the store by more than one height means the store lost committed blocks:
 * LevelDB silently drops everything after a damaged log record, and an operator may restore an
 * old backup. Serving that older state as the head would be wrong, so the node refuses to start.
 * An empty store is the exception: it serves nothing and syncs from peers under the same WAL.
 */
function refuseRolledBackStore(store: Store, wal: Wal, dataPath: string): void {
  const head = store.head()?.height;
  if (head === undefined || head === 0n) return;
  let signed = 0n;
  for (const entry of wal.records(head + 2n)) {
    const height = entry.kind === "vote" ? entry.signed.vote.height : entry.signed.proposal.height;
    if (height > signed) signed = height;
  }
  if (signed > head + 1n) {
    throw new StoreError(
      "CORRUPT",
      `${dataPath}: the store's head is height ${head}, but this validator signed at height ${signed}, so committed blocks are missing (a damaged or restored database); restore the data directory, or move it aside to sync again from peers`,
    );
  }
}

async function closeAll(
  parts: readonly { name: string; close: Closer }[],
  logger: Logger,
): Promise<void> {
  for (const part of [...parts].reverse()) {
    try {
      await part.close();
    } catch (error) {
      logger.error({ err: error, part: part.name }, "closing failed");
    }
  }
}
