import t from "tap";
import { fromUtf8 } from "../../lib/bytes.js";
import {
  GOSSIP_KINDS,
  GossipError,
  type GossipKind,
  gossipTopic,
  MAX_GOSSIP_BYTES,
  type Network,
  type PeerIdStr,
  type Verdict,
} from "../../node/p2p/index.js";
import { acceptAll, bytesOf, CHAIN, link, startNetwork, waitFor } from "./p2p-fixtures.js";

function collect(network: Network, kind: GossipKind): { text: string; from: PeerIdStr }[] {
  const seen: { text: string; from: PeerIdStr }[] = [];
  network.on(`gossip:${kind}`, (data, from) => seen.push({ text: fromUtf8(data), from }));
  return seen;
}

t.test("gossip on every topic reaches the other hosts (bootstrap + validator links)", async (t) => {
  const a = await startNetwork({ key: 1 });
  t.teardown(() => a.stop());
  const [addrA] = a.addresses();
  const b = await startNetwork({ key: 2, bootstrap: [addrA!] });
  t.teardown(() => b.stop());
  const c = await startNetwork({
    key: 3,
    bootstrap: [addrA!],
    validatorPeers: [b.addresses()[0]!],
  });
  t.teardown(() => c.stop());
  const all = [a, b, c];
  await waitFor("full mesh of subscriptions", () =>
    all.every((x) =>
      all.every((y) => x === y || GOSSIP_KINDS.every((k) => x.subscribers(k).includes(y.peerId))),
    ),
  );
  const received = new Map(
    all.map((n) => [n, new Map(GOSSIP_KINDS.map((k) => [k, collect(n, k)]))]),
  );
  for (const kind of GOSSIP_KINDS) {
    const recipients = await a.publish(kind, bytesOf(`${kind} from a`));
    t.same(recipients.sort(), [b.peerId, c.peerId].sort(), `${kind}: a sent to b and c`);
    await c.publish(kind, bytesOf(`${kind} from c`));
  }
  const texts = (n: Network, kind: GossipKind) =>
    received
      .get(n)!
      .get(kind)!
      .map((m) => m.text);
  await waitFor("every message delivered", () =>
    GOSSIP_KINDS.every(
      (k) => texts(a, k).length === 1 && texts(b, k).length === 2 && texts(c, k).length === 1,
    ),
  );
  for (const kind of GOSSIP_KINDS) {
    t.same(texts(b, kind).sort(), [`${kind} from a`, `${kind} from c`]);
    t.same(texts(a, kind), [`${kind} from c`], "no echo to the publisher");
    t.same(texts(c, kind), [`${kind} from a`]);
    // `from` is the peer that delivered the copy: the author, or a peer that relayed it.
    t.ok(
      received
        .get(b)!
        .get(kind)!
        .every((m) => m.from === a.peerId || m.from === c.peerId),
    );
  }
  t.equal(b.stats().gossip.vote.accepted, 2);
});

t.test("a rejecting validator stops propagation and costs the sender score", async (t) => {
  const judge = (data: Uint8Array): Verdict =>
    fromUtf8(data).startsWith("bad") ? "reject" : "accept";
  const x = await startNetwork({ key: 11 });
  t.teardown(() => x.stop());
  const y = await startNetwork({ key: 12, validators: { ...acceptAll(), tx: judge } });
  t.teardown(() => y.stop());
  const z = await startNetwork({ key: 13 });
  t.teardown(() => z.stop());
  await link(x, y);
  await link(y, z);
  await waitFor("y's tx mesh holds z", () => y.meshPeers("tx").includes(z.peerId));
  const atZ = collect(z, "tx");

  await x.publish("tx", bytesOf("good-1"));
  await waitFor("good-1 forwarded by y to z", () => atZ.length === 1);
  t.same(atZ[0], { text: "good-1", from: y.peerId }, "z got it through y");

  await x.publish("tx", bytesOf("bad-1"));
  await x.publish("tx", bytesOf("good-2"));
  await waitFor("good-2 at z", () => atZ.length >= 2);
  t.same(
    atZ.map((m) => m.text),
    ["good-1", "good-2"],
    "the rejected message never reached z",
  );
  t.equal(y.stats().gossip.tx.rejected, 1);
  t.equal(y.peerScore(x.peerId), -10, "the sender lost the invalidGossip penalty");
  t.equal(y.peerScore(z.peerId), 0);
  t.notOk(x.connectedPeers().includes(z.peerId), "x and z are only linked through y");

  // Over the topic's limit: refused before sending, and rejected unread when sent anyway.
  await t.rejects(x.publish("vote", new Uint8Array(MAX_GOSSIP_BYTES.vote + 1)), GossipError);
  await x.libp2p.services.pubsub.publish(
    gossipTopic(CHAIN, "vote"),
    new Uint8Array(MAX_GOSSIP_BYTES.vote + 1),
  );
  await waitFor("oversized vote rejected", () => y.stats().gossip.vote.rejected === 1);
  t.equal(y.peerScore(x.peerId), -20, "and penalised again");
});

t.test("a peer that keeps sending garbage is disconnected and banned", async (t) => {
  const p = await startNetwork({ key: 21 });
  t.teardown(() => p.stop());
  const q = await startNetwork({
    key: 22,
    validators: { ...acceptAll(), vote: () => "reject" },
  });
  t.teardown(() => q.stop());
  const bans: string[] = [];
  q.on("peer:banned", (peer, reason) => bans.push(`${peer}:${reason}`));
  await link(p, q);
  for (let i = 0; i < 8 && !q.isBanned(p.peerId); i++) {
    await p.publish("vote", bytesOf(`garbage ${i}`));
    await waitFor(
      `garbage ${i} judged`,
      () => q.stats().gossip.vote.rejected > i || q.isBanned(p.peerId),
    );
  }
  await waitFor("p disconnected", () => !q.isConnected(p.peerId) && !p.isConnected(q.peerId));
  t.ok(q.isBanned(p.peerId));
  t.same(bans, [`${p.peerId}:invalidGossip`]);
  t.equal(q.stats().gossip.vote.rejected, 5, "banned at the fifth rejection (-50)");
  t.equal(q.stats().bannedPeers, 1);
  // The dialer finishes its side of the handshake before q's gate closes the connection, so
  // the dial may resolve; q never accepts the connection and it does not last.
  const accepted: string[] = [];
  q.on("peer:connected", (peer) => accepted.push(peer));
  await p.dial(q.addresses()[0]!).catch(() => {});
  await waitFor("the redial is dropped", () => !p.isConnected(q.peerId));
  t.same(accepted, [], "the banned peer cannot reconnect");
});

t.test("a full topic queue drops and counts, never grows", async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const r = await startNetwork({ key: 31 });
  t.teardown(() => r.stop());
  const s = await startNetwork({
    key: 32,
    validators: {
      ...acceptAll(),
      vote: async (): Promise<Verdict> => {
        await gate;
        return "accept";
      },
    },
    tuning: {
      queues: {
        tx: { capacity: 8, concurrency: 1 },
        proposal: { capacity: 1, concurrency: 1 },
        vote: { capacity: 2, concurrency: 1 },
        evidence: { capacity: 1, concurrency: 1 },
      },
    },
  });
  t.teardown(() => s.stop());
  const accepted = collect(s, "vote");
  await link(r, s);
  for (let i = 0; i < 10; i++) await r.publish("vote", bytesOf(`vote ${i}`));
  await waitFor("all ten arrived", () => s.stats().gossip.vote.received === 10);
  const during = s.stats().gossip.vote;
  t.equal(during.validating, 1);
  t.equal(during.queued, 2);
  t.equal(during.dropped, 7, "beyond 1 running + 2 waiting, messages are dropped");
  release();
  await waitFor("the kept three accepted", () => accepted.length === 3);
  t.same(
    accepted.map((m) => m.text),
    ["vote 0", "vote 1", "vote 2"],
  );
  t.equal(s.peerScore(r.peerId), 0, "a drop is not the sender's fault");
});

t.test("a proposal as large as gossipsub can send travels as one gossip message", async (t) => {
  const a = await startNetwork({ key: 41 });
  t.teardown(() => a.stop());
  const b = await startNetwork({ key: 42 });
  t.teardown(() => b.stop());
  await link(a, b);
  const got: Uint8Array[] = [];
  b.on("gossip:proposal", (data) => got.push(data));
  const payload = new Uint8Array(MAX_GOSSIP_BYTES.proposal).fill(0x5a);
  t.same(await a.publish("proposal", payload), [b.peerId]);
  await waitFor("the big proposal", () => got.length === 1);
  t.equal(got[0]!.length, payload.length);
  t.equal(got[0]![payload.length - 1], 0x5a);
});

t.test("a dead outbound gossip stream is replaced on the next heartbeat", async (t) => {
  const a = await startNetwork({ key: 51 });
  t.teardown(() => a.stop());
  const b = await startNetwork({ key: 52 });
  t.teardown(() => b.stop());
  await link(a, b);
  // Recreate what gossipsub 17 leaves behind when a connection drops while it opens a stream:
  // its map keeps a stream that is dead, so it never opens another one to that peer.
  const router = a.libp2p.services.pubsub as unknown as { streamsOutbound: Map<string, unknown> };
  const dead = router.streamsOutbound.get(b.peerId);
  const raw = a.libp2p
    .getConnections()
    .flatMap((c) => c.streams)
    .find((s) => s.direction === "outbound" && s.protocol.startsWith("/meshsub/"));
  t.ok(dead && raw, "a sends to b on an outbound stream");
  raw!.abort(new Error("test: the stream dies"));
  await waitFor("gossipsub forgot the stream", () => !router.streamsOutbound.has(b.peerId));
  router.streamsOutbound.set(b.peerId, dead);
  await waitFor("repaired", () => a.stats().gossipStreamRepairs >= 1);
  await waitFor(
    "a live stream again, and each side knows the other's topics",
    () =>
      router.streamsOutbound.has(b.peerId) &&
      router.streamsOutbound.get(b.peerId) !== dead &&
      a.subscribers("tx").includes(b.peerId) &&
      b.subscribers("tx").includes(a.peerId),
  );
  const got: string[] = [];
  b.on("gossip:tx", (data) => got.push(fromUtf8(data)));
  t.same(await a.publish("tx", bytesOf("after repair")), [b.peerId]);
  await waitFor("delivered", () => got.length === 1);
  t.same(got, ["after repair"]);
});

t.test(
  "a publish onlyIfHeard that reaches nobody can be repeated once a peer is there",
  async (t) => {
    const a = await startNetwork({ key: 1 });
    t.teardown(() => a.stop());
    const b = await startNetwork({ key: 2 });
    t.teardown(() => b.stop());
    const atB = collect(b, "tx");
    const tx = bytesOf("a transaction submitted before any peer");
    t.same(await a.publish("tx", tx, { onlyIfHeard: true }), [], "nobody to send to");

    await link(a, b);
    t.same(await a.publish("tx", tx, { onlyIfHeard: true }), [b.peerId], "the repeat is sent");
    await waitFor("b got it", () => atB.length === 1);
    t.same(atB, [{ text: fromUtf8(tx), from: a.peerId }]);

    // A plain publish to nobody enters the seen cache: its repeat is dropped as a duplicate.
    const c = await startNetwork({ key: 3 });
    t.teardown(() => c.stop());
    const plain = bytesOf("published to nobody the plain way");
    t.same(await c.publish("tx", plain), []);
    await link(c, b);
    t.same(await c.publish("tx", plain), [], "a repeat of seen bytes reaches nobody");
  },
);
