// Consensus signing. Every signer the node uses is wrapped in a GuardedSigner, which makes the
// rule of DESIGN §5 hold whatever holds the key: a validator signs at most one value per
// (height, round, step), even across crashes. For a step it already signed, the guard returns
// the same signed message if asked for the same value (so re-sending after a restart is safe)
// and throws DoubleSignError if asked for another; a new signature is returned only after it is
// in the WAL and fsynced.
//
// Where the key lives is the inner signer's business:
// - LocalFileSigner: the key file <home>/keys/validator.key (the default).
// - RemoteSigner: a signing service (an HSM or KMS front end, or a signer on a hardened host)
//   reached over HTTP or a Unix socket. Its protocol, one request per signature:
//     POST <url>   {"type": "vote" | "proposal", "message": "<hex>"}
//     200          {"signature": "<hex, 64 bytes>"}
//   `message` is the canonical encoding of the Vote or Proposal (lib/vote.ts), not the bytes to
//   sign, so the service can decode what it is asked to sign and apply its own double-sign
//   guard; it signs domainPrefix(...) || message exactly as voteSignBytes/proposalSignBytes do.
//   Any other status is a refusal. The node checks every returned signature against the
//   configured public key, so a faulty or hostile service cannot make it send a bad one.
// Another backend plugs in by implementing ConsensusSigner and being wrapped in a GuardedSigner.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { addressOf } from "../lib/address.js";
import { equalBytes, fromHex, toHex, utf8 } from "../lib/bytes.js";
import { encode } from "../lib/codec.js";
import { isValidPublicKey, publicKeyOf } from "../lib/keys.js";
import { type VerifyFn, verify } from "../lib/signature.js";
import {
  type Proposal,
  ProposalSchema,
  type SignedProposal,
  type SignedVote,
  signProposal,
  signVote,
  type Vote,
  VoteSchema,
  verifyProposal,
  verifyVote,
} from "../lib/vote.js";
import type { Settings } from "./config.js";
import { type HomePaths, readKeyFile } from "./home.js";
import { type SignStep, type Wal, type WalEntry, WalError } from "./wal.js";

/** Signs this validator's consensus messages. Implementations need not guard against double signing. */
export interface ConsensusSigner {
  /** 33-byte compressed secp256k1 key. */
  readonly publicKey: Uint8Array;
  /** 20-byte address: what votes carry in `validator` and proposals in `proposer`. */
  readonly address: Uint8Array;
  signVote(vote: Vote): Promise<SignedVote>;
  signProposal(proposal: Proposal): Promise<SignedProposal>;
}

export type SignerErrorCode =
  | "DOUBLE_SIGN" // another value was already signed for this (height, round, step)
  | "BELOW_FLOOR" // the height is below the WAL's compacted history
  | "NOT_OUR_KEY" // the message names another validator
  | "BAD_SIGNATURE" // the inner signer returned a signature that does not verify
  | "REMOTE"; // the remote signer could not be reached or refused

export class SignerError extends Error {
  override name = "SignerError";
  constructor(
    readonly code: SignerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class DoubleSignError extends SignerError {
  override name = "DoubleSignError";
  constructor(readonly step: SignStep) {
    super(
      "DOUBLE_SIGN",
      `refusing to sign a second ${step.step} for height ${step.height} round ${step.round}`,
    );
  }
}

/** Holds the key in memory, read once from a 0600 key file. */
export class LocalFileSigner implements ConsensusSigner {
  readonly #secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;

  private constructor(secretKey: Uint8Array) {
    this.publicKey = publicKeyOf(secretKey);
    this.#secretKey = secretKey;
    this.address = addressOf(this.publicKey);
  }

  /** Reads a validator key file; throws HomeError (NOT_FOUND, PERMISSIONS, BAD_KEY_FILE, ...). */
  static async load(path: string): Promise<LocalFileSigner> {
    return new LocalFileSigner((await readKeyFile(path, "validator")).secretKey);
  }

  static fromSecretKey(secretKey: Uint8Array): LocalFileSigner {
    return new LocalFileSigner(secretKey.slice());
  }

  async signVote(vote: Vote): Promise<SignedVote> {
    return signVote(vote, this.#secretKey);
  }

  async signProposal(proposal: Proposal): Promise<SignedProposal> {
    return signProposal(proposal, this.#secretKey);
  }
}

export interface RemoteSignerOptions {
  /** http:// or https:// URL of the signing endpoint. */
  readonly url: string;
  /** Connect over this Unix socket instead of TCP; the URL's path is still sent. */
  readonly socketPath?: string;
  /** The key the service signs with; every returned signature is checked against it. */
  readonly publicKey: Uint8Array;
  readonly timeoutMs: number;
}

const MAX_RESPONSE_BYTES = 4096;

/** A client of the remote signing protocol described at the top of this file. */
export class RemoteSigner implements ConsensusSigner {
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
  readonly #url: URL;

  constructor(readonly options: RemoteSignerOptions) {
    if (!isValidPublicKey(options.publicKey)) {
      throw new SignerError("REMOTE", "remote signer: not a valid compressed public key");
    }
    this.#url = new URL(options.url);
    if (this.#url.protocol !== "http:" && this.#url.protocol !== "https:") {
      throw new SignerError("REMOTE", `remote signer: unsupported URL ${options.url}`);
    }
    this.publicKey = options.publicKey;
    this.address = addressOf(options.publicKey);
  }

  async signVote(vote: Vote): Promise<SignedVote> {
    const signature = await this.#request("vote", encode(VoteSchema, vote));
    return { vote, signature };
  }

  async signProposal(proposal: Proposal): Promise<SignedProposal> {
    const signature = await this.#request("proposal", encode(ProposalSchema, proposal));
    return { proposal, signature };
  }

  async #request(type: "vote" | "proposal", message: Uint8Array): Promise<Uint8Array> {
    const body = utf8(JSON.stringify({ type, message: toHex(message) }));
    const send = this.#url.protocol === "https:" ? httpsRequest : httpRequest;
    const fail = (why: string, cause?: unknown) =>
      new SignerError("REMOTE", `remote signer ${this.options.url}: ${why}`, { cause });
    const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(
        this.#url,
        {
          method: "POST",
          socketPath: this.options.socketPath,
          headers: { "content-type": "application/json", "content-length": body.length },
          signal: AbortSignal.timeout(this.options.timeoutMs),
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              reject(fail("response too large"));
              res.destroy();
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
          );
          res.on("error", (error) => reject(fail(error.message, error)));
        },
      );
      req.on("error", (error) =>
        reject(fail(error.name === "AbortError" ? "timed out" : error.message, error)),
      );
      req.end(body);
    });
    if (response.status !== 200) {
      throw fail(`refused with status ${response.status}: ${response.text.slice(0, 200)}`);
    }
    let signature: unknown;
    try {
      signature = (JSON.parse(response.text) as { signature?: unknown }).signature;
    } catch {
      throw fail("response is not JSON");
    }
    if (typeof signature !== "string" || !/^(0x)?[0-9a-fA-F]{128}$/.test(signature)) {
      throw fail("response has no 64-byte hex signature");
    }
    return fromHex(signature, 64);
  }
}

/**
 * The double-sign guard around any signer (see the top of this file). Requests are handled one
 * at a time, so two concurrent requests for one step cannot both pass the check.
 */
export class GuardedSigner implements ConsensusSigner {
  #queue: Promise<unknown> = Promise.resolve();

  /** `verifyFn` checks what the inner signer returns: the chain's, which then knows our votes. */
  constructor(
    readonly inner: ConsensusSigner,
    readonly wal: Wal,
    readonly verifyFn: VerifyFn = verify,
  ) {}

  get publicKey(): Uint8Array {
    return this.inner.publicKey;
  }

  get address(): Uint8Array {
    return this.inner.address;
  }

  signVote(vote: Vote): Promise<SignedVote> {
    return this.#serialize(async () => {
      const message = encode(VoteSchema, vote);
      const step: SignStep = { height: vote.height, round: vote.round, step: vote.type };
      this.#checkOwn(vote.validator, "vote");
      const existing = this.#recorded(step);
      if (existing) {
        if (
          existing.kind === "vote" &&
          equalBytes(encode(VoteSchema, existing.signed.vote), message)
        ) {
          return existing.signed;
        }
        throw new DoubleSignError(step);
      }
      const signed = await this.inner.signVote(vote);
      if (
        !equalBytes(encode(VoteSchema, signed.vote), message) ||
        !verifyVote(signed, this.inner.publicKey, this.verifyFn)
      ) {
        throw new SignerError("BAD_SIGNATURE", "the signer returned an invalid vote signature");
      }
      await this.#record(step, { kind: "vote", signed });
      return signed;
    });
  }

  signProposal(proposal: Proposal): Promise<SignedProposal> {
    return this.#serialize(async () => {
      const message = encode(ProposalSchema, proposal);
      const step: SignStep = { height: proposal.height, round: proposal.round, step: "propose" };
      this.#checkOwn(proposal.proposer, "proposal");
      const existing = this.#recorded(step);
      if (existing) {
        if (
          existing.kind === "proposal" &&
          equalBytes(encode(ProposalSchema, existing.signed.proposal), message)
        ) {
          return existing.signed;
        }
        throw new DoubleSignError(step);
      }
      const signed = await this.inner.signProposal(proposal);
      if (
        !equalBytes(encode(ProposalSchema, signed.proposal), message) ||
        !verifyProposal(signed, this.inner.publicKey, this.verifyFn)
      ) {
        throw new SignerError("BAD_SIGNATURE", "the signer returned an invalid proposal signature");
      }
      await this.#record(step, { kind: "proposal", signed });
      return signed;
    });
  }

  #checkOwn(address: Uint8Array, what: string): void {
    if (!equalBytes(address, this.inner.address)) {
      throw new SignerError("NOT_OUR_KEY", `the ${what} names another validator`);
    }
  }

  #recorded(step: SignStep) {
    if (step.height < this.wal.floor) {
      throw new SignerError(
        "BELOW_FLOOR",
        `height ${step.height} is below the WAL's compacted history (${this.wal.floor}); ` +
          "whether it was signed before is no longer known",
      );
    }
    return this.wal.get(step);
  }

  async #record(step: SignStep, entry: WalEntry): Promise<void> {
    try {
      await this.wal.append(entry);
    } catch (error) {
      if (error instanceof WalError && error.code === "CONFLICT") throw new DoubleSignError(step);
      throw error;
    }
  }

  #serialize<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation, operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

/** The unguarded signer the config names: the local key file or the remote service. */
export async function openConsensusSigner(
  config: Settings,
  paths: HomePaths,
): Promise<ConsensusSigner> {
  const { signer } = config;
  if (signer.kind === "remote") {
    return new RemoteSigner({
      url: signer.url,
      socketPath: signer.socketPath === "" ? undefined : signer.socketPath,
      publicKey: fromHex(signer.publicKey, 33),
      timeoutMs: signer.timeoutMs,
    });
  }
  return LocalFileSigner.load(paths.validatorKey);
}
