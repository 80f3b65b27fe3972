// A meter reading (DESIGN.md §6 "Readings"): the meter's cumulative import registers in Wh at
// one instant. Readings name the meter by the hash of its id, so meter ids never go on chain.
import { concatBytes } from "../../lib/bytes.js";
import { bytes, encode, type Infer, optional, struct, text, u64 } from "../../lib/codec.js";
import { domainPrefix } from "../../lib/hash.js";
import { HashSchema, listOf } from "./common.js";

export const RegistersSchema = listOf(u64, 1, 2);

export const ReadingSchema = struct("Reading", {
  meterIdHash: HashSchema,
  /** Unix ms. */
  time: u64,
  /** One register, or off-peak then peak. */
  registers: RegistersSchema,
  /** Present when the household's meter has a registered key. */
  signature: optional(bytes({ length: 64 })),
});
export type Reading = Infer<typeof ReadingSchema>;

/** What the meter signs: the chain id keeps a reading from being replayed on another chain. */
export const SignedReadingBodySchema = struct("SignedReadingBody", {
  chainId: text(64),
  meterIdHash: HashSchema,
  time: u64,
  registers: RegistersSchema,
});

export function readingSignBytes(chainId: string, reading: Reading): Uint8Array {
  const { meterIdHash, time, registers } = reading;
  return concatBytes(
    domainPrefix("meter-reading"),
    encode(SignedReadingBodySchema, { chainId, meterIdHash, time, registers }),
  );
}
