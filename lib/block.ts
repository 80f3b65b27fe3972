// Blocks and headers (DESIGN §4). A block's hash is its header's hash; the header commits to the
// body through txRoot, lastCommitHash and evidenceHash, which checkBlockStructure recomputes.
// The first block is at height 1: it has no parent (parentHash is 32 zero bytes) and no last
// commit (lastCommitHash is 32 zero bytes).
import { equalBytes, toHex } from "./bytes.js";
import {
  bytes,
  CodecError,
  decode,
  encode,
  type Infer,
  list,
  optional,
  struct,
  text,
  u32,
  u64,
} from "./codec.js";
import { type Commit, CommitSchema, commitHash } from "./commit.js";
import { type Evidence, EvidenceSchema, evidenceHash } from "./evidence.js";
import { domainHash } from "./hash.js";
import { merkleRoot } from "./merkle.js";
import { MAX_TX_BYTES, txId } from "./tx.js";

/** Above the largest header encoding (about 400 bytes). */
export const MAX_HEADER_BYTES = 1024;
// A proposal gossips its whole block, and gossipsub frames each message within 4 MiB
// (node/p2p/topics.ts), so a block stays under 3 MiB to leave room for the proposal around it.
export const MAX_BLOCK_BYTES = 3 * 1024 * 1024;
export const MAX_BLOCK_TXS = 10_000;
export const MAX_BLOCK_EVIDENCE = 32;

/**
 * 32 zero bytes: parentHash of the first block, and lastCommitHash of a block without a last
 * commit. A function, not a constant, because a shared Uint8Array could be written to.
 */
export function zeroHash(): Uint8Array {
  return new Uint8Array(32);
}

const hash32 = bytes({ length: 32 });

export const HeaderSchema = struct("Header", {
  /** The rules version the block was made under; upgrades switch it at scheduled heights. */
  version: u32,
  chainId: text(64),
  height: u64,
  /** Unix milliseconds, chosen by the proposer (proposer-based time). */
  time: u64,
  parentHash: hash32,
  /** The proposer's validator address. */
  proposer: bytes({ length: 20 }),
  txRoot: hash32,
  /** The world-state root after executing this block. */
  stateRoot: hash32,
  receiptsRoot: hash32,
  validatorsHash: hash32,
  nextValidatorsHash: hash32,
  lastCommitHash: hash32,
  evidenceHash: hash32,
});
export type Header = Infer<typeof HeaderSchema>;

const EvidenceListSchema = list(EvidenceSchema, MAX_BLOCK_EVIDENCE);

export const BlockSchema = struct("Block", {
  header: HeaderSchema,
  /** Signed transaction encodings, as signed; the vm decodes them. */
  txs: list(bytes({ max: MAX_TX_BYTES }), MAX_BLOCK_TXS),
  /** The commit of the parent block; absent only at height 1. */
  lastCommit: optional(CommitSchema),
  evidence: EvidenceListSchema,
});
export type Block = Infer<typeof BlockSchema>;

export function encodeHeader(header: Header): Uint8Array {
  return encode(HeaderSchema, header);
}

export function decodeHeader(data: Uint8Array): Header {
  return decode(HeaderSchema, data, { maxBytes: MAX_HEADER_BYTES });
}

export function headerHash(header: Header): Uint8Array {
  return domainHash("block-header", encodeHeader(header));
}

export function blockHash(block: Block): Uint8Array {
  return headerHash(block.header);
}

/** Encodes a block; throws CodecError("TOO_LARGE") over MAX_BLOCK_BYTES. */
export function encodeBlock(block: Block): Uint8Array {
  const data = encode(BlockSchema, block);
  if (data.length > MAX_BLOCK_BYTES) {
    throw new CodecError("TOO_LARGE", `Block: ${data.length} bytes is over ${MAX_BLOCK_BYTES}`);
  }
  return data;
}

export function decodeBlock(data: Uint8Array): Block {
  return decode(BlockSchema, data, { maxBytes: MAX_BLOCK_BYTES });
}

/** Merkle root over the ids of the block's transactions, so one tx can be proven included. */
export function computeTxRoot(txs: readonly Uint8Array[]): Uint8Array {
  return txRootOf(txs.map(txId));
}

/** computeTxRoot for a caller that holds the transactions' ids already. */
export function txRootOf(txIds: readonly Uint8Array[]): Uint8Array {
  return merkleRoot("tx-root", txIds);
}

export function computeEvidenceHash(evidence: readonly Evidence[]): Uint8Array {
  return domainHash("evidence-list", encode(EvidenceListSchema, [...evidence]));
}

export function computeLastCommitHash(lastCommit: Commit | undefined): Uint8Array {
  return lastCommit === undefined ? zeroHash() : commitHash(lastCommit);
}

export type BlockStructureErrorCode =
  | "WRONG_CHAIN_ID"
  | "BAD_HEIGHT"
  | "BAD_GENESIS_PARENT"
  | "MISSING_LAST_COMMIT"
  | "UNEXPECTED_LAST_COMMIT"
  | "LAST_COMMIT_MISMATCH"
  | "BAD_TX_ROOT"
  | "BAD_LAST_COMMIT_HASH"
  | "BAD_EVIDENCE_HASH"
  | "DUPLICATE_EVIDENCE";

export type BlockStructureCheck =
  /** The transactions' ids, which the txRoot check computed: the block's validation needs them. */
  | { readonly ok: true; readonly txIds: readonly Uint8Array[] }
  | { readonly ok: false; readonly code: BlockStructureErrorCode; readonly message: string };

/**
 * Checks that the header agrees with the body and with itself, without state or signatures:
 * chain id, height, the parent links of the last commit, and the three body commitments.
 * Verifying the last commit's signatures, the transactions and the evidence is the caller's.
 */
export function checkBlockStructure(block: Block, chainId: string): BlockStructureCheck {
  const { header, lastCommit } = block;
  if (header.chainId !== chainId) {
    return fail("WRONG_CHAIN_ID", `for chain ${JSON.stringify(header.chainId)}`);
  }
  if (header.height < 1n) return fail("BAD_HEIGHT", "the first block is at height 1");
  if (header.height === 1n) {
    if (!equalBytes(header.parentHash, zeroHash())) {
      return fail("BAD_GENESIS_PARENT", "the first block's parent hash must be zero");
    }
    if (lastCommit !== undefined) {
      return fail("UNEXPECTED_LAST_COMMIT", "the first block has no last commit");
    }
  } else {
    if (lastCommit === undefined) {
      return fail("MISSING_LAST_COMMIT", `block ${header.height} lacks its parent's commit`);
    }
    if (
      lastCommit.height !== header.height - 1n ||
      !equalBytes(lastCommit.blockHash, header.parentHash)
    ) {
      return fail("LAST_COMMIT_MISMATCH", "the last commit is not for the parent block");
    }
  }
  const txIds = block.txs.map(txId);
  if (!equalBytes(txRootOf(txIds), header.txRoot)) {
    return fail("BAD_TX_ROOT", "txRoot does not match the transactions");
  }
  if (!equalBytes(computeLastCommitHash(lastCommit), header.lastCommitHash)) {
    return fail("BAD_LAST_COMMIT_HASH", "lastCommitHash does not match the last commit");
  }
  const seen = new Set<string>();
  for (const [i, ev] of block.evidence.entries()) {
    const key = toHex(evidenceHash(ev));
    if (seen.has(key)) return fail("DUPLICATE_EVIDENCE", `evidence ${i} is included twice`);
    seen.add(key);
  }
  if (!equalBytes(computeEvidenceHash(block.evidence), header.evidenceHash)) {
    return fail("BAD_EVIDENCE_HASH", "evidenceHash does not match the evidence");
  }
  return { ok: true, txIds };
}

function fail(code: BlockStructureErrorCode, message: string): BlockStructureCheck {
  return { ok: false, code, message };
}
