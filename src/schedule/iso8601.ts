// ISO 8601 date-times, durations ("P1Y2M10DT2H30M", "PT0.5S", "P2W") and repeating intervals
// ("R5/2026-01-31T00:00:00Z/P1M", "R/PT1H"). Occurrence k of a series is computed from its start, never
// chained from occurrence k-1, so a Jan 31 + P1M series gives Feb 28, Mar 31, Apr 30, ...

import { DAY_MS, MAX_REPEATS, MAX_SPAN_MS, MONTH_AVG_MS, YEAR_AVG_MS } from "./limits.ts";
import { resolveWall, utcMsToWall, wallClock, wallToInstant, wallToUtcMs, type Wall } from "./zone.ts";

/** A duration split into calendar parts (wall-clock arithmetic) and exact elapsed milliseconds. */
export interface IsoDuration {
  years: number;
  months: number;
  days: number; // weeks are folded in as 7 days
  ms: number; // hours, minutes and seconds
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

interface DateTimeParts {
  wall: Wall;
  hasTime: boolean;
  offsetMs: number | null; // null: no offset given, a wall-clock time
}

function parseDateTimeParts(text: string): DateTimeParts | null {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return null;
  const wall: Wall = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    ms: m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0,
  };
  if (wall.month < 1 || wall.month > 12 || wall.day < 1 || wall.day > daysInMonth(wall.year, wall.month)) return null;
  if (wall.hour > 23 || wall.minute > 59 || wall.second > 59) return null;
  let offsetMs: number | null = null;
  if (m[8]) offsetMs = 0;
  else if (m[9]) {
    const h = Number(m[10]);
    const min = Number(m[11] ?? 0);
    if (h > 23 || min > 59) return null;
    offsetMs = (m[9] === "-" ? -1 : 1) * (h * 60 + min) * 60_000;
  }
  return { wall, hasTime: m[4] !== undefined, offsetMs };
}

/**
 * An RFC 3339 instant ("2026-01-31T09:00:00Z", "2026-01-31T09:00:00.5+01:00") in ms, or null. The
 * offset is required: an instant must not depend on where the server runs.
 */
export function parseRfc3339(text: string): number | null {
  const p = parseDateTimeParts(text);
  if (!p || !p.hasTime || p.offsetMs === null) return null;
  return wallToUtcMs(p.wall) - p.offsetMs;
}

/**
 * An ISO 8601 date or date-time; without an offset it is a wall-clock time in `timezone` (a time in a DST
 * gap moves to the first instant after it, one that occurs twice means its first pass).
 */
export function parseDateTime(text: string, timezone: string): number | null {
  const p = parseDateTimeParts(text);
  if (!p) return null;
  return p.offsetMs === null ? wallToInstant(p.wall, timezone) : wallToUtcMs(p.wall) - p.offsetMs;
}

const DURATION =
  /^P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i;

/** Rough length in ms, for bounds and index estimates. */
export function approxDurationMs(d: IsoDuration): number {
  return d.years * YEAR_AVG_MS + d.months * MONTH_AVG_MS + d.days * DAY_MS + d.ms;
}

export function isZeroDuration(d: IsoDuration): boolean {
  return d.years === 0 && d.months === 0 && d.days === 0 && d.ms === 0;
}

/** Parses "P1Y2M10DT2H30M", "PT0.5S", "P2W"; fractions only on hours, minutes or seconds, the last part. */
export function parseIsoDuration(text: string): Parsed<IsoDuration> {
  const s = text.trim();
  const m = DURATION.exec(s);
  const usage = `"${s}" is not an ISO 8601 duration (examples: P1D, PT1H30M, P1Y2M, PT0.5S, P2W)`;
  if (!m || s.length < 3 || /T$/i.test(s)) return { ok: false, message: usage };
  const parts = m.slice(1, 8);
  const given = parts.map((p, i) => (p === undefined ? -1 : i)).filter((i) => i >= 0);
  const num = (i: number): number => Number((parts[i] ?? "0").replace(",", "."));
  for (const i of given) {
    if (!/[.,]/.test(parts[i]!)) continue;
    if (i < 4) return { ok: false, message: `${usage}: fractions are allowed only in hours, minutes or seconds` };
    if (i !== given[given.length - 1]) return { ok: false, message: `${usage}: only the last part may have a fraction` };
  }
  const value: IsoDuration = {
    years: num(0),
    months: num(1),
    days: num(2) * 7 + num(3),
    ms: Math.round(num(4) * 3_600_000 + num(5) * 60_000 + num(6) * 1000),
  };
  if (!Number.isSafeInteger(value.years + value.months + value.days) || approxDurationMs(value) > MAX_SPAN_MS) {
    return { ok: false, message: `"${s}" is longer than 100 years` };
  }
  return { ok: true, value };
}

/**
 * Occurrence k of a series: `start + k * period`. Years, months and days move the wall clock in `timezone`
 * (a day of month past the month's end is clamped: Jan 31 + P1M = Feb 28 or 29); hours, minutes and
 * seconds are exact elapsed time. `gap` says a spring-forward gap moved the wall-clock result.
 */
export function isoOccurrence(start: number, period: IsoDuration, k: number, timezone: string): { at: number; gap: boolean } {
  if (k === 0) return { at: start, gap: false };
  const elapsed = k * period.ms;
  if (period.years === 0 && period.months === 0 && period.days === 0) return { at: start + elapsed, gap: false };
  const w = wallClock(start, timezone);
  const monthIndex = w.month - 1 + k * (period.years * 12 + period.months);
  const year = w.year + Math.floor(monthIndex / 12);
  const month = (((monthIndex % 12) + 12) % 12) + 1;
  const day = Math.min(w.day, daysInMonth(year, month));
  const target = utcMsToWall(Date.UTC(year, month - 1, day + k * period.days, w.hour, w.minute, w.second, w.ms));
  const r = resolveWall(target, timezone);
  return { at: (r.kind === "overlap" ? r.earlier : r.at) + elapsed, gap: r.kind === "gap" };
}

/** The smallest k >= 0 whose occurrence is strictly after `bound`. */
export function isoIndexAfter(start: number, period: IsoDuration, bound: number, timezone: string): number {
  if (bound < start) return 0;
  if (period.years === 0 && period.months === 0 && period.days === 0) return Math.floor((bound - start) / period.ms) + 1;
  // Estimate from the mean length, then correct: the estimate is off by at most a step or two.
  let k = Math.max(0, Math.floor((bound - start) / approxDurationMs(period)));
  const at = (i: number): number => isoOccurrence(start, period, i, timezone).at;
  while (at(k) <= bound) k++;
  while (k > 0 && at(k - 1) > bound) k--;
  return k;
}

/** A repeating interval: `count` occurrences (null: unbounded), from `start` (null: "now"), every `period`. */
export interface IsoRepeat {
  count: number | null;
  start: number | null;
  period: IsoDuration;
}

export const REPEAT_PREFIX = /^R(-1|\d*)\//i;

/** Parses "R5/2026-01-31T00:00:00Z/P1M", "R/PT1H", "R-1/P1D"; a start without offset is wall clock in `timezone`. */
export function parseRepeating(text: string, timezone: string): Parsed<IsoRepeat> {
  const s = text.trim();
  const parts = s.split("/");
  const head = REPEAT_PREFIX.exec(s);
  const usage = "expected an ISO 8601 repeating interval R[n]/<start>/<period> or R[n]/<period>, e.g. R5/2026-01-31T09:00:00Z/P1M";
  if (!head || parts.length < 2 || parts.length > 3) return { ok: false, message: usage };
  const n = head[1]!;
  let count: number | null = null;
  if (n !== "" && n !== "-1") {
    count = Number(n);
    if (count === 0) return { ok: false, message: "R0 repeats zero times, so the job would never fire" };
    if (count > MAX_REPEATS) return { ok: false, message: `R${n}: at most ${MAX_REPEATS} repetitions` };
  }
  if (parts.length === 3 && /^P/i.test(parts[1]!)) {
    return { ok: false, message: `${usage} (a <period>/<end> form is not supported)` };
  }
  const period = parseIsoDuration(parts[parts.length - 1]!);
  if (!period.ok) return period;
  if (isZeroDuration(period.value)) return { ok: false, message: "the period is zero, so the series would never advance" };
  let start: number | null = null;
  if (parts.length === 3) {
    start = parseDateTime(parts[1]!, timezone);
    if (start === null) return { ok: false, message: `"${parts[1]}" is not an ISO 8601 date-time (e.g. 2026-01-31T09:00:00Z)` };
  }
  return { ok: true, value: { count, start, period: period.value } };
}
