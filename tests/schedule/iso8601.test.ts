import { describe, expect, test } from "bun:test";
import {
  isoIndexAfter,
  isoOccurrence,
  parseDateTime,
  parseIsoDuration,
  parseRepeating,
  parseRfc3339,
  type IsoDuration,
} from "../../src/schedule/iso8601.ts";

const T = (s: string): number => Date.parse(s);
const iso = (ms: number): string => new Date(ms).toISOString().replace(".000Z", "Z");
const dur = (text: string): IsoDuration => {
  const r = parseIsoDuration(text);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};
const series = (start: string, period: string, n: number, tz = "UTC"): string[] =>
  Array.from({ length: n }, (_, k) => iso(isoOccurrence(T(start), dur(period), k, tz).at));

describe("ISO 8601 durations", () => {
  test("calendar parts and exact time parts", () => {
    expect(dur("P1Y2M10DT2H30M")).toEqual({ years: 1, months: 2, days: 10, ms: 9_000_000 });
    expect(dur("PT0.5S")).toEqual({ years: 0, months: 0, days: 0, ms: 500 });
    expect(dur("PT0,5S")).toEqual({ years: 0, months: 0, days: 0, ms: 500 });
    expect(dur("P2W")).toEqual({ years: 0, months: 0, days: 14, ms: 0 });
    expect(dur("PT1.5H")).toEqual({ years: 0, months: 0, days: 0, ms: 5_400_000 });
    expect(dur("p1d")).toEqual({ years: 0, months: 0, days: 1, ms: 0 });
    expect(dur("PT36H")).toEqual({ years: 0, months: 0, days: 0, ms: 129_600_000 });
  });

  test("malformed durations are rejected", () => {
    for (const s of ["", "P", "PT", "1D", "P1H", "PT1D", "P1.5D", "P0.5Y", "PT1.5H30M", "P-1D", "P1D2Y", "P1DT", "PT1S "]) {
      expect(parseIsoDuration(s).ok, s).toBe(s === "PT1S ");
    }
  });

  test("more than 100 years is rejected", () => {
    expect(parseIsoDuration("P100Y").ok).toBe(true);
    expect(parseIsoDuration("P101Y").ok).toBe(false);
    expect(parseIsoDuration("PT999999999999H").ok).toBe(false);
    expect(parseIsoDuration("P99999999999999999999D").ok).toBe(false);
  });
});

describe("date-times", () => {
  test("RFC 3339 needs a time and an offset", () => {
    expect(parseRfc3339("2026-01-31T09:00:00Z")).toBe(T("2026-01-31T09:00:00Z"));
    expect(parseRfc3339("2026-01-31t09:00:00.123456z")).toBe(T("2026-01-31T09:00:00.123Z"));
    expect(parseRfc3339("2026-01-31T09:00:00+05:45")).toBe(T("2026-01-31T03:15:00Z"));
    expect(parseRfc3339("2026-01-31 09:00:00-08:00")).toBe(T("2026-01-31T17:00:00Z"));
    for (const s of ["2026-01-31T09:00:00", "2026-01-31", "2026-02-30T00:00:00Z", "2026-01-31T24:00:00Z", "2026-13-01T00:00:00Z", "tomorrow", "2026-01-31T09:00:60Z"]) {
      expect(parseRfc3339(s), s).toBeNull();
    }
  });

  test("without an offset a date-time is wall clock in the zone", () => {
    expect(parseDateTime("2026-01-31T09:00", "America/New_York")).toBe(T("2026-01-31T14:00:00Z"));
    expect(parseDateTime("2026-01-31", "Asia/Kathmandu")).toBe(T("2026-01-30T18:15:00Z"));
    expect(parseDateTime("2027-03-14T02:30:00", "America/New_York")).toBe(T("2027-03-14T07:00:00Z")); // gap
    expect(parseDateTime("2026-11-01T01:30:00", "America/New_York")).toBe(T("2026-11-01T05:30:00Z")); // first pass
    expect(parseDateTime("2026-01-31T09:00:00Z", "America/New_York")).toBe(T("2026-01-31T09:00:00Z"));
  });
});

describe("series occurrences", () => {
  test("Jan 31 + P1M is computed from the start, not chained", () => {
    expect(series("2026-01-31T00:00:00Z", "P1M", 6)).toEqual([
      "2026-01-31T00:00:00Z",
      "2026-02-28T00:00:00Z",
      "2026-03-31T00:00:00Z", // chaining would give Mar 28
      "2026-04-30T00:00:00Z",
      "2026-05-31T00:00:00Z",
      "2026-06-30T00:00:00Z",
    ]);
    expect(series("2028-01-31T00:00:00Z", "P1M", 2)[1]).toBe("2028-02-29T00:00:00Z");
    expect(series("2026-01-31T00:00:00Z", "P2M", 2)[1]).toBe("2026-03-31T00:00:00Z");
  });

  test("P1Y from Feb 29 clamps to Feb 28, and is back on Feb 29 four years on", () => {
    expect(series("2028-02-29T12:00:00Z", "P1Y", 5)).toEqual([
      "2028-02-29T12:00:00Z",
      "2029-02-28T12:00:00Z",
      "2030-02-28T12:00:00Z",
      "2031-02-28T12:00:00Z",
      "2032-02-29T12:00:00Z",
    ]);
  });

  test("P1D keeps the local time across DST; PT24H keeps exact spacing", () => {
    const NY = "America/New_York";
    expect(series("2027-03-13T09:00:00-05:00", "P1D", 3, NY)).toEqual([
      "2027-03-13T14:00:00Z",
      "2027-03-14T13:00:00Z", // still 09:00, now EDT
      "2027-03-15T13:00:00Z",
    ]);
    expect(series("2027-03-13T09:00:00-05:00", "PT24H", 2, NY)[1]).toBe("2027-03-14T14:00:00Z"); // 10:00 EDT
    expect(series("2026-10-31T09:00:00-04:00", "P1D", 2, NY)[1]).toBe("2026-11-01T14:00:00Z");
    expect(series("2027-03-13T09:00:00-05:00", "P1DT1H", 2, NY)[1]).toBe("2027-03-14T14:00:00Z");
  });

  test("a daily series at 02:30 moves to the end of the gap and reports it", () => {
    const NY = "America/New_York";
    const start = T("2027-03-13T07:30:00Z"); // 02:30 EST
    expect(isoOccurrence(start, dur("P1D"), 1, NY)).toEqual({ at: T("2027-03-14T07:00:00Z"), gap: true });
    expect(isoOccurrence(start, dur("P1D"), 2, NY)).toEqual({ at: T("2027-03-15T06:30:00Z"), gap: false });
  });

  test("a daily series at 01:30 takes the first pass on the fall-back day", () => {
    const NY = "America/New_York";
    expect(isoOccurrence(T("2026-10-31T05:30:00Z"), dur("P1D"), 1, NY).at).toBe(T("2026-11-01T05:30:00Z"));
  });

  test("P2W and PT0.5S", () => {
    expect(series("2026-01-01T00:00:00Z", "P2W", 3)).toEqual(["2026-01-01T00:00:00Z", "2026-01-15T00:00:00Z", "2026-01-29T00:00:00Z"]);
    expect(series("2026-01-01T00:00:00Z", "PT0.5S", 3).map((s) => T(s))).toEqual([
      T("2026-01-01T00:00:00Z"),
      T("2026-01-01T00:00:00.5Z"),
      T("2026-01-01T00:00:01Z"),
    ]);
  });

  test("index of the first occurrence after a bound", () => {
    const start = T("2026-01-31T00:00:00Z");
    const p = dur("P1M");
    expect(isoIndexAfter(start, p, start - 1, "UTC")).toBe(0);
    expect(isoIndexAfter(start, p, start, "UTC")).toBe(1);
    expect(isoIndexAfter(start, p, T("2026-02-28T00:00:00Z"), "UTC")).toBe(2);
    expect(isoIndexAfter(start, p, T("2026-02-27T23:59:59Z"), "UTC")).toBe(1);
    expect(isoIndexAfter(start, p, T("2126-01-01T00:00:00Z"), "UTC")).toBe(1200);
    expect(isoIndexAfter(start, dur("PT1H"), start + 3_600_000 * 10, "UTC")).toBe(11);
  });
});

describe("repeating intervals", () => {
  test("R[n]/start/period and R[n]/period", () => {
    expect(parseRepeating("R5/2026-01-31T00:00:00Z/P1M", "UTC")).toEqual({
      ok: true,
      value: { count: 5, start: T("2026-01-31T00:00:00Z"), period: dur("P1M") },
    });
    expect(parseRepeating("R/PT1H", "UTC")).toEqual({ ok: true, value: { count: null, start: null, period: dur("PT1H") } });
    expect(parseRepeating("R-1/P1D", "UTC")).toEqual({ ok: true, value: { count: null, start: null, period: dur("P1D") } });
    expect(parseRepeating("R3/2026-01-31T09:00/P1D", "Europe/London")).toEqual({
      ok: true,
      value: { count: 3, start: T("2026-01-31T09:00:00Z"), period: dur("P1D") },
    });
  });

  test("R0, zero periods and malformed intervals are rejected", () => {
    for (const s of ["R0/PT1H", "R5/PT0S", "R/P0D", "R5", "R5/", "R-2/PT1H", "R5/x/PT1H", "R5/PT1H/2026-01-01T00:00:00Z", "R5/a/b/c", "R1.5/PT1H", "R99999999999/PT1H"]) {
      expect(parseRepeating(s, "UTC").ok, s).toBe(false);
    }
  });
});
