// Retry decisions: whether, when and as which attempt a run is tried again; pure functions of the policy and the time.
import { describe, expect, test } from "bun:test";
import { recoveryRule, retryAfterEnd, retryDelay } from "../../src/scheduler/retry.ts";
import type { Claimed, SchedulerConfig } from "../../src/scheduler/types.ts";

describe("retry delays", () => {
  const defaults = { times: 0, interval: 1000, backoff: "exponential" as const, maxInterval: 60_000, jitter: 0 };
  test("fixed and exponential, capped by maxInterval, none once the budget is spent", () => {
    const exp = { times: 5, interval: "1s", backoff: "exponential" as const, maxInterval: "5s" };
    expect([1, 2, 3, 4, 5, 6].map((a) => retryDelay(exp, defaults, a, undefined))).toEqual([1000, 2000, 4000, 5000, 5000, null]);
    const fixed = { times: 2, interval: "3s", backoff: "fixed" as const };
    expect([1, 2, 3].map((a) => retryDelay(fixed, defaults, a, undefined))).toEqual([3000, 3000, null]);
    expect(retryDelay(null, defaults, 1, undefined)).toBeNull();
  });

  test("jitter takes up to its share off; Retry-After wins when longer, within the cap", () => {
    const p = { times: 3, interval: "10s", backoff: "fixed" as const, maxInterval: "30s" };
    expect(retryDelay(p, { ...defaults, jitter: 0.2 }, 1, undefined, () => 1)).toBe(8000);
    expect(retryDelay(p, { ...defaults, jitter: 0.2 }, 1, undefined, () => 0)).toBe(10_000);
    expect(retryDelay(p, defaults, 1, 20_000)).toBe(20_000);
    expect(retryDelay(p, defaults, 1, 3_600_000)).toBe(30_000);
  });
});

describe("retry after an attempt ends", () => {
  const config = {
    defaultRetry: { times: 0, interval: 1000, backoff: "fixed" as const, maxInterval: 60_000, jitter: 0 },
    minEvery: 0,
    lookahead: 5_000,
    lease: 30_000,
  } as SchedulerConfig;
  const run = (attempt: number, retry: Claimed["job"]["retry"]) => ({ attempt, job: { retry } }) as Claimed;
  const policy = { times: 2, interval: "2s", backoff: "fixed" as const };
  const NOW = 1_000_000;

  test("failed and timed-out attempts are retried as the next attempt, after the backoff", () => {
    for (const status of ["failed", "timed_out"] as const) {
      expect(retryAfterEnd(run(1, policy), status, undefined, NOW, config)).toEqual({ attempt: 2, dueAt: NOW + 2000, leaseUntil: NOW + 2000 + 30_000 });
    }
  });

  test("succeeded, killed and skipped runs are not retried, nor a run whose budget is spent", () => {
    for (const status of ["succeeded", "killed", "skipped"] as const) expect(retryAfterEnd(run(1, policy), status, undefined, NOW, config)).toBeNull();
    expect(retryAfterEnd(run(3, policy), "failed", undefined, NOW, config)).toBeNull();
    expect(retryAfterEnd(run(1, null), "failed", undefined, NOW, config)).toBeNull(); // the default: no retries
  });

  test("a retry due beyond the lookahead is left for any node (no lease)", () => {
    expect(retryAfterEnd(run(1, { ...policy, interval: "1m" }), "failed", undefined, NOW, config)).toEqual({ attempt: 2, dueAt: NOW + 60_000, leaseUntil: null });
  });

  test("the callee's Retry-After pushes the retry back", () => {
    expect(retryAfterEnd(run(1, policy), "failed", 4_000, NOW, config)?.dueAt).toBe(NOW + 4_000);
  });

  test("a run lost in flight is recovered at once, at least once whatever the budget", () => {
    expect(recoveryRule(NOW, config)).toEqual({ dueAt: NOW, defaultTimes: 0, minTimes: 1 });
  });
});
