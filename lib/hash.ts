// Hashing. sha256 runs through OpenSSL when Node is present and through @noble/hashes in the
// browser; both give the same bytes (test/lib/hash.test.ts checks it). keccak-256 is only used
// to derive addresses, the way Ethereum does, so wallets and explorers show familiar ones.
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { asPlain, concatBytes, utf8 } from "./bytes.js";

type NodeCrypto = {
  hash?: (algorithm: string, data: Uint8Array, encoding: "buffer") => Uint8Array;
  createHash: (algorithm: string) => {
    update(data: Uint8Array): { digest(): Uint8Array };
  };
};

// process.getBuiltinModule (Node >= 20.16) reaches node:crypto synchronously without a static
// import, so bundlers for the browser never see it.
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;

function openSslSha256(crypto: NodeCrypto): (data: Uint8Array) => Uint8Array {
  const oneShot = crypto.hash;
  if (oneShot) return (data) => asPlain(oneShot("sha256", data, "buffer"));
  return (data) => asPlain(crypto.createHash("sha256").update(data).digest());
}

export const sha256: (data: Uint8Array) => Uint8Array = nodeCrypto
  ? openSslSha256(nodeCrypto)
  : (data) => nobleSha256(data);

/** The pure-JS sha256, exported so tests can prove both paths agree. */
export const sha256Js = (data: Uint8Array): Uint8Array => nobleSha256(data);

export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data);
}

/**
 * The domains in which the chain hashes or signs. Every hash of a structure and every signed
 * message starts with its domain's prefix, so bytes valid in one role never pass in another.
 */
export type Domain =
  | "tx"
  | "block-header"
  | "vote"
  | "proposal"
  | "evidence"
  | "evidence-list"
  | "commit"
  | "validator-set"
  | "tx-root"
  | "receipt"
  | "receipts-root"
  | "meter-reading"
  | "smt-leaf"
  | "smt-node"
  | "smt-key";

const prefixes = new Map<Domain, Uint8Array>();

/** `wattcap/<domain>` followed by a zero byte: no domain name is a prefix of another's bytes. */
export function domainPrefix(domain: Domain): Uint8Array {
  let p = prefixes.get(domain);
  if (!p) {
    p = concatBytes(utf8(`wattcap/${domain}`), new Uint8Array([0]));
    prefixes.set(domain, p);
  }
  return p;
}

export function domainHash(domain: Domain, ...parts: Uint8Array[]): Uint8Array {
  return sha256(concatBytes(domainPrefix(domain), ...parts));
}
