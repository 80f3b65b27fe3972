// The common currency of the meter readers: interval energy in integer Wh over UTC seconds.
// Every reader turns its format into IntervalReadings; everything downstream (registers, the
// time map, downsampling) works on these alone, so no format's quirks leak past its reader.
import { TextDecoder } from "node:util";

/** Energy imported over [start, start + durationSec). */
export interface IntervalReading {
  /** Unix seconds, UTC. */
  readonly start: bigint;
  /** Length in seconds, > 0. */
  readonly durationSec: bigint;
  /** Energy in integer Wh, ≥ 0. */
  readonly wh: bigint;
}

export type MeterDataErrorCode =
  | "BAD_ENCODING" // input bytes are not UTF-8
  | "MALFORMED_XML" // not well-formed XML
  | "BAD_ESPI" // well-formed XML that is not a usable ESPI feed (missing or invalid fields)
  | "UNSUPPORTED_UOM" // an ESPI series not in Wh (uom 72)
  | "UNSUPPORTED_READING_TYPE" // an ESPI series that is not forward interval (delta) energy
  | "AMBIGUOUS_SERIES" // more than one usable series where exactly one was expected
  | "BAD_DECIMAL" // a kWh string outside the accepted grammar
  | "BAD_CSV_HEADER" // the first line is not a London smart-meter header
  | "LINE_TOO_LONG" // a CSV line over the reader's limit (never a real row)
  | "BAD_INTERVALS" // intervals overlapping, out of order, empty, or negative
  | "NOT_MONOTONIC" // snapshots whose times go backwards
  | "BAD_PEAK_WINDOWS" // peak windows out of range, empty or overlapping
  | "BAD_TIME_MAP" // a time map whose months or periods are not increasing
  | "BAD_PROFILE" // a profile file that does not match its format
  | "BAD_RESPONSES" // a household-responses file that does not match its format
  | "BAD_OPTION"; // an option out of range (snapshot interval, simulated-meter settings)

export class MeterDataError extends Error {
  override name = "MeterDataError";
  constructor(
    readonly code: MeterDataErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** What the readers consume: a Node Readable, a web stream reader's chunks, or plain strings. */
export type ChunkSource = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/**
 * The text of a chunked source, decoded as UTF-8 across chunk boundaries, one chunk at a time so
 * a year of data is never held at once. A source should yield either strings or bytes, not both.
 */
export async function* textChunks(source: ChunkSource): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for await (const chunk of source) {
    const text = typeof chunk === "string" ? chunk : decodeStrict(decoder, chunk);
    if (text.length > 0) yield text;
  }
  const tail = decodeStrict(decoder, undefined);
  if (tail.length > 0) yield tail;
}

function decodeStrict(decoder: TextDecoder, chunk: Uint8Array | undefined): string {
  try {
    return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
  } catch {
    // A fatal TextDecoder throws only for invalid or truncated UTF-8.
    throw new MeterDataError("BAD_ENCODING", "input is not valid UTF-8");
  }
}
