// Vote bitmaps: bit i says "the vote of validator i" (i its index in the validator set's order),
// least significant bit first within each byte. The vote exchange sends them to tell a peer
// which votes of a (height, round) we hold, and to ask for the ones we lack.
import { MAX_VALIDATORS } from "../../lib/validator.js";

/** Enough bytes for one bit per validator of the largest set. */
export const MAX_BITMAP_BYTES = Math.ceil(MAX_VALIDATORS / 8);

/** A bitmap with room for `size` validators, all bits clear. */
export function emptyBitmap(size: number): Uint8Array {
  if (!Number.isInteger(size) || size < 0 || size > MAX_VALIDATORS) {
    throw new RangeError(`bitmap size ${size} is not in [0, ${MAX_VALIDATORS}]`);
  }
  return new Uint8Array(Math.ceil(size / 8));
}

export function setBit(bitmap: Uint8Array, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= bitmap.length * 8) {
    throw new RangeError(`bit ${index} is outside a ${bitmap.length}-byte bitmap`);
  }
  bitmap[index >> 3] = (bitmap[index >> 3] ?? 0) | (1 << (index & 7));
}

/** Whether bit `index` is set; bits beyond the bitmap's end count as clear. */
export function hasBit(bitmap: Uint8Array, index: number): boolean {
  return (((bitmap[index >> 3] ?? 0) >> (index & 7)) & 1) === 1;
}

/** The bits set in `theirs` and clear in `mine`: the votes a peer has that we lack. */
export function missingBits(theirs: Uint8Array, mine: Uint8Array): Uint8Array {
  const out = new Uint8Array(theirs.length);
  for (let i = 0; i < theirs.length; i++) out[i] = (theirs[i] ?? 0) & ~(mine[i] ?? 0);
  return out;
}

export function countBits(bitmap: Uint8Array): number {
  let n = 0;
  for (let b of bitmap) {
    while (b !== 0) {
      b &= b - 1;
      n++;
    }
  }
  return n;
}

/** The indexes of the set bits, ascending. */
export function bitIndexes(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bitmap.length * 8; i++) if (hasBit(bitmap, i)) out.push(i);
  return out;
}
