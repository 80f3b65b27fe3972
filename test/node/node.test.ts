// The composed node on real libp2p (127.0.0.1) in one process: a validator and a follower that
// bootstraps from it, both serving GET /status.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t, { type Test } from "tap";
import { toChecksumAddress } from "../../lib/address.js";
import { to0x } from "../../lib/bytes.js";
import { silentLogger } from "../../lib/log.js";
import { defaultConfigFile, parseConfig } from "../../node/config.js";
import { type NodeStatus, WattcapNode } from "../../node/node.js";
import { LocalFileSigner } from "../../node/signer.js";
import { validatorOf } from "../vm/helpers.js";
import { genesisFromNow } from "./chain-fixtures.js";
import { waitFor } from "./driver-fixtures.js";

const genesis = genesisFromNow();

async function startNode(
  t: Test,
  role: "validator" | "follower",
  key: number,
  bootstrap: readonly string[] = [],
): Promise<WattcapNode> {
  const home = await mkdtemp(join(tmpdir(), "wattcap-node-"));
  const file = defaultConfigFile(`n${key}`) as Record<string, Record<string, unknown>>;
  const config = parseConfig({
    home,
    file: {
      ...file,
      role,
      p2p: { ...file.p2p, host: "127.0.0.1", port: 0, bootstrapPeers: bootstrap },
      metrics: { ...file.metrics, port: 0 },
      rpc: { ...file.rpc, port: 0 },
      consensus: { ...file.consensus, targetBlockTimeMs: 100 },
    },
    env: {},
  });
  const node = await WattcapNode.start({
    config,
    genesis,
    nodeKey: new Uint8Array(32).fill(key),
    ...(role === "validator"
      ? { signer: LocalFileSigner.fromSecretKey(validatorOf(0, 0).secretKey) }
      : {}),
    logger: silentLogger(),
  });
  t.teardown(async () => {
    await node.stop();
    await rm(home, { recursive: true, force: true });
  });
  return node;
}

async function fetchStatus(node: WattcapNode): Promise<NodeStatus> {
  const response = await fetch(`http://127.0.0.1:${node.statusPort}/status`);
  return (await response.json()) as NodeStatus;
}

t.test("a validator and a follower on libp2p agree, and /status reports both", async (t) => {
  const validator = await startNode(t, "validator", 1);
  await waitFor("height 2", () => validator.chain.head().height >= 2n);
  const follower = await startNode(t, "follower", 2, validator.network.addresses());
  const target = validator.chain.head().height + 2n;
  await waitFor("the follower at the validator's height", () => {
    return follower.chain.head().height >= target;
  });
  const h = follower.chain.head().height;
  t.same(validator.chain.store.chain.getBlockHash(h), follower.chain.store.chain.getBlockHash(h));

  const status = await fetchStatus(validator);
  t.equal(status.chainId, "wattcap-test");
  t.equal(status.genesisHash, to0x(genesis.hash));
  t.equal(status.role, "validator");
  t.equal(status.validatorAddress, toChecksumAddress(validatorOf(0, 0).address));
  t.equal(status.peerId, validator.network.peerId);
  t.ok(status.height >= Number(target), "height is a number");
  t.match(status.blockHash, /^0x[0-9a-f]{64}$/);
  t.match(status.stateRoot, /^0x[0-9a-f]{64}$/);
  t.equal(typeof status.time, "number");
  t.equal(typeof status.round, "number");
  t.ok(["propose", "prevote", "precommit"].includes(status.step));
  t.ok(status.peers >= 1);
  t.equal(typeof status.syncing, "boolean");
  t.ok(status.p2pAddresses.some((a) => a.startsWith("/ip4/127.0.0.1/tcp/")));

  const followerStatus = await fetchStatus(follower);
  t.equal(followerStatus.role, "follower");
  t.equal(followerStatus.validatorAddress, null);

  const metrics = await fetch(`http://127.0.0.1:${validator.statusPort}/metrics`);
  t.match(await metrics.text(), /wattcap_height\{moniker="n1"\} \d+/);
  t.equal((await fetch(`http://127.0.0.1:${validator.statusPort}/nope`)).status, 404);

  // The follower serves JSON-RPC on its RPC port, over the same chain.
  const rpc = await fetch(`http://127.0.0.1:${follower.rpcPort}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "chain_status", params: {} }),
  });
  const { result } = (await rpc.json()) as { result: { chainId: string; height: string } };
  t.equal(result.chainId, "wattcap-test");
  t.ok(BigInt(result.height) >= BigInt(h), "the RPC reports the follower's head");

  const explorer = await fetch(`http://127.0.0.1:${follower.rpcPort}/explorer/`);
  t.equal(explorer.status, 200, "the explorer is served under /explorer/ on the RPC port");
  t.match(await explorer.text(), /<html/i);
});
