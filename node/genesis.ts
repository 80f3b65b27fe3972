// The chain's genesis as the node sees it: the parsed file, the state it writes, the first
// validator set, and a genesis header whose hash identifies the chain.
//
// How genesis is committed: the store gets a height-0 record before any block. Its "block" is
// an empty block carrying the genesis header, its commit is empty (nothing certifies genesis;
// everyone derives it from the file) and its state is the genesis state, committed as tree
// version 0. Block 1 therefore executes on top of committed genesis state like every later
// block on its parent, and readStateAt(0) and proofs at version 0 work as for any height.
//
// The genesis hash is the hash of the height-0 header. That header commits to the chain id, the
// genesis time, the rules version, the validator set and (through stateRoot) every other field
// of the file, so two nodes with the same genesis hash run the same chain. Block 1's parentHash
// stays 32 zero bytes as lib/block.ts requires; peers compare genesis hashes in their status.
import { readFile } from "node:fs/promises";
import {
  type Block,
  computeEvidenceHash,
  computeTxRoot,
  encodeBlock,
  type Header,
  headerHash,
  zeroHash,
} from "../lib/block.js";
import { merkleRoot } from "../lib/merkle.js";
import { type Validator, validatorSetHash } from "../lib/validator.js";
import type { Change } from "../state/overlay.js";
import { MemoryNodeStore } from "../state/smt/memory-store.js";
import { JellyfishTree } from "../state/smt/tree.js";
import { type Genesis, GenesisError, genesisState, parseGenesis } from "../vm/genesis.js";

export type GenesisLoadErrorCode = "UNREADABLE" | "NOT_JSON" | "INVALID";

export class GenesisLoadError extends Error {
  override name = "GenesisLoadError";
  constructor(
    readonly code: GenesisLoadErrorCode,
    message: string,
    /** For INVALID: the path of the bad field in the file, as vm/genesis.ts names it. */
    readonly path?: string,
  ) {
    super(message);
  }
}

export interface ChainGenesis {
  readonly genesis: Genesis;
  readonly chainId: string;
  /** The genesis state as sorted writes. */
  readonly changes: readonly Change[];
  /** The world-state root of the genesis state (tree version 0). */
  readonly stateRoot: Uint8Array;
  /** The set in force at heights 1 and 2. */
  readonly validators: readonly Validator[];
  readonly validatorsHash: Uint8Array;
  /** The height-0 header. */
  readonly header: Header;
  /** headerHash(header): the chain's identity. */
  readonly hash: Uint8Array;
}

/** Builds the genesis from the file's JSON; throws GenesisLoadError("INVALID") naming the field. */
export function buildGenesis(json: unknown): ChainGenesis {
  let genesis: Genesis;
  try {
    genesis = parseGenesis(json);
  } catch (e) {
    if (e instanceof GenesisError) throw new GenesisLoadError("INVALID", e.message, e.path);
    throw e;
  }
  const changes = genesisState(genesis);
  // A throwaway in-memory tree: the root is needed before (and without) any store.
  const stateRoot = new JellyfishTree(new MemoryNodeStore()).update(
    undefined,
    0n,
    changes,
  ).rootHash;
  const validators = genesis.validators;
  const validatorsHash = validatorSetHash(validators);
  const header: Header = {
    version: genesis.version,
    chainId: genesis.params.chainId,
    height: 0n,
    time: genesis.params.genesisTime,
    parentHash: zeroHash(),
    proposer: new Uint8Array(20),
    txRoot: computeTxRoot([]),
    stateRoot,
    receiptsRoot: merkleRoot("receipts-root", []),
    validatorsHash,
    nextValidatorsHash: validatorsHash,
    lastCommitHash: zeroHash(),
    evidenceHash: computeEvidenceHash([]),
  };
  return {
    genesis,
    chainId: genesis.params.chainId,
    changes,
    stateRoot,
    validators,
    validatorsHash,
    header,
    hash: headerHash(header),
  };
}

/** Reads, parses and builds a genesis file. */
export async function loadGenesisFile(path: string): Promise<ChainGenesis> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new GenesisLoadError("UNREADABLE", `${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new GenesisLoadError("NOT_JSON", `${path}: ${(e as Error).message}`);
  }
  return buildGenesis(json);
}

/** The height-0 block stored for genesis: the genesis header and an empty body. */
export function genesisBlock(chainGenesis: ChainGenesis): Block {
  return { header: chainGenesis.header, txs: [], lastCommit: undefined, evidence: [] };
}

export function encodeGenesisBlock(chainGenesis: ChainGenesis): Uint8Array {
  return encodeBlock(genesisBlock(chainGenesis));
}
