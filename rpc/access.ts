// Optional access control for household-level data (DESIGN §7): on a public node, the methods
// marked `personal` in rpc/methods.ts, and state_getProof for a key of household data, answer
// only requests whose `auth` param is signed by the household itself (its address or its
// current key), its utility's operator, or a registered auditor key. The signature covers the chain id, the method, the subject (the address, meter
// or utility asked about) and a time within maxSkewMs of the node's clock, so a signature for
// one household's data is no key to another's. Reads only: a replay within the window shows
// the replayer what the signer was allowed to see anyway.
//
// Instead of signing every request, a caller may sign in once (rpc/sessions.ts) and pass
// `auth: {session}`: the session stands for its signer, checked by the same rules.
import { addressOf } from "../lib/address.js";
import { equalBytes, toHex, utf8 } from "../lib/bytes.js";
import { verify } from "../lib/signature.js";
import { PREFIX } from "../vm/keys.js";
import { tables } from "../vm/tables.js";
import type { RpcBackend } from "./backend.js";
import { RpcError, UNAUTHORISED } from "./errors.js";
import { headView } from "./handlers/context.js";
import { JsonFormError, parseAddressJson, parseBytes, parseU64 } from "./json.js";
import { type SessionStore, sessionMessage } from "./sessions.js";

export interface AccessPolicy {
  /** Addresses of auditor keys that may read every household's data. */
  readonly auditors: readonly Uint8Array[];
  /** How far the signed time may be from the node's clock; default 60 s. */
  readonly maxSkewMs?: number;
  /** The node's clock in unix ms; Date.now by default. */
  readonly now?: () => number;
  /** A signed-in session's lifetime (rpc/sessions.ts); default 1 h. */
  readonly sessionTtlMs?: number;
  /** Sessions kept at most; default 10 000. */
  readonly maxSessions?: number;
}

/** The node's clock as the policy sees it, in whole unix ms. */
export function policyNow(policy: AccessPolicy): bigint {
  return BigInt(Math.floor((policy.now ?? Date.now)()));
}

export type AuthParam = SignedAuth | SessionAuth;

export interface SessionAuth {
  /** A token from auth_signIn, 0x-hex. */
  session: string;
}

export interface SignedAuth {
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

/** Parses JSON forms, turning a malformed one into a -32003 refusal naming it. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof JsonFormError) refuse(e.message);
    throw e;
  }
}

/** Throws -32003 unless the request's auth lets its signer read the subject's data. */
export function checkAccess(
  backend: RpcBackend,
  policy: AccessPolicy,
  sessions: SessionStore,
  method: string,
  params: Record<string, unknown>,
): void {
  const auth = params.auth as AuthParam | undefined;
  authorise(backend, policy, sessions, method, auth, () => subjectOf(params));
}

/** state_getProof: throws -32003 unless the key is public or the auth may read its subject. */
export function checkProofAccess(
  backend: RpcBackend,
  policy: AccessPolicy,
  sessions: SessionStore,
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
  authorise(backend, policy, sessions, "state_getProof", params.auth, () =>
    subject === "malformed" ? refuse("the key names no household") : subject,
  );
}

function authorise(
  backend: RpcBackend,
  policy: AccessPolicy,
  sessions: SessionStore,
  method: string,
  auth: AuthParam | undefined,
  subjectFrom: () => Subject | undefined,
): void {
  if (!auth) refuse("no auth param");
  const subject = parsed(subjectFrom);
  if (!subject) refuse("no subject");
  const signer =
    "session" in auth
      ? sessionSigner(sessions, auth)
      : requestSigner(backend.chainId, policy, method, subject, auth);
  if (isAuditor(policy, signer)) return;
  if (!allowed(backend, subject, signer)) refuse("the signer may not read this data");
}

function sessionSigner(sessions: SessionStore, auth: SessionAuth): Uint8Array {
  const session = sessions.get(parsed(() => parseBytes(auth.session, 32)));
  if (!session) refuse("unknown or expired session");
  return session.signer;
}

function requestSigner(
  chainId: string,
  policy: AccessPolicy,
  method: string,
  subject: Subject,
  auth: SignedAuth,
): Uint8Array {
  const [publicKey, signature, time] = parsed(
    () =>
      [
        parseBytes(auth.publicKey, 33),
        parseBytes(auth.signature, 64),
        parseU64(auth.time),
      ] as const,
  );
  const now = policyNow(policy);
  const skew = BigInt(policy.maxSkewMs ?? 60_000);
  if (time > now + skew || time < now - skew) refuse("the signed time is too far from now");
  const message = authMessage(chainId, method, subjectText(subject), time);
  if (!verify(publicKey, message, signature)) refuse("bad signature");
  return addressOf(publicKey);
}

const isAuditor = (policy: AccessPolicy, signer: Uint8Array): boolean =>
  policy.auditors.some((a) => equalBytes(a, signer));

/** Whose household data a key may read, as auth_signIn reports it. */
export interface Rights {
  readonly auditor: boolean;
  /** The utility the key operates. */
  readonly utility: string | undefined;
  /** The household the key is (by address) or signs for (its current key). */
  readonly household: Uint8Array | undefined;
}

export function rightsOf(backend: RpcBackend, policy: AccessPolicy, signer: Uint8Array): Rights {
  const view = headView(backend);
  return {
    auditor: isAuditor(policy, signer),
    utility: view.get(tables.operator, signer),
    household: view.get(tables.household, signer) ? signer : view.get(tables.householdKey, signer),
  };
}

export interface SignInRequest {
  readonly publicKey: string;
  readonly nonce: string;
  readonly expires: string;
  readonly signature: string;
}

/**
 * auth_signIn's check: a valid signature over an outstanding challenge, by a key that may read
 * some household data. Throws -32003 naming what failed; on success the challenge is used up.
 */
export function signIn(
  backend: RpcBackend,
  policy: AccessPolicy,
  sessions: SessionStore,
  request: SignInRequest,
): { readonly signer: Uint8Array; readonly expires: bigint; readonly rights: Rights } {
  const [publicKey, nonce, expires, signature] = parsed(
    () =>
      [
        parseBytes(request.publicKey, 33),
        parseBytes(request.nonce, 32),
        parseU64(request.expires),
        parseBytes(request.signature, 64),
      ] as const,
  );
  if (!verify(publicKey, sessionMessage(backend.chainId, nonce, expires), signature)) {
    refuse("bad signature");
  }
  const signer = addressOf(publicKey);
  const rights = rightsOf(backend, policy, signer);
  if (!rights.auditor && rights.utility === undefined && rights.household === undefined) {
    refuse("the key is no household, operator or auditor key");
  }
  if (!sessions.takeChallenge(nonce, expires)) refuse("unknown, used or expired challenge");
  return { signer, expires, rights };
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
