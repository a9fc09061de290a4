// Time zone arithmetic on top of Intl: the wall clock of an instant in a zone, and the instant of a wall
// clock. Pure functions; the only state is a cache of Intl formatters (one per valid zone name).

/** A wall-clock reading: month 1-12, day 1-31, hour 0-23. */
export interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

/** How a wall-clock time maps to instants in a zone. */
export type WallResolution =
  | { kind: "single"; at: number }
  | { kind: "overlap"; earlier: number; later: number } // fall-back: the wall time occurs twice
  | { kind: "gap"; at: number }; // spring-forward: the wall time does not exist; `at` = first instant after

const DAY_MS = 86_400_000;
// IANA names only ("Europe/London", "UTC", "Etc/GMT+5"); Intl would also take offsets like "+05:00".
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;
const MAX_FORMATTERS = 1000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      hourCycle: "h23",
    });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timezone, f);
  }
  return f;
}

/**
 * The canonical spelling of an IANA zone name ("america/new_york" -> "America/New_York"), or null when
 * the name is unknown. Offsets ("+05:00") are refused: a job's zone must carry its DST rules.
 */
export function normalizeTimeZone(name: string): string | null {
  let known = normalized.get(name);
  if (known === undefined) {
    // (Names come from requests: the memo is bounded, and starts over when full.)
    if (normalized.size >= 1000) normalized.clear();
    normalized.set(name, (known = normalize(name)));
  }
  return known;
}

/** Zone names as given, normalized (a job batch names the same few zones thousands of times). */
const normalized = new Map<string, string | null>();

function normalize(name: string): string | null {
  const trimmed = name.trim();
  if (!ZONE_NAME.test(trimmed)) return null;
  let resolved: string;
  try {
    resolved = formatter(trimmed).resolvedOptions().timeZone;
  } catch {
    return null; // RangeError: unknown zone
  }
  // Keep the caller's name unless Intl only fixed its case (it may also map links, e.g. to "Asia/Kolkata",
  // which differs between engines).
  return resolved.toLowerCase() === trimmed.toLowerCase() ? resolved : trimmed;
}

export function isValidTimeZone(name: string): boolean {
  return normalizeTimeZone(name) !== null;
}

function floorMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** The wall clock of instant `at` in `timezone`. */
export function wallClock(at: number, timezone: string): Wall {
  if (timezone === "UTC") return utcMsToWall(at);
  const wall: Wall = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, ms: floorMod(at, 1000) };
  for (const part of formatter(timezone).formatToParts(new Date(at))) {
    switch (part.type) {
      case "year":
      case "month":
      case "day":
      case "hour":
      case "minute":
      case "second":
        wall[part.type] = Number(part.value);
        break;
    }
  }
  if (wall.hour === 24) wall.hour = 0; // some engines print midnight as 24 under hour12: false
  return wall;
}

/** A wall clock read as if it were UTC, in ms: the basis of all offset arithmetic. */
export function wallToUtcMs(w: Wall): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.ms);
}

export function utcMsToWall(t: number): Wall {
  const d = new Date(t);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    ms: d.getUTCMilliseconds(),
  };
}

/** UTC offset of `timezone` at instant `at`, in ms (New York in winter: -18,000,000). */
export function offsetAt(at: number, timezone: string): number {
  return wallToUtcMs(wallClock(at, timezone)) - at;
}

/** All the instants a wall-clock time names in `timezone`. */
export function resolveWall(wall: Wall, timezone: string): WallResolution {
  const w = wallToUtcMs(wall);
  // Offsets on either side; no zone has two transitions within four days.
  const before = offsetAt(w - 2 * DAY_MS, timezone);
  const after = offsetAt(w + 2 * DAY_MS, timezone);
  const c1 = w - before;
  const c2 = w - after;
  const ok1 = offsetAt(c1, timezone) === before;
  const ok2 = offsetAt(c2, timezone) === after;
  if (ok1 && ok2) {
    return c1 === c2 ? { kind: "single", at: c1 } : { kind: "overlap", earlier: Math.min(c1, c2), later: Math.max(c1, c2) };
  }
  if (ok1) return { kind: "single", at: c1 };
  if (ok2) return { kind: "single", at: c2 };
  // A gap: the transition lies between the two candidates; find its first instant.
  let lo = Math.min(c1, c2);
  let hi = Math.max(c1, c2);
  const loOffset = offsetAt(lo, timezone);
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetAt(mid, timezone) === loOffset) lo = mid;
    else hi = mid;
  }
  return { kind: "gap", at: hi };
}

/**
 * The instant of a wall-clock time in `timezone`: in a spring-forward gap the first instant after the gap,
 * for a time that occurs twice its first pass (the rules croner applies to fixed-time cron patterns).
 */
export function wallToInstant(wall: Wall, timezone: string): number {
  const r = resolveWall(wall, timezone);
  return r.kind === "overlap" ? r.earlier : r.at;
}

/** True when the wall-clock time of `at` occurs twice in `timezone` (a fall-back overlap). */
export function isAmbiguousLocal(at: number, timezone: string): boolean {
  return resolveWall(wallClock(at, timezone), timezone).kind === "overlap";
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

function formatWall(w: Wall): string {
  const ms = w.ms ? `.${pad(w.ms, 3)}` : "";
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${ms}`;
}

/** RFC 3339 in UTC: "2027-03-14T07:00:00Z" (milliseconds only when not zero). */
export function formatUtc(at: number): string {
  return `${formatWall(utcMsToWall(at))}Z`;
}

/** RFC 3339 with the zone's offset at that instant: "2027-03-14T03:00:00-04:00". */
export function formatLocal(at: number, timezone: string): string {
  const wall = wallClock(at, timezone);
  const offsetMin = Math.round((wallToUtcMs(wall) - at) / 60_000);
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  return `${formatWall(wall)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
