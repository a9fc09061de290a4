// Values grouped by a key, in the order added, where most keys have one value (most jobs have one run
// held or running at a time): a lone value is kept as itself, a Set only made for a second one.
export class Groups<K, V> {
  #map = new Map<K, V | Set<V>>();

  add(key: K, value: V): void {
    const g = this.#map.get(key);
    if (g === undefined) this.#map.set(key, value);
    else if (g instanceof Set) g.add(value);
    else if (g !== value) this.#map.set(key, new Set([g, value]));
  }

  /** Removes one value; false when it was not there. */
  delete(key: K, value: V): boolean {
    const g = this.#map.get(key);
    if (g === undefined) return false;
    if (!(g instanceof Set)) {
      if (g !== value) return false;
      this.#map.delete(key);
      return true;
    }
    if (!g.delete(value)) return false;
    if (g.size === 0) this.#map.delete(key);
    return true;
  }

  count(key: K): number {
    const g = this.#map.get(key);
    return g === undefined ? 0 : g instanceof Set ? g.size : 1;
  }

  /** The key's values, in the order added. */
  of(key: K): V[] {
    const g = this.#map.get(key);
    return g === undefined ? [] : g instanceof Set ? [...g] : [g];
  }

  /** Removes the key; returns its values. */
  take(key: K): V[] {
    const values = this.of(key);
    this.#map.delete(key);
    return values;
  }

  clear(): void {
    this.#map.clear();
  }
}
