// Sign-in's pure parts, without a browser: the pasted-key parser, the session kept in
// sessionStorage (only a well-formed one for this RPC is believed; an expired one lapses), the
// household methods getting the session's auth, and a wallet keystore opened the browser's way
// (noble scrypt and WebCrypto AES-GCM) exactly as the wallet's node:crypto opens it.
import t from "tap";
import { authorisedApi, parseSecretKey, Session } from "../../explorer/src/session.js";
import { toHex } from "../../lib/bytes.js";
import { RpcClientError } from "../../rpc/client/transport.js";
import {
  encryptKey,
  KeystoreError,
  LIGHT_SCRYPT,
  parseKeystore,
} from "../../rpc/wallet/keystore.js";
import { decryptKeystore } from "../../rpc/wallet/keystore-browser.js";
import { actor } from "../vm/helpers.js";

const RPC = "http://127.0.0.1:8545/";

class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

const stored = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    rpc: RPC,
    session: `0x${"ab".repeat(32)}`,
    address: `0x${"12".repeat(20)}`,
    expires: String(Date.now() + 60_000),
    auditor: false,
    utility: null,
    household: `0x${"12".repeat(20)}`,
    ...over,
  });

function sessionFrom(text: string): Session {
  const storage = new MemoryStorage();
  storage.setItem("wattcap.session", text);
  return new Session(RPC, storage);
}

t.test("a pasted private key", async (t) => {
  const key = actor(5).secretKey;
  for (const text of [toHex(key), `0x${toHex(key)}`, `  0X${toHex(key).toUpperCase()}\n`]) {
    t.same(parseSecretKey(text), key, JSON.stringify(text));
  }
  for (const text of [
    "",
    toHex(key).slice(1),
    `${toHex(key)}00`,
    `${toHex(key).slice(2)}zz`,
    "00".repeat(32),
    "ff".repeat(32),
  ]) {
    t.throws(() => parseSecretKey(text), { name: "SignInError" }, JSON.stringify(text));
  }
});

t.test("only a well-formed stored session for this RPC is believed", async (t) => {
  t.equal(sessionFrom(stored()).auth()?.session, `0x${"ab".repeat(32)}`);
  for (const [why, text] of [
    ["another RPC's", stored({ rpc: "http://elsewhere:8545/" })],
    ["a short token", stored({ session: "0xab" })],
    ["markup for an address", stored({ address: "<img src=x onerror=alert(1)>" })],
    ["a non-decimal expiry", stored({ expires: "1e99" })],
    ["a string auditor flag", stored({ auditor: "yes" })],
    ["not JSON", "{"],
    ["null", "null"],
  ] as const) {
    t.equal(sessionFrom(text).current, undefined, why);
  }
  const expired = sessionFrom(stored({ expires: String(Date.now() - 1) }));
  let changes = 0;
  expired.onChange(() => changes++);
  t.equal(expired.auth(), undefined, "an expired session lapses");
  t.equal(changes, 1, "and says so");
});

t.test("household methods carry the session's auth; a lapsed token signs out", async (t) => {
  const session = sessionFrom(stored());
  const calls: { method: string; params: Record<string, unknown> }[] = [];
  let refuse = false;
  const client = {
    call: async (method: string, params: Record<string, unknown>) => {
      calls.push({ method, params });
      if (refuse) {
        throw new RpcClientError(-32003, "refused", { reason: "unknown or expired session" });
      }
      return {};
    },
  };
  const api = authorisedApi(client as never, session);
  await api.call("account_get", { address: `0x${"34".repeat(20)}` });
  await api.call("chain_status", {});
  t.same(calls[0]?.params.auth, { session: `0x${"ab".repeat(32)}` }, "a household method");
  t.equal(calls[1]?.params.auth, undefined, "a public method");
  refuse = true;
  await t.rejects(api.call("account_get", { address: `0x${"34".repeat(20)}` }));
  t.equal(session.current, undefined, "the node's 'unknown session' signs the reader out");
});

t.test("a wallet keystore opens in the browser's way as in the wallet's", async (t) => {
  const key = actor(6).secretKey;
  const file = await encryptKey(key, "pässwörd", LIGHT_SCRYPT);
  const parsed = parseKeystore(JSON.stringify(file), "k.json");
  t.same(await decryptKeystore(parsed, "pässwörd"), key, "the right passphrase");
  // NFKC: the composed and decomposed forms of ä and ö are one passphrase.
  t.same(await decryptKeystore(parsed, "pa\u0308sswo\u0308rd"), key, "normalised");
  await t.rejects(decryptKeystore(parsed, "password"), { code: "WRONG_PASSWORD" });
  const moved = { ...parsed, address: actor(7).hex };
  await t.rejects(
    decryptKeystore(moved, "pässwörd"),
    { code: "WRONG_PASSWORD" },
    "the address is authenticated data: a file renamed to another address fails",
  );
  t.ok(new KeystoreError("CORRUPTED", "x") instanceof Error);
});
