// Transaction builders and the Signer: what they build passes the chain's own stateless checks
// (lib/tx.ts and vm/check.ts), bad payloads are refused before signing, and nonces are tracked
// locally and re-read when the node says they went wrong.
import t from "tap";
import { addressOf } from "../../lib/address.js";
import { publicKeyOf } from "../../lib/keys.js";
import { checkTxStateless as checkEnvelope, decodeTx } from "../../lib/tx.js";
import { WattcapClient } from "../../rpc/client/client.js";
import { RpcClientError } from "../../rpc/client/transport.js";
import {
  buildSignedTx,
  Signer,
  TxBuildError,
  waitForFinality,
} from "../../rpc/client/tx-builder.js";
import { checkTxStateless } from "../../vm/check.js";
import { type PayloadOf, type TxTypeName, txTypeNumber } from "../../vm/tx/types.js";

const CHAIN = "wattcap-test";
const secret = new Uint8Array(32).fill(7);
const addr = (n: number) => new Uint8Array(20).fill(n);
const hash = (n: number) => new Uint8Array(32).fill(n);

// One payload of each type a household's wallet sends, and of a few utility and governance types.
const samples: { [N in TxTypeName]?: PayloadOf<N> } = {
  placeOrder: { side: "buy", qty: 100n, price: 150n, expiry: 1_700_000_100_000n },
  cancelOrder: { orderId: hash(1) },
  replaceOrder: { orderId: hash(1), qty: 50n, price: 160n, expiry: 1_700_000_100_000n },
  setStandingOrder: { household: addr(1), side: "sell", price: 120n },
  clearStandingOrder: { household: addr(1), side: "sell" },
  transferCredits: { to: addr(2), vintage: 3n, qty: 10n },
  delegateAppKey: { appKey: addr(3) },
  recordPayment: { household: addr(1), amount: 5_000n, reference: "inv-1" },
  registerOracle: { oracle: addr(4) },
  approveGovernance: { proposalId: hash(2) },
  closeHousehold: { household: addr(1), reference: "move-out" },
};

t.test("built transactions pass lib/tx.ts's and vm/check.ts's stateless checks", async (t) => {
  for (const [type, payload] of Object.entries(samples) as [TxTypeName, never][]) {
    const built = buildSignedTx(secret, CHAIN, 9n, type, payload);
    const envelope = checkEnvelope(built.bytes, CHAIN);
    t.ok(envelope.ok, `${type}: envelope`);
    const vm = checkTxStateless(built.bytes, CHAIN);
    t.ok(vm.ok, `${type}: ${vm.ok ? "ok" : vm.code}`);
    if (vm.ok) {
      t.equal(vm.tx.type, type);
      t.equal(vm.tx.nonce, 9n);
      t.same(vm.tx.signer, addressOf(publicKeyOf(secret)));
    }
    const decoded = decodeTx(built.bytes);
    t.equal(decoded.body.type, txTypeNumber(type));
    t.equal(checkEnvelope(built.bytes, "another-chain").ok, false, `${type}: bound to its chain`);
  }
});

t.test("bad payloads and keys are refused before signing", async (t) => {
  const code = (f: () => unknown) => {
    try {
      f();
      return "built";
    } catch (e) {
      return e instanceof TxBuildError ? e.code : String(e);
    }
  };
  t.equal(
    code(() =>
      buildSignedTx(secret, CHAIN, 0n, "placeOrder", {
        side: "buy",
        qty: 0n,
        price: 1n,
        expiry: 1n,
      }),
    ),
    "BAD_PAYLOAD",
  );
  t.equal(
    code(() =>
      buildSignedTx(secret, CHAIN, 0n, "transferCredits", {
        to: new Uint8Array(19),
        vintage: 0n,
        qty: 1n,
      }),
    ),
    "BAD_PAYLOAD",
  );
  t.equal(
    code(() =>
      buildSignedTx(secret, CHAIN, 0n, "placeOrder", {
        side: "hold" as "buy",
        qty: 1n,
        price: 1n,
        expiry: 1n,
      }),
    ),
    "BAD_PAYLOAD",
  );
  t.equal(
    code(() =>
      buildSignedTx(secret, CHAIN, 0n, "placeOrder", {
        side: "buy",
        qty: -1n,
        price: 1n,
        expiry: 1n,
      }),
    ),
    "BAD_PAYLOAD",
  );
  t.equal(
    code(() => buildSignedTx(new Uint8Array(32), CHAIN, 0n, "cancelOrder", { orderId: hash(1) })),
    "BAD_KEY",
  );
});

/** A scripted node: answers by method, records what was sent. */
function stubNode(answers: Record<string, (params: Record<string, unknown>) => unknown>) {
  const calls: { method: string; params: Record<string, unknown> }[] = [];
  const fetch = async (_url: string, init: { body: string }) => {
    const { id, method, params } = JSON.parse(init.body);
    calls.push({ method, params });
    let body: unknown;
    try {
      const handler = answers[method];
      if (!handler) throw new RpcClientError(-32601, "method not found");
      body = { jsonrpc: "2.0", id, result: handler(params) };
    } catch (e) {
      const err = e as RpcClientError;
      body = {
        jsonrpc: "2.0",
        id,
        error: { code: err.code, message: err.message, data: err.data },
      };
    }
    return { ok: true, status: 200, text: async () => JSON.stringify(body) };
  };
  return { client: new WattcapClient({ url: "http://stub/", fetch }), calls };
}

t.test(
  "the Signer counts nonces locally and re-reads them after a stale-nonce refusal",
  async (t) => {
    let accountNonce = 5n;
    let refuseNext = false;
    const sent: bigint[] = [];
    const { client, calls } = stubNode({
      chain_status: () => ({ chainId: CHAIN }),
      account_get: () => ({ nonce: accountNonce.toString() }),
      tx_send: (params) => {
        const check = checkTxStateless(Buffer.from((params.tx as string).slice(2), "hex"), CHAIN);
        if (!check.ok) throw new RpcClientError(-32000, "refused", { reject: check.code });
        if (refuseNext) {
          refuseNext = false;
          throw new RpcClientError(-32000, "stale", { reject: "NONCE_TOO_LOW" });
        }
        sent.push(check.tx.nonce);
        return { hash: `0x${"ab".repeat(32)}` };
      },
    });
    const signer = new Signer(client, secret);
    await signer.send("cancelOrder", { orderId: hash(1) });
    await signer.send("cancelOrder", { orderId: hash(2) });
    t.same(sent, [5n, 6n], "consecutive nonces without re-reading");
    t.equal(calls.filter((c) => c.method === "account_get").length, 1);
    t.equal(calls.filter((c) => c.method === "chain_status").length, 1);

    accountNonce = 9n; // another wallet used the key meanwhile
    refuseNext = true;
    const third = await signer.send("cancelOrder", { orderId: hash(3) });
    t.equal(third.nonce, 9n, "re-read after NONCE_TOO_LOW and retried");
    t.same(sent, [5n, 6n, 9n]);

    const { client: refusing } = stubNode({
      chain_status: () => ({ chainId: CHAIN }),
      account_get: () => ({ nonce: "0" }),
      tx_send: () => {
        throw new RpcClientError(-32000, "refused", { reject: "UNKNOWN_HOUSEHOLD" });
      },
    });
    const other = new Signer(refusing, secret);
    const refused = await other.send("cancelOrder", { orderId: hash(1) }).catch((e: unknown) => e);
    t.equal((refused as RpcClientError).reject, "UNKNOWN_HOUSEHOLD");
    t.equal(await other.nextNonce(), 0n, "a refused transaction does not use up its nonce");
  },
);

t.test("waitForFinality polls until the transaction is in a block", async (t) => {
  let polls = 0;
  const { client } = stubNode({
    tx_get: (params) => {
      polls++;
      return {
        hash: params.hash,
        status: polls < 3 ? "pending" : "finalized",
        height: polls < 3 ? null : "12",
        index: null,
        receipt: null,
      };
    },
  });
  const status = await waitForFinality(client, `0x${"cd".repeat(32)}`, { pollMs: 1 });
  t.equal(status.status, "finalized");
  t.equal(status.height, "12");
  t.equal(polls, 3);

  const { client: stuck } = stubNode({
    tx_get: (params) => ({
      hash: params.hash,
      status: "pending",
      height: null,
      index: null,
      receipt: null,
    }),
  });
  await t.rejects(waitForFinality(stuck, `0x${"cd".repeat(32)}`, { pollMs: 1, timeoutMs: 5 }), {
    code: "TIMEOUT",
  });
});

t.test("every RPC method is a typed call on client.rpc, errors are RpcClientError", async (t) => {
  const { client, calls } = stubNode({ chain_status: () => ({ chainId: CHAIN, height: "4" }) });
  t.equal((await client.rpc.chain_status()).height, "4");
  t.equal(typeof client.rpc.state_getProof, "function");
  t.equal(typeof client.rpc.export_settlement, "function");
  t.notOk("subscribe" in client.rpc, "subscriptions are not HTTP calls");
  await t.rejects(client.rpc.period_get({ utility: "u0" }), {
    name: "RpcClientError",
    code: -32601,
  });
  t.same(calls.at(-1), { method: "period_get", params: { utility: "u0" } });
  t.equal(client.wsUrl, "ws://stub/ws");
  const unreachable = new WattcapClient({ url: "http://127.0.0.1:1/" });
  await t.rejects(unreachable.rpc.chain_status(), { name: "TransportError", code: "UNREACHABLE" });
});
