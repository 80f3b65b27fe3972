// The light client (DESIGN §7): it trusts one validator set it was given — pinned from genesis
// or from a checkpoint — and nothing the RPC node says until it is checked. A header is
// believed when more than two thirds of a trusted set signed its commit; a new set becomes
// trusted only by following nextValidatorsHash from a believed header to the next one, so a
// client that starts at genesis can reach any height without trusting the node it asks. A
// state value is believed when its SMT proof leads to a believed header's stateRoot.
// Browser-safe: lib/, state/smt/proof.ts and rpc/json.ts only.
import { type Header, headerHash } from "../../lib/block.js";
import { equalBytes, toHex } from "../../lib/bytes.js";
import { CodecError, decode, type Schema } from "../../lib/codec.js";
import { type Commit, verifyCommit } from "../../lib/commit.js";
import { type Validator, validatorSetHash } from "../../lib/validator.js";
import { type SmtProof, verifyProof } from "../../state/smt/proof.js";
import { JsonFormError, parseBytes } from "../json.js";
import type { ResultOf } from "../methods.js";
import { commitFromJson, headerFromJson, proofFromJson, validatorSetFromJson } from "./convert.js";

export type VerifyFailureCode =
  /** The header's validator set is not one the client trusts or could reach by following. */
  | "UNTRUSTED_VALIDATOR_SET"
  /** No commit, a commit for another block, or fewer than 2/3 valid signatures of the set. */
  | "BAD_COMMIT"
  /** The proof does not lead from the key and value to the header's stateRoot. */
  | "BAD_PROOF"
  /** The proven value is not of the expected record, or differs from what the node claimed. */
  | "VALUE_MISMATCH";

export interface VerifyFailure {
  readonly verified: false;
  readonly code: VerifyFailureCode;
  readonly message: string;
}

export interface VerifiedHeader {
  readonly verified: true;
  readonly header: Header;
  /** The set that signed it, and how many of its members did. */
  readonly validators: readonly Validator[];
  readonly signers: number;
}

export interface Verified<T> {
  readonly verified: true;
  /** The proven value; undefined when the proof shows the key is absent. */
  readonly value: T | undefined;
  readonly height: bigint;
  readonly header: Header;
  readonly signers: number;
  readonly setSize: number;
}

/** Where the client starts: a set it trusts at a height (0 for genesis). */
export interface TrustRoot {
  readonly chainId: string;
  readonly height: bigint;
  readonly validators: readonly Validator[];
  /**
   * The hash the header at `height` carries in nextValidatorsHash. Genesis: the genesis set's
   * hash (block 1 is signed by it). A checkpoint may leave it out; the client then reads the
   * checkpoint's own header, checked against the checkpoint set, before following.
   */
  readonly nextValidatorsHash?: Uint8Array;
}

/** A trust root from a genesis file's validators: block 1 is signed by exactly them. */
export function genesisTrust(chainId: string, validators: readonly Validator[]): TrustRoot {
  return { chainId, height: 0n, validators, nextValidatorsHash: validatorSetHash(validators) };
}

/** Signed headers and sets at given heights; believed only after the client checks them. */
export interface HeaderSource {
  signedHeader(height: bigint): Promise<{ header: Header; commit: Commit }>;
  validatorSet(height: bigint): Promise<Validator[]>;
}

interface Trusted {
  readonly height: bigint;
  readonly validators: readonly Validator[];
  readonly nextValidatorsHash: Uint8Array | undefined;
}

const fail = (code: VerifyFailureCode, message: string): VerifyFailure => ({
  verified: false,
  code,
  message,
});

export class LightClient {
  readonly chainId: string;
  /** Every set believed so far, by hash: a header signed by one of them needs no following. */
  readonly #sets = new Map<string, readonly Validator[]>();
  #latest: Trusted;

  constructor(
    root: TrustRoot,
    private readonly source?: HeaderSource,
  ) {
    this.chainId = root.chainId;
    this.#latest = {
      height: root.height,
      validators: root.validators,
      nextValidatorsHash: root.nextValidatorsHash,
    };
    this.#sets.set(toHex(validatorSetHash(root.validators)), root.validators);
  }

  /** The highest height whose validator set the client has established. */
  get trustedHeight(): bigint {
    return this.#latest.height;
  }

  isTrustedSet(validatorsHash: Uint8Array): boolean {
    return this.#sets.has(toHex(validatorsHash));
  }

  /**
   * Checks a header and the commit that decided it: the commit is for this header, the
   * header's set is trusted (following nextValidatorsHash through the source if it is new),
   * and more than two thirds of that set signed.
   */
  async verifyHeader(
    header: Header,
    commit: Commit | undefined,
  ): Promise<VerifiedHeader | VerifyFailure> {
    if (header.chainId !== this.chainId) {
      return fail("BAD_COMMIT", `the header is for chain ${JSON.stringify(header.chainId)}`);
    }
    if (commit === undefined) return fail("BAD_COMMIT", "the header has no commit yet");
    if (commit.height !== header.height || !equalBytes(commit.blockHash, headerHash(header))) {
      return fail("BAD_COMMIT", "the commit is not for this header");
    }
    let set = this.#sets.get(toHex(header.validatorsHash));
    if (set === undefined && this.source !== undefined && header.height > this.#latest.height) {
      try {
        await this.#follow(header.height);
      } catch (e) {
        return fail("UNTRUSTED_VALIDATOR_SET", `following the validator set failed: ${message(e)}`);
      }
      set = this.#sets.get(toHex(header.validatorsHash));
    }
    if (set === undefined) {
      return fail(
        "UNTRUSTED_VALIDATOR_SET",
        `block ${header.height} is signed by a validator set the client does not trust`,
      );
    }
    const check = verifyCommit(commit, set, this.chainId);
    if (!check.ok) return fail("BAD_COMMIT", `${check.code}: ${check.message}`);
    this.#advance(header, set);
    return { verified: true, header, validators: set, signers: commit.signatures.length };
  }

  /**
   * Verifies a state_getProof answer for `key` and decodes the proven value with `schema`.
   * Never throws for a bad answer: every way it can be wrong is a typed failure.
   */
  async verifyState<T>(
    answer: ResultOf<"state_getProof">,
    key: Uint8Array,
    schema: Schema<T>,
  ): Promise<Verified<T> | VerifyFailure> {
    let header: Header;
    let commit: Commit | undefined;
    try {
      header = headerFromJson(answer.header);
      commit = answer.commit === null ? undefined : commitFromJson(answer.commit);
    } catch (e) {
      return fail("BAD_COMMIT", `malformed header or commit: ${message(e)}`);
    }
    let proof: SmtProof;
    let value: Uint8Array | undefined;
    try {
      if (!equalBytes(parseBytes(answer.key), key)) {
        return fail("BAD_PROOF", "the answer is for another key");
      }
      proof = proofFromJson(answer.proof);
      value = answer.value === null ? undefined : parseBytes(answer.value);
    } catch (e) {
      return fail("BAD_PROOF", `malformed proof: ${message(e)}`);
    }
    this.#offerSet(answer, header);
    const believed = await this.verifyHeader(header, commit);
    if (!believed.verified) return believed;
    if (!verifyProof(header.stateRoot, key, value, proof)) {
      return fail("BAD_PROOF", `the proof does not match block ${header.height}'s state root`);
    }
    let decoded: T | undefined;
    try {
      decoded = value === undefined ? undefined : decode(schema, value);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      return fail("VALUE_MISMATCH", `the proven value is not a ${schema.name}: ${e.message}`);
    }
    return {
      verified: true,
      value: decoded,
      height: header.height,
      header,
      signers: believed.signers,
      setSize: believed.validators.length,
    };
  }

  /**
   * The answer carries the set whose hash is in its header. It is taken only when that hash is
   * exactly the next set the latest believed header announced for the height right after it:
   * that is following, with the set's content from the answer instead of another request.
   */
  #offerSet(answer: ResultOf<"state_getProof">, header: Header): void {
    const next = this.#latest.nextValidatorsHash;
    if (next === undefined || header.height !== this.#latest.height + 1n) return;
    if (!equalBytes(header.validatorsHash, next)) return;
    try {
      const set = validatorSetFromJson(answer.validators);
      if (equalBytes(validatorSetHash(set), next)) this.#sets.set(toHex(next), set);
    } catch (e) {
      if (!(e instanceof JsonFormError)) throw e;
    }
  }

  #advance(header: Header, set: readonly Validator[]): void {
    if (header.height <= this.#latest.height) return;
    this.#latest = {
      height: header.height,
      validators: set,
      nextValidatorsHash: header.nextValidatorsHash,
    };
  }

  /**
   * Establishes the set at `target` by bisection: a header signed by a set already believed is
   * believed at once; otherwise the set changed somewhere between the latest believed height
   * and `target`, so the midpoint is established first. At the height right after a believed
   * header, its nextValidatorsHash names the only set that may sign. Sets change by
   * governance, rarely, so this costs a few requests per change, not one per block.
   */
  async #follow(target: bigint): Promise<void> {
    const source = this.source;
    if (source === undefined) throw new Error("no header source");
    await this.#learnNext(source);
    const { header, commit } = await source.signedHeader(target);
    if (header.height !== target)
      throw new Error(`asked for block ${target}, got ${header.height}`);
    const known = this.#sets.get(toHex(header.validatorsHash));
    if (known !== undefined) {
      this.#accept(header, commit, known);
      return;
    }
    const latest = this.#latest;
    if (target <= latest.height)
      throw new Error(`block ${target} is at or below the trusted height`);
    if (target === latest.height + 1n) {
      if (
        latest.nextValidatorsHash === undefined ||
        !equalBytes(header.validatorsHash, latest.nextValidatorsHash)
      ) {
        throw new Error(
          `block ${target}'s validator set is not the one block ${latest.height} named`,
        );
      }
      const set = await source.validatorSet(target);
      if (!equalBytes(validatorSetHash(set), header.validatorsHash)) {
        throw new Error(`the validator set served for block ${target} does not match its hash`);
      }
      this.#accept(header, commit, set);
      this.#sets.set(toHex(header.validatorsHash), set);
      return;
    }
    await this.#follow(latest.height + (target - latest.height) / 2n);
    await this.#follow(target);
  }

  /** A checkpoint without nextValidatorsHash: read its own header, signed by its own set. */
  async #learnNext(source: HeaderSource): Promise<void> {
    const latest = this.#latest;
    if (latest.nextValidatorsHash !== undefined) return;
    const { header, commit } = await source.signedHeader(latest.height);
    if (!equalBytes(header.validatorsHash, validatorSetHash(latest.validators))) {
      throw new Error(`the checkpoint's block ${latest.height} is signed by another set`);
    }
    this.#check(header, commit, latest.validators);
    this.#latest = { ...latest, nextValidatorsHash: header.nextValidatorsHash };
  }

  #accept(header: Header, commit: Commit, set: readonly Validator[]): void {
    this.#check(header, commit, set);
    this.#advance(header, set);
  }

  #check(header: Header, commit: Commit, set: readonly Validator[]): void {
    if (header.chainId !== this.chainId)
      throw new Error(`block ${header.height} is for another chain`);
    if (commit.height !== header.height || !equalBytes(commit.blockHash, headerHash(header))) {
      throw new Error(`the commit served for block ${header.height} is not for it`);
    }
    const check = verifyCommit(commit, set, this.chainId);
    if (!check.ok) throw new Error(`block ${header.height}: ${check.code}: ${check.message}`);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
