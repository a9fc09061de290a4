import { describe, expect, test } from "bun:test";
import { Cron } from "croner";
import { cronCacheSize, cronIsFixedTime, cronMatches, cronNext, parseCron } from "../../src/schedule/cron.ts";

const T = (s: string): number => Date.parse(s);
const iso = (ms: number): string => new Date(ms).toISOString().replace(".000Z", "Z");

/** The next `n` fires strictly after `from`, as UTC strings. */
function runs(pattern: string, timezone: string, from: string, n: number): string[] {
  const out: string[] = [];
  let t: number | null = T(from);
  while (out.length < n) {
    t = cronNext(pattern, timezone, t);
    if (t === null) break;
    out.push(iso(t));
  }
  return out;
}

describe("cron patterns", () => {
  test("5 fields fire on whole minutes, strictly after the reference", () => {
    expect(runs("*/5 * * * *", "UTC", "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-01-01T00:05:00Z",
      "2026-01-01T00:10:00Z",
      "2026-01-01T00:15:00Z",
    ]);
    expect(runs("*/5 * * * *", "UTC", "2026-01-01T00:04:59.999Z", 1)).toEqual(["2026-01-01T00:05:00Z"]);
  });

  test("6 fields put seconds first", () => {
    expect(runs("*/15 * * * * *", "UTC", "2026-01-01T00:00:07Z", 3)).toEqual([
      "2026-01-01T00:00:15Z",
      "2026-01-01T00:00:30Z",
      "2026-01-01T00:00:45Z",
    ]);
    expect(runs("30 0 9 * * *", "UTC", "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-01T09:00:30Z"]);
  });

  test("7 fields and fewer than 5 are rejected with a count", () => {
    for (const p of ["0 0 0 1 1 * 2030", "* * * *", "*"]) {
      const r = parseCron(p, "UTC");
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toContain("5 fields");
    }
  });

  test("nicknames expand to their patterns", () => {
    const from = "2026-01-07T10:20:00Z"; // a Wednesday
    const first = (n: string): string => runs(n, "UTC", from, 1)[0]!;
    expect(first("@yearly")).toBe("2027-01-01T00:00:00Z");
    expect(first("@annually")).toBe("2027-01-01T00:00:00Z");
    expect(first("@monthly")).toBe("2026-02-01T00:00:00Z");
    expect(first("@weekly")).toBe("2026-01-11T00:00:00Z");
    expect(first("@daily")).toBe("2026-01-08T00:00:00Z");
    expect(first("@midnight")).toBe("2026-01-08T00:00:00Z");
    expect(first("@hourly")).toBe("2026-01-07T11:00:00Z");
    expect(first("@DAILY")).toBe("2026-01-08T00:00:00Z");
  });

  test("unknown nicknames and @reboot are rejected", () => {
    for (const p of ["@reboot", "@fortnightly", "@"]) expect(parseCron(p, "UTC").ok).toBe(false);
  });

  test("L is the last day of the month, LW the last weekday", () => {
    expect(runs("0 0 L * *", "UTC", "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-01-31T00:00:00Z",
      "2026-02-28T00:00:00Z",
      "2026-03-31T00:00:00Z",
    ]);
    expect(runs("0 0 L 2 *", "UTC", "2027-03-01T00:00:00Z", 1)).toEqual(["2028-02-29T00:00:00Z"]);
    expect(runs("0 0 LW * *", "UTC", "2026-01-01T00:00:00Z", 2)).toEqual(["2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z"]);
    expect(runs("0 0 L,15 * *", "UTC", "2026-02-01T00:00:00Z", 3)).toEqual([
      "2026-02-15T00:00:00Z",
      "2026-02-28T00:00:00Z",
      "2026-03-15T00:00:00Z",
    ]);
  });

  test("W is the nearest weekday, staying in the month", () => {
    // 2026-02-01 and 2026-03-01 are Sundays; 2026-02-15 is a Sunday too.
    expect(runs("0 0 1W * *", "UTC", "2026-01-15T00:00:00Z", 2)).toEqual(["2026-02-02T00:00:00Z", "2026-03-02T00:00:00Z"]);
    expect(runs("0 0 15W * *", "UTC", "2026-02-01T00:00:00Z", 2)).toEqual(["2026-02-16T00:00:00Z", "2026-03-16T00:00:00Z"]);
  });

  test("# is the nth weekday, and 5L the last Friday", () => {
    expect(runs("0 0 * * 5#2", "UTC", "2026-01-01T00:00:00Z", 2)).toEqual(["2026-01-09T00:00:00Z", "2026-02-13T00:00:00Z"]);
    expect(runs("0 0 * * MON#1", "UTC", "2026-01-01T00:00:00Z", 2)).toEqual(["2026-01-05T00:00:00Z", "2026-02-02T00:00:00Z"]);
    expect(runs("0 0 * * 5L", "UTC", "2026-01-01T00:00:00Z", 2)).toEqual(["2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z"]);
  });

  test("day-of-month and day-of-week both restricted: either matches (Vixie OR)", () => {
    // Friday the 13th pattern fires every Friday and every 13th.
    expect(runs("0 0 13 * 5", "UTC", "2026-01-01T00:00:00Z", 4)).toEqual([
      "2026-01-02T00:00:00Z",
      "2026-01-09T00:00:00Z",
      "2026-01-13T00:00:00Z",
      "2026-01-16T00:00:00Z",
    ]);
    // A wildcard in one of them leaves only the other.
    expect(runs("0 0 * * 5", "UTC", "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-02T00:00:00Z"]);
    expect(runs("0 0 13 * *", "UTC", "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-13T00:00:00Z"]);
    expect(runs("0 0 13 * ?", "UTC", "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-13T00:00:00Z"]);
  });

  test("the croner-only '+' AND modifier is refused", () => {
    expect(parseCron("0 0 13 * +5", "UTC").ok).toBe(false);
  });

  test("names, ranges, lists, and Quartz-style steps", () => {
    expect(runs("0 9 * JAN-FEB MON-FRI", "UTC", "2026-01-02T10:00:00Z", 2)).toEqual(["2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z"]);
    expect(runs("5/20 * * * *", "UTC", "2026-01-01T00:00:00Z", 3)).toEqual([
      "2026-01-01T00:05:00Z",
      "2026-01-01T00:25:00Z",
      "2026-01-01T00:45:00Z",
    ]);
    expect(runs("0 0 * * 7", "UTC", "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-04T00:00:00Z"]); // 7 = Sunday
  });

  test("Feb 29 fires only in leap years", () => {
    expect(runs("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 3)).toEqual([
      "2028-02-29T00:00:00Z",
      "2032-02-29T00:00:00Z",
      "2036-02-29T00:00:00Z",
    ]);
    expect(runs("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", 1)).toEqual(["2104-02-29T00:00:00Z"]); // 2100 is not leap
  });

  test("a pattern no date matches has no next run", () => {
    expect(cronNext("0 0 31 2 *", "UTC", T("2026-01-01T00:00:00Z"))).toBeNull();
    expect(cronNext("0 0 30 2 *", "America/New_York", T("2026-01-01T00:00:00Z"))).toBeNull();
  });

  test("garbage is rejected with croner's reason, tidied", () => {
    for (const p of ["61 * * * *", "* 24 * * *", "* * 32 * *", "* * * 13 *", "* * * * 8", "a b c d e", "*/0 * * * *", "5-1 * * * *", "", "0 0 L-2 * *"]) {
      const r = parseCron(p, "UTC");
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).not.toContain("CronPattern:");
    }
  });

  test("other zones: Kathmandu (+05:45)", () => {
    expect(runs("0 9 * * *", "Asia/Kathmandu", "2026-01-01T00:00:00Z", 2)).toEqual(["2026-01-01T03:15:00Z", "2026-01-02T03:15:00Z"]);
    expect(runs("*/30 * * * *", "Asia/Kathmandu", "2026-01-01T00:00:00Z", 2)).toEqual(["2026-01-01T00:15:00Z", "2026-01-01T00:45:00Z"]);
  });

  test("parsed patterns are cached in a bounded LRU", () => {
    for (let i = 0; i < 1100; i++) parseCron(`${i % 60} ${Math.floor(i / 60) % 24} * * *`, "UTC");
    expect(cronCacheSize()).toBeLessThanOrEqual(1000);
    const a = parseCron("7 7 * * *", "Europe/London");
    const b = parseCron("7 7 * * *", "Europe/London");
    expect(a.ok && b.ok && a.cron === b.cron).toBe(true);
    const c = parseCron("7 7 * * *", "UTC");
    expect(a.ok && c.ok && a.cron !== c.cron).toBe(true);
  });

  test("fixed-time versus interval patterns", () => {
    expect(cronIsFixedTime("30 2 * * *")).toBe(true);
    expect(cronIsFixedTime("30 2,14 * * *")).toBe(true);
    expect(cronIsFixedTime("0 0 9-17 * * *")).toBe(true);
    expect(cronIsFixedTime("*/30 * * * *")).toBe(false);
    expect(cronIsFixedTime("0 * * * *")).toBe(false);
    expect(cronIsFixedTime("0 */2 * * *")).toBe(false);
    expect(cronIsFixedTime("* 30 2 * * *")).toBe(false);
  });
});

describe("cron across DST (docs/schedules.md, Time zones and DST)", () => {
  const NY = "America/New_York";

  test("New York spring-forward: 30 2 * * * fires at 03:00 EDT", () => {
    expect(runs("30 2 * * *", NY, "2027-03-13T12:00:00Z", 3)).toEqual([
      "2027-03-14T07:00:00Z", // 03:00 EDT, the first instant after the gap
      "2027-03-15T06:30:00Z",
      "2027-03-16T06:30:00Z",
    ]);
    expect(cronMatches("30 2 * * *", NY, T("2027-03-14T07:00:00Z"))).toBe(false);
  });

  test("New York spring-forward: interval patterns skip the missing wall times", () => {
    expect(runs("*/30 * * * *", NY, "2027-03-14T06:15:00Z", 3)).toEqual([
      "2027-03-14T06:30:00Z", // 01:30 EST
      "2027-03-14T07:00:00Z", // 03:00 EDT
      "2027-03-14T07:30:00Z",
    ]);
  });

  test("New York fall-back: 30 1 * * * fires once, at 01:30 EDT", () => {
    expect(runs("30 1 * * *", NY, "2026-10-31T12:00:00Z", 3)).toEqual([
      "2026-11-01T05:30:00Z", // 01:30 EDT; 01:30 EST (06:30Z) does not fire
      "2026-11-02T06:30:00Z",
      "2026-11-03T06:30:00Z",
    ]);
    expect(runs("30 1 * * *", NY, "2026-11-01T05:30:00Z", 1)).toEqual(["2026-11-02T06:30:00Z"]);
  });

  test("New York fall-back: */30 fires through both passes", () => {
    expect(runs("*/30 * * * *", NY, "2026-11-01T04:45:00Z", 5)).toEqual([
      "2026-11-01T05:00:00Z", // 01:00 EDT
      "2026-11-01T05:30:00Z", // 01:30 EDT
      "2026-11-01T06:00:00Z", // 01:00 EST
      "2026-11-01T06:30:00Z", // 01:30 EST
      "2026-11-01T07:00:00Z", // 02:00 EST
    ]);
    expect(runs("0 * * * *", NY, "2026-11-01T04:30:00Z", 3)).toEqual([
      "2026-11-01T05:00:00Z",
      "2026-11-01T06:00:00Z",
      "2026-11-01T07:00:00Z",
    ]);
  });

  test("lists of fixed hours are fixed-time too (fixedTimeRule no-wildcard)", () => {
    expect(runs("30 1,13 * * *", NY, "2026-10-31T12:00:00Z", 3)).toEqual([
      "2026-10-31T17:30:00Z",
      "2026-11-01T05:30:00Z", // once, 01:30 EDT
      "2026-11-01T18:30:00Z",
    ]);
    expect(runs("30 2,14 * * *", NY, "2027-03-13T12:00:00Z", 3)).toEqual([
      "2027-03-13T19:30:00Z",
      "2027-03-14T07:00:00Z", // 02:30 moved to 03:00 EDT, not skipped
      "2027-03-14T18:30:00Z",
    ]);
  });

  test("London spring-forward (01:00 GMT -> 02:00 BST)", () => {
    expect(runs("30 1 * * *", "Europe/London", "2026-03-28T12:00:00Z", 2)).toEqual(["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"]);
    expect(runs("*/30 * * * *", "Europe/London", "2026-03-29T00:15:00Z", 3)).toEqual([
      "2026-03-29T00:30:00Z",
      "2026-03-29T01:00:00Z",
      "2026-03-29T01:30:00Z",
    ]);
  });

  test("London fall-back (02:00 BST -> 01:00 GMT)", () => {
    expect(runs("30 1 * * *", "Europe/London", "2026-10-24T12:00:00Z", 2)).toEqual(["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]);
    expect(runs("*/30 * * * *", "Europe/London", "2026-10-24T23:45:00Z", 4)).toEqual([
      "2026-10-25T00:00:00Z", // 01:00 BST
      "2026-10-25T00:30:00Z", // 01:30 BST
      "2026-10-25T01:00:00Z", // 01:00 GMT
      "2026-10-25T01:30:00Z", // 01:30 GMT
    ]);
  });

  test("Lord Howe: 30-minute shifts both ways", () => {
    const LH = "Australia/Lord_Howe"; // +10:30, +11:00 in summer
    // Spring-forward 2026-10-04 02:00 -> 02:30: 02:15 moves to 02:30 (+11:00).
    expect(runs("15 2 * * *", LH, "2026-10-03T12:00:00Z", 2)).toEqual(["2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"]);
    expect(runs("*/15 * * * *", LH, "2026-10-03T15:10:00Z", 3)).toEqual([
      "2026-10-03T15:15:00Z", // 01:45 +10:30
      "2026-10-03T15:30:00Z", // 02:30 +11:00; 02:00 and 02:15 do not exist
      "2026-10-03T15:45:00Z",
    ]);
    // Fall-back 2026-04-05 02:00 -> 01:30: 01:45 occurs twice.
    expect(runs("45 1 * * *", LH, "2026-04-04T00:00:00Z", 2)).toEqual(["2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"]);
    expect(runs("*/30 * * * *", LH, "2026-04-04T14:15:00Z", 3)).toEqual([
      "2026-04-04T14:30:00Z", // 01:30 +11:00
      "2026-04-04T15:00:00Z", // 01:30 +10:30
      "2026-04-04T15:30:00Z", // 02:00 +10:30
    ]);
  });
});

describe("the last-answer cache", () => {
  test("answers equal a fresh croner computation, whatever the order of queries", () => {
    // a separate croner instance, outside the cache
    const fresh = (p: string, tz: string, at: number) =>
      new Cron(p, { paused: true, timezone: tz, mode: "5-or-6-parts", domAndDow: false, sloppyRanges: true, fixedTimeRule: "no-wildcard" }).nextRun(new Date(at))?.getTime() ?? null;
    const start = Date.UTC(2026, 10, 1, 4, 0, 0); // around New York's fall-back
    const queries = [0, 10, 5, 3_600_000, 3_599_999, 1, 7_200_000, -60_000, 86_400_000, 2, 1_800_000, 1_800_001, 5_400_000];
    for (const [p, tz] of [["30 1 * * *", "America/New_York"], ["*/30 * * * *", "America/New_York"], ["0 3 * * *", "Europe/Paris"], ["*/7 * * * * *", "UTC"]]) {
      for (const q of queries) expect(cronNext(p, tz, start + q)).toBe(fresh(p, tz, start + q));
    }
  });
});
