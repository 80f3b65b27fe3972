// A Map that holds at most `capacity` entries, for caches keyed by byteString. It keeps insertion
// order only: when a new key finds it full, it is rebuilt from its newer half, the entries least
// likely to be asked for again being the ones inserted longest ago. (Dropping a fixed older
// generation lost live entries every few rounds however large the capacity; deleting a Map's
// first entries one by one makes its iterator slow.) A capacity below 2 holds nothing.
export class BoundedMap<V> {
  private entries = new Map<string, V>();

  constructor(readonly capacity: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    if (this.capacity < 2) return;
    if (this.entries.size >= this.capacity && !this.entries.has(key)) {
      const kept = new Map<string, V>();
      let skip = this.entries.size - (this.capacity >> 1);
      for (const [k, v] of this.entries) if (skip-- <= 0) kept.set(k, v);
      this.entries = kept;
    }
    this.entries.set(key, value);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  get size(): number {
    return this.entries.size;
  }
}
