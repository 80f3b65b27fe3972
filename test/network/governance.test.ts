// Governance changing the validator set of a running network of processes (DESIGN §5, §6): the
// operators of more than 2/3 of the set sign proposals through RPC; a new validator process,
// running as a follower until then, signs commits from two heights after the deciding approval;
// a removed validator's votes stop counting from the same distance, though it keeps running.
import t from "tap";
import { policyDefaults } from "../../cli/genesis.js";
import { addressOf, toChecksumAddress } from "../../lib/address.js";
import { fromHex } from "../../lib/bytes.js";
import { generateSecretKey, publicKeyOf } from "../../lib/keys.js";
import { Signer, WattcapClient } from "../../rpc/client/index.js";
import { parsePolicyJson } from "../../vm/genesis.js";
import type { GovernanceAction } from "../../vm/model/governance.js";
import { Testnet } from "../harness/testnet.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test("governance adds a validator process and removes another", async (t) => {
  const net = await Testnet.create({ validators: 4, spares: 1 }, t);
  const [v0, v1, v2, v3] = net.validators as [string, string, string, string];
  const s0 = net.spares[0]!;
  for (const name of [...net.validators, s0]) net.start(name);
  await net.waitForHeight([...net.validators, s0], 2, 30_000);

  const client = new WattcapClient({ url: net.rpcUrl(v0) });
  t.teardown(() => client.close());
  const operator = (i: number) => new Signer(client, net.operators[i]!.secretKey);
  const [op0, op1, op2] = [operator(0), operator(1), operator(2)];
  const newOperatorKey = generateSecretKey();
  const opNew = new Signer(client, newOperatorKey);

  /** Proposes with the first signer, approves with the rest; the deciding block's height. */
  const pass = async (action: GovernanceAction, [first, ...rest]: Signer[]): Promise<bigint> => {
    const proposed = await first!.sendAndWait("proposeGovernance", { action }, { pollMs: 200 });
    t.equal(proposed.receipt?.outcome, "ok", `${action.kind} proposed`);
    const proposalId = fromHex(proposed.hash.slice(2), 32);
    const approvals = await Promise.all(
      rest.map((s) => s.sendAndWait("approveGovernance", { proposalId }, { pollMs: 200 })),
    );
    for (const a of approvals) t.equal(a.receipt?.outcome, "ok", `${action.kind} approved`);
    const enacted = approvals.filter((a) =>
      a.receipt?.events.some((e) => (e as { kind: string }).kind === "proposalPassed"),
    );
    t.equal(enacted.length, 1, `one approval enacted ${action.kind}`);
    return BigInt(enacted[0]!.height!);
  };
  const setAt = async (height: bigint): Promise<string[]> =>
    (await client.rpc.chain_getValidators({ height: height.toString() })).validators.map((v) =>
      v.address.toLowerCase(),
    );
  const waitHeight = (h: bigint, names: readonly string[]) =>
    net.waitForHeight(names, Number(h), 30_000);

  // A fifth utility, then its validator: the s0 process, following the chain until now.
  const policy = parsePolicyJson(policyDefaults());
  await pass(
    {
      kind: "addUtility",
      value: {
        id: "u4",
        name: "Utility u4",
        operator: addressOf(publicKeyOf(newOperatorKey)),
        policy,
      },
    },
    [op0, op1, op2],
  );
  const joiner = net.node(s0).validatorPublicKey;
  const joinerAddress = toChecksumAddress(addressOf(joiner)).toLowerCase();
  const added = await pass(
    {
      kind: "addValidator",
      value: {
        validator: {
          address: addressOf(joiner),
          publicKey: joiner,
          operator: addressOf(publicKeyOf(newOperatorKey)),
          utility: "u4",
        },
      },
    },
    [op0, op1, op2],
  );
  await waitHeight(added + 4n, [v0, s0]);
  t.notOk((await setAt(added + 1n)).includes(joinerAddress), "not in the set at H+1");
  t.ok((await setAt(added + 2n)).includes(joinerAddress), "in the set from H+2");
  const signedBy = async (h: bigint) =>
    ((await client.rpc.chain_getBlock({ height: h.toString() }))?.commit?.signatures ?? []).map(
      (s) => s.validator.toLowerCase(),
    );
  let joinerSigned = 0;
  for (let h = added + 2n; h <= added + 4n; h++)
    if ((await signedBy(h)).includes(joinerAddress)) joinerSigned++;
  t.ok(
    joinerSigned > 0,
    `the new validator's precommits are in commits after H+2 (${joinerSigned} of 3)`,
  );
  t.equal(
    (await net.status(s0))?.validatorAddress?.toLowerCase(),
    joinerAddress,
    "s0 runs with the key that joined",
  );

  // Remove v3: 4 of the 5 utilities now make more than 2/3.
  const removed3 = net.node(v3).validatorPublicKey;
  const removedAddress = toChecksumAddress(addressOf(removed3)).toLowerCase();
  const removed = await pass({ kind: "removeValidator", value: { address: addressOf(removed3) } }, [
    op0,
    op1,
    op2,
    opNew,
  ]);
  await waitHeight(removed + 3n, [v0, s0]);
  t.ok((await setAt(removed + 1n)).includes(removedAddress), "still in the set at H+1");
  t.notOk((await setAt(removed + 2n)).includes(removedAddress), "out of the set from H+2");
  for (let h = removed + 2n; h <= removed + 3n; h++) {
    t.notOk((await signedBy(h)).includes(removedAddress), `no precommit of v3 in commit ${h}`);
  }

  // v3 still runs, but with v1 and v2 gone only v0 and s0 count: 2 of 4 is no quorum.
  t.ok(net.isRunning(v3), "v3 still runs");
  await net.kill(v1);
  await net.kill(v2);
  await sleep(1500);
  const stalled = (await net.heights([v0, s0]))!;
  await sleep(5000);
  t.same(await net.heights([v0, s0]), stalled, "v0, s0 and the removed v3 cannot commit");
});
