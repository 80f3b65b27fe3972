import { peerIdFromString } from "@libp2p/peer-id";
import { lpStream } from "@libp2p/utils";
import t, { type Test } from "tap";
import { MAX_BLOCK_BYTES } from "../../lib/block.js";
import { fromUtf8 } from "../../lib/bytes.js";
import { decode, encode } from "../../lib/codec.js";
import { MAX_COMMIT_BYTES } from "../../lib/commit.js";
import {
  type BlockWithCommit,
  bitIndexes,
  emptyBitmap,
  type HaveVotes,
  hasBit,
  MAX_PROPOSAL_MESSAGE_BYTES,
  type Network,
  protocolId,
  RequestError,
  type RequestErrorCode,
  type Status,
  setBit,
} from "../../node/p2p/index.js";
import { METHOD_SPECS } from "../../node/p2p/reqresp.js";
import { bytesOf, CHAIN, handlers, link, STATUS, startNetwork, waitFor } from "./p2p-fixtures.js";

async function pair(
  t: Test,
  server: Parameters<typeof startNetwork>[0],
  client: Partial<Parameters<typeof startNetwork>[0]> = {},
): Promise<[Network, Network]> {
  const a = await startNetwork({ key: 41, ...client });
  t.teardown(() => a.stop());
  const b = await startNetwork(server);
  t.teardown(() => b.stop());
  // The dialer exchanges status as it connects (right after announcing the peer). Wait for that
  // exchange to end, or on a loaded machine it may still hold the only slot of a test's tight
  // in-flight limit when the test's first request goes.
  let connected = false;
  const off = a.on("peer:connected", (peer) => {
    if (peer === b.peerId) connected = true;
  });
  await link(a, b);
  await waitFor("the dialer's status exchange", () => {
    return connected && a.reqresp.outboundInFlight === 0;
  });
  off();
  return [a, b];
}

async function rejectsWith(
  t: Test,
  promise: Promise<unknown>,
  code: RequestErrorCode,
  message: string = code,
): Promise<void> {
  await t.rejects(promise, { name: "RequestError", code }, message);
}

function block(height: bigint): BlockWithCommit {
  return { block: bytesOf(`block ${height}`), commit: bytesOf(`commit ${height}`) };
}

function bits(size: number, indexes: number[]): Uint8Array {
  const out = emptyBitmap(size);
  for (const i of indexes) setBit(out, i);
  return out;
}

t.test("every method round-trips", async (t) => {
  const seenStatus: Status[] = [];
  const seenHave: HaveVotes[] = [];
  const mine: Status = {
    latestHeight: 3n,
    latestHash: new Uint8Array(32).fill(3),
    earliestHeight: 1n,
  };
  const [a, b] = await pair(
    t,
    {
      key: 42,
      handlers: handlers({
        async *blocksByRange(request) {
          for (let h = request.startHeight; h < request.startHeight + BigInt(request.count); h++) {
            if (h > 10n) return;
            yield block(h);
          }
        },
        votes: (request) => [
          ...bitIndexes(request.prevotes).map((i) => bytesOf(`prevote ${request.height}/${i}`)),
          ...bitIndexes(request.precommits).map((i) => bytesOf(`precommit ${request.height}/${i}`)),
        ],
        proposal: async (request) =>
          request.blockHash[0] === 1 ? bytesOf("proposal 1") : undefined,
        voteBitmaps: (height, round) =>
          height === 5n && round === 1
            ? { prevotes: bits(4, [0, 3]), precommits: bits(4, [2]) }
            : undefined,
      }),
    },
    { handlers: handlers({ status: () => mine }) },
  );
  b.on("peer:status", (_peer, status) => seenStatus.push(status));
  b.on("peer:haveVotes", (_peer, have) => seenHave.push(have));

  t.same(await a.reqresp.status(b.peerId), STATUS, "status: the responder's");
  t.same(seenStatus.at(-1), mine, "and the responder learned the requester's");

  const range = await a.reqresp.blocksByRange(b.peerId, { startHeight: 8n, count: 5 });
  t.same(range, [block(8n), block(9n), block(10n)], "blocksByRange stops where the chain ends");
  t.same(await a.reqresp.blocksByRange(b.peerId, { startHeight: 1n, count: 0 }), []);

  const votes = await a.reqresp.votes(b.peerId, {
    height: 9n,
    round: 0,
    prevotes: bits(8, [1, 6]),
    precommits: bits(8, [0]),
  });
  t.same(votes.map(fromUtf8), ["prevote 9/1", "prevote 9/6", "precommit 9/0"]);

  t.same(fromUtf8((await a.reqresp.proposal(b.peerId, new Uint8Array(32).fill(1)))!), "proposal 1");
  t.equal(await a.reqresp.proposal(b.peerId, new Uint8Array(32).fill(2)), undefined, "not found");

  const ours: HaveVotes = { height: 5n, round: 1, prevotes: bits(4, [0]), precommits: bits(4, []) };
  const theirs = await a.reqresp.haveVotes(b.peerId, ours);
  t.same(theirs, { height: 5n, round: 1, prevotes: bits(4, [0, 3]), precommits: bits(4, [2]) });
  t.same(seenHave, [ours], "the responder learned ours");
  const none = await a.reqresp.haveVotes(b.peerId, { ...ours, round: 2 });
  t.same([none.prevotes.length, none.precommits.length], [0, 0], "no votes kept: empty bitmaps");
  t.equal(a.peerScore(b.peerId), 0);
  t.equal(b.peerScore(a.peerId), 0);
});

t.test("a failing handler is an error status, not a crash", async (t) => {
  let calls = 0;
  const [a, b] = await pair(t, {
    key: 43,
    handlers: handlers({
      proposal: () => {
        calls++;
        if (calls === 1) throw new Error("disk on fire");
        return bytesOf("fine again");
      },
      blocksByRange: () => [
        { block: new Uint8Array(4 * 1024 * 1024 + 1), commit: new Uint8Array(0) },
      ],
      status: () => ({ latestHeight: -1n }) as unknown as Status,
    }),
  });
  await rejectsWith(t, a.reqresp.proposal(b.peerId, new Uint8Array(32)), "SERVER_ERROR");
  t.same(fromUtf8((await a.reqresp.proposal(b.peerId, new Uint8Array(32)))!), "fine again");
  await rejectsWith(
    t,
    a.reqresp.blocksByRange(b.peerId, { startHeight: 1n, count: 1 }),
    "SERVER_ERROR",
    "an oversized block is refused by the responder",
  );
  await rejectsWith(t, a.reqresp.status(b.peerId), "SERVER_ERROR", "an invalid status too");
  t.equal(a.peerScore(b.peerId), 0, "a server error is not a fault of the protocol");
});

// Long enough that a loaded machine still opens the stream and reaches the handler before the
// requester gives up: the test is of what happens at the deadline, not of how short it can be.
const DEADLINE_MS = 1500;

t.test("deadlines, limits in flight and busy responders", async (t) => {
  let entered = 0;
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const [a, b] = await pair(
    t,
    {
      key: 44,
      handlers: handlers({
        proposal: async (request, _peer, signal) => {
          entered++;
          // A handler that ignores its signal must not hold the responder's only slot.
          if (request.blockHash[0] === 9) return new Promise<undefined>(() => {});
          await Promise.race([
            held,
            new Promise((resolve) => signal.addEventListener("abort", resolve)),
          ]);
          return bytesOf("late");
        },
      }),
      tuning: { maxInboundRequests: 1 },
    },
    { tuning: { maxOutboundRequests: 1 } },
  );
  await rejectsWith(
    t,
    a.reqresp.proposal(b.peerId, new Uint8Array(32), { timeoutMs: DEADLINE_MS }),
    "TIMEOUT",
  );
  t.equal(a.peerScore(b.peerId), -1, "a timeout costs a little");
  await rejectsWith(
    t,
    a.reqresp.proposal(b.peerId, new Uint8Array(32).fill(9), { timeoutMs: DEADLINE_MS }),
    "TIMEOUT",
  );
  await waitFor("both held requests entered", () => entered === 2);

  const first = a.reqresp.proposal(b.peerId, new Uint8Array(32));
  await waitFor("first request held", () => entered === 3);
  await rejectsWith(
    t,
    a.reqresp.status(b.peerId),
    "TOO_MANY_REQUESTS",
    "the requester's own cap refuses at once",
  );
  const c = await startNetwork({ key: 47 });
  t.teardown(() => c.stop());
  await link(c, b);
  await rejectsWith(t, c.reqresp.proposal(b.peerId, new Uint8Array(32)), "BUSY");
  t.equal(c.peerScore(b.peerId), 0, "busy is no fault");
  release();
  t.same(fromUtf8((await first)!), "late");
  await rejectsWith(t, a.reqresp.status(b.peerId, { signal: AbortSignal.abort() }), "ABORTED");
  t.same(await a.reqresp.status(b.peerId), STATUS, "served again after the burst");
});

t.test("whole blocks fit in responses", async (t) => {
  const big = new Uint8Array(MAX_BLOCK_BYTES).fill(0xab);
  const proposal = new Uint8Array(MAX_PROPOSAL_MESSAGE_BYTES).fill(0xcd);
  const [a, b] = await pair(t, {
    key: 48,
    handlers: handlers({
      blocksByRange: () => [
        { block: big, commit: new Uint8Array(MAX_COMMIT_BYTES) },
        { block: big, commit: new Uint8Array(1) },
      ],
      proposal: () => proposal,
    }),
  });
  const blocks = await a.reqresp.blocksByRange(b.peerId, { startHeight: 1n, count: 2 });
  t.equal(blocks.length, 2);
  t.ok(blocks.every((x) => x.block.length === MAX_BLOCK_BYTES && x.block[123] === 0xab));
  const got = await a.reqresp.proposal(b.peerId, new Uint8Array(32));
  t.equal(got?.length, MAX_PROPOSAL_MESSAGE_BYTES);
});

t.test("bad responses and bad requests cost the sender score", async (t) => {
  const [a, m] = await pair(t, { key: 45 });
  // m turns malicious: its status answers with a frame over the method's limit, its proposal
  // answers with bytes that are not a response chunk, its votes with more items than asked.
  const spec = METHOD_SPECS;
  for (const method of ["status", "proposal", "votes"] as const) {
    await m.libp2p.unhandle(protocolId(CHAIN, method));
  }
  await m.libp2p.handle(protocolId(CHAIN, "status"), async (stream) => {
    const lp = lpStream(stream);
    await lp.read();
    await lp.write(new Uint8Array(spec.status.maxChunkBytes + 1));
    await stream.close();
  });
  await m.libp2p.handle(protocolId(CHAIN, "proposal"), async (stream) => {
    const lp = lpStream(stream);
    await lp.read();
    await lp.write(bytesOf("not msgpack at all \xc1"));
    await stream.close();
  });
  await m.libp2p.handle(protocolId(CHAIN, "votes"), async (stream) => {
    const lp = lpStream(stream);
    await lp.read();
    for (let i = 0; i < 3; i++) {
      await lp.write(encode(spec.votes.chunk, { kind: "item", value: bytesOf(`vote ${i}`) }));
    }
    await lp.write(encode(spec.votes.chunk, { kind: "end", value: { status: "ok", message: "" } }));
    await stream.close();
  });
  await rejectsWith(t, a.reqresp.status(m.peerId), "RESPONSE_TOO_LARGE");
  await rejectsWith(t, a.reqresp.proposal(m.peerId, new Uint8Array(32)), "INVALID_RESPONSE");
  await rejectsWith(
    t,
    a.reqresp.votes(m.peerId, {
      height: 1n,
      round: 0,
      prevotes: bits(8, [1]),
      precommits: bits(8, [2]),
    }),
    "INVALID_RESPONSE",
    "three votes for two bits",
  );
  t.equal(a.peerScore(m.peerId), -30, "three invalid responses, -10 each");

  // The other way round: a raw request that is not a request.
  const stream = await m.libp2p.dialProtocol(
    peerIdFromString(a.peerId),
    protocolId(CHAIN, "blocksByRange"),
  );
  const lp = lpStream(stream);
  await lp.write(bytesOf("garbage"));
  const reply = decode(spec.blocksByRange.chunk, (await lp.read()).subarray());
  t.same(reply.kind === "end" && reply.value.status, "invalidRequest");
  await stream.close();
  t.equal(a.peerScore(m.peerId), -40, "and the bad request cost another 10");
  t.ok(a.isConnected(m.peerId), "not yet banned");
});

t.test("the vote exchange fetches the votes gossip lost", async (t) => {
  const prevotes = bits(4, [0, 2]);
  const precommits = bits(4, [1]);
  const mineA = { prevotes: bits(4, [0]), precommits: bits(4, []) };
  const fetched: string[] = [];
  const [a, b] = await pair(
    t,
    {
      key: 46,
      consensusRound: () => ({ height: 5n, round: 0 }),
      handlers: handlers({
        voteBitmaps: () => ({ prevotes, precommits }),
        votes: (request) => [
          ...bitIndexes(request.prevotes)
            .filter((i) => hasBit(prevotes, i))
            .map((i) => bytesOf(`prevote ${i}`)),
          ...bitIndexes(request.precommits)
            .filter((i) => hasBit(precommits, i))
            .map((i) => bytesOf(i === 1 ? "forged precommit" : `precommit ${i}`)),
        ],
      }),
    },
    {
      consensusRound: () => ({ height: 5n, round: 0 }),
      handlers: handlers({ voteBitmaps: () => mineA }),
      validators: {
        tx: () => "accept",
        proposal: () => "accept",
        evidence: () => "accept",
        vote: (data) => (fromUtf8(data).startsWith("forged") ? "reject" : "accept"),
      },
    },
  );
  a.on("fetched:vote", (data, from) => {
    t.equal(from, b.peerId);
    fetched.push(fromUtf8(data));
  });
  const theirHave: HaveVotes[] = [];
  b.on("peer:haveVotes", (_peer, have) => theirHave.push(have));
  t.equal(await a.exchangeVotes(), 1, "one vote accepted");
  t.same(fetched, ["prevote 2"], "only the missing prevote; the forged precommit was rejected");
  t.equal(a.peerScore(b.peerId), -10, "the peer that served a bad vote pays");
  t.same(theirHave, [{ height: 5n, round: 0, ...mineA }], "b learned what a holds");
});

t.test("RequestError carries method, peer and code", async (t) => {
  const error = new RequestError("BUSY", "votes", "peer-x", "full");
  t.equal(error.message, "votes to peer-x: BUSY: full");
  t.equal(error.code, "BUSY");
});
