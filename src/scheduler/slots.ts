// A limit per key on runs executing at once: per key (max_in_flight_per_key) and per namespace ([limits]
// max_in_flight). Due runs beyond a key's limit wait in that key's queue, oldest first, while other keys'
// runs go ahead.
export class Slots<T> {
  #busy = new Map<string, number>();
  #waiting = new Map<string, T[]>();
  #count = 0;

  constructor(private readonly limit: (key: string) => number) {}

  /** Items waiting for their key. */
  get waiting(): number {
    return this.#count;
  }

  /** Items waiting for `key`. */
  waitingFor(key: string): number {
    return this.#waiting.get(key)?.length ?? 0;
  }

  full(key: string): boolean {
    return (this.#busy.get(key) ?? 0) >= this.limit(key);
  }

  /** One more executing under `key`. */
  take(key: string): void {
    this.#busy.set(key, (this.#busy.get(key) ?? 0) + 1);
  }

  /** Waits for a slot of `key`. */
  wait(key: string, item: T): void {
    this.#count++;
    const q = this.#waiting.get(key);
    if (q) q.push(item);
    else this.#waiting.set(key, [item]);
  }

  /** Stops waiting (the item was killed or cancelled); false when it was not waiting. */
  remove(key: string, item: T): boolean {
    const q = this.#waiting.get(key);
    const i = q ? q.indexOf(item) : -1;
    if (i < 0) return false;
    q!.splice(i, 1);
    this.#count--;
    if (q!.length === 0) this.#waiting.delete(key);
    return true;
  }

  /** A run of `key` ended: frees its slot and returns the oldest item waiting for it, to start. */
  release(key: string): T | undefined {
    const n = (this.#busy.get(key) ?? 1) - 1;
    if (n > 0) this.#busy.set(key, n);
    else this.#busy.delete(key);
    const q = this.#waiting.get(key);
    if (!q) return undefined;
    const next = q.shift();
    this.#count--;
    if (q.length === 0) this.#waiting.delete(key);
    return next;
  }

  clear(): void {
    this.#waiting.clear();
    this.#count = 0;
  }
}
