// Host name resolution for outgoing calls. The egress policy judges the addresses a name resolves to and
// the executors connect to one of those very addresses, so a name is resolved once per attempt, here, and
// never again by the HTTP or TCP client (no DNS-rebinding window between the check and the connection).
import { lookup } from "node:dns/promises";

/** The addresses a host name resolves to, in the resolver's order. Rejects when it resolves to none. */
export type Resolver = (host: string) => Promise<string[]>;

/** The system's resolver (getaddrinfo: /etc/hosts, then DNS), every address it gives. */
export const systemResolver: Resolver = async (host) => {
  const found = await lookup(host, { all: true, order: "verbatim" });
  if (found.length === 0) throw new Error(`${host} resolves to no address`);
  return found.map((a) => a.address);
};

export interface CacheOptions {
  /** How long an answer is reused (getaddrinfo gives no TTL: a short fixed one). */
  ttlMs?: number;
  /** Names kept at most; the oldest answer goes first. */
  max?: number;
  now?: () => number;
}

/**
 * Reuses each answer for a short while and shares one lookup between concurrent callers: a burst of runs
 * to one host resolves it once. Failures are not kept (the next attempt asks again).
 */
export function cachedResolver(resolve: Resolver, opts: CacheOptions = {}): Resolver {
  const ttl = opts.ttlMs ?? 5_000;
  const max = opts.max ?? 1_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { at: number; answer: Promise<string[]> }>();
  return (host) => {
    const key = host.toLowerCase();
    const hit = cache.get(key);
    if (hit && now() - hit.at < ttl) return hit.answer;
    if (hit) cache.delete(key);
    const answer = resolve(host);
    const entry = { at: now(), answer };
    cache.set(key, entry);
    answer.catch(() => {
      if (cache.get(key) === entry) cache.delete(key);
    });
    // Map order is insertion order: the first key is the oldest answer.
    if (cache.size > max) cache.delete(cache.keys().next().value!);
    return answer;
  };
}
