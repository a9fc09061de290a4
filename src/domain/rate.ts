// A token bucket per API key: `burst` requests at once, refilled at `count` per `perMs`. In memory, per
// node: a cluster of n nodes lets a key make up to n times the rate.
export interface Rate {
  count: number;
  perMs: number;
}

export class RateLimiter {
  #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: Rate | null,
    private readonly burst: number,
  ) {}

  /** Takes one request for `key`: 0 when allowed, else the milliseconds until one would be. */
  take(key: string, now: number): number {
    if (!this.rate) return 0;
    const perMs = this.rate.count / this.rate.perMs;
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= 100_000) this.#buckets.clear(); // keys are few; never let this grow unbounded
      this.#buckets.set(key, (b = { tokens: this.burst, at: now }));
    }
    b.tokens = Math.min(this.burst, b.tokens + Math.max(0, now - b.at) * perMs);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / perMs);
  }
}

/** "50/s", "600/m", "10000/h". */
export function formatRate(rate: Rate): string {
  return `${rate.count}/${rate.perMs === 1000 ? "s" : rate.perMs === 60_000 ? "m" : "h"}`;
}
