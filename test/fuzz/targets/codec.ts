// Fuzz target: the canonical decoder (lib/codec.ts) behind every message a peer or client sends.
// Promise: decoding any bytes either succeeds, and then re-encoding the value gives exactly
// those bytes, or throws CodecError — never anything else. Inputs: random bytes, mutations of
// valid encodings, and random well-formed msgpack values (which get past the parser and test the
// schema checks).
import fc from "fast-check";
import { Packr } from "msgpackr";
import { decodeBlock, decodeHeader, encodeBlock, encodeHeader } from "../../../lib/block.js";
import { equalBytes } from "../../../lib/bytes.js";
import { CodecError, decode, encode, type Schema } from "../../../lib/codec.js";
import { decodeCommit, encodeCommit } from "../../../lib/commit.js";
import { decodeEvidence, encodeEvidence } from "../../../lib/evidence.js";
import { decodeTx, encodeTx } from "../../../lib/tx.js";
import { decodeValidatorSet, encodeValidatorSet } from "../../../lib/validator.js";
import {
  decodeSignedProposal,
  decodeSignedVote,
  encodeSignedProposal,
  encodeSignedVote,
} from "../../../lib/vote.js";
import { decodeProposalEnvelope, encodeProposalEnvelope } from "../../../node/consensus-driver.js";
import {
  BlocksByRangeRequestSchema,
  BlockWithCommitSchema,
  HaveVotesSchema,
  StatusSchema,
} from "../../../node/p2p/messages.js";
import { METHOD_SPECS } from "../../../node/p2p/reqresp.js";
import {
  decodePayload,
  encodePayload,
  type TX_TYPE_NAMES,
  txTypeNumber,
} from "../../../vm/tx/types.js";
import { byteInputs, check, FuzzFailure, type FuzzReport, type FuzzTarget, merge } from "./fuzz.js";
import { seedEncodings, seedTxs } from "./seeds.js";

/** A decoder and the encoder that must reproduce its input. */
interface Codec {
  readonly name: string;
  decode(data: Uint8Array): unknown;
  encode(value: unknown): Uint8Array;
  readonly seeds: readonly Uint8Array[];
}

function schemaCodec<T>(name: string, schema: Schema<T>, seeds: Uint8Array[]): Codec {
  return {
    name,
    decode: (data) => decode(schema, data),
    encode: (value) => encode(schema, value as T),
    seeds,
  };
}

function codecs(): Codec[] {
  const s = seedEncodings();
  const pick = <T>(
    name: keyof typeof s,
    dec: (d: Uint8Array) => T,
    enc: (v: T) => Uint8Array,
  ): Codec => ({ name, decode: dec, encode: (v) => enc(v as T), seeds: s[name]! });
  const status = encode(StatusSchema, {
    latestHeight: 5n,
    latestHash: new Uint8Array(32),
    earliestHeight: 1n,
  });
  const have = encode(HaveVotesSchema, {
    height: 2n,
    round: 0,
    prevotes: Uint8Array.of(3),
    precommits: Uint8Array.of(1),
  });
  const range = encode(BlocksByRangeRequestSchema, { startHeight: 1n, count: 32 });
  const withCommit = encode(BlockWithCommitSchema, { block: s.block![0]!, commit: s.commit![0]! });
  const chunk = METHOD_SPECS.status.chunk;
  const chunks = [
    encode(chunk, { kind: "item", value: decode(StatusSchema, status) }),
    encode(chunk, { kind: "end", value: { status: "busy", message: "later" } }),
  ];
  // Each payload type with its own seed: the transactions' payloads, decoded by type number.
  const payloads = seedTxs().map((tx) => decodeTx(tx).body);
  return [
    pick("tx", decodeTx, encodeTx),
    pick("header", decodeHeader, encodeHeader),
    pick("block", decodeBlock, encodeBlock),
    pick("commit", decodeCommit, encodeCommit),
    pick("vote", decodeSignedVote, encodeSignedVote),
    pick("proposal", decodeSignedProposal, encodeSignedProposal),
    pick("evidence", decodeEvidence, encodeEvidence),
    pick("validatorSet", decodeValidatorSet, encodeValidatorSet),
    pick("proposalEnvelope", decodeProposalEnvelope, encodeProposalEnvelope),
    schemaCodec("Status", StatusSchema, [status]),
    schemaCodec("HaveVotes", HaveVotesSchema, [have]),
    schemaCodec("BlocksByRangeRequest", BlocksByRangeRequestSchema, [range]),
    schemaCodec("BlockWithCommit", BlockWithCommitSchema, [withCommit]),
    schemaCodec("StatusChunk", chunk, chunks),
    ...payloads.map(
      (body): Codec => ({
        name: `payload ${body.type}`,
        decode(data) {
          const result = decodePayload(body.type, data);
          if (!result.ok) throw new CodecError("SCHEMA", result.message);
          return result.payload;
        },
        encode(value) {
          const { type, value: v } = value as {
            type: (typeof TX_TYPE_NAMES)[number];
            value: never;
          };
          if (txTypeNumber(type) !== body.type) throw new FuzzFailure(`decoded as ${type}`);
          return encodePayload(type, v);
        },
        seeds: [body.payload],
      }),
    ),
  ];
}

// Well-formed msgpack in the codec's vocabulary (bytes, small ints, 64-bit ints, arrays), plus
// the types the codec never writes (strings, nil, booleans, floats, maps), nested.
const packr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: false });
const leaf = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 4, arbitrary: fc.oneof(fc.nat(), fc.constantFrom(0, 1, 0xff, 0xffff, 0xffffffff)) },
  { weight: 3, arbitrary: fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }) },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.string(), fc.constant(null), fc.boolean(), fc.double(), fc.integer()),
  },
);
const { wire } = fc.letrec<{ wire: unknown }>((tie) => ({
  wire: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("wire"), { maxLength: 14 }),
    fc.array(fc.tuple(fc.string(), tie("wire")), { maxLength: 3 }).map((e) => new Map(e)),
  ),
}));
const wireBytes = wire.map((value) => new Uint8Array(packr.pack(value)));

function roundTrips(codec: Codec, data: Uint8Array): void {
  let value: unknown;
  try {
    value = codec.decode(data);
  } catch (error) {
    if (error instanceof CodecError) return;
    throw error;
  }
  let again: Uint8Array;
  try {
    again = codec.encode(value);
  } catch (error) {
    throw new FuzzFailure(`${codec.name}: a decoded value does not re-encode: ${error}`);
  }
  if (!equalBytes(again, data)) throw new FuzzFailure(`${codec.name}: re-encoding differs`);
}

export const codecTarget: FuzzTarget = {
  name: "codec",
  async run(runs: number, seed: number): Promise<FuzzReport> {
    let report: FuzzReport = { cases: 0, failures: [] };
    const all = codecs();
    const share = Math.max(1, Math.ceil(runs / all.length));
    for (const codec of all) {
      const input = fc.oneof(
        { weight: 3, arbitrary: byteInputs(codec.seeds) },
        { weight: 1, arbitrary: wireBytes },
      );
      report = merge(
        report,
        await check(
          fc.property(input, (data) => roundTrips(codec, data)),
          share,
          seed,
        ),
      );
    }
    return report;
  },
};
