/**
 * A bounded map that forgets its least recently used entry first: the one LRU both decision
 * caches use (the node gate's and the authorizer's; each keeps its own TTL rules in its values).
 * A Map keeps insertion order, so re-inserting on use makes the first key the least recent.
 */
export class LruMap<V> {
  private readonly map = new Map<string, V>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`maxEntries is ${maxEntries}; give a whole number >= 1`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, marked most recently used. */
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** The value, without marking it used. */
  peek(key: string): V | undefined {
    return this.map.get(key);
  }

  /** Stores the value as the most recently used; forgets the least recent beyond maxEntries. */
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string);
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
