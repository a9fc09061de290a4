import { describe, expect, test } from "bun:test";
import { compilePlan, firstFire, nextFire, type Plan, type ScheduleInput } from "../../src/schedule/index.ts";

const T = (s: string): number => Date.parse(s);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString().replace(".000Z", "Z"));
const NOW = "2026-01-10T12:00:00Z";

function plan(input: ScheduleInput, now = NOW, opts?: { minEveryMs?: number }): Plan {
  const r = compilePlan(input, T(now), opts);
  if (!r.ok) throw new Error(`${r.error.field}: ${r.error.message}`);
  return r.plan;
}

/** Every fire of a plan, the first at creation, then each next one, up to `max`. */
function fires(input: ScheduleInput, max = 10, now = NOW, opts?: { minEveryMs?: number }): string[] {
  const p = plan(input, now, opts);
  const out: string[] = [];
  let t = firstFire(p, T(now));
  while (t !== null && out.length < max) {
    out.push(iso(t)!);
    t = nextFire(p, t, out.length);
  }
  return out;
}

function rejected(input: ScheduleInput, now = NOW, opts?: { minEveryMs?: number }): { field: string; message: string } {
  const r = compilePlan(input, T(now), opts);
  if (r.ok) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  expect(r.error.message.length).toBeGreaterThan(10);
  return r.error;
}

describe("kinds", () => {
  test("no schedule and no dueTime: manual, never fires by itself", () => {
    const p = plan({});
    expect(p).toEqual({ kind: "manual", schedule: null, timezone: "UTC", dueAt: null, anchorAt: null, startAt: null, endAt: null, repeats: null });
    expect(firstFire(p, T(NOW))).toBeNull();
    expect(nextFire(p, T(NOW), 0)).toBeNull();
    expect(plan({ schedule: "  " }).kind).toBe("manual");
  });

  test("dueTime alone: once", () => {
    const p = plan({ dueTime: "30s" });
    expect(p.kind).toBe("once");
    expect(p.dueAt).toBe(T("2026-01-10T12:00:30Z"));
    expect(fires({ dueTime: "30s" })).toEqual(["2026-01-10T12:00:30Z"]);
  });

  test("dueTime forms: Go duration, ISO duration, RFC 3339 (past fires at once)", () => {
    expect(plan({ dueTime: "1h30m" }).dueAt).toBe(T("2026-01-10T13:30:00Z"));
    expect(plan({ dueTime: "0s" }).dueAt).toBe(T(NOW));
    expect(plan({ dueTime: "PT10S" }).dueAt).toBe(T("2026-01-10T12:00:10Z"));
    expect(plan({ dueTime: "P1D", timezone: "America/New_York" }, "2027-03-13T14:00:00Z").dueAt).toBe(T("2027-03-14T13:00:00Z"));
    expect(plan({ dueTime: "2026-02-01T09:00:00+01:00" }).dueAt).toBe(T("2026-02-01T08:00:00Z"));
    expect(fires({ dueTime: "2020-01-01T00:00:00Z" })).toEqual(["2020-01-01T00:00:00Z"]);
  });

  test("cron: first fire after now, in the job's zone", () => {
    const p = plan({ schedule: "0 9 * * *", timezone: "Europe/London" });
    expect(p.kind).toBe("cron");
    expect(p.schedule).toBe("0 9 * * *");
    expect(fires({ schedule: "0 9 * * *", timezone: "Europe/London" }, 2)).toEqual(["2026-01-11T09:00:00Z", "2026-01-12T09:00:00Z"]);
    expect(fires({ schedule: "0 9 * * *", timezone: "America/New_York" }, 1)).toEqual(["2026-01-10T14:00:00Z"]);
    expect(fires({ schedule: "@hourly" }, 2, "2026-01-10T12:00:00.001Z")).toEqual(["2026-01-10T13:00:00Z", "2026-01-10T14:00:00Z"]);
  });

  test("cron created exactly on a slot fires at its following slot, not at once", () => {
    expect(fires({ schedule: "0 12 * * *" }, 1)).toEqual(["2026-01-11T12:00:00Z"]);
  });

  test("cron with dueTime: dueAt first, then the schedule after dueAt", () => {
    expect(fires({ schedule: "0 * * * *", dueTime: "2026-01-10T15:30:00Z" }, 3)).toEqual([
      "2026-01-10T15:30:00Z",
      "2026-01-10T16:00:00Z",
      "2026-01-10T17:00:00Z",
    ]);
  });

  test("@every without dueTime counts from now", () => {
    const p = plan({ schedule: "@every 1h30m" });
    expect(p).toMatchObject({ kind: "every", schedule: "@every 1h30m", anchorAt: T(NOW), dueAt: null });
    expect(fires({ schedule: "@every 1h30m" }, 3)).toEqual(["2026-01-10T13:30:00Z", "2026-01-10T15:00:00Z", "2026-01-10T16:30:00Z"]);
  });

  test("@every with dueTime: dueAt + k * every", () => {
    expect(fires({ schedule: "@every 10m", dueTime: "5s" }, 3)).toEqual(["2026-01-10T12:00:05Z", "2026-01-10T12:10:05Z", "2026-01-10T12:20:05Z"]);
  });

  test("@every keeps exact spacing across DST and catches up from any `after`", () => {
    const p = plan({ schedule: "@every 1h", timezone: "America/New_York" }, "2026-11-01T04:00:00Z");
    expect(nextFire(p, T("2026-11-01T06:59:59.999Z"), 2)).toBe(T("2026-11-01T07:00:00Z"));
    expect(nextFire(p, T("2026-11-01T07:00:00Z"), 3)).toBe(T("2026-11-01T08:00:00Z"));
    expect(nextFire(p, T("2026-11-03T07:10:00Z"), 3)).toBe(T("2026-11-03T08:00:00Z"));
  });

  test("@every below the minimum is rejected; the minimum is an option", () => {
    expect(rejected({ schedule: "@every 500ms" })).toMatchObject({ field: "schedule" });
    expect(plan({ schedule: "@every 500ms" }, NOW, { minEveryMs: 100 }).kind).toBe("every");
    expect(rejected({ schedule: "@every 5s" }, NOW, { minEveryMs: 60_000 }).message).toContain("1m");
  });

  test("an ISO 8601 period below the minimum is rejected too; a day counts as its shortest (23 h), months and years always pass", () => {
    expect(rejected({ schedule: "R/2026-01-01T00:00:00Z/PT0.001S" })).toMatchObject({ field: "schedule" });
    expect(rejected({ schedule: "R5/PT30S" }, NOW, { minEveryMs: 60_000 }).message).toContain("at least 1m");
    expect(plan({ schedule: "R5/PT1M" }, NOW, { minEveryMs: 60_000 }).kind).toBe("iso8601");
    expect(plan({ schedule: "R5/P1D" }, NOW, { minEveryMs: 23 * 3_600_000 }).kind).toBe("iso8601"); // a DST day is 23 h
    expect(plan({ schedule: "R5/P1M" }, NOW, { minEveryMs: 40 * 86_400_000 }).kind).toBe("iso8601");
  });

  test("ISO repeating interval with a start: occurrences from the start", () => {
    expect(fires({ schedule: "R5/2026-01-31T00:00:00Z/P1M" }, 10)).toEqual([
      "2026-01-31T00:00:00Z",
      "2026-02-28T00:00:00Z",
      "2026-03-31T00:00:00Z",
      "2026-04-30T00:00:00Z",
      "2026-05-31T00:00:00Z",
    ]);
    const p = plan({ schedule: "R5/2026-01-31T00:00:00Z/P1M" });
    expect(p).toMatchObject({ kind: "iso8601", anchorAt: T("2026-01-31T00:00:00Z"), repeats: 5, endAt: T("2026-05-31T00:00:00Z") });
  });

  test("ISO series that started in the past: the remaining occurrences only", () => {
    expect(fires({ schedule: "R5/2025-11-30T00:00:00Z/P1M" }, 10)).toEqual(["2026-01-30T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-30T00:00:00Z"]);
    expect(fires({ schedule: "R/2020-01-01T06:00:00Z/P1D" }, 2)).toEqual(["2026-01-11T06:00:00Z", "2026-01-12T06:00:00Z"]);
  });

  test("ISO series without a start begins now (or at dueAt)", () => {
    expect(fires({ schedule: "R3/PT1H" })).toEqual(["2026-01-10T12:00:00Z", "2026-01-10T13:00:00Z", "2026-01-10T14:00:00Z"]);
    expect(fires({ schedule: "R3/PT1H", dueTime: "30m" })).toEqual(["2026-01-10T12:30:00Z", "2026-01-10T13:30:00Z", "2026-01-10T14:30:00Z"]);
    expect(fires({ schedule: "R/P1D" }, 2)).toEqual(["2026-01-10T12:00:00Z", "2026-01-11T12:00:00Z"]);
    expect(fires({ schedule: "R-1/PT0.5S" }, 3, NOW, { minEveryMs: 100 })).toEqual(["2026-01-10T12:00:00Z", "2026-01-10T12:00:00.500Z", "2026-01-10T12:00:01Z"]);
  });

  test("ISO start without offset is wall clock in the job's zone", () => {
    expect(fires({ schedule: "R2/2026-03-28T09:00:00/P1D", timezone: "Europe/London" }, 5, "2026-03-01T00:00:00Z")).toEqual([
      "2026-03-28T09:00:00Z",
      "2026-03-29T08:00:00Z", // 09:00 BST
    ]);
  });
});

describe("bounds", () => {
  test("repeats caps the number of fires", () => {
    const p = plan({ schedule: "@every 1m", repeats: 3 });
    expect(fires({ schedule: "@every 1m", repeats: 3 })).toEqual(["2026-01-10T12:01:00Z", "2026-01-10T12:02:00Z", "2026-01-10T12:03:00Z"]);
    expect(nextFire(p, T(NOW), 2)).toBe(T("2026-01-10T12:01:00Z"));
    expect(nextFire(p, T(NOW), 3)).toBeNull();
    expect(plan({ schedule: "R5/PT1H", repeats: 2 }).repeats).toBe(2);
    expect(plan({ schedule: "R2/PT1H", repeats: 5 }).repeats).toBe(2);
  });

  test("ttl as a duration or an instant ends the series (inclusive)", () => {
    expect(fires({ schedule: "@every 10m", ttl: "30m" })).toEqual(["2026-01-10T12:10:00Z", "2026-01-10T12:20:00Z", "2026-01-10T12:30:00Z"]);
    expect(fires({ schedule: "0 * * * *", ttl: "2026-01-10T15:00:00Z" })).toEqual([
      "2026-01-10T13:00:00Z", // created on the 12:00 slot: the next one is 13:00
      "2026-01-10T14:00:00Z",
      "2026-01-10T15:00:00Z",
    ]);
  });

  test("the earlier of ttl and endAt wins", () => {
    expect(plan({ schedule: "@hourly", ttl: "2h", endAt: "2026-01-10T13:00:00Z" }).endAt).toBe(T("2026-01-10T13:00:00Z"));
    expect(plan({ schedule: "@hourly", ttl: "2h", endAt: "2026-01-11T00:00:00Z" }).endAt).toBe(T("2026-01-10T14:00:00Z"));
  });

  test("startAt: no fire before it", () => {
    expect(fires({ schedule: "0 * * * *", startAt: "2026-01-11T00:00:00Z" }, 2)).toEqual(["2026-01-11T00:00:00Z", "2026-01-11T01:00:00Z"]);
    expect(fires({ schedule: "R/2026-01-01T00:00:00Z/P1D", startAt: "2026-01-20T00:00:00Z" }, 1)).toEqual(["2026-01-20T00:00:00Z"]);
    expect(fires({ schedule: "R/PT1H", startAt: "2026-01-20T00:30:00Z" }, 2)).toEqual(["2026-01-20T00:30:00Z", "2026-01-20T01:30:00Z"]);
    // A future startAt starts an @every series.
    expect(fires({ schedule: "@every 1h", startAt: "2026-01-20T09:00:00Z" }, 2)).toEqual(["2026-01-20T09:00:00Z", "2026-01-20T10:00:00Z"]);
    // A past startAt changes nothing.
    expect(fires({ schedule: "@every 1h", startAt: "2026-01-01T09:00:00Z" }, 1)).toEqual(["2026-01-10T13:00:00Z"]);
    // A dueAt before startAt is dropped; the schedule takes over at startAt.
    expect(fires({ schedule: "0 0 * * *", dueTime: "1m", startAt: "2026-01-15T00:00:00Z" }, 1)).toEqual(["2026-01-15T00:00:00Z"]);
  });

  test("nextFire never returns a slot at or before `after`", () => {
    const p = plan({ schedule: "*/5 * * * *", dueTime: "2026-01-10T12:02:00Z", endAt: "2026-01-10T12:59:59Z" });
    expect(iso(nextFire(p, T("2026-01-10T12:01:59.999Z"), 0))).toBe("2026-01-10T12:02:00Z");
    expect(iso(nextFire(p, T("2026-01-10T12:02:00Z"), 1))).toBe("2026-01-10T12:05:00Z");
    expect(iso(nextFire(p, T("2026-01-10T12:55:00Z"), 1))).toBe(null);
  });
});

describe("rejections name the field", () => {
  const cases: [ScheduleInput, string][] = [
    [{ schedule: "0 0 31 2 *" }, "schedule"],
    [{ schedule: "R5/PT0S" }, "schedule"],
    [{ schedule: "@every 0s" }, "schedule"],
    [{ schedule: "@every" }, "schedule"],
    [{ schedule: "@every soon" }, "schedule"],
    [{ schedule: "@every 101y" }, "schedule"],
    [{ schedule: "@every 900000h" }, "schedule"],
    [{ schedule: "R0/PT1H" }, "schedule"],
    [{ schedule: "R5/2020-01-01T00:00:00Z/P1D" }, "schedule"],
    [{ schedule: "R/0001-01-01T00:00:00Z/P1D" }, "schedule"],
    [{ schedule: "PT1H" }, "schedule"],
    [{ schedule: "0 0 0 1 1 * 2030" }, "schedule"],
    [{ schedule: "every day" }, "schedule"],
    [{ schedule: "@reboot" }, "schedule"],
    [{ schedule: "60 * * * *" }, "schedule"],
    [{ schedule: 42 as unknown as string }, "schedule"],
    [{ dueTime: "soon" }, "dueTime"],
    [{ dueTime: "-5s" }, "dueTime"],
    [{ dueTime: "2026-01-10T12:00:00" }, "dueTime"],
    [{ dueTime: "1000000h" }, "dueTime"],
    [{ dueTime: "10000-01-01T00:00:00Z" }, "dueTime"],
    [{ dueTime: "1969-12-31T23:59:59Z" }, "dueTime"],
    [{ timezone: "Mars/Base" }, "timezone"],
    [{ timezone: "" }, "timezone"],
    [{ timezone: "+02:00" }, "timezone"],
    [{ schedule: "@hourly", repeats: 0 }, "repeats"],
    [{ schedule: "@hourly", repeats: -1 }, "repeats"],
    [{ schedule: "@hourly", repeats: 1.5 }, "repeats"],
    [{ schedule: "@hourly", repeats: 1e12 }, "repeats"],
    [{ schedule: "@hourly", ttl: "forever" }, "ttl"],
    [{ schedule: "@hourly", ttl: "200y" }, "ttl"],
    [{ schedule: "@daily", ttl: "30m" }, "ttl"],
    [{ schedule: "@hourly", ttl: "2020-01-01T00:00:00Z" }, "ttl"],
    [{ schedule: "@hourly", startAt: "yesterday" }, "startAt"],
    [{ schedule: "@hourly", endAt: "2026-01-10" }, "endAt"],
    [{ schedule: "@daily", endAt: "2026-01-10T23:59:59Z" }, "endAt"],
    [{ schedule: "@hourly", startAt: "2026-02-01T00:00:00Z", endAt: "2026-01-20T00:00:00Z" }, "endAt"],
    [{ dueTime: "1m", startAt: "2026-02-01T00:00:00Z" }, "startAt"],
    [{ schedule: "0 0 * * *", startAt: "2999-12-31T12:00:00Z" }, "startAt"],
    [{ dueTime: "2h", ttl: "1h" }, "ttl"],
  ];
  for (const [input, field] of cases) {
    test(`${JSON.stringify(input)} -> ${field}`, () => {
      expect(rejected(input).field).toBe(field);
    });
  }

  test("messages say what is wrong", () => {
    expect(rejected({ schedule: "0 0 31 2 *" }).message).toContain("never fires");
    expect(rejected({ schedule: "* * * * * * *" }).message).toContain("6 (seconds first)");
    expect(rejected({ timezone: "Mars/Base" }).message).toContain("IANA");
    expect(rejected({ schedule: "@hourly", repeats: 0 }).message).toContain("never fire");
    expect(rejected({ schedule: "@daily", ttl: "30m" }).message).toContain("before the first fire");
  });
});

describe("plans are plain data", () => {
  test("a plan survives a JSON round trip and gives the same fires", () => {
    const p = plan({ schedule: "R10/2026-01-31T09:00:00/P1M", timezone: "America/New_York", repeats: 4, ttl: "P1Y" });
    const q = JSON.parse(JSON.stringify(p)) as Plan;
    expect(q).toEqual(p);
    expect(nextFire(q, T("2026-02-01T00:00:00Z"), 1)).toBe(nextFire(p, T("2026-02-01T00:00:00Z"), 1));
    expect(q.timezone).toBe("America/New_York");
  });
});
