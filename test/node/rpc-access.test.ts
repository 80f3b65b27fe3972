// A node's config turns on access control for household data (rpc.restrictHouseholdData,
// rpc.auditors): the RPC it serves then refuses household methods without auth and signs in a
// listed auditor; bad auditor addresses are refused when the config is read.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { silentLogger } from "../../lib/log.js";
import { ConfigError, defaultConfigFile, parseConfig } from "../../node/config.js";
import { WattcapNode } from "../../node/node.js";
import { LocalFileSigner } from "../../node/signer.js";
import { WattcapClient } from "../../rpc/client/index.js";
import { signIn } from "../../rpc/client/sign-in.js";
import { actor, validatorOf } from "../vm/helpers.js";
import { genesisFromNow } from "./chain-fixtures.js";

const auditor = actor(70);
const household = actor(50);

t.test("rpc.auditors must be addresses", async (t) => {
  const error = t.throws(() =>
    parseConfig({ home: "/srv/w", file: { rpc: { auditors: ["0x1234"] } }, env: {} }),
  ) as ConfigError;
  t.ok(error instanceof ConfigError);
  t.equal(error.problems[0]?.path, "rpc.auditors");
});

t.test(
  "a node with rpc.restrictHouseholdData serves household data only to allowed keys",
  async (t) => {
    const home = await mkdtemp(join(tmpdir(), "wattcap-node-"));
    const file = defaultConfigFile("n1") as Record<string, Record<string, unknown>>;
    const config = parseConfig({
      home,
      file: {
        ...file,
        p2p: { ...file.p2p, host: "127.0.0.1", port: 0 },
        metrics: { ...file.metrics, port: 0 },
        rpc: { ...file.rpc, port: 0, restrictHouseholdData: true, auditors: [auditor.hex] },
      },
      env: {},
    });
    t.equal(config.rpc.restrictHouseholdData, true);
    const node = await WattcapNode.start({
      config,
      genesis: genesisFromNow(),
      nodeKey: new Uint8Array(32).fill(1),
      signer: LocalFileSigner.fromSecretKey(validatorOf(0, 0).secretKey),
      logger: silentLogger(),
    });
    t.teardown(async () => {
      await node.stop();
      await rm(home, { recursive: true, force: true });
    });
    const client = new WattcapClient({ url: `http://127.0.0.1:${node.rpcPort}/` });
    await t.rejects(
      client.call("account_get", { address: household.hex }),
      { code: -32003 },
      "no auth: refused",
    );
    const session = await signIn(client, auditor.secretKey);
    t.equal(session.auditor, true, "the configured auditor signs in as one");
    const account = await client.call("account_get", {
      address: household.hex,
      auth: { session: session.session },
    });
    t.equal(account.address, household.hex, "and reads a household's account");
  },
);
