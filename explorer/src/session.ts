// Access to restricted household data. Public nodes may answer household methods only to
// requests by the household, its utility or an auditor key (DESIGN §7); such a refusal is error
// -32003, which pages treat as "restricted", not as a failure.
//
// Signing in (pages/sign-in.ts) exchanges a key's signature over the node's one-time challenge
// for a session token (rpc/sessions.ts). The key is used for that one signature and dropped;
// only the token and what it may read are kept, in sessionStorage: they survive a reload but not
// the tab, and are readable by this origin's scripts only. A token reads data, it cannot sign
// transactions, and it ends at its expiry or on sign-out.

//
// No DOM here, so the tests run it in Node: pages/sign-in.ts draws the form and the panel.

import { fromHex } from "../../lib/bytes.js";
import { isValidSecretKey } from "../../lib/keys.js";
import type { WattcapClient } from "../../rpc/client/client.js";
import { type SignedIn, signIn } from "../../rpc/client/sign-in.js";
import { RpcClientError } from "../../rpc/client/transport.js";
import { UNAUTHORISED } from "../../rpc/errors.js";
import { methodsByName } from "../../rpc/methods.js";

export type Api = Pick<WattcapClient, "call">;

export class SignInError extends Error {
  override name = "SignInError";
}

/** A pasted secret: 32 bytes of hex, with or without 0x, surrounding blanks ignored. */
export function parseSecretKey(text: string): Uint8Array {
  const hex = text.trim().replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new SignInError("a private key is 64 hex digits (32 bytes), with or without 0x");
  }
  const key = fromHex(hex);
  if (!isValidSecretKey(key)) throw new SignInError("not a valid secp256k1 private key");
  return key;
}

export function isRestricted(error: unknown): boolean {
  return error instanceof RpcClientError && error.code === UNAUTHORISED;
}

/** The node's answer when a token is unknown to it (expired, signed out, node restarted). */
export function isLapsedSession(error: unknown): boolean {
  if (!isRestricted(error)) return false;
  const data = (error as RpcClientError).data as { reason?: unknown } | undefined;
  return data?.reason === "unknown or expired session";
}

const STORAGE_KEY = "wattcap.session";

/** What one signed-in key may read, in words. */
export function rightsText(s: SignedIn): string {
  if (s.auditor) return "auditor: every household";
  if (s.utility !== null) return `operator of ${s.utility}: its households`;
  return "household: its own data";
}

function parseStored(text: string | null, rpc: string): SignedIn | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Partial<SignedIn & { rpc: string }> | null;
    const hex = (x: unknown, n: number) =>
      typeof x === "string" && new RegExp(`^0x[0-9a-fA-F]{${n}}$`).test(x);
    if (
      v?.rpc !== rpc ||
      !hex(v.session, 64) ||
      !hex(v.address, 40) ||
      typeof v.expires !== "string" ||
      !/^[0-9]{1,20}$/.test(v.expires) ||
      typeof v.auditor !== "boolean" ||
      !(v.utility === null || typeof v.utility === "string") ||
      !(v.household === null || hex(v.household, 40))
    ) {
      return undefined;
    }
    const { session, address, expires, auditor, utility, household } = v as SignedIn;
    return { session, address, expires, auditor, utility, household };
  } catch {
    return undefined;
  }
}

/** What the session needs of window.sessionStorage. */
export interface SessionStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Best effort: a token the node cannot be told about still expires there. */
async function closeAtNode(api: Api, session: string): Promise<void> {
  await api.call("auth_signOut", { session }).catch(() => undefined);
}

/** The reader's sign-in with one node: a session token, or none. */
export class Session {
  #current: SignedIn | undefined;
  readonly #listeners = new Set<() => void>();

  constructor(
    readonly rpc: string,
    private readonly storage: SessionStorage | undefined,
  ) {
    this.#current = parseStored(storage?.getItem(STORAGE_KEY) ?? null, rpc);
  }

  /** The live sign-in, if any: one past its expiry by this browser's clock counts as none. */
  get current(): SignedIn | undefined {
    if (this.#current && BigInt(this.#current.expires) <= BigInt(Date.now())) this.lapse();
    return this.#current;
  }

  /** The `auth` param for household methods. */
  auth(): { session: string } | undefined {
    const current = this.current;
    return current ? { session: current.session } : undefined;
  }

  onChange(listener: () => void): void {
    this.#listeners.add(listener);
  }

  #set(value: SignedIn | undefined): void {
    this.#current = value;
    if (value) this.storage?.setItem(STORAGE_KEY, JSON.stringify({ ...value, rpc: this.rpc }));
    else this.storage?.removeItem(STORAGE_KEY);
    for (const l of this.#listeners) l();
  }

  /** Signs the node's challenge with the key; the caller wipes the key afterwards. */
  async signIn(api: Api, secretKey: Uint8Array): Promise<SignedIn> {
    const previous = this.#current;
    const signedIn = await signIn(api, secretKey);
    this.#set(signedIn);
    if (previous) await closeAtNode(api, previous.session);
    return signedIn;
  }

  /** Ends the session at the node too; forgotten here even if the node cannot be reached. */
  async signOut(api: Api): Promise<void> {
    const current = this.#current;
    this.#set(undefined);
    if (current) await closeAtNode(api, current.session);
  }

  /** The node no longer knows the token. */
  lapse(): void {
    if (this.#current) this.#set(undefined);
  }
}

/**
 * The client's calls with the signed-in session's `auth` added to household methods; a token
 * the node no longer knows signs the reader out (the call's refusal still reaches the page).
 */
export function authorisedApi(client: Api, session: Session): Api {
  const call = async (method: string, params: Record<string, unknown>) => {
    const auth = methodsByName.get(method)?.personal ? session.auth() : undefined;
    try {
      return await (client.call as (m: string, p: unknown) => Promise<unknown>)(
        method,
        auth ? { ...params, auth } : params,
      );
    } catch (e) {
      if (auth && isLapsedSession(e)) session.lapse();
      throw e;
    }
  };
  return { call } as unknown as Api;
}
