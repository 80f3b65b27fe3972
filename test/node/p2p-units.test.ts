// The p2p layer's pure parts, without sockets.
import { peerIdFromString } from "@libp2p/peer-id";
import fc from "fast-check";
import t from "tap";
import { MAX_BLOCK_BYTES } from "../../lib/block.js";
import { CodecError, decode, encode } from "../../lib/codec.js";
import { MAX_PROPOSAL_BYTES } from "../../lib/vote.js";
import { groupPeerAddresses } from "../../node/p2p/host.js";
import {
  backoffDelay,
  bitIndexes,
  ChainIdError,
  countBits,
  DEFAULT_SCORING,
  emptyBitmap,
  gossipTopic,
  hasBit,
  MAX_GOSSIP_BYTES,
  MAX_PROPOSAL_MESSAGE_BYTES,
  missingBits,
  NodeKeyError,
  PeerAddressError,
  parsePeerAddress,
  peerIdFromNodeKey,
  protocolId,
  StatusSchema,
  setBit,
  TypedEmitter,
} from "../../node/p2p/index.js";
import { LinkSupervisor, type LinkTarget } from "../../node/p2p/links.js";
import { connectionGate, PeerScores } from "../../node/p2p/peers.js";
import { BoundedQueue, Slots } from "../../node/p2p/queue.js";
import { METHOD_SPECS } from "../../node/p2p/reqresp.js";
import { GOSSIPSUB_MAX_RPC_BYTES } from "../../node/p2p/topics.js";
import { type ConsensusRound, VoteExchange } from "../../node/p2p/vote-exchange.js";
import { nodeKey, waitFor } from "./p2p-fixtures.js";

t.test("topic names and protocol ids carry the chain id", async (t) => {
  t.equal(gossipTopic("wattcap-1", "vote"), "/wattcap/wattcap-1/vote/1");
  t.equal(protocolId("wattcap-1", "blocksByRange"), "/wattcap/wattcap-1/req/blocksByRange/1");
  for (const bad of ["", "a/b", "a b", "x".repeat(65), "é"]) {
    t.throws(() => gossipTopic(bad, "tx"), ChainIdError, JSON.stringify(bad));
  }
  t.ok(MAX_PROPOSAL_MESSAGE_BYTES >= MAX_BLOCK_BYTES + MAX_PROPOSAL_BYTES, "a whole block fits");
  t.ok(
    MAX_GOSSIP_BYTES.proposal >= MAX_BLOCK_BYTES + MAX_PROPOSAL_BYTES &&
      MAX_GOSSIP_BYTES.proposal <= GOSSIPSUB_MAX_RPC_BYTES - 512 * 1024,
    "every valid proposal gossips whole, within gossipsub's frame less its headroom",
  );
  t.ok(
    METHOD_SPECS.blocksByRange.maxChunkBytes > MAX_BLOCK_BYTES &&
      METHOD_SPECS.proposal.maxChunkBytes > MAX_PROPOSAL_MESSAGE_BYTES,
    "response frames fit a whole block",
  );
});

t.test("vote bitmaps", async (t) => {
  const b = emptyBitmap(10);
  t.equal(b.length, 2);
  setBit(b, 0);
  setBit(b, 9);
  t.same([...b], [0b1, 0b10], "least significant bit first");
  t.ok(hasBit(b, 9));
  t.notOk(hasBit(b, 8));
  t.notOk(hasBit(b, 200), "beyond the end is clear");
  t.throws(() => setBit(b, 16), RangeError);
  t.throws(() => emptyBitmap(129), RangeError);
  t.same(bitIndexes(b), [0, 9]);
  t.equal(countBits(new Uint8Array([0xff, 0x81])), 10);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 16 }), (x, y) => {
      const m = missingBits(x, y);
      const want = bitIndexes(x).filter((i) => !hasBit(y, i));
      return JSON.stringify(bitIndexes(m)) === JSON.stringify(want);
    }),
  );
});

t.test("backoff grows, is capped, and is jittered within [ceiling/2, ceiling]", async (t) => {
  const policy = { baseMs: 100, maxMs: 1000 };
  t.same(
    [0, 1, 2, 3, 4, 10, 1000].map((n) => backoffDelay(n, policy, () => 1)),
    [100, 200, 400, 800, 1000, 1000, 1000],
  );
  t.equal(
    backoffDelay(2, policy, () => 0),
    200,
  );
  t.equal(
    backoffDelay(2, policy, () => 0.5),
    300,
  );
});

t.test("the periodic vote exchange runs only for a round that outlasts an interval", async (t) => {
  let current: ConsensusRound = { height: 1n, round: 0 };
  // While moving, every look at consensus finds a new height: it is deciding, gossip delivers.
  let moving = true;
  const asked: string[] = [];
  const exchange = new VoteExchange(
    { intervalMs: 20, maxPeers: 16, requestTimeoutMs: 1000 },
    {
      peers: () => ["peer-a"],
      currentRound: () => {
        if (moving) current = { height: current.height + 1n, round: 0 };
        return current;
      },
      voteBitmaps: () => undefined,
      haveVotes: async (_peer, mine) => {
        asked.push(`${mine.height}/${mine.round}`);
        return mine;
      },
      votes: async () => [],
      validateVote: () => "accept",
      deliver: () => {},
      penalize: () => {},
      onError: (_peer, error) => t.fail(String(error)),
    },
  );
  exchange.start();
  t.teardown(() => exchange.stop());
  await waitFor("ten ticks", () => current.height > 10n);
  t.same(asked, [], "no pass while each tick finds a new height");
  moving = false;
  current = { height: 50n, round: 2 };
  await waitFor("two passes", () => asked.length >= 2);
  t.same(asked.slice(0, 2), ["50/2", "50/2"], "a round that stays current is exchanged, each tick");
  t.equal(await exchange.exchange(), 0, "a pass on demand runs at once");
});

t.test("the link supervisor redials forever and stops cleanly", async (t) => {
  const connected = new Set<string>();
  const dials: string[] = [];
  let failuresLeft = 5;
  const supervisor = new LinkSupervisor(
    { baseMs: 2, maxMs: 8, dialTimeoutMs: 1000 },
    {
      dial: async (target: LinkTarget) => {
        dials.push(target.peer);
        if (failuresLeft-- > 0) throw new Error("refused");
        connected.add(target.peer);
        supervisor.connected(target.peer);
      },
      isConnected: (peer) => connected.has(peer),
      random: () => 0.5,
      onDialError: () => {},
    },
  );
  supervisor.setTargets([{ peer: "v1", addrs: ["/ip4/127.0.0.1/tcp/1/p2p/v1"] }]);
  t.equal(dials.length, 0, "nothing before start");
  supervisor.start();
  await waitFor("six dials", () => connected.has("v1"));
  t.equal(dials.length, 6, "five failures, then the link");

  connected.delete("v1");
  failuresLeft = 1;
  supervisor.disconnected("v1");
  await waitFor("relinked", () => connected.has("v1"));
  t.equal(dials.length, 8);

  supervisor.setTargets([]);
  connected.clear();
  supervisor.disconnected("v1");
  supervisor.setTargets([{ peer: "v2", addrs: [] }]);
  await waitFor("v2 dialed", () => dials.includes("v2"));
  t.notOk(supervisor.isTarget("v1"));
  supervisor.stop();
  connected.clear();
  supervisor.disconnected("v2");
  const before = dials.length;
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(dials.length, before, "no dial after stop");
});

t.test("peer scores decay, ban at the threshold and forget old entries", async (t) => {
  let now = 0;
  const scores = new PeerScores({ ...DEFAULT_SCORING, maxTracked: 2 }, () => now);
  t.same(scores.penalize("a", "invalidGossip"), { score: -10, banned: false });
  now = DEFAULT_SCORING.halfLifeMs;
  t.equal(scores.score("a"), -5, "half gone after one half-life");
  for (let i = 0; i < 4; i++) scores.penalize("a", "invalidResponse");
  t.equal(scores.score("a"), -45);
  t.same(scores.penalize("a", "unresponsive"), { score: -46, banned: false });
  const banning = scores.penalize("a", "invalidRequest");
  t.same(banning, { score: -56, banned: true });
  t.ok(scores.isBanned("a"));
  t.same(scores.bannedPeers(), ["a"]);
  t.same(scores.penalize("a", "invalidGossip").banned, false, "a ban does not start twice");
  now += DEFAULT_SCORING.banMs;
  t.notOk(scores.isBanned("a"), "the ban ends");
  t.equal(scores.score("a"), 0, "and the peer starts afresh");

  // A peer that only ever timed out (slow, restarting) is never banned, however often.
  for (let i = 0; i < 200; i++) t.notOk(scores.penalize("slow", "unresponsive").banned);
  t.notOk(scores.isBanned("slow"), "timeouts alone never ban");
  t.equal(
    scores.score("slow"),
    DEFAULT_SCORING.banThreshold + 1,
    "they stop just above the threshold",
  );
  t.ok(scores.penalize("slow", "invalidResponse").banned, "where one proven fault bans");

  scores.penalize("b", "unresponsive");
  scores.penalize("c", "unresponsive");
  scores.penalize("d", "unresponsive");
  t.same(
    ["b", "c", "d"].map((p) => scores.score(p)),
    [0, -1, -1],
    "beyond maxTracked the stalest entry is forgotten",
  );
});

t.test("the connection gate", async (t) => {
  const id = (n: number) => peerIdFromString(peerIdFromNodeKey(nodeKey(n)));
  let onlyKnown = false;
  const gate = connectionGate({
    isBanned: (peer) => peer === id(1).toString(),
    acceptOnlyKnown: () => onlyKnown,
    isKnown: (peer) => peer === id(2).toString(),
  });
  const conn = {} as Parameters<NonNullable<typeof gate.denyInboundEncryptedConnection>>[1];
  t.equal(gate.denyDialPeer?.(id(1)), true, "no dialing a banned peer");
  t.equal(gate.denyDialPeer?.(id(3)), false);
  t.equal(gate.denyInboundEncryptedConnection?.(id(1), conn), true);
  t.equal(gate.denyInboundEncryptedConnection?.(id(3), conn), false);
  onlyKnown = true;
  t.equal(gate.denyInboundEncryptedConnection?.(id(3), conn), true, "unknown refused");
  t.equal(gate.denyInboundEncryptedConnection?.(id(2), conn), false, "known accepted");
  t.equal(gate.denyOutboundEncryptedConnection?.(id(1), conn), true);
});

t.test(
  "bounded queue: runs up to its concurrency, queues up to its capacity, drops the rest",
  async (t) => {
    const release: (() => void)[] = [];
    const done: number[] = [];
    const errors: unknown[] = [];
    const queue = new BoundedQueue<number>(
      { capacity: 2, concurrency: 2 },
      async (n) => {
        await new Promise<void>((resolve) => release.push(resolve));
        if (n === 3) throw new Error("job 3 failed");
        done.push(n);
      },
      (error) => errors.push(error),
    );
    const pushed = [0, 1, 2, 3, 4, 5].map((n) => queue.push(n));
    t.same(pushed, [true, true, true, true, false, false]);
    await waitFor("two running", () => release.length === 2);
    t.same(queue.stats(), { queued: 2, running: 2, accepted: 4, dropped: 2 });
    while (done.length + errors.length < 4) {
      release.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    t.same(done.sort(), [0, 1, 2]);
    t.equal(errors.length, 1, "a failing job is reported, the queue carries on");
    t.equal(queue.push(6), true);
    queue.close();
    t.equal(queue.push(7), false, "closed");
    t.throws(
      () =>
        new BoundedQueue(
          { capacity: 1, concurrency: 0 },
          async () => {},
          () => {},
        ),
    );

    const slots = new Slots(1);
    t.ok(slots.tryAcquire());
    t.notOk(slots.tryAcquire());
    slots.release();
    t.equal(slots.used, 0);
  },
);

t.test("typed emitter: a throwing listener is reported and the others still run", async (t) => {
  const errors: string[] = [];
  const emitter = new TypedEmitter<{ ping: [n: number] }>((event, error) =>
    errors.push(`${String(event)}: ${(error as Error).message}`),
  );
  const got: number[] = [];
  emitter.on("ping", () => {
    throw new Error("boom");
  });
  const off = emitter.on("ping", (n) => got.push(n));
  emitter.emit("ping", 1);
  off();
  emitter.emit("ping", 2);
  t.same(got, [1]);
  t.same(errors, ["ping: boom", "ping: boom"]);
  t.equal(emitter.listenerCount("ping"), 1);
  emitter.removeAll();
  t.equal(emitter.listenerCount("ping"), 0);
});

t.test("node keys, peer ids and peer addresses", async (t) => {
  const id = peerIdFromNodeKey(nodeKey(1));
  t.match(id, /^16Uiu2/, "a secp256k1 peer id");
  t.equal(peerIdFromNodeKey(nodeKey(1)), id, "deterministic");
  t.throws(() => peerIdFromNodeKey(new Uint8Array(31)), NodeKeyError);
  t.throws(() => peerIdFromNodeKey(new Uint8Array(32)), NodeKeyError, "zero is not a key");
  const address = `/ip4/127.0.0.1/tcp/4001/p2p/${id}`;
  t.same(parsePeerAddress(address), { peer: id, addrs: [address] });
  t.throws(() => parsePeerAddress("/ip4/127.0.0.1/tcp/4001"), PeerAddressError);
  t.throws(() => parsePeerAddress("/ip4/127.0.0.1/tcp/4001/p2p/notapeer"), PeerAddressError);
  t.throws(() => parsePeerAddress("nonsense"), PeerAddressError);
  const other = `/ip4/10.0.0.1/tcp/4001/p2p/${id}`;
  t.same(groupPeerAddresses([address, other, address]), [{ peer: id, addrs: [address, other] }]);
});

t.test("request/response messages are canonical and bounded", async (t) => {
  const status = {
    latestHeight: 2n ** 40n,
    latestHash: new Uint8Array(32).fill(9),
    earliestHeight: 1n,
  };
  t.same(decode(StatusSchema, encode(StatusSchema, status)), status);
  const chunk = METHOD_SPECS.votes.chunk;
  const end = encode(chunk, { kind: "end", value: { status: "busy", message: "later" } });
  t.same(decode(chunk, end), { kind: "end", value: { status: "busy", message: "later" } });
  t.throws(() => decode(chunk, new Uint8Array([0x92, 0x01, 0x92, 0x09, 0xc4, 0x00])), CodecError);
  t.throws(
    () => encode(METHOD_SPECS.blocksByRange.request, { startHeight: 1n, count: 33 }),
    CodecError,
    "at most 32 blocks per request",
  );
  t.equal(
    METHOD_SPECS.votes.maxItems({
      height: 1n,
      round: 0,
      prevotes: new Uint8Array([3]),
      precommits: new Uint8Array([1]),
    }),
    3,
  );
});
