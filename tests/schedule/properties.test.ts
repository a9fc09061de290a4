import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { cronIsFixedTime, cronMatches, cronNext } from "../../src/schedule/cron.ts";
import { isoIndexAfter, isoOccurrence, type IsoDuration } from "../../src/schedule/iso8601.ts";
import { compilePlan, nextFire } from "../../src/schedule/plan.ts";
import { offsetAt, resolveWall, wallClock } from "../../src/schedule/zone.ts";

const ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "America/Sao_Paulo", "Pacific/Chatham"];
const MIN = Date.UTC(2020, 0, 1);
const MAX = Date.UTC(2030, 0, 1);
const DAY = 86_400_000;
// Instants near DST transitions, where bugs live, plus plain random ones.
const TRANSITIONS = [
  "2027-03-14T07:00:00Z", "2026-11-01T06:00:00Z", "2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z",
  "2026-10-03T15:30:00Z", "2026-04-04T15:00:00Z",
].map(Date.parse);
const instant = fc.oneof(
  fc.integer({ min: MIN, max: MAX }),
  fc.tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -2 * DAY, max: 2 * DAY })).map(([t, d]) => t + d),
);

const field = (lo: number, hi: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant("*"),
    fc.integer({ min: 1, max: Math.min(30, hi) }).map((n) => `*/${n}`),
    fc.integer({ min: lo, max: hi }).map(String),
    fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: lo, max: hi })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    fc.uniqueArray(fc.integer({ min: lo, max: hi }), { minLength: 2, maxLength: 4 }).map((xs) => xs.join(",")),
    fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: 1, max: 10 })).map(([a, n]) => `${a}-${hi}/${n}`),
  );
const dom = fc.oneof(fc.constant("*"), fc.constant("*"), fc.integer({ min: 1, max: 28 }).map(String), fc.constant("L"), fc.constant("15W"), fc.constant("1-7"), fc.constant("?"));
const month = fc.oneof(fc.constant("*"), fc.constant("*"), fc.constant("3-11"), fc.constant("1,4,7,10"), fc.integer({ min: 1, max: 12 }).map(String));
const dow = fc.oneof(fc.constant("*"), fc.constant("*"), fc.constant("1-5"), fc.integer({ min: 0, max: 7 }).map(String), fc.constant("5#2"), fc.constant("0L"), fc.constant("SAT,SUN"));
const pattern5 = fc.tuple(field(0, 59), field(0, 23), dom, month, dow).map((f) => f.join(" "));
const pattern6 = fc.tuple(fc.oneof(fc.constant("0"), fc.constant("*/20"), fc.integer({ min: 0, max: 59 }).map(String)), pattern5).map(([s, p]) => `${s} ${p}`);

/** A matching wall time may be passed over only as the second pass of an overlap, by a fixed-time pattern. */
function mayBeSkipped(fixed: boolean, at: number, tz: string): boolean {
  const r = resolveWall(wallClock(at, tz), tz);
  return fixed && r.kind === "overlap" && r.later === at;
}

describe("cron properties", () => {
  test("next(t) > t, and nothing fires strictly between t and next(t)", () => {
    fc.assert(
      fc.property(fc.oneof(pattern5, pattern5, pattern6), fc.constantFrom(...ZONES), instant, (p, tz, t) => {
        const next = cronNext(p, tz, t);
        expect(next).not.toBeNull();
        expect(next!).toBeGreaterThan(t);
        const fixed = cronIsFixedTime(p);
        // The fire itself matches, or is a fixed-time fire moved to the end of a gap.
        const movedByGap = fixed && offsetAt(next! - 1, tz) !== offsetAt(next!, tz);
        expect(cronMatches(p, tz, next!) || movedByGap).toBe(true);
        expect(mayBeSkipped(fixed, next!, tz)).toBe(false);
        // Scan the whole seconds (6 fields, 1 hour) or minutes (5 fields, 1 day) before it.
        const seconds = p.split(" ").length === 6;
        const step = seconds ? 1000 : 60_000;
        const end = Math.min(next!, t + (seconds ? 3_600_000 : DAY));
        for (let m = Math.floor(t / step) * step + step; m < end; m += step) {
          if (cronMatches(p, tz, m) && !mayBeSkipped(fixed, m, tz)) {
            throw new Error(`${p} in ${tz} matches ${new Date(m).toISOString()} between ${new Date(t).toISOString()} and ${new Date(next!).toISOString()}`);
          }
        }
      }),
      { numRuns: 120 },
    );
  });
});

describe("@every properties", () => {
  test("slots are anchor + k * every, strictly after `after`, with none skipped", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 10 * DAY }), instant, fc.integer({ min: -DAY, max: 400 * DAY }), (every, now, delta) => {
        const r = compilePlan({ schedule: `@every ${every}ms` }, now);
        if (!r.ok) throw new Error(r.error.message);
        const after = now + delta;
        const a = nextFire(r.plan, after, 0)!;
        expect(a).toBeGreaterThan(after);
        expect((a - now) % every).toBe(0);
        expect(a - every <= after || a - every === now).toBe(true);
        const b = nextFire(r.plan, a, 1)!;
        expect(b - a).toBe(every);
      }),
      { numRuns: 300 },
    );
  });
});

const duration = fc
  .record({
    years: fc.integer({ min: 0, max: 2 }),
    months: fc.integer({ min: 0, max: 14 }),
    days: fc.integer({ min: 0, max: 40 }),
    ms: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 * DAY })),
  })
  .filter((d) => d.years + d.months + d.days + d.ms > 0);

/** Independent calendar arithmetic in UTC: add months with the day clamped, then days, then time. */
function utcOccurrence(start: number, d: IsoDuration, k: number): number {
  const s = new Date(start);
  const monthIndex = s.getUTCMonth() + k * (d.years * 12 + d.months);
  const y = s.getUTCFullYear() + Math.floor(monthIndex / 12);
  const m = monthIndex % 12;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const day = Math.min(s.getUTCDate(), lastDay) + k * d.days;
  return Date.UTC(y, m, day, s.getUTCHours(), s.getUTCMinutes(), s.getUTCSeconds(), s.getUTCMilliseconds()) + k * d.ms;
}

describe("ISO 8601 series properties", () => {
  test("occurrences increase strictly, and UTC ones match independent calendar arithmetic", () => {
    fc.assert(
      fc.property(instant, duration, fc.constantFrom(...ZONES), (start, d, tz) => {
        let prev = -Infinity;
        for (let k = 0; k < 8; k++) {
          const { at } = isoOccurrence(start, d, k, tz);
          expect(at).toBeGreaterThan(prev);
          prev = at;
          if (tz === "UTC") expect(at).toBe(utcOccurrence(start, d, k));
          if (d.years === 0 && d.months === 0 && d.days === 0) expect(at).toBe(start + k * d.ms);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("day periods keep the local time of day unless a gap moved it", () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 3 }), fc.constantFrom(...ZONES), (start, days, tz) => {
        const w0 = wallClock(start, tz);
        for (let k = 1; k < 6; k++) {
          const { at, gap } = isoOccurrence(start, { years: 0, months: 0, days, ms: 0 }, k, tz);
          const w = wallClock(at, tz);
          if (!gap) expect([w.hour, w.minute, w.second, w.ms]).toEqual([w0.hour, w0.minute, w0.second, w0.ms]);
        }
      }),
      { numRuns: 150 },
    );
  });

  test("nextFire is the first occurrence strictly after `after`", () => {
    fc.assert(
      fc.property(instant, duration, fc.constantFrom(...ZONES), fc.integer({ min: 0, max: 3000 * DAY }), (start, d, tz, delta) => {
        const after = start + delta;
        const k = isoIndexAfter(start, d, after, tz);
        expect(isoOccurrence(start, d, k, tz).at).toBeGreaterThan(after);
        if (k > 0) expect(isoOccurrence(start, d, k - 1, tz).at).toBeLessThanOrEqual(after);
      }),
      { numRuns: 150 },
    );
  });
});
