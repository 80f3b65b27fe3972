// chain_status, chain_getBlock, chain_getValidators, state_getProof.
import { addressOf } from "../../lib/address.js";
import { decodeTx, txId } from "../../lib/tx.js";
import { validatorSetHash } from "../../lib/validator.js";
import type { Tx } from "../../vm/tx/registry.js";
import { txTypeName, txTypeNumber } from "../../vm/tx/types.js";
import { invalidParams, RpcError, UNAVAILABLE } from "../errors.js";
import { addressJson, bigintJson, bytesJson, type Json, toJson } from "../json.js";
import type { ValidatorJson } from "../methods.js";
import { commitJson, type Handler, headerJson, parse } from "./context.js";

export const chainStatus: Handler<"chain_status"> = (_params, { backend }) => {
  const head = backend.head();
  return {
    chainId: backend.chainId,
    genesisHash: bytesJson(backend.genesisHash),
    height: bigintJson(head.height),
    headHash: bytesJson(head.hash),
    headTime: bigintJson(head.header.time),
    validatorCount: backend.validatorSet(head.height)?.length ?? 0,
    syncing: backend.syncing(),
  };
};

export const chainGetBlock: Handler<"chain_getBlock"> = (params, { backend }) => {
  if (params.height !== undefined && params.hash !== undefined) {
    throw invalidParams("give height or hash, not both");
  }
  const at =
    params.hash !== undefined
      ? parse.hash("hash", params.hash)
      : params.height !== undefined
        ? parse.u64("height", params.height)
        : backend.head().height;
  const stored = backend.block(at);
  if (!stored) return null;
  const { block, decoded } = stored;
  const commit = stored.height > 0n ? backend.commit(stored.height) : undefined;
  return {
    height: bigintJson(stored.height),
    hash: bytesJson(stored.hash),
    header: headerJson(block.header),
    transactions: block.txs.map((bytes, i) => {
      const tx = txSummary(bytes, decoded?.[i]);
      return {
        hash: bytesJson(tx.id),
        type: tx.type,
        typeName: txTypeName(tx.type) ?? null,
        signer: addressJson(tx.signer),
        nonce: bigintJson(tx.nonce),
        bytes: bytesJson(bytes),
      };
    }),
    commit: commit ? commitJson(commit) : null,
    lastCommit: block.lastCommit ? commitJson(block.lastCommit) : null,
    evidenceCount: block.evidence.length,
  };
};

/** A block transaction's id, type number, signer address and nonce; decoded unless given. */
function txSummary(bytes: Uint8Array, decoded: Tx | undefined) {
  if (decoded) {
    const { id, signer, nonce } = decoded;
    return { id, type: txTypeNumber(decoded.type), signer, nonce };
  }
  const { body } = decodeTx(bytes);
  return { id: txId(bytes), type: body.type, signer: addressOf(body.signer), nonce: body.nonce };
}

export const chainGetValidators: Handler<"chain_getValidators"> = async (params, { backend }) => {
  const height =
    params.height === undefined ? backend.head().height : parse.u64("height", params.height);
  const set = backend.validatorSet(height);
  if (!set) throw new RpcError(UNAVAILABLE, `the validator set of height ${height} is not kept`);
  const validators = await Promise.all(
    set.map(async (v) => {
      const live = await backend.indexes.liveness(v.address);
      return {
        ...validatorJson(v),
        signed: bigintJson(live.signed),
        missed: bigintJson(live.missed),
        lastSigned: live.lastSigned === undefined ? null : bigintJson(live.lastSigned),
        evidence: live.evidence.map((e) => ({
          height: bigintJson(e.height),
          evidenceHeight: bigintJson(e.evidenceHeight),
        })),
      };
    }),
  );
  return {
    height: bigintJson(height),
    validatorsHash: bytesJson(validatorSetHash(set)),
    validators,
  };
};

function validatorJson(v: {
  address: Uint8Array;
  publicKey: Uint8Array;
  operator: Uint8Array;
  utility: string;
}): ValidatorJson {
  return {
    address: addressJson(v.address),
    publicKey: bytesJson(v.publicKey),
    operator: addressJson(v.operator),
    utility: v.utility,
  };
}

export const stateGetProof: Handler<"state_getProof"> = (params, { backend }) => {
  const key = parse.bytes("key", params.key);
  const height =
    params.height === undefined ? backend.head().height : parse.u64("height", params.height);
  const stored = backend.block(height);
  const proved = stored ? backend.prove(height, key) : undefined;
  const set = backend.validatorSet(height);
  if (!stored || !proved || !set) {
    throw new RpcError(UNAVAILABLE, `the state of height ${height} is not kept`);
  }
  const commit = height > 0n ? backend.commit(height) : undefined;
  const proof = toJson({ leaf: proved.proof.leaf, siblings: proved.proof.siblings }) as {
    [key: string]: Json;
  };
  return {
    key: bytesJson(key),
    value: proved.value === undefined ? null : bytesJson(proved.value),
    height: bigintJson(height),
    proof,
    header: headerJson(stored.block.header),
    commit: commit ? commitJson(commit) : null,
    validators: set.map(validatorJson),
  };
};
