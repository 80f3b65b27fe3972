// `wattcap start` with a fault layer, for fault tests only: node dist/test/harness/fault-node.js
// PLAN --home DIR, where PLAN is a plan file (test/harness/fault-plan.ts) that it re-reads
// every 200 ms. The plan cuts links (refused at the libp2p connection gate and hung up),
// delays or drops inbound gossip and requests per peer, offsets the clock and switches Byzantine
// behaviour (test/harness/byzantine.ts). Every 500 ms the node writes <plan>.report.json: peer
// scores and bans, memory, and what the faults did. The production CLI cannot load any of this.
import "../../lib/polyfill.js";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { run } from "../../cli/start.js";
import { CliError } from "../../cli/usage.js";
import type { Clock } from "../../node/clock.js";
import { loadConfig, resolveHome } from "../../node/config.js";
import { homePaths } from "../../node/home.js";
import type { WattcapNode } from "../../node/node.js";
import type {
  GossipKind,
  GossipValidator,
  GossipValidators,
  NetworkOptions,
  ReqRespHandlers,
} from "../../node/p2p/index.js";
import { openConsensusSigner } from "../../node/signer.js";
import { Byzantine } from "./byzantine.js";
import {
  type FaultPlan,
  type FaultReport,
  linkFault,
  NO_FAULTS,
  parseFaultPlan,
} from "./fault-plan.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class FaultLayer {
  plan: FaultPlan = NO_FAULTS;
  #planText = "";
  #node: WattcapNode | undefined;
  dropped = 0;
  delayed = 0;

  constructor(
    readonly planPath: string,
    readonly peerAddresses: readonly string[],
    readonly byzantine: Byzantine | undefined,
  ) {
    this.reload();
  }

  readonly clock: Clock = { now: () => BigInt(Date.now() + Math.trunc(this.plan.clockOffsetMs)) };

  /** Re-reads the plan; a missing file means no faults, a bad one keeps the last good plan. */
  reload(): void {
    let text: string;
    try {
      text = readFileSync(this.planPath, "utf8");
    } catch {
      text = "{}";
    }
    if (text === this.#planText) return;
    this.#planText = text;
    const before = this.plan;
    try {
      this.plan = parseFaultPlan(JSON.parse(text));
    } catch (error) {
      process.stderr.write(`fault-node: ignoring plan: ${(error as Error).message}\n`);
      return;
    }
    if (this.#node) this.#apply(this.#node, before);
  }

  /** Hangs up on newly cut peers and redials healed ones at once (no link backoff to wait out). */
  #apply(node: WattcapNode, before: FaultPlan): void {
    const network = node.network;
    for (const peer of this.plan.cut) {
      if (!before.cut.includes(peer)) network.hangUp(peer).catch(() => undefined);
    }
    for (const peer of before.cut) {
      if (this.plan.cut.includes(peer)) continue;
      for (const address of this.peerAddresses.filter((a) => a.endsWith(`/p2p/${peer}`))) {
        network.dial(address).catch(() => undefined);
      }
    }
    this.byzantine?.updateFlood((kind, data) => network.publish(kind, data));
  }

  started(node: WattcapNode): void {
    this.#node = node;
    this.#apply(node, NO_FAULTS);
    setInterval(() => this.reload(), 200);
    setInterval(() => this.#report(node), 500);
  }

  #report(node: WattcapNode): void {
    const network = node.network;
    const peers: Record<string, { score: number; banned: boolean }> = {};
    const ids = new Set(network.connectedPeers());
    for (const address of this.peerAddresses) ids.add(address.slice(address.lastIndexOf("/") + 1));
    for (const peer of ids) {
      peers[peer] = { score: network.peerScore(peer), banned: network.isBanned(peer) };
    }
    const report: FaultReport = {
      peers,
      connected: network.connectedPeers(),
      rssBytes: process.memoryUsage().rss,
      byzantine: { ...this.byzantine?.counts },
      dropped: this.dropped,
      delayed: this.delayed,
    };
    const path = `${this.planPath}.report.json`;
    writeFileSync(`${path}.tmp`, JSON.stringify(report));
    renameSync(`${path}.tmp`, path);
  }

  /** Inbound gossip from a cut peer is ignored; from a faulty link, dropped or delayed. */
  #validator(inner: GossipValidator): GossipValidator {
    return async (data, from) => {
      if (this.plan.cut.includes(from)) return "ignore";
      const fault = linkFault(this.plan, from);
      if (fault.drop > 0 && Math.random() < fault.drop) {
        this.dropped++;
        return "ignore";
      }
      if (fault.delayMs > 0) {
        this.delayed++;
        await sleep(fault.delayMs);
      }
      return inner(data, from);
    };
  }

  async #delay(peer: string): Promise<void> {
    const { delayMs } = linkFault(this.plan, peer);
    if (delayMs > 0) await sleep(delayMs);
  }

  network = (options: NetworkOptions): NetworkOptions => {
    const validators = {} as Record<GossipKind, GossipValidator>;
    for (const [kind, inner] of Object.entries(options.validators)) {
      validators[kind as GossipKind] = this.#validator(inner);
    }
    const served = this.byzantine ? this.byzantine.handlers(options.handlers) : options.handlers;
    const delay = (peer: string) => this.#delay(peer);
    const handlers: ReqRespHandlers = {
      ...served,
      async *blocksByRange(request, peer, signal) {
        await delay(peer);
        yield* await served.blocksByRange(request, peer, signal);
      },
      async *votes(request, peer, signal) {
        await delay(peer);
        yield* await served.votes(request, peer, signal);
      },
      proposal: async (request, peer, signal) => {
        await this.#delay(peer);
        return served.proposal(request, peer, signal);
      },
    };
    return {
      ...options,
      validators: validators as GossipValidators,
      handlers,
      refuse: (peer) => this.plan.cut.includes(peer),
    };
  };
}

async function main([planPath, ...args]: string[]): Promise<number> {
  if (!planPath) throw new CliError("usage: fault-node.js PLAN --home DIR");
  const homeAt = args.indexOf("--home");
  const home = resolveHome(homeAt >= 0 ? args[homeAt + 1] : undefined);
  const config = await loadConfig({ home, flags: {} });
  const rawSigner =
    config.role === "validator" ? await openConsensusSigner(config, homePaths(home)) : undefined;
  let layer: FaultLayer | undefined;
  const byzantine = rawSigner
    ? new Byzantine(rawSigner, () => layer?.plan.byzantine ?? [])
    : undefined;
  layer = new FaultLayer(
    planPath,
    [...config.p2p.persistentPeers, ...config.p2p.bootstrapPeers],
    byzantine,
  );
  const faults = layer;
  return run(args, {
    hooks: {
      clock: faults.clock,
      network: faults.network,
      ...(byzantine ? { publish: byzantine.publish } : {}),
    },
    started: (node) => faults.started(node),
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const cli = error instanceof CliError;
    process.stderr.write(
      `wattcap: ${cli ? error.message : ((error as Error)?.stack ?? String(error))}\n`,
    );
    process.exitCode = cli ? error.exitCode : 70;
  },
);
