// The chain's own values from their RPC JSON forms (rpc/json.ts), for the light client: a
// header must be re-hashed and a commit re-verified, so they are rebuilt byte for byte. Any
// value that does not fit its form throws JsonFormError; the light client turns that into
// its typed failures.
import type { Header } from "../../lib/block.js";
import type { Commit } from "../../lib/commit.js";
import type { Validator } from "../../lib/validator.js";
import type { SmtProof } from "../../state/smt/proof.js";
import { type Json, JsonFormError, parseAddressJson, parseBytes, parseU64 } from "../json.js";
import type { CommitJson, HeaderJson, ValidatorJson } from "../methods.js";

function u32(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new JsonFormError(`${name}: expected an integer in [0, 2^32 - 1]`);
  }
  return value;
}

function str(value: unknown, name: string): string {
  if (typeof value !== "string") throw new JsonFormError(`${name}: expected a string`);
  return value;
}

function record(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new JsonFormError(`${name}: expected an object`);
  }
  return value as Record<string, unknown>;
}

const hash = (value: unknown, name: string): Uint8Array => parseBytes(str(value, name), 32);
const u64 = (value: unknown, name: string): bigint => parseU64(str(value, name));
const address = (value: unknown, name: string): Uint8Array => parseAddressJson(str(value, name));

export function headerFromJson(json: HeaderJson): Header {
  const h = record(json, "header");
  return {
    version: u32(h.version, "header.version"),
    chainId: str(h.chainId, "header.chainId"),
    height: u64(h.height, "header.height"),
    time: u64(h.time, "header.time"),
    parentHash: hash(h.parentHash, "header.parentHash"),
    proposer: address(h.proposer, "header.proposer"),
    txRoot: hash(h.txRoot, "header.txRoot"),
    stateRoot: hash(h.stateRoot, "header.stateRoot"),
    receiptsRoot: hash(h.receiptsRoot, "header.receiptsRoot"),
    validatorsHash: hash(h.validatorsHash, "header.validatorsHash"),
    nextValidatorsHash: hash(h.nextValidatorsHash, "header.nextValidatorsHash"),
    lastCommitHash: hash(h.lastCommitHash, "header.lastCommitHash"),
    evidenceHash: hash(h.evidenceHash, "header.evidenceHash"),
  };
}

export function commitFromJson(json: CommitJson): Commit {
  const c = record(json, "commit");
  if (!Array.isArray(c.signatures)) throw new JsonFormError("commit.signatures: expected a list");
  return {
    height: u64(c.height, "commit.height"),
    round: u32(c.round, "commit.round"),
    blockHash: hash(c.blockHash, "commit.blockHash"),
    signatures: c.signatures.map((s: unknown, i) => {
      const sig = record(s, `commit.signatures[${i}]`);
      return {
        validator: address(sig.validator, `commit.signatures[${i}].validator`),
        signature: parseBytes(str(sig.signature, `commit.signatures[${i}].signature`), 64),
      };
    }),
  };
}

export function validatorFromJson(json: ValidatorJson): Validator {
  const v = record(json, "validator");
  return {
    address: address(v.address, "validator.address"),
    publicKey: parseBytes(str(v.publicKey, "validator.publicKey"), 33),
    operator: address(v.operator, "validator.operator"),
    utility: str(v.utility, "validator.utility"),
  };
}

export function validatorSetFromJson(json: readonly ValidatorJson[]): Validator[] {
  if (!Array.isArray(json)) throw new JsonFormError("validators: expected a list");
  return json.map(validatorFromJson);
}

/**
 * The proof in rpc/json.ts's toJson form of state/smt/proof.ts's SmtProof:
 * `{leaf: {keyHash, valueHash} | null, siblings: [0x-hex, …]}` (leaf may also be left out).
 */
export function proofFromJson(json: { [key: string]: Json }): SmtProof {
  const p = record(json, "proof");
  if (!Array.isArray(p.siblings)) throw new JsonFormError("proof.siblings: expected a list");
  const siblings = p.siblings.map((s: unknown, i) => hash(s, `proof.siblings[${i}]`));
  if (p.leaf === undefined || p.leaf === null) return { siblings };
  const leaf = record(p.leaf, "proof.leaf");
  return {
    leaf: {
      keyHash: hash(leaf.keyHash, "proof.leaf.keyHash"),
      valueHash: hash(leaf.valueHash, "proof.leaf.valueHash"),
    },
    siblings,
  };
}
