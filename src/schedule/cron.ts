// Cron patterns through croner, used as a calculator only: a paused Cron answers nextRun(date) and
// match(date), it never schedules anything. Parsed patterns are cached by (pattern, zone) in a small LRU,
// so memory does not grow with the number of jobs (docs: memory holds only the next few seconds of work).

import { Cron, CronPattern, type CronOptions } from "croner";

/** The nicknames croner expands, lower-case. @reboot is not one: it is an event, not a time. */
export const CRON_NICKNAMES = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"] as const;

/**
 * Every croner option that changes which instants match, spelled out so a croner upgrade that changes a
 * default cannot change our schedules.
 */
const OPTIONS = {
  paused: true, // a calculator: never arms a timer
  mode: "5-or-6-parts", // "m h dom mon dow", or with seconds first; no year field
  domAndDow: false, // day-of-month and day-of-week both restricted: either may match (Vixie/POSIX OR)
  alternativeWeekdays: false, // 0 or 7 = Sunday
  sloppyRanges: true, // accept "5/15" (from 5, every 15) as Quartz and robfig/cron (Dapr) do
  // DST: a pattern whose second, minute and hour fields have no wildcard or step is fixed-time (fires at
  // the first instant after a spring-forward gap; once, on the first pass, in a fall-back overlap); any
  // other pattern is an interval pattern (skips wall times in a gap; fires on both passes of an overlap).
  fixedTimeRule: "no-wildcard",
} as const satisfies CronOptions;

const CACHE_SIZE = 1000;

/**
 * A parsed pattern and its last answer: "the first fire after `after` is `next`". Any later query whose
 * `after` lies in [after, next) has the same answer (a fire between would also have come first after
 * `after`), so the many jobs sharing a pattern, and every API create of one, skip croner's time-zone
 * walk, its most expensive part.
 */
interface Entry {
  cron: Cron;
  after: number;
  next: number | null;
}
const cache = new Map<string, Entry>();

export type CronParse = { ok: true; cron: Cron } | { ok: false; message: string };

/** Tidies croner's messages ("CronPattern: Syntax error, ...") for an API user. */
function tidy(message: string): string {
  return message.replace(/^Cron(Pattern|Options)?: ?/, "").replace(/^Syntax error, /i, "");
}

function fieldCount(pattern: string): number {
  return pattern.trim().split(/\s+/).length;
}

/**
 * Parses a cron pattern (5 fields, 6 with seconds first, or a nickname) for `timezone`, which must already
 * be a valid IANA name. Cached; the returned Cron is shared, so callers must not change it.
 */
export function parseCron(pattern: string, timezone: string): CronParse {
  const key = `${pattern}\u0000${timezone}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // re-insert: Map keeps insertion order, so the oldest key is the least recent
    cache.set(key, hit);
    return { ok: true, cron: hit.cron };
  }
  const text = pattern.trim();
  if (text.startsWith("@")) {
    if (!(CRON_NICKNAMES as readonly string[]).includes(text.toLowerCase())) {
      return { ok: false, message: `unknown nickname "${text}"; use one of ${CRON_NICKNAMES.join(", ")} or @every <duration>` };
    }
  } else {
    const n = fieldCount(text);
    if (n !== 5 && n !== 6) {
      return {
        ok: false,
        message: `a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first); "${text}" has ${n}`,
      };
    }
    // croner's "+" prefix switches one pattern to AND logic; keep the standard OR for every pattern.
    if (text.split(/\s+/)[n - 1]!.startsWith("+")) {
      return { ok: false, message: `the "+" day-of-week modifier is not supported in "${text}"` };
    }
  }
  let cron: Cron;
  try {
    cron = new Cron(text, { ...OPTIONS, timezone });
  } catch (e) {
    return { ok: false, message: `invalid cron expression "${text}": ${tidy(e instanceof Error ? e.message : String(e))}` };
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, { cron, after: Number.POSITIVE_INFINITY, next: null });
  return { ok: true, cron };
}

function entry(pattern: string, timezone: string): Entry {
  const r = parseCron(pattern, timezone);
  if (!r.ok) throw new TypeError(r.message); // plans are validated when compiled
  return cache.get(`${pattern}\u0000${timezone}`)!;
}

/**
 * The first instant strictly after `after` at which the pattern fires, or null if it never does again
 * (croner looks ahead up to the year 3000). Whole seconds.
 */
export function cronNext(pattern: string, timezone: string, after: number): number | null {
  const e = entry(pattern, timezone);
  if (e.next !== null && e.after <= after && after < e.next) return e.next;
  const next = e.cron.nextRun(new Date(after));
  e.after = after;
  e.next = next ? next.getTime() : null;
  return e.next;
}

/** True when the wall-clock time of `at` in `timezone` matches the pattern (ignoring DST shifts). */
export function cronMatches(pattern: string, timezone: string, at: number): boolean {
  return entry(pattern, timezone).cron.match(new Date(at));
}

/** True when the pattern is fixed-time for DST purposes (see OPTIONS.fixedTimeRule). */
export function cronIsFixedTime(pattern: string): boolean {
  return new CronPattern(pattern.trim(), undefined, {
    mode: OPTIONS.mode,
    alternativeWeekdays: OPTIONS.alternativeWeekdays,
    sloppyRanges: OPTIONS.sloppyRanges,
    fixedTimeRule: OPTIONS.fixedTimeRule,
  }).isFixedTime;
}

/** Number of cached parsed patterns (for tests and metrics). */
export function cronCacheSize(): number {
  return cache.size;
}
