// Signed-in sessions for household data (DESIGN §7), for callers such as the browser explorer
// that should not keep a household's private key around: the key signs once, and the node hands
// back a session token that stands for the signer on later requests until it expires or is
// signed out. The same key signs money-moving transactions, so holding only a read-only,
// expiring, revocable token (instead of the key) limits what a leaked browser storage gives away.
//
// Sign-in is challenge–response: `auth_challenge` returns a fresh random nonce this node will
// accept once, within CHALLENGE_TTL_MS, and the session's expiry; the caller signs
// sessionMessage(chainId, nonce, expires) and sends it to `auth_signIn`. The node checks the
// nonce is outstanding and consumes it (so a captured sign-in can never be replayed, here or on
// another node, which never issued that nonce), that the chain id is its own and the signature
// is valid, and that the key may read some household data (a household, an operator or an
// auditor); then it returns a random 32-byte token. Tokens live in this node's memory only: a
// restart signs everyone out, and a session is good on the node that issued it.
import { toHex, utf8 } from "../lib/bytes.js";

/** How long a challenge may wait for its signature. */
export const CHALLENGE_TTL_MS = 60_000n;
/** A session's lifetime unless the access policy says otherwise. */
export const DEFAULT_SESSION_TTL_MS = 3_600_000n;
/** Sessions (and, separately, outstanding challenges) a node keeps at most. */
export const DEFAULT_MAX_SESSIONS = 10_000;

/** What a caller signs to sign in (lib/signature.ts sign: ECDSA over sha256 of these bytes). */
export function sessionMessage(chainId: string, nonce: Uint8Array, expires: bigint): Uint8Array {
  return utf8(`wattcap/rpc-session/v1\n${chainId}\n0x${toHex(nonce)}\n${expires}`);
}

export interface Challenge {
  readonly nonce: Uint8Array;
  /** The session's expiry (unix ms), part of the signed message. */
  readonly expires: bigint;
}

export interface Session {
  /** The signer's address: whose rights the token carries. */
  readonly signer: Uint8Array;
  readonly expires: bigint;
}

export interface SessionStoreOptions {
  /** Unix ms. */
  readonly now: () => bigint;
  readonly random: (length: number) => Uint8Array;
  readonly ttlMs?: bigint;
  readonly max?: number;
}

/** Bounded maps whose entries carry an expiry; expired ones go first, then the oldest. */
class Expiring<V extends { readonly expires: bigint }> {
  readonly #entries = new Map<string, V>();
  constructor(readonly max: number) {}

  get(key: string, now: bigint): V | undefined {
    const value = this.#entries.get(key);
    if (value && value.expires <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return value;
  }

  set(key: string, value: V, now: bigint): void {
    if (this.#entries.size >= this.max) {
      for (const [k, v] of this.#entries) if (v.expires <= now) this.#entries.delete(k);
    }
    // Still full: forget the oldest (Map keeps insertion order).
    while (this.#entries.size >= this.max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value);
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}

export class SessionStore {
  readonly #now: () => bigint;
  readonly #random: (length: number) => Uint8Array;
  readonly #ttl: bigint;
  readonly #challenges: Expiring<{ readonly expires: bigint; readonly sessionExpires: bigint }>;
  readonly #sessions: Expiring<Session>;

  constructor(options: SessionStoreOptions) {
    this.#now = options.now;
    this.#random = options.random;
    this.#ttl = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    const max = options.max ?? DEFAULT_MAX_SESSIONS;
    this.#challenges = new Expiring(max);
    this.#sessions = new Expiring(max);
  }

  challenge(): Challenge {
    const now = this.#now();
    const nonce = this.#random(32);
    const expires = now + this.#ttl;
    this.#challenges.set(
      toHex(nonce),
      { expires: now + CHALLENGE_TTL_MS, sessionExpires: expires },
      now,
    );
    return { nonce, expires };
  }

  /**
   * Consumes an outstanding challenge whose session expiry is `expires`; false if there is none
   * (never issued, already used, or too old). The caller checks the signature first, so a
   * wrong signature does not burn a nonce its rightful signer is still about to use.
   */
  takeChallenge(nonce: Uint8Array, expires: bigint): boolean {
    const key = toHex(nonce);
    const challenge = this.#challenges.get(key, this.#now());
    if (!challenge || challenge.sessionExpires !== expires) return false;
    return this.#challenges.delete(key);
  }

  /** Starts a session for `signer` until `expires`; returns its token. */
  open(signer: Uint8Array, expires: bigint): Uint8Array {
    const token = this.#random(32);
    this.#sessions.set(toHex(token), { signer, expires }, this.#now());
    return token;
  }

  /** The live session of a token, if any. */
  get(token: Uint8Array): Session | undefined {
    return this.#sessions.get(toHex(token), this.#now());
  }

  close(token: Uint8Array): boolean {
    return this.#sessions.delete(toHex(token));
  }

  get size(): number {
    return this.#sessions.size;
  }
}
