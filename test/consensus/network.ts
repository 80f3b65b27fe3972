// A deterministic network of consensus cores for the simulation tests. Each node's "host" turns
// effects into messages and virtual-time timers, as the real node will: messages are delayed,
// reordered, and during the unstable period lost and re-sent much later (the vote-set fetch),
// until `gst` (global stabilisation time), after which they arrive within 50 virtual ms. Honest
// hosts relay what they receive once (gossip), serve the decided height's certificate to a node
// still at that height, and answer proposal-wanted from their cache or their peers'.
// Byzantine nodes run an honest core but send conflicting proposals and votes to different
// peers, drop messages, send votes for rounds ahead of theirs, and relay nothing.

import { roundMessages } from "../../consensus/message-log.js";
import { type ConsensusState, createConsensus } from "../../consensus/state.js";
import { step } from "../../consensus/step.js";
import type { DuplicateVote, Effect, Input, ValueId, VoteInput } from "../../consensus/types.js";
import { proposerIndex } from "../../consensus/validator-set.js";
import { toHex, u32be, u64be, utf8 } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";

/** A message as sent: a proposal is judged valid and timely by its receiver. */
export type Message =
  | {
      readonly kind: "proposal";
      readonly height: bigint;
      readonly round: number;
      readonly polRound: number;
      readonly valueId: ValueId;
      readonly proposer: number;
    }
  | VoteInput;

export interface NetworkOptions {
  readonly n: number;
  readonly byzantine: readonly number[];
  readonly heights: number;
  readonly seed: number;
  /** Virtual ms until which the network is unreliable. */
  readonly gst: number;
  /** Virtual ms after which the run stops, decided or not. */
  readonly maxTime: number;
}

export interface NetworkResult {
  /** node -> height -> decided value (hex). */
  readonly decisions: ReadonlyMap<number, ReadonlyMap<bigint, string>>;
  /** Equivocation reported by honest nodes. */
  readonly evidence: readonly DuplicateVote[];
  /** Every distinct message sent for height 1, in first-sent order. */
  readonly height1: readonly Message[];
  readonly honest: readonly number[];
}

/** xorshift32: the tests' only source of randomness, from fast-check's seed. */
export function random(seed: number): (bound: number) => number {
  let x = seed | 0 || 0x9e3779b9;
  return (bound) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % bound;
  };
}

interface Event {
  readonly time: number;
  readonly seq: number;
  readonly node: number;
  readonly input:
    | Input
    | { readonly kind: "message"; readonly message: Message; readonly from: number };
}

/** A binary heap by (time, seq): ties keep the order events were scheduled in. */
class Queue {
  private readonly items: Event[] = [];
  private seq = 0;

  push(time: number, node: number, input: Event["input"]): void {
    const items = this.items;
    items.push({ time, seq: this.seq++, node, input });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): Event | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && before(items[l]!, items[m]!)) m = l;
      if (r < items.length && before(items[r]!, items[m]!)) m = r;
      if (m === i) return top;
      [items[i], items[m]] = [items[m]!, items[i]!];
      i = m;
    }
  }
}

const before = (a: Event, b: Event) => a.time < b.time || (a.time === b.time && a.seq < b.seq);

interface Node {
  core: ConsensusState;
  readonly byzantine: boolean;
  readonly decided: Map<bigint, string>;
  /** Messages for heights this node has not started, replayed when it does. */
  readonly ahead: Map<bigint, Message[]>;
  /** What this node serves to a node still at `height`: the decided proposal and precommits. */
  readonly certificates: Map<bigint, Message[]>;
  readonly served: Set<string>;
  /** Keys of messages received, so each is relayed once. */
  readonly seen: Set<string>;
  /** Proposals received or sent, by height/round/value, to answer proposal-wanted. */
  readonly proposals: Map<string, Message>;
  /** Votes received or sent, by height/round/type, to answer votes-wanted. */
  readonly votes: Map<string, Message[]>;
}

export const simulationTimeouts = {
  propose: { baseMs: 1000n, deltaMs: 500n },
  prevote: { baseMs: 500n, deltaMs: 250n },
  precommit: { baseMs: 500n, deltaMs: 250n },
};

function blockId(tag: string, height: bigint, round: number, node: number): ValueId {
  return sha256(new Uint8Array([...utf8(tag), ...u64be(height), ...u32be(round), node]));
}

function voteSetKey(height: bigint, round: number, type: string): string {
  return `${height}/${round}/${type}`;
}

function keepVote(node: Node, m: VoteInput): void {
  const key = voteSetKey(m.height, m.round, m.type);
  const set = node.votes.get(key) ?? [];
  set.push(m);
  node.votes.set(key, set);
}

function proposalKey(height: bigint, round: number, valueId: ValueId): string {
  return `${height}/${round}/${toHex(valueId)}`;
}

export function messageKey(m: Message): string {
  const value = m.valueId === null ? "nil" : toHex(m.valueId);
  return m.kind === "proposal"
    ? `p/${m.height}/${m.round}/${m.polRound}/${m.proposer}/${value}`
    : `${m.type}/${m.height}/${m.round}/${m.validator}/${value}`;
}

export function runNetwork(options: NetworkOptions): NetworkResult {
  const { n, heights, gst, maxTime } = options;
  const rand = random(options.seed);
  const queue = new Queue();
  const evidence: DuplicateVote[] = [];
  const height1 = new Map<string, Message>();
  const nodes: Node[] = Array.from({ length: n }, (_, i) => ({
    core: createConsensus({ timeouts: simulationTimeouts }),
    byzantine: options.byzantine.includes(i),
    decided: new Map(),
    ahead: new Map(),
    certificates: new Map(),
    served: new Set(),
    seen: new Set(),
    proposals: new Map(),
    votes: new Map(),
  }));
  const honest = nodes.flatMap((node, i) => (node.byzantine ? [] : [i]));
  let now = 0;

  const send = (from: number, to: number, message: Message): void => {
    if (message.height === 1n && !height1.has(messageKey(message))) {
      height1.set(messageKey(message), message);
    }
    let delay = now < gst ? rand(4000) : rand(50);
    // Lost, then fetched again much later: gossip is not reliable, the vote-set exchange is.
    if (now < gst && rand(3) === 0) delay += 5000 + rand(20_000);
    queue.push(now + delay, to, { kind: "message", message, from });
  };

  const broadcast = (from: number, make: (to: number) => Message | null): void => {
    for (let to = 0; to < n; to++) {
      if (to === from) continue;
      const message = make(to);
      if (message !== null) send(from, to, message);
    }
  };

  const byzantineValue = (m: Message, k: number): ValueId =>
    blockId(`byzantine${k}`, m.height, m.round, m.kind === "proposal" ? m.proposer : m.validator);

  // A Byzantine sender: each recipient gets the real message, a conflicting one, or nothing.
  const corrupt = (m: Message): Message | null => {
    const choice = rand(5);
    if (choice === 0) return null;
    if (choice <= 2) return m;
    if (m.kind === "proposal") return { ...m, valueId: byzantineValue(m, choice) };
    return { ...m, valueId: choice === 3 ? null : byzantineValue(m, rand(2)) };
  };

  const apply = (i: number, input: Input): void => {
    const node = nodes[i]!;
    const { state, effects } = step(node.core, input);
    node.core = state;
    for (const effect of effects) handle(i, effect);
  };

  const handle = (i: number, e: Effect): void => {
    const node = nodes[i]!;
    switch (e.kind) {
      case "new-round":
        return;
      case "get-value": {
        const valueId = blockId("block", e.height, e.round, i);
        queue.push(now + rand(20), i, {
          kind: "proposal-value",
          height: e.height,
          round: e.round,
          valueId,
        });
        return;
      }
      case "broadcast-proposal": {
        const m: Message = { ...e, kind: "proposal", proposer: i };
        node.proposals.set(proposalKey(e.height, e.round, e.valueId), m);
        broadcast(i, () => (node.byzantine ? corrupt(m) : m));
        return;
      }
      case "broadcast-vote": {
        const m: Message = { ...e, kind: "vote", validator: i };
        keepVote(node, m);
        broadcast(i, () => (node.byzantine ? corrupt(m) : m));
        if (node.byzantine && rand(4) === 0) {
          const ahead: Message = {
            ...m,
            round: m.round + 1 + rand(3),
            valueId: byzantineValue(m, 0),
          };
          broadcast(i, () => (rand(2) === 0 ? ahead : null));
        }
        return;
      }
      case "schedule-timeout":
        queue.push(now + Number(e.durationMs), i, {
          kind: "timeout",
          step: e.step,
          height: e.height,
          round: e.round,
        });
        return;
      case "decide": {
        node.decided.set(e.height, toHex(e.valueId));
        node.certificates.set(e.height, certificate(node.core, e));
        if (e.height < BigInt(heights)) {
          queue.push(now + 10, i, {
            kind: "start-height",
            height: e.height + 1n,
            validatorCount: n,
            selfIndex: i,
          });
        }
        return;
      }
      case "proposal-wanted": {
        const key = proposalKey(e.height, e.round, e.valueId);
        for (const [j, peer] of nodes.entries()) {
          const cached = peer.proposals.get(key);
          if (cached === undefined) continue;
          if (j === i) queue.push(now, i, { kind: "message", message: cached, from: i });
          else send(j, i, cached);
        }
        return;
      }
      case "votes-wanted": {
        const key = voteSetKey(e.height, e.round, e.type);
        for (const [j, peer] of nodes.entries()) {
          if (j !== i) for (const m of peer.votes.get(key) ?? []) send(j, i, m);
        }
        return;
      }
      case "equivocation":
        if (!node.byzantine) evidence.push(e.evidence);
        return;
    }
  };

  const receive = (i: number, message: Message, from: number): void => {
    const node = nodes[i]!;
    const current = node.core.current;
    if (current === null || message.height < current.height) return;
    const key = messageKey(message);
    if (!node.seen.has(key)) {
      node.seen.add(key);
      if (message.kind === "proposal") {
        node.proposals.set(proposalKey(message.height, message.round, message.valueId), message);
      } else keepVote(node, message);
      if (!node.byzantine) broadcast(i, (to) => (to === from ? null : message));
    }
    if (message.height > current.height) {
      const buffered = node.ahead.get(message.height) ?? [];
      buffered.push(message);
      node.ahead.set(message.height, buffered);
      // The sender is past our height: fetch its commit certificate for our height.
      const certificate = nodes[from]!.certificates.get(current.height);
      const key = `${from}/${current.height}`;
      if (certificate !== undefined && !node.served.has(key)) {
        node.served.add(key);
        for (const m of certificate) send(from, i, m);
      }
      return;
    }
    if (message.kind === "vote") apply(i, message);
    else apply(i, { ...message, valid: true, timely: now >= gst || rand(5) !== 0 });
  };

  for (let i = 0; i < n; i++) {
    queue.push(0, i, { kind: "start-height", height: 1n, validatorCount: n, selfIndex: i });
  }
  const done = () => honest.every((i) => nodes[i]!.decided.size === heights);
  for (let event = queue.pop(); event !== undefined && event.time <= maxTime; event = queue.pop()) {
    now = event.time;
    const { node: i, input } = event;
    if (input.kind === "message") receive(i, input.message, input.from);
    else {
      apply(i, input);
      if (input.kind === "start-height") {
        const buffered = nodes[i]!.ahead.get(input.height) ?? [];
        nodes[i]!.ahead.delete(input.height);
        for (const m of buffered) receive(i, m, i);
      }
    }
    if (done()) break;
  }
  return {
    decisions: new Map(nodes.map((node, i) => [i, node.decided])),
    evidence,
    height1: [...height1.values()],
    honest,
  };
}

/** The decided proposal and its precommits, as the host keeps them to serve sync. */
function certificate(core: ConsensusState, e: Extract<Effect, { kind: "decide" }>): Message[] {
  const h = core.current!;
  const p = roundMessages(h.log, e.round).proposals.find(
    (x) => toHex(x.valueId) === toHex(e.valueId),
  )!;
  const proposer = proposerIndex(e.height, e.round, h.validatorCount);
  return [
    {
      kind: "proposal",
      height: e.height,
      round: e.round,
      polRound: p.polRound,
      valueId: e.valueId,
      proposer,
    },
    ...e.commit.map(
      (validator): Message => ({
        kind: "vote",
        type: "precommit",
        height: e.height,
        round: e.round,
        valueId: e.valueId,
        validator,
      }),
    ),
  ];
}
