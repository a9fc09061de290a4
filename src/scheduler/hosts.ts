// The per-host limit: at most `limit` runs executing against one host; due runs beyond it wait in that
// host's queue, oldest first, while other hosts' runs go ahead.
export class HostSlots<T> {
  #busy = new Map<string, number>();
  #waiting = new Map<string, T[]>();
  #count = 0;

  constructor(private readonly limit: () => number) {}

  /** Items waiting for their host. */
  get waiting(): number {
    return this.#count;
  }

  full(host: string): boolean {
    return (this.#busy.get(host) ?? 0) >= this.limit();
  }

  /** One more executing against `host`. */
  take(host: string): void {
    this.#busy.set(host, (this.#busy.get(host) ?? 0) + 1);
  }

  /** Waits for a slot of `host`. */
  wait(host: string, item: T): void {
    this.#count++;
    const q = this.#waiting.get(host);
    if (q) q.push(item);
    else this.#waiting.set(host, [item]);
  }

  /** Stops waiting (the item was killed or cancelled); false when it was not waiting. */
  remove(host: string, item: T): boolean {
    const q = this.#waiting.get(host);
    const i = q ? q.indexOf(item) : -1;
    if (i < 0) return false;
    q!.splice(i, 1);
    this.#count--;
    if (q!.length === 0) this.#waiting.delete(host);
    return true;
  }

  /** A run against `host` ended: frees its slot and returns the oldest item waiting for it, to start. */
  release(host: string): T | undefined {
    const n = (this.#busy.get(host) ?? 1) - 1;
    if (n > 0) this.#busy.set(host, n);
    else this.#busy.delete(host);
    const q = this.#waiting.get(host);
    if (!q) return undefined;
    const next = q.shift();
    this.#count--;
    if (q.length === 0) this.#waiting.delete(host);
    return next;
  }

  clear(): void {
    this.#waiting.clear();
    this.#count = 0;
  }
}
