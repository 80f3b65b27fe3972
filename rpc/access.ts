// Optional access control for household-level data (DESIGN §7): on a public node, the methods
// marked `personal` in rpc/methods.ts, and state_getProof for a key of household data, answer
// only requests whose `auth` param is signed by the household itself (its address or its
// current key), its utility's operator, or a registered auditor key. The signature covers the chain id, the method, the subject (the address, meter
// or utility asked about) and a time within maxSkewMs of the node's clock, so a signature for
// one household's data is no key to another's. Reads only: a replay within the window shows
// the replayer what the signer was allowed to see anyway.
import { addressOf } from "../lib/address.js";
import { equalBytes, toHex, utf8 } from "../lib/bytes.js";
import { verify } from "../lib/signature.js";
import { PREFIX } from "../vm/keys.js";
import { tables } from "../vm/tables.js";
import type { RpcBackend } from "./backend.js";
import { RpcError, UNAUTHORISED } from "./errors.js";
import { headView } from "./handlers/context.js";
import { JsonFormError, parseAddressJson, parseBytes, parseU64 } from "./json.js";

export interface AccessPolicy {
  /** Addresses of auditor keys that may read every household's data. */
  readonly auditors: readonly Uint8Array[];
  /** How far the signed time may be from the node's clock; default 60 s. */
  readonly maxSkewMs?: number;
  /** The node's clock in unix ms; Date.now by default. */
  readonly now?: () => number;
}

export interface AuthParam {
  /** The signer's compressed secp256k1 public key, 0x-hex. */
  publicKey: string;
  /** Unix ms, decimal. */
  time: string;
  /** 64-byte signature (lib/signature.ts sign) over authMessage, 0x-hex. */
  signature: string;
}

export type Subject =
  | { readonly kind: "address"; readonly address: Uint8Array }
  | { readonly kind: "meter"; readonly meterIdHash: Uint8Array }
  | { readonly kind: "utility"; readonly utility: string };

/** The subject string in the signed message: lower-case 0x-hex, or the utility id. */
export function subjectText(subject: Subject): string {
  switch (subject.kind) {
    case "address":
      return `0x${toHex(subject.address)}`;
    case "meter":
      return `0x${toHex(subject.meterIdHash)}`;
    case "utility":
      return subject.utility;
  }
}

/** What a client signs (lib/signature.ts sign: ECDSA over sha256 of these bytes). */
export function authMessage(
  chainId: string,
  method: string,
  subject: string,
  time: bigint,
): Uint8Array {
  return utf8(`wattcap/rpc-auth/v1\n${chainId}\n${method}\n${subject}\n${time}`);
}

/** The subject of a personal method's params (already schema-checked). */
export function subjectOf(params: Record<string, unknown>): Subject | undefined {
  if (typeof params.address === "string") {
    return { kind: "address", address: parseAddressJson(params.address) };
  }
  if (typeof params.meterIdHash === "string") {
    return { kind: "meter", meterIdHash: parseBytes(params.meterIdHash, 32) };
  }
  if (typeof params.utility === "string") return { kind: "utility", utility: params.utility };
  return undefined;
}

/**
 * World-state records that are a household's data (vm/keys.ts), by what follows the prefix byte:
 * its address, or its meter's id hash. The rest (utilities, oracles, the order book, periods,
 * parameters) is public, as the public methods show it anyway.
 */
const HOUSEHOLD_KEYS: ReadonlyMap<number, Subject["kind"]> = new Map([
  [PREFIX.account, "address"],
  [PREFIX.household, "address"],
  [PREFIX.explicitCap, "address"],
  [PREFIX.boundary, "address"],
  [PREFIX.householdPeriod, "address"],
  [PREFIX.credits, "address"],
  [PREFIX.standingOrder, "address"],
  [PREFIX.tradingAccount, "address"],
  [PREFIX.householdOrder, "address"],
  [PREFIX.statement, "address"],
  [PREFIX.meter, "meter"],
  [PREFIX.meterReading, "meter"],
]);

/**
 * Whose data a state key holds: a subject for household records, "public" for the rest, and
 * "malformed" for a key under a household prefix too short to name anyone (refused, so a
 * proof of household data never escapes the check).
 */
export function proofSubject(key: Uint8Array): Subject | "public" | "malformed" {
  const kind = key[0] === undefined ? undefined : HOUSEHOLD_KEYS.get(key[0]);
  if (kind === undefined) return "public";
  if (kind === "address") {
    return key.length < 21 ? "malformed" : { kind, address: key.slice(1, 21) };
  }
  return key.length < 33 ? "malformed" : { kind: "meter", meterIdHash: key.slice(1, 33) };
}

function refuse(reason: string): never {
  throw new RpcError(UNAUTHORISED, `household data needs a signed request: ${reason}`, { reason });
}

/** Throws -32003 unless the request's auth lets its signer read the subject's data. */
export function checkAccess(
  backend: RpcBackend,
  policy: AccessPolicy,
  method: string,
  params: Record<string, unknown>,
): void {
  authorise(backend, policy, method, params.auth as AuthParam | undefined, () => subjectOf(params));
}

/** state_getProof: throws -32003 unless the key is public or the auth may read its subject. */
export function checkProofAccess(
  backend: RpcBackend,
  policy: AccessPolicy,
  params: { key: string; auth?: AuthParam },
): void {
  let key: Uint8Array;
  try {
    key = parseBytes(params.key);
  } catch (e) {
    // The handler refuses the same key with invalid params, having proved nothing.
    if (e instanceof JsonFormError) return;
    throw e;
  }
  const subject = proofSubject(key);
  if (subject === "public") return;
  authorise(backend, policy, "state_getProof", params.auth, () =>
    subject === "malformed" ? refuse("the key names no household") : subject,
  );
}

function authorise(
  backend: RpcBackend,
  policy: AccessPolicy,
  method: string,
  auth: AuthParam | undefined,
  subjectFrom: () => Subject | undefined,
): void {
  if (!auth) refuse("no auth param");
  let subject: Subject | undefined;
  let publicKey: Uint8Array;
  let signature: Uint8Array;
  let time: bigint;
  try {
    subject = subjectFrom();
    publicKey = parseBytes(auth.publicKey, 33);
    signature = parseBytes(auth.signature, 64);
    time = parseU64(auth.time);
  } catch (e) {
    if (e instanceof JsonFormError) refuse(e.message);
    throw e;
  }
  if (!subject) refuse("no subject");
  const now = BigInt(Math.floor((policy.now ?? Date.now)()));
  const skew = BigInt(policy.maxSkewMs ?? 60_000);
  if (time > now + skew || time < now - skew) refuse("the signed time is too far from now");
  const message = authMessage(backend.chainId, method, subjectText(subject), time);
  if (!verify(publicKey, message, signature)) refuse("bad signature");
  const signer = addressOf(publicKey);
  if (policy.auditors.some((a) => equalBytes(a, signer))) return;
  if (!allowed(backend, subject, signer)) refuse("the signer may not read this data");
}

function allowed(backend: RpcBackend, subject: Subject, signer: Uint8Array): boolean {
  const view = headView(backend);
  const operatorOf = (utility: string): Uint8Array | undefined =>
    view.get(tables.utility, utility)?.operator;
  if (subject.kind === "utility") {
    const operator = operatorOf(subject.utility);
    return operator !== undefined && equalBytes(operator, signer);
  }
  const address =
    subject.kind === "address" ? subject.address : view.get(tables.meter, subject.meterIdHash);
  if (!address) return false;
  if (equalBytes(address, signer)) return true;
  const household = view.get(tables.household, address);
  if (!household) return false;
  if (equalBytes(household.key, signer)) return true;
  const operator = operatorOf(household.utility);
  return operator !== undefined && equalBytes(operator, signer);
}
