import { fileURLToPath } from "node:url";

/** A committed fixture, from dist/test/meter-oracle/ back to the source tree. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));
}

/** Everything an async iterable yields. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Splits text into chunks of `size` bytes, cutting through multi-byte characters and CRLFs. */
export function* byteChunks(text: string | Uint8Array, size: number): Generator<Uint8Array> {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
