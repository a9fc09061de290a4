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

/** Delay before attempt `attempt + 1`, or null when the retry budget is spent. */
export function retryDelay(
  policy: RetryPolicy | null,
  defaults: RetryDefaults,
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
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
  return Math.round(delay);
}

export type Misfire = "skip" | "once" | "all";

export interface SlotDecision {
  /** Slots to run now. */
  fire: number[];
  /** Missed slots not run (misfire skip, or beyond the `all` cap). */
  skipped: number;
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
  const limit = policy === "all" ? cap : 1000;
  let t: number | null = slot;
  for (;;) {
    t = nextFire(plan, t, fired + missed.length);
    if (t === null || t > now || missed.length >= limit) break;
    missed.push(t);
  }
  let fire: number[];
  if (policy === "skip") fire = [];
  else if (policy === "once") fire = [missed[missed.length - 1]];
  else fire = missed;
  const firedNow = fired + fire.length;
  // Missed slots that were not run still count as passed: the next slot is the first after now.
  const next = nextFire(plan, Math.max(now, missed[missed.length - 1]), policy === "all" ? firedNow : fired + (policy === "once" ? 1 : 0));
  return { fire, skipped: missed.length - fire.length, next };
}
