// Retry backoff and misfire decisions: pure functions of policy and time.
import { describe, expect, test } from "bun:test";
import { compilePlan, type Plan } from "../../src/schedule/index.ts";
import { decideSlots, retryDelay } from "../../src/scheduler/policy.ts";

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const plan = (schedule: string): Plan => {
  const r = compilePlan({ schedule }, T0);
  if (!r.ok) throw new Error(r.error.message);
  return r.plan;
};

describe("misfire after a long downtime", () => {
  const every = plan("@every 1s");
  const first = T0 + 1000;
  const now = T0 + 3_600_000 + 500; // an hour later

  test("once fires the latest missed slot, however many were missed, and notes the rest", () => {
    const d = decideSlots(every, first, 0, now, "once", 5000, 100);
    expect(d.fire).toEqual([T0 + 3_600_000]);
    expect(d.more).toBe(true);
    expect(d.skipped).toBeGreaterThanOrEqual(1000);
    expect(d.next).toBe(T0 + 3_601_000);
  });

  test("skip fires none; all fires up to the cap, in order", () => {
    const skip = decideSlots(every, first, 0, now, "skip", 5000, 100);
    expect(skip.fire).toEqual([]);
    expect(skip.next).toBe(T0 + 3_601_000);
    const all = decideSlots(every, first, 0, now, "all", 5000, 100);
    expect(all.fire).toHaveLength(100);
    expect(all.fire[0]).toBe(first);
    expect(all.fire[99]).toBe(first + 99_000);
    expect(all.more).toBe(true);
    expect(all.next).toBe(T0 + 3_601_000);
  });

  test("a cron job missed over a day fires its latest slot", () => {
    const d = decideSlots(plan("*/5 * * * *"), T0 + 300_000, 0, T0 + 86_400_000 + 60_000, "once", 5000, 100);
    expect(d.fire).toEqual([T0 + 86_400_000]);
    expect(d.next).toBe(T0 + 86_400_000 + 300_000);
  });

  test("a slot late by less than the threshold is not a misfire", () => {
    expect(decideSlots(every, first, 0, first + 4000, "skip", 5000, 100)).toMatchObject({ fire: [first], skipped: 0 });
  });
});

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
