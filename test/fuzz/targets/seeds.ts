// Valid encodings of every message a peer or client can send, built from the vm tests' fixed
// keys: the fuzzers mutate these, so mutations reach the schema checks behind a well-formed
// header instead of stopping at the first byte.
import { type Block, encodeBlock, encodeHeader, type Header } from "../../../lib/block.js";
import { encodeCommit } from "../../../lib/commit.js";
import { duplicateVoteEvidence, type Evidence, encodeEvidence } from "../../../lib/evidence.js";
import { encodeValidatorSet, type Validator } from "../../../lib/validator.js";
import {
  encodeSignedProposal,
  encodeSignedVote,
  type SignedVote,
  signProposal,
  signVote,
} from "../../../lib/vote.js";
import { encodeProposalEnvelope } from "../../../node/consensus-driver.js";
import { signCommit, signedTx } from "../../node/chain-fixtures.js";
import { actor, hash32, operatorOf, T0, validatorOf } from "../../vm/helpers.js";

export const CHAIN_ID = "wattcap-test";

/** The validators of utilities u0 and u1 of genesisJson([1, 1]), in address order. */
export function seedValidators(): Validator[] {
  return [validatorOf(0, 0), validatorOf(1, 0)]
    .map((v, i) => ({
      address: v.address,
      publicKey: v.publicKey,
      operator: operatorOf(i).address,
      utility: `u${i}`,
    }))
    .sort((a, b) => Buffer.compare(a.address, b.address));
}

/** Signed transactions of several types, from households, an operator and an oracle. */
export function seedTxs(): Uint8Array[] {
  const household = actor(1000);
  return [
    signedTx(household, 0n, "placeOrder", { side: "sell", qty: 5n, price: 150n, expiry: T0 }),
    signedTx(household, 3n, "transferCredits", { to: actor(1001).address, vintage: 1n, qty: 2n }),
    signedTx(operatorOf(0), 1n, "recordPayment", {
      household: household.address,
      amount: 1000n,
      reference: "inv-1",
    }),
    signedTx(operatorOf(0), 2n, "registerHousehold", {
      household: household.address,
      meterIdHash: hash32(7),
      meterKey: undefined,
      registers: 2,
      baselines: Array.from({ length: 12 }, (_, i) => BigInt(i * 100)),
    }),
    signedTx(actor(60), 0n, "submitReadings", {
      readings: [
        { meterIdHash: hash32(7), time: T0, registers: [1n, 2n], signature: undefined },
        { meterIdHash: hash32(8), time: T0 + 1n, registers: [5n], signature: undefined },
      ],
    }),
  ];
}

export function seedVotes(height = 1n): SignedVote[] {
  const v = validatorOf(0, 0);
  const vote = (type: "prevote" | "precommit", blockHash: Uint8Array | undefined) =>
    signVote(
      { type, chainId: CHAIN_ID, height, round: 0, blockHash, validator: v.address },
      v.secretKey,
    );
  return [vote("prevote", hash32(1)), vote("precommit", undefined), vote("prevote", hash32(2))];
}

export function seedEvidence(): Evidence {
  const [a, , b] = seedVotes();
  return duplicateVoteEvidence(a!, b!);
}

function seedHeader(): Header {
  return {
    version: 1,
    chainId: CHAIN_ID,
    height: 2n,
    time: T0 + 2000n,
    parentHash: hash32(1),
    proposer: validatorOf(0, 0).address,
    txRoot: hash32(2),
    stateRoot: hash32(3),
    receiptsRoot: hash32(4),
    validatorsHash: hash32(5),
    nextValidatorsHash: hash32(5),
    lastCommitHash: hash32(6),
    evidenceHash: hash32(7),
  };
}

export function seedBlock(): Block {
  return {
    header: seedHeader(),
    txs: seedTxs(),
    lastCommit: signCommit(seedValidators(), 1n, hash32(1)),
    evidence: [seedEvidence()],
  };
}

export function seedProposal() {
  const v = validatorOf(0, 0);
  return signProposal(
    {
      chainId: CHAIN_ID,
      height: 2n,
      round: 1,
      polRound: 0,
      blockHash: hash32(9),
      proposer: v.address,
    },
    v.secretKey,
  );
}

/** Every seed above, encoded, by message name. */
export function seedEncodings(): Record<string, Uint8Array[]> {
  const block = seedBlock();
  const encodedBlock = encodeBlock(block);
  return {
    tx: seedTxs(),
    header: [encodeHeader(block.header)],
    block: [encodedBlock, encodeBlock({ ...block, txs: [], lastCommit: undefined, evidence: [] })],
    commit: [encodeCommit(block.lastCommit!)],
    vote: seedVotes().map(encodeSignedVote),
    proposal: [encodeSignedProposal(seedProposal())],
    evidence: [encodeEvidence(seedEvidence())],
    validatorSet: [encodeValidatorSet(seedValidators())],
    proposalEnvelope: [encodeProposalEnvelope({ proposal: seedProposal(), block: encodedBlock })],
  };
}
