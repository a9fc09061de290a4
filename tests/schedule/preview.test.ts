import { describe, expect, test } from "bun:test";
import { preview, type PreviewItem } from "../../src/schedule/index.ts";

const T = (s: string): number => Date.parse(s);

function items(spec: string, tz: string, count: number, now: string): PreviewItem[] {
  const r = preview(spec, tz, count, T(now));
  if (!r.ok) throw new Error(`${r.error.field}: ${r.error.message}`);
  return r.items;
}

describe("preview", () => {
  test("spring-forward: the moved fire is marked dst-gap", () => {
    expect(items("30 2 * * *", "America/New_York", 2, "2027-03-13T12:00:00Z")).toEqual([
      { at: "2027-03-14T07:00:00.000Z", local: "2027-03-14T03:00:00-04:00", note: "dst-gap" },
      { at: "2027-03-15T06:30:00.000Z", local: "2027-03-15T02:30:00-04:00" },
    ]);
    expect(items("15 2 * * *", "Australia/Lord_Howe", 1, "2026-10-03T12:00:00Z")).toEqual([
      { at: "2026-10-03T15:30:00.000Z", local: "2026-10-04T02:30:00+11:00", note: "dst-gap" },
    ]);
  });

  test("fall-back: fires on a repeated wall time are marked dst-overlap", () => {
    expect(items("30 1 * * *", "America/New_York", 2, "2026-10-31T12:00:00Z")).toEqual([
      { at: "2026-11-01T05:30:00.000Z", local: "2026-11-01T01:30:00-04:00", note: "dst-overlap" },
      { at: "2026-11-02T06:30:00.000Z", local: "2026-11-02T01:30:00-05:00" },
    ]);
    expect(items("*/30 * * * *", "America/New_York", 5, "2026-11-01T04:45:00Z")).toEqual([
      { at: "2026-11-01T05:00:00.000Z", local: "2026-11-01T01:00:00-04:00", note: "dst-overlap" },
      { at: "2026-11-01T05:30:00.000Z", local: "2026-11-01T01:30:00-04:00", note: "dst-overlap" },
      { at: "2026-11-01T06:00:00.000Z", local: "2026-11-01T01:00:00-05:00", note: "dst-overlap" },
      { at: "2026-11-01T06:30:00.000Z", local: "2026-11-01T01:30:00-05:00", note: "dst-overlap" },
      { at: "2026-11-01T07:00:00.000Z", local: "2026-11-01T02:00:00-05:00" },
    ]);
  });

  test("London both ways", () => {
    expect(items("30 1 * * *", "Europe/London", 1, "2026-03-28T12:00:00Z")).toEqual([
      { at: "2026-03-29T01:00:00.000Z", local: "2026-03-29T02:00:00+01:00", note: "dst-gap" },
    ]);
    expect(items("30 1 * * *", "Europe/London", 1, "2026-10-24T12:00:00Z")).toEqual([
      { at: "2026-10-25T00:30:00.000Z", local: "2026-10-25T01:30:00+01:00", note: "dst-overlap" },
    ]);
  });

  test("ISO daily series through a gap is marked too", () => {
    expect(items("R/2027-03-13T02:30:00/P1D", "America/New_York", 3, "2027-03-01T00:00:00Z")).toEqual([
      { at: "2027-03-13T07:30:00.000Z", local: "2027-03-13T02:30:00-05:00" },
      { at: "2027-03-14T07:00:00.000Z", local: "2027-03-14T03:00:00-04:00", note: "dst-gap" },
      { at: "2027-03-15T06:30:00.000Z", local: "2027-03-15T02:30:00-04:00" },
    ]);
  });

  test("a bounded series returns fewer items than asked", () => {
    expect(items("R3/2026-01-31T00:00:00Z/P1M", "UTC", 10, "2026-01-01T00:00:00Z").map((i) => i.at)).toEqual([
      "2026-01-31T00:00:00.000Z",
      "2026-02-28T00:00:00.000Z",
      "2026-03-31T00:00:00.000Z",
    ]);
  });

  test("@every in a +05:45 zone: exact spacing, local offset shown", () => {
    expect(items("@every 1h30m", "Asia/Kathmandu", 2, "2026-01-01T00:00:00Z")).toEqual([
      { at: "2026-01-01T01:30:00.000Z", local: "2026-01-01T07:15:00+05:45" },
      { at: "2026-01-01T03:00:00.000Z", local: "2026-01-01T08:45:00+05:45" },
    ]);
  });

  test("6-field patterns show seconds", () => {
    expect(items("*/20 * * * * *", "UTC", 2, "2026-01-01T00:00:01Z").map((i) => i.at)).toEqual(["2026-01-01T00:00:20.000Z", "2026-01-01T00:00:40.000Z"]);
  });

  test("errors name the field", () => {
    const err = (spec: string, tz: string, count: number): string => {
      const r = preview(spec, tz, count, T("2026-01-01T00:00:00Z"));
      if (r.ok) throw new Error("expected an error");
      return r.error.field;
    };
    expect(err("* * * * *", "UTC", 0)).toBe("count");
    expect(err("* * * * *", "UTC", 1001)).toBe("count");
    expect(err("* * * * *", "UTC", 2.5)).toBe("count");
    expect(err("", "UTC", 5)).toBe("spec");
    expect(err("0 0 31 2 *", "UTC", 5)).toBe("spec");
    expect(err("* * * * *", "Nowhere/Land", 5)).toBe("timezone");
  });
});
