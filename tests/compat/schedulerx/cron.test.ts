// SchedulerX (Quartz) cron expressions into croner patterns: the translation, and the instants it fires at.
import { describe, expect, test } from "bun:test";
import { quartzToCroner } from "../../../src/compat/schedulerx/cron.ts";
import { cronNext } from "../../../src/schedule/cron.ts";

const ok = (expr: string) => {
  const r = quartzToCroner(expr);
  if (!r.ok) throw new Error(r.message);
  return r.pattern;
};
const fail = (expr: string) => {
  const r = quartzToCroner(expr);
  if (r.ok) throw new Error(`${expr} translated to ${r.pattern}`);
  return r.message;
};

/** The next `n` fire times (UTC, "YYYY-MM-DD HH:mm:ss DDD") of a Quartz expression after `from`. */
function fires(expr: string, n: number, from = Date.UTC(2026, 2, 1)): string[] {
  const pattern = ok(expr);
  const out: string[] = [];
  let at = from;
  for (let i = 0; i < n; i++) {
    at = cronNext(pattern, "UTC", at)!;
    const d = new Date(at);
    out.push(`${d.toISOString().slice(0, 19).replace("T", " ")} ${"SUN MON TUE WED THU FRI SAT".split(" ")[d.getUTCDay()]}`);
  }
  return out;
}

describe("translation", () => {
  test("seconds-first fields pass through; ? becomes *", () => {
    expect(ok("0 0/10 * * * ?")).toBe("0 0/10 * * * *");
    expect(ok("30 15 10 ? * *")).toBe("30 15 10 * * *");
    expect(ok("0 0 12 1/5 JAN-MAR ?")).toBe("0 0 12 1/5 JAN-MAR *");
  });

  test("day-of-week 1-7 from Sunday becomes 0-6, names and ranges spelled out", () => {
    expect(ok("0 0 12 ? * 1")).toBe("0 0 12 * * 0");
    expect(ok("0 0 12 ? * 7")).toBe("0 0 12 * * 6");
    expect(ok("0 0 12 ? * 2-6")).toBe("0 0 12 * * 1,2,3,4,5");
    expect(ok("0 0 12 ? * MON-FRI")).toBe("0 0 12 * * 1,2,3,4,5");
    expect(ok("0 0 12 ? * FRI-MON")).toBe("0 0 12 * * 5,6,0,1"); // Quartz ranges wrap
    expect(ok("0 0 12 ? * 1,3,sat")).toBe("0 0 12 * * 0,2,6");
    expect(ok("0 0 12 ? * */2")).toBe("0 0 12 * * 0,2,4,6");
    expect(ok("0 0 12 ? * 2/3")).toBe("0 0 12 * * 1,4"); // from Monday every 3 days: MON, THU
    expect(ok("0 0 12 ? * 2-6/2")).toBe("0 0 12 * * 1,3,5");
  });

  test("L, W and # keep their meaning", () => {
    expect(ok("0 0 12 L * ?")).toBe("0 0 12 L * *");
    expect(ok("0 0 12 lw * ?")).toBe("0 0 12 LW * *");
    expect(ok("0 0 12 15W * ?")).toBe("0 0 12 15W * *");
    expect(ok("0 0 12 ? * 6L")).toBe("0 0 12 * * 5#L"); // the last Friday
    expect(ok("0 0 12 ? * FRIL")).toBe("0 0 12 * * 5#L");
    expect(ok("0 0 12 ? * L")).toBe("0 0 12 * * 6"); // L alone: Saturday
    expect(ok("0 0 12 ? * 2#1")).toBe("0 0 12 * * 1#1"); // the first Monday
  });

  test("a year field is accepted only as *", () => {
    expect(ok("0 0 12 * * ? *")).toBe("0 0 12 * * *");
    expect(fail("0 0 12 * * ? 2027")).toContain('the year field "2027" is not supported');
  });
});

describe("fire times", () => {
  test("weekdays at noon", () => {
    expect(fires("0 0 12 ? * MON-FRI", 6)).toEqual([
      "2026-03-02 12:00:00 MON",
      "2026-03-03 12:00:00 TUE",
      "2026-03-04 12:00:00 WED",
      "2026-03-05 12:00:00 THU",
      "2026-03-06 12:00:00 FRI",
      "2026-03-09 12:00:00 MON",
    ]);
  });

  test("Sunday is 1, Saturday 7", () => {
    expect(fires("0 0 8 ? * 1", 2)).toEqual(["2026-03-01 08:00:00 SUN", "2026-03-08 08:00:00 SUN"]);
    expect(fires("0 0 8 ? * 7", 1)).toEqual(["2026-03-07 08:00:00 SAT"]);
  });

  test("the last Friday, the first Monday, the last weekday, every ten minutes", () => {
    expect(fires("0 0 12 ? * 6L", 2)).toEqual(["2026-03-27 12:00:00 FRI", "2026-04-24 12:00:00 FRI"]);
    expect(fires("0 0 12 ? * 2#1", 2)).toEqual(["2026-03-02 12:00:00 MON", "2026-04-06 12:00:00 MON"]);
    expect(fires("0 0 12 LW * ?", 2)).toEqual(["2026-03-31 12:00:00 TUE", "2026-04-30 12:00:00 THU"]);
    expect(fires("0 0/10 * * * ?", 3)).toEqual(["2026-03-01 00:10:00 SUN", "2026-03-01 00:20:00 SUN", "2026-03-01 00:30:00 SUN"]);
  });

  test("a day of the month with ? in day-of-week fires on that day only", () => {
    expect(fires("0 30 6 15 * ?", 2)).toEqual(["2026-03-15 06:30:00 SUN", "2026-04-15 06:30:00 WED"]);
  });
});

describe("refusals", () => {
  test.each([
    ["0 0 12 * *", "has 5 fields"],
    ["", "has 0 fields"],
    ["0 0 12 * * ? * *", "has 8 fields"],
    ["0 0 12 1 * MON", "cannot both be set"],
    ["0 0 12 ? * ?", "cannot both be ?"],
    ["0 0 12 L-3 * ?", "offset from the last day"],
    ["0 0 12 ? * 8", "not 1-7 or SUN-SAT"],
    ["0 0 12 ? * 0", "not 1-7 or SUN-SAT"],
    ["0 0 12 ? * 2#6", "must be 1 to 5"],
    ["0 0 12 ? * XL", "not a day followed by L"],
    ["0 ? 12 * * *", "minute field"],
    ["0 0 25 * * ?", "not a valid cron expression"],
    ["0 0 12 32 * ?", "not a valid cron expression"],
    ["a b c ? * *", "not a valid cron expression"],
  ])("%p is refused (%s)", (expr, why) => {
    expect(fail(expr)).toContain(why);
  });
});
