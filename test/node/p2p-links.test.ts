import t from "tap";
import type { Network } from "../../node/p2p/index.js";
import { bytesOf, startNetwork, waitFor } from "./p2p-fixtures.js";

function port(network: Network): number {
  return Number(network.addresses()[0]!.split("/")[4]);
}

/** Records who a network accepted a connection from. */
function connections(network: Network): string[] {
  const seen: string[] = [];
  network.on("peer:connected", (peer) => seen.push(peer));
  return seen;
}

t.test("a validator link comes back after the remote restarts on the same port", async (t) => {
  let v1 = await startNetwork({ key: 51 });
  const address = v1.addresses()[0]!;
  const v2 = await startNetwork({ key: 52, validatorPeers: [address] });
  t.teardown(() => v2.stop());
  const announced = connections(v2);
  t.same(v2.validatorPeers(), [v1.peerId]);
  await waitFor("first link, identified", () => announced.includes(v1.peerId));

  const p = port(v1);
  const left: string[] = [];
  v2.on("peer:disconnected", (peer) => left.push(peer));
  await v1.stop();
  await waitFor("link down", () => !v2.isConnected(v1.peerId));
  await waitFor("the host is told", () => left.includes(v1.peerId));
  // Down for a few backoff rounds: the supervisor must keep trying.
  await new Promise((resolve) => setTimeout(resolve, 600));
  v1 = await startNetwork({ key: 51, port: p });
  const restarted = v1;
  t.teardown(() => restarted.stop());
  t.equal(v1.addresses()[0], address, "same key and port: same address");
  await waitFor("link back", () => v2.isConnected(restarted.peerId), 8000);
  await waitFor(
    "subscriptions back, both ways",
    () =>
      v2.subscribers("vote").includes(restarted.peerId) &&
      restarted.subscribers("vote").includes(v2.peerId),
  );
  const got: string[] = [];
  v1.on("gossip:vote", (data) => got.push(new TextDecoder().decode(data)));
  await v2.publish("vote", bytesOf("after restart"));
  await waitFor("gossip over the new link", () => got.length === 1);
  t.same(got, ["after restart"]);

  // The validator set changes: the new member is linked, the old one is no longer supervised.
  const v3 = await startNetwork({ key: 53 });
  t.teardown(() => v3.stop());
  await v2.setValidatorPeers([v3.addresses()[0]!, ...v2.addresses()]);
  t.same(v2.validatorPeers(), [v3.peerId], "our own address is skipped");
  await waitFor("link to the new validator", () => v2.isConnected(v3.peerId));
});

t.test("acceptOnlyKnownValidators refuses unknown peers' inbound links", async (t) => {
  const known = await startNetwork({ key: 61 });
  t.teardown(() => known.stop());
  const validator = await startNetwork({
    key: 62,
    validatorPeers: [known.addresses()[0]!],
    acceptOnlyKnownValidators: true,
  });
  t.teardown(() => validator.stop());
  const stranger = await startNetwork({ key: 63 });
  t.teardown(() => stranger.stop());
  const accepted = connections(validator);
  t.equal(validator.acceptOnlyKnownValidators, true);

  await waitFor("the known validator is linked", () => validator.isConnected(known.peerId));
  await stranger.dial(validator.addresses()[0]!).catch(() => {});
  await waitFor("the stranger is dropped", () => !stranger.isConnected(validator.peerId));
  t.notOk(accepted.includes(stranger.peerId), "the stranger was never accepted");

  await known.hangUp(validator.peerId);
  await known.dial(validator.addresses()[0]!);
  await waitFor("the known peer may dial in", () => validator.isConnected(known.peerId));

  validator.setAcceptOnlyKnownValidators(false);
  await stranger.dial(validator.addresses()[0]!);
  await waitFor("open again", () => accepted.includes(stranger.peerId));
  t.ok(validator.isConnected(stranger.peerId));
});

t.test("validatorPeerIds: validators known by id may dial in, and are not dialed", async (t) => {
  const inbound = await startNetwork({ key: 64 });
  t.teardown(() => inbound.stop());
  const sentry = await startNetwork({
    key: 65,
    validatorPeerIds: [inbound.peerId],
    acceptOnlyKnownValidators: true,
  });
  t.teardown(() => sentry.stop());
  const stranger = await startNetwork({ key: 66 });
  t.teardown(() => stranger.stop());
  const accepted = connections(sentry);
  t.same(sentry.validatorPeers(), [], "a peer id alone is no link to supervise");
  t.ok(sentry.isKnownValidator(inbound.peerId), "but it is a known validator");
  t.notOk(sentry.isKnownValidator(stranger.peerId));

  await stranger.dial(sentry.addresses()[0]!).catch(() => {});
  await waitFor("the stranger is dropped", () => !stranger.isConnected(sentry.peerId));
  await inbound.dial(sentry.addresses()[0]!);
  await waitFor("the validator known by id is accepted", () => accepted.includes(inbound.peerId));
  t.notOk(accepted.includes(stranger.peerId), "the stranger was never accepted");

  // A new validator set keeps the configured ids known.
  await sentry.setValidatorPeers([stranger.addresses()[0]!]);
  t.ok(sentry.isKnownValidator(inbound.peerId), "still known after the links change");
  t.ok(sentry.isKnownValidator(stranger.peerId), "the new link is known");
});

t.test("a peer of another chain is dropped after identify", async (t) => {
  const ours = await startNetwork({ key: 71 });
  t.teardown(() => ours.stop());
  const other = await startNetwork({ key: 72, chainId: "other-chain" });
  t.teardown(() => other.stop());
  const left: string[] = [];
  ours.libp2p.addEventListener("peer:disconnect", (event) => left.push(event.detail.toString()));
  const announced = connections(ours);
  await other.dial(ours.addresses()[0]!);
  await waitFor("dropped", () => left.includes(other.peerId));
  t.notOk(ours.isConnected(other.peerId));
  t.same(announced, [], "never announced to the host");
  t.same(ours.subscribers("tx"), [], "it never joined our topics");
});

t.test("status is exchanged when a link opens", async (t) => {
  const a = await startNetwork({ key: 81 });
  t.teardown(() => a.stop());
  const b = await startNetwork({ key: 82 });
  t.teardown(() => b.stop());
  const statuses: string[] = [];
  a.on("peer:status", (peer, status) =>
    statuses.push(`a<-${peer === b.peerId}:${status.latestHeight}`),
  );
  b.on("peer:status", (peer, status) =>
    statuses.push(`b<-${peer === a.peerId}:${status.latestHeight}`),
  );
  await a.dial(b.addresses()[0]!);
  await waitFor("both sides know the other's status", () => statuses.length === 2);
  t.same(statuses.sort(), ["a<-true:7", "b<-true:7"]);
});
