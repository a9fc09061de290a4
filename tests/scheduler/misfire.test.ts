// Misfire decisions: which missed slots run, a pure function of the plan, the policy and the time.
import { describe, expect, test } from "bun:test";
import { compilePlan, type Plan } from "../../src/schedule/index.ts";
import { decideSlots } from "../../src/scheduler/misfire.ts";

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
