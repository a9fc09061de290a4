import { describe, expect, test } from "bun:test";
import {
  formatLocal,
  formatUtc,
  isAmbiguousLocal,
  isValidTimeZone,
  normalizeTimeZone,
  offsetAt,
  resolveWall,
  wallClock,
  wallToInstant,
  type Wall,
} from "../../src/schedule/zone.ts";

const T = (s: string): number => Date.parse(s);
const wall = (y: number, mo: number, d: number, h: number, mi: number, s = 0, ms = 0): Wall => ({
  year: y,
  month: mo,
  day: d,
  hour: h,
  minute: mi,
  second: s,
  ms,
});
const HOUR = 3_600_000;

describe("zone names", () => {
  test("IANA names are accepted and their case fixed", () => {
    expect(normalizeTimeZone("UTC")).toBe("UTC");
    expect(normalizeTimeZone("america/new_york")).toBe("America/New_York");
    expect(normalizeTimeZone(" Europe/London ")).toBe("Europe/London");
    expect(isValidTimeZone("Australia/Lord_Howe")).toBe(true);
    expect(isValidTimeZone("Etc/GMT+5")).toBe(true);
  });

  test("unknown names and bare offsets are refused", () => {
    for (const z of ["Mars/Olympus_Mons", "", "+05:00", "-0800", "UTC+1", "America/New York", "../etc"]) {
      expect(isValidTimeZone(z)).toBe(false);
    }
  });
});

describe("offsets and wall clocks", () => {
  test("offset of a zone at an instant", () => {
    expect(offsetAt(T("2026-01-15T12:00:00Z"), "America/New_York")).toBe(-5 * HOUR);
    expect(offsetAt(T("2026-07-15T12:00:00Z"), "America/New_York")).toBe(-4 * HOUR);
    expect(offsetAt(T("2026-01-15T12:00:00Z"), "Asia/Kathmandu")).toBe(5.75 * HOUR);
    expect(offsetAt(T("2026-01-15T12:00:00Z"), "Australia/Lord_Howe")).toBe(11 * HOUR);
    expect(offsetAt(T("2026-07-15T12:00:00Z"), "Australia/Lord_Howe")).toBe(10.5 * HOUR);
    expect(offsetAt(T("2026-07-15T12:00:00.250Z"), "UTC")).toBe(0);
  });

  test("wall clock keeps milliseconds", () => {
    expect(wallClock(T("2026-11-01T05:30:00.250Z"), "America/New_York")).toEqual(wall(2026, 11, 1, 1, 30, 0, 250));
    expect(wallClock(T("2026-11-01T06:30:00Z"), "America/New_York")).toEqual(wall(2026, 11, 1, 1, 30));
    expect(wallClock(T("2026-01-01T04:00:00Z"), "America/New_York")).toEqual(wall(2025, 12, 31, 23, 0));
  });

  test("an ordinary wall time has one instant", () => {
    expect(resolveWall(wall(2026, 6, 1, 9, 0), "Europe/London")).toEqual({ kind: "single", at: T("2026-06-01T08:00:00Z") });
    expect(wallToInstant(wall(2026, 1, 1, 9, 0, 0, 5), "Asia/Kathmandu")).toBe(T("2026-01-01T03:15:00.005Z"));
  });

  test("a wall time in a spring-forward gap resolves to the first instant after it", () => {
    expect(resolveWall(wall(2027, 3, 14, 2, 30), "America/New_York")).toEqual({ kind: "gap", at: T("2027-03-14T07:00:00Z") });
    expect(resolveWall(wall(2027, 3, 14, 2, 0), "America/New_York")).toEqual({ kind: "gap", at: T("2027-03-14T07:00:00Z") });
    expect(resolveWall(wall(2026, 10, 4, 2, 15), "Australia/Lord_Howe")).toEqual({ kind: "gap", at: T("2026-10-03T15:30:00Z") });
    expect(resolveWall(wall(2026, 3, 29, 1, 59, 59, 999), "Europe/London")).toEqual({ kind: "gap", at: T("2026-03-29T01:00:00Z") });
  });

  test("a wall time in a fall-back overlap has two instants; the first pass wins", () => {
    expect(resolveWall(wall(2026, 11, 1, 1, 30), "America/New_York")).toEqual({
      kind: "overlap",
      earlier: T("2026-11-01T05:30:00Z"),
      later: T("2026-11-01T06:30:00Z"),
    });
    expect(wallToInstant(wall(2026, 11, 1, 1, 30), "America/New_York")).toBe(T("2026-11-01T05:30:00Z"));
    expect(resolveWall(wall(2026, 4, 5, 1, 45), "Australia/Lord_Howe")).toEqual({
      kind: "overlap",
      earlier: T("2026-04-04T14:45:00Z"),
      later: T("2026-04-04T15:15:00Z"),
    });
    expect(isAmbiguousLocal(T("2026-11-01T06:30:00Z"), "America/New_York")).toBe(true);
    expect(isAmbiguousLocal(T("2026-11-01T07:00:00Z"), "America/New_York")).toBe(false);
  });
});

describe("formatting", () => {
  test("UTC and local RFC 3339", () => {
    expect(formatUtc(T("2027-03-14T07:00:00Z"))).toBe("2027-03-14T07:00:00Z");
    expect(formatUtc(T("2027-03-14T07:00:00.5Z"))).toBe("2027-03-14T07:00:00.500Z");
    expect(formatLocal(T("2027-03-14T07:00:00Z"), "America/New_York")).toBe("2027-03-14T03:00:00-04:00");
    expect(formatLocal(T("2026-01-01T03:15:00Z"), "Asia/Kathmandu")).toBe("2026-01-01T09:00:00+05:45");
    expect(formatLocal(T("2026-01-01T00:00:00Z"), "Europe/London")).toBe("2026-01-01T00:00:00+00:00");
    expect(formatLocal(T("2026-07-01T00:00:00Z"), "Australia/Lord_Howe")).toBe("2026-07-01T10:30:00+10:30");
  });
});
