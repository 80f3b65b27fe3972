import t from "tap";
import { encodeTx, MAX_TX_BYTES, signTx } from "../../lib/tx.js";
import { checkTxStateful, checkTxStateless } from "../../vm/check.js";
import { encodePayload, txTypeNumber } from "../../vm/tx/types.js";
import {
  actor,
  genesisJson,
  hash32,
  operatorOf,
  rulesWithoutTrading,
  TestChain,
} from "./helpers.js";

const op0 = operatorOf(0);
const stranger = actor(3);

function signed(chainId: string, type: number, payload: Uint8Array, nonce = 0n) {
  return encodeTx(signTx({ chainId, nonce, type, payload, signer: op0.publicKey }, op0.secretKey));
}

const oraclePayload = encodePayload("registerOracle", { oracle: actor(30).address });

t.test("a good transaction decodes to its typed form", async (t) => {
  const chain = new TestChain();
  const { encoded, id } = chain.tx(op0, "registerOracle", { oracle: actor(30).address });
  const r = checkTxStateless(encoded, chain.chainId);
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.tx.id, id);
  t.same(r.tx.signer, op0.address);
  t.equal(r.tx.type, "registerOracle");
  t.same(r.tx.payload, { oracle: actor(30).address });
  t.equal(r.tx.nonce, 0n);
});

t.test("stateless refusals", async (t) => {
  const chainId = "wattcap-test";
  const good = signed(chainId, txTypeNumber("registerOracle"), oraclePayload);
  const tampered = good.slice();
  tampered[tampered.length - 1]! ^= 1;
  const cases: Array<[string, Uint8Array, string]> = [
    [
      "replayed on another chain",
      signed("wattcap-other", txTypeNumber("registerOracle"), oraclePayload),
      "WRONG_CHAIN_ID",
    ],
    ["bad signature", tampered, "BAD_SIGNATURE"],
    ["not a transaction", new Uint8Array([1, 2, 3]), "TX_MALFORMED"],
    ["too large", new Uint8Array(MAX_TX_BYTES + 1), "TX_TOO_LARGE"],
    ["unknown type", signed(chainId, 999, oraclePayload), "UNKNOWN_TX_TYPE"],
    [
      "type without a handler in these rules",
      signed(
        chainId,
        txTypeNumber("cancelOrder"),
        encodePayload("cancelOrder", { orderId: hash32(1) }),
      ),
      "UNKNOWN_TX_TYPE",
    ],
    [
      "malformed payload",
      signed(chainId, txTypeNumber("registerOracle"), new Uint8Array([0x91])),
      "PAYLOAD_MALFORMED",
    ],
  ];
  for (const [name, bytes, code] of cases) {
    const r = checkTxStateless(bytes, chainId, { registry: rulesWithoutTrading });
    t.equal(r.ok ? "ok" : r.code, code, name);
  }
});

t.test("stateful pre-check: nonce not yet used, signer holds the role", async (t) => {
  const chain = new TestChain(genesisJson([1]));
  await chain.valid([chain.tx(op0, "registerOracle", { oracle: actor(30).address })]);
  const check = (signer: typeof op0, nonce: bigint) => {
    const { encoded } = chain.tx(
      signer,
      "registerOracle",
      { oracle: actor(31).address },
      { nonce },
    );
    const decoded = checkTxStateless(encoded, chain.chainId);
    if (!decoded.ok) throw new Error(decoded.code);
    const r = checkTxStateful(chain.state, decoded.tx, chain.blockContext());
    return r.ok ? "ok" : r.code;
  };
  t.equal(check(op0, 0n), "NONCE_TOO_LOW");
  t.equal(check(op0, 1n), "ok");
  t.equal(check(op0, 5n), "ok", "a later nonce waits in the mempool");
  t.equal(check(stranger, 0n), "NOT_AUTHORISED");

  const proposal = chain.tx(stranger, "proposeGovernance", {
    action: { kind: "removeUtility", value: { id: "u0" } },
  });
  const decoded = checkTxStateless(proposal.encoded, chain.chainId);
  t.ok(decoded.ok);
  if (decoded.ok) {
    const r = checkTxStateful(chain.state, decoded.tx, chain.blockContext());
    t.equal(r.ok ? "ok" : r.code, "NOT_AUTHORISED");
  }
});
