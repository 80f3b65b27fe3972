// What every fuzz target shares: the target's shape, running a fast-check property for a number of
// cases without throwing (a failure is a report line, with its shrunk counterexample and seed so
// it can be replayed and kept as a regression test), and the input generators most targets use —
// random bytes and mutations of valid encodings.
import fc from "fast-check";

export interface FuzzReport {
  /** Cases tried, including the failing one. */
  readonly cases: number;
  /** One line per failure: what broke, the seed, and the shrunk input. */
  readonly failures: readonly string[];
}

export interface FuzzTarget {
  readonly name: string;
  /**
   * Tries `runs` cases from `seed` (the same seed tries the same cases). Resolves with the report;
   * a failing case is reported, not thrown.
   */
  run(runs: number, seed: number): Promise<FuzzReport>;
}

/** A case that broke the target's promise: a bug, not hostile input being refused. */
export class FuzzFailure extends Error {
  override name = "FuzzFailure";
}

/** Checks a property for `runs` cases and turns the outcome into a report. */
export async function check<T>(
  property: fc.IAsyncProperty<T> | fc.IProperty<T>,
  runs: number,
  seed: number,
): Promise<FuzzReport> {
  const details = await fc.check(property as fc.IAsyncProperty<T>, { numRuns: runs, seed });
  if (!details.failed) return { cases: details.numRuns, failures: [] };
  const error = details.errorInstance;
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const input = details.counterexample ? fc.stringify(details.counterexample) : "(none)";
  return {
    cases: details.numRuns,
    failures: [`${what} (seed ${seed}, path ${details.counterexamplePath}) on ${clip(input)}`],
  };
}

function clip(text: string, max = 2000): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}

/** Adds reports up. */
export function merge(a: FuzzReport, b: FuzzReport): FuzzReport {
  return { cases: a.cases + b.cases, failures: [...a.failures, ...b.failures] };
}

/** Calls `fn`; passes if it returns or throws one of the `allowed` error classes. */
export function expectOnly(
  allowed: ReadonlyArray<abstract new (...args: never[]) => Error>,
  fn: () => void,
): void {
  try {
    fn();
  } catch (error) {
    if (allowed.some((kind) => error instanceof kind)) return;
    throw error;
  }
}

// -----------------------------------------------------------------------------------------------
// Byte inputs.

/** msgpack lead bytes that steer a parser into its rarer paths: nil, bin/str/array/map headers
 * with 8/16/32-bit lengths, ext types, 64-bit ints and floats, and the never-used 0xc1. */
const MSGPACK_MARKERS = [
  0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
  0xca, 0xcb, 0xcc, 0xcf, 0xd3, 0xd4, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff,
];

type Mutation =
  | { readonly kind: "flip"; readonly at: number; readonly bit: number }
  | { readonly kind: "set"; readonly at: number; readonly value: number }
  | { readonly kind: "insert"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: "delete"; readonly at: number; readonly length: number }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "repeat"; readonly at: number; readonly length: number };

const position = fc.nat();
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: position,
    bit: fc.integer({ max: 7, min: 0 }),
  }),
  fc.record({
    kind: fc.constant("set" as const),
    at: position,
    value: fc.oneof(fc.constantFrom(...MSGPACK_MARKERS), fc.integer({ min: 0, max: 255 })),
  }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: position,
    length: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: position }),
  fc.record({
    kind: fc.constant("repeat" as const),
    at: position,
    length: fc.integer({ min: 1, max: 64 }),
  }),
);

function mutate(data: Uint8Array, m: Mutation): Uint8Array {
  const at = data.length === 0 ? 0 : m.at % (data.length + 1);
  const out = [...data];
  switch (m.kind) {
    case "flip":
      if (at < out.length) out[at] = out[at]! ^ (1 << m.bit);
      break;
    case "set":
      if (at < out.length) out[at] = m.value;
      break;
    case "insert":
      out.splice(at, 0, ...m.bytes);
      break;
    case "delete":
      out.splice(at, m.length);
      break;
    case "truncate":
      out.length = at;
      break;
    case "repeat":
      out.splice(at, 0, ...out.slice(at, at + m.length));
      break;
  }
  return Uint8Array.from(out);
}

/** One of the seeds with one to four byte-level mutations. */
export function mutated(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([seed, mutations]) => mutations.reduce(mutate, seed));
}

/** Random bytes, mostly short, sometimes led by a msgpack marker. */
export const randomBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(fc.constantFrom(...MSGPACK_MARKERS), fc.uint8Array({ maxLength: 512 }))
    .map(([lead, rest]) => Uint8Array.of(lead, ...rest)),
);

/** Random inputs, mutated seeds and the seeds themselves (which must pass). */
export function byteInputs(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...seeds) },
    { weight: 3, arbitrary: randomBytes },
    { weight: 6, arbitrary: mutated(seeds) },
  );
}
