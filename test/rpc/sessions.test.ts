// Sign-in sessions (rpc/sessions.ts): a key signs a node's one-time challenge once, and the
// session token then reads what that key may read, until it expires or is signed out.
import t from "tap";
import { fromHex, to0x } from "../../lib/bytes.js";
import { sign } from "../../lib/signature.js";
import { buildGenesis } from "../../node/genesis.js";
import { SessionStore, sessionMessage } from "../../rpc/sessions.js";
import { signedTx } from "../node/chain-fixtures.js";
import { type Actor, actor, genesisJson, hash32, operatorOf } from "../vm/helpers.js";
import { type RpcNode, startNode } from "./rpc-fixtures.js";

const op0 = operatorOf(0);
const op1 = operatorOf(1);
const household = actor(50);
const neighbour = actor(51);
const auditor = actor(70);
const stranger = actor(71);

interface Challenge {
  chainId: string;
  nonce: string;
  expires: string;
}

async function challenge(node: RpcNode): Promise<Challenge> {
  return (await node.call("auth_challenge")).result as Challenge;
}

function answer(signer: Actor, c: Challenge, chainId = c.chainId) {
  const nonce = fromHex(c.nonce);
  const signature = sign(signer.secretKey, sessionMessage(chainId, nonce, BigInt(c.expires)));
  return {
    publicKey: to0x(signer.publicKey),
    nonce: c.nonce,
    expires: c.expires,
    signature: to0x(signature),
  };
}

async function signIn(node: RpcNode, signer: Actor): Promise<string> {
  const r = await node.call("auth_signIn", answer(signer, await challenge(node)));
  return (r.result as { session: string }).session;
}

t.test("sessions read what their signer may read, and nothing else", async (t) => {
  let now = Date.now();
  const node = await startNode(
    t,
    { access: { auditors: [auditor.address], now: () => now, sessionTtlMs: 600_000 } },
    buildGenesis(genesisJson([1, 1])),
  );
  for (const [h, operator, id] of [
    [household, op0, 50],
    [neighbour, op1, 51],
  ] as const) {
    await node.mempool.add(
      signedTx(operator, 0n, "registerHousehold", {
        household: h.address,
        meterIdHash: hash32(id),
        meterKey: undefined,
        registers: 1,
        baselines: Array.from({ length: 12 }, () => 1000n),
      }),
    );
  }
  await node.produce();
  const mine = household.hex;
  const theirs = neighbour.hex;
  const read = async (session: string, address: string) =>
    node.call("account_get", { address, auth: { session } });

  const c = await challenge(node);
  t.equal(c.chainId, "wattcap-test");
  t.equal(BigInt(c.expires), BigInt(now) + 600_000n, "the session's expiry is in the challenge");
  const signedIn = await node.call("auth_signIn", answer(household, c));
  t.match(signedIn.result, {
    address: mine,
    expires: c.expires,
    auditor: false,
    utility: null,
    household: mine,
  });
  const session = (signedIn.result as { session: string }).session;
  t.match(session, /^0x[0-9a-f]{64}$/);
  t.ok((await read(session, mine)).result, "a household reads its own account");
  const other = await read(session, theirs);
  t.equal(other.error?.code, -32003, "but not another household's");
  t.same(other.error?.data, { reason: "the signer may not read this data" });

  const replay = await node.call("auth_signIn", answer(household, c));
  t.same(
    replay.error?.data,
    { reason: "unknown, used or expired challenge" },
    "a used challenge cannot be replayed",
  );

  const op = await node.call("auth_signIn", answer(op0, await challenge(node)));
  t.match(op.result, { utility: "u0", household: null, auditor: false });
  const opSession = (op.result as { session: string }).session;
  t.ok((await read(opSession, mine)).result, "an operator reads its utility's households");
  t.equal((await read(opSession, theirs)).error?.code, -32003, "not another utility's");
  t.ok(
    (
      await node.call("export_settlement", {
        utility: "u0",
        period: "0",
        auth: { session: opSession },
      })
    ).result,
    "and its utility's settlement",
  );

  const audit = await node.call("auth_signIn", answer(auditor, await challenge(node)));
  t.match(audit.result, { auditor: true, utility: null, household: null });
  const auditSession = (audit.result as { session: string }).session;
  t.ok((await read(auditSession, mine)).result, "an auditor reads one utility's household");
  t.ok((await read(auditSession, theirs)).result, "and another's");

  for (const [why, params, reason] of [
    [
      "a key that may read nothing",
      answer(stranger, await challenge(node)),
      "the key is no household, operator or auditor key",
    ],
    [
      "a signature by another key than the one named",
      { ...answer(stranger, await challenge(node)), publicKey: to0x(household.publicKey) },
      "bad signature",
    ],
    [
      "a signature for another chain",
      answer(household, await challenge(node), "wattcap-other"),
      "bad signature",
    ],
    [
      "a later expiry than the challenge's",
      await (async () => {
        const fresh = await challenge(node);
        return answer(household, { ...fresh, expires: String(BigInt(fresh.expires) + 1n) });
      })(),
      "unknown, used or expired challenge",
    ],
    [
      "a nonce this node never issued",
      answer(household, { ...c, nonce: to0x(hash32(9)) }),
      "unknown, used or expired challenge",
    ],
  ] as const) {
    const r = await node.call("auth_signIn", params);
    t.equal(r.error?.code, -32003, why);
    t.same(r.error?.data, { reason }, why);
  }

  const late = await challenge(node);
  now += 61_000;
  t.same(
    (await node.call("auth_signIn", answer(household, late))).error?.data,
    { reason: "unknown, used or expired challenge" },
    "a challenge answered after a minute",
  );

  t.same(
    (await read(to0x(hash32(8)), mine)).error?.data,
    { reason: "unknown or expired session" },
    "a made-up token",
  );
  t.ok((await read(session, mine)).result, "the session still holds before its expiry");
  now += 600_000;
  t.same(
    (await read(session, mine)).error?.data,
    { reason: "unknown or expired session" },
    "an expired session",
  );

  const fresh = await signIn(node, household);
  t.same((await node.call("auth_signOut", { session: fresh })).result, { removed: true });
  t.equal((await read(fresh, mine)).error?.code, -32003, "a signed-out session");
  t.same((await node.call("auth_signOut", { session: fresh })).result, { removed: false });

  const ws = await node.ws();
  const live = await signIn(node, household);
  t.ok(
    (await ws.call("subscribe", { topic: "household", address: mine, auth: { session: live } }))
      .result,
    "a session subscribes to its household's events",
  );
  t.equal(
    (await ws.call("subscribe", { topic: "household", address: theirs, auth: { session: live } }))
      .error?.code,
    -32003,
  );
  t.equal(
    (await node.call("account_get", { address: mine, auth: { session: "0x12" } })).error?.code,
    -32602,
    "a malformed token is refused by the schema",
  );
});

t.test("the session store stays bounded: expired entries go first, then the oldest", async (t) => {
  let now = 1_000n;
  let counter = 0;
  const store = new SessionStore({
    now: () => now,
    random: (length) => new Uint8Array(length).fill(++counter),
    ttlMs: 100n,
    max: 2,
  });
  const signer = hash32(1).subarray(0, 20);
  const a = store.open(signer, now + 10n);
  const b = store.open(signer, now + 500n);
  now += 20n;
  const c = store.open(signer, now + 500n);
  t.equal(store.get(a), undefined, "the expired session made room");
  t.ok(store.get(b) && store.get(c), "the live ones stay");
  const d = store.open(signer, now + 500n);
  t.equal(store.size, 2);
  t.equal(store.get(b), undefined, "full of live sessions: the oldest goes");
  t.ok(store.get(c) && store.get(d));

  const challenge = store.challenge();
  t.equal(challenge.expires, now + 100n, "a session lasts ttlMs from its challenge");
  t.equal(store.takeChallenge(challenge.nonce, challenge.expires + 1n), false, "other expiry");
  t.equal(store.takeChallenge(challenge.nonce, challenge.expires), true, "its own");
  t.equal(store.takeChallenge(challenge.nonce, challenge.expires), false, "only once");
});
