// A transaction a follower takes in while no peer can hear it — cut off from the validators,
// or just restarted with its links not yet open — is relayed once a link opens, and committed
// (node/tx-relay.ts). Before the relay it stayed `pending` on the follower, unknown to every
// validator, until it expired: found by the oracle fault runs.
import t from "tap";
import { to0x } from "../../lib/bytes.js";
import { generateSecretKey } from "../../lib/keys.js";
import { buildSignedTx, WattcapClient, waitForFinality } from "../../rpc/client/index.js";
import { Testnet } from "../harness/testnet.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test("transactions sent to a follower nobody hears are committed once it is heard", async (t) => {
  const net = await Testnet.create({ validators: 1, followers: 1, faults: true }, t);
  net.start("v0");
  net.start("f0");
  await net.waitForHeight(["v0", "f0"], 2, 30_000);
  const chainId = (await net.status("v0"))?.chainId ?? "";
  const f0 = new WattcapClient({ url: net.rpcUrl("f0") });
  t.teardown(() => f0.close());
  const operator = net.operator("u0");
  let nonce = 0n;
  const send = async () => {
    const tx = buildSignedTx(operator.secretKey, chainId, nonce, "registerOracle", {
      oracle: generateSecretKey().subarray(0, 20),
    });
    const { hash } = await f0.rpc.tx_send({ tx: to0x(tx.bytes) });
    nonce++;
    return hash;
  };
  const committed = async (hash: string, what: string) => {
    const status = await waitForFinality(f0, hash, { timeoutMs: 30_000, pollMs: 200 });
    t.equal(status.receipt?.outcome, "ok", `${what}: committed`);
  };

  await net.partition([["v0"], ["f0"]]);
  await sleep(1500);
  const whileCut = await send();
  await sleep(500);
  await net.heal();
  await committed(whileCut, "sent while f0 was cut off");

  await net.kill("f0");
  net.start("f0");
  let afterRestart: string | undefined;
  while (afterRestart === undefined)
    afterRestart = await send().catch(() => sleep(50).then(() => undefined));
  await committed(afterRestart, "sent the moment f0's RPC answered after a restart");
});
