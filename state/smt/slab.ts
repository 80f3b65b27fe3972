// Byte arrays carved from shared 64 KiB slabs. A typed array with a buffer of its own costs
// several times more to allocate and to collect than a view into a shared one, and the tree
// allocates thousands per batch (node images, encodings) that are dropped together.
const SLAB_SIZE = 1 << 16;
let slab = new ArrayBuffer(0);
let used = 0;

/** A zero-filled array of `size` bytes; small ones are views into a slab. */
export function allocate(size: number): Uint8Array {
  if (size > SLAB_SIZE >> 3) return new Uint8Array(size);
  if (used + size > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_SIZE);
    used = 0;
  }
  const out = new Uint8Array(slab, used, size);
  used += size;
  return out;
}
