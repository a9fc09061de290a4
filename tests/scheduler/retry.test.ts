// Retry decisions: whether, when and as which attempt a run is tried again; pure functions of the policy and the time.
import { describe, expect, test } from "bun:test";
import { retryDelay } from "../../src/scheduler/retry.ts";

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
