// Retry backoff and misfire handling: pure functions of the job's policy and the time.
import type { RetryPolicy } from "../domain/schemas.ts";
import { nextFire, type Plan } from "../schedule/index.ts";
import { parseDuration } from "../schedule/duration.ts";

export interface RetryDefaults {
  times: number;
  interval: number;
  backoff: "fixed" | "exponential";
  maxInterval: number;
  jitter: number;
}

/**
 * Delay before attempt `attempt + 1`, or null when the retry budget is spent. Never under `minMs`
 * (scheduler.min_every): a job cannot make tock retry in a tight loop, jitter and defaults included.
 */
export function retryDelay(
  policy: RetryPolicy | null,
  defaults: RetryDefaults,
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
  minMs = 0,
): number | null {
  const times = policy?.times ?? defaults.times;
  if (attempt > times) return null;
  const interval = policy ? (parseDuration(policy.interval) ?? defaults.interval) : defaults.interval;
  const backoff = policy?.backoff ?? defaults.backoff;
  const max = policy?.maxInterval ? (parseDuration(policy.maxInterval) ?? defaults.maxInterval) : defaults.maxInterval;
  let delay = backoff === "exponential" ? interval * 2 ** Math.min(attempt - 1, 30) : interval;
  delay = Math.min(delay, Math.max(max, interval));
  // Jitter spreads retries of many runs that failed together (a receiver's outage) over time.
  delay = delay * (1 - defaults.jitter * random());
  // The callee's Retry-After wins when longer, within the same ceiling.
  if (retryAfterMs !== undefined) delay = Math.max(delay, Math.min(retryAfterMs, Math.max(max, interval)));
  return Math.max(minMs, Math.round(delay));
}

export type Misfire = "skip" | "once" | "all";

export interface SlotDecision {
  /** Slots to run now. */
  fire: number[];
  /** Missed slots not run (misfire skip, or beyond the `all` cap); a lower bound when `more`. */
  skipped: number;
  /** More slots were missed than were counted. */
  more?: boolean;
  /** The job's next slot after these, or null when it has none. */
  next: number | null;
}

/**
 * Decides what to run for a job whose stored slot is `slot`. A slot older than `threshold` at `now` is a
 * misfire (the scheduler was down or behind): `skip` runs none of the missed slots, `once` runs one (the
 * latest) and `all` runs each, up to `cap`.
 */
export function decideSlots(plan: Plan, slot: number, fired: number, now: number, policy: Misfire, threshold: number, cap: number): SlotDecision {
  if (slot >= now - threshold) return { fire: [slot], skipped: 0, next: nextFire(plan, slot, fired + 1) };
  const missed: number[] = [slot];
  const limit = policy === "all" ? cap : COUNT_LIMIT;
  let t: number | null = slot;
  let more = false;
  for (;;) {
    t = nextFire(plan, t, fired + missed.length);
    if (t === null || t > now) break;
    if (missed.length >= limit) {
      more = true;
      break;
    }
    missed.push(t);
  }
  let fire: number[];
  if (policy === "skip") fire = [];
  else if (policy === "once") fire = [more ? latestBy(plan, missed[missed.length - 1], now, fired) : missed[missed.length - 1]];
  else fire = missed;
  const last = Math.max(fire[fire.length - 1] ?? 0, missed[missed.length - 1]);
  // Missed slots that were not run still count as passed: the next slot is the first after now.
  const next = nextFire(plan, Math.max(now, last), fired + fire.length);
  return { fire, skipped: missed.length - fire.length + (more ? 1 : 0), more, next };
}

/** Missed slots counted one by one at most; past that, the latest is found by searching back from now. */
const COUNT_LIMIT = 1000;

/** The last slot in (from, now], searching back from now over a widening window. */
function latestBy(plan: Plan, from: number, now: number, fired: number): number {
  for (let span = 60_000; ; span *= 4) {
    const lo = Math.max(from, now - span);
    let last = nextFire(plan, lo, fired);
    if (last !== null && last <= now) {
      for (let i = 0; i < 100_000; i++) {
        const n = nextFire(plan, last, fired);
        if (n === null || n > now) break;
        last = n;
      }
      return last;
    }
    if (lo === from) return from;
  }
}
