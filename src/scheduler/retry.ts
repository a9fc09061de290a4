// Where and when a run is tried again: after a failed or timed-out attempt (the job's retry policy, its
// backoff and the callee's Retry-After), and after a run was lost in flight (recovery). The finisher and
// the lease keeper record what is decided here.
import type { RetryPolicy } from "../domain/schemas.ts";
import { parseDuration } from "../schedule/duration.ts";
import type { HeldRetry } from "../store/finishes.ts";
import type { RecoveryRule } from "../store/leases.ts";
import type { Claimed, Final, SchedulerConfig } from "./types.ts";

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

/** A retry to queue: its attempt number, when it is due, and until when this node holds it (null: none). */
export interface RetryPlan {
  attempt: number;
  dueAt: number;
  leaseUntil: number | null;
}

/**
 * The retry of a run that ended `status` at `now`, or null: only failed and timed-out attempts are retried,
 * while the job's budget lasts. A retry due within the lookahead stays with this node; a later one is left
 * for any node to claim.
 */
export function retryAfterEnd(run: Claimed, status: Final, retryAfterMs: number | undefined, now: number, c: SchedulerConfig): RetryPlan | null {
  if (status !== "failed" && status !== "timed_out") return null;
  const delay = retryDelay(run.job.retry, c.defaultRetry, run.attempt, retryAfterMs, Math.random, c.minEvery);
  if (delay === null) return null;
  return { attempt: run.attempt + 1, dueAt: now + delay, leaseUntil: delay <= c.lookahead ? now + delay + c.lease : null };
}

/**
 * A run lost in flight (its node stopped or lost its lease) is tried again at once, as its next attempt,
 * while the job's retry budget allows, and at least once whatever the budget: runs are at-least-once.
 */
export function recoveryRule(now: number, c: SchedulerConfig): RecoveryRule {
  return { dueAt: now, defaultTimes: c.defaultRetry.times, minTimes: 1 };
}

/** The retry of `run` that this node queued and holds, as a claimed run. */
export function heldRetryOf(run: Claimed, r: HeldRetry): Claimed {
  return { ...run, id: r.id, dueAt: r.dueAt, trigger: "retry", attempt: r.attempt, key: r.key, fence: 1, catchUp: false, cancelled: false };
}
