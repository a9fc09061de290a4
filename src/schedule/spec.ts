// What a `schedule` string is: a cron pattern or nickname, "@every <Go duration>", or an ISO 8601 repeating
// interval. Also the "when" inputs (dueTime, ttl): a duration from now or an RFC 3339 instant.

import { parseCron } from "./cron.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { isoOccurrence, parseIsoDuration, parseRepeating, parseRfc3339, REPEAT_PREFIX, type IsoDuration, type IsoRepeat, type Parsed } from "./iso8601.ts";
import { MAX_INSTANT, MAX_SPAN_MS, MIN_INSTANT } from "./limits.ts";

export type Spec =
  | { kind: "cron"; pattern: string }
  | { kind: "every"; everyMs: number }
  | { kind: "iso8601"; repeat: IsoRepeat };

const EVERY = /^@every(?:\s+(.*))?$/i;

/** Parses a non-empty schedule string. `timezone` must be a valid IANA name. */
export function parseSpec(schedule: string, timezone: string, minEveryMs: number): Parsed<Spec> {
  const s = schedule.trim();
  const every = EVERY.exec(s);
  if (every) {
    const text = (every[1] ?? "").trim();
    const ms = parseDuration(text);
    if (ms === null) return { ok: false, message: `"@every ${text}" needs a duration like 30s, 5m or 1h30m` };
    if (ms < minEveryMs) return { ok: false, message: `@every must be at least ${formatDuration(minEveryMs)}; got "${text}"` };
    if (ms > MAX_SPAN_MS) return { ok: false, message: `@every ${text} is longer than 100 years` };
    return { ok: true, value: { kind: "every", everyMs: ms } };
  }
  if (REPEAT_PREFIX.test(s) || /^R\d*$/i.test(s)) {
    const r = parseRepeating(s, timezone);
    if (!r.ok) return r;
    // Days are at least 23 hours (a DST day); months and years are always long enough.
    const p = r.value.period;
    const shortest = p.years || p.months ? Infinity : p.days * 23 * 3_600_000 + p.ms;
    if (shortest < minEveryMs) return { ok: false, message: `an ISO 8601 period must be at least ${formatDuration(minEveryMs)} (scheduler.min_every); got "${s.split("/").at(-1)}"` };
    return { ok: true, value: { kind: "iso8601", repeat: r.value } };
  }
  if (/^P/i.test(s)) {
    return { ok: false, message: `"${s}" is a duration, not a schedule; write R/${s} to repeat it, or use it as dueTime` };
  }
  // "every 10s", "every 1h": the @every form without its @.
  const bare = /^every\s+(.+)$/i.exec(s);
  if (bare && parseDuration(bare[1].trim()) !== null) return { ok: false, message: `"${s}" is not a schedule; did you mean "@every ${bare[1].trim()}"?` };
  const cron = parseCron(s, timezone);
  return cron.ok ? { ok: true, value: { kind: "cron", pattern: s } } : cron;
}

/** The @every interval of a compiled plan's schedule string. */
export function everyMsOf(schedule: string): number {
  const ms = parseDuration((EVERY.exec(schedule.trim())?.[1] ?? "").trim());
  if (ms === null || ms <= 0) throw new TypeError(`not an @every schedule: ${schedule}`);
  return ms;
}

/** The period of a compiled plan's ISO 8601 repeating interval. */
export function isoPeriodOf(schedule: string): IsoDuration {
  const parts = schedule.trim().split("/");
  const p = parseIsoDuration(parts[parts.length - 1]!);
  if (!p.ok) throw new TypeError(`not an ISO 8601 repeating interval: ${schedule}`);
  return p.value;
}

/**
 * A point in time given as a Go duration from now ("30s", "1h30m"), an ISO 8601 duration from now
 * ("PT30S", "P1D": calendar parts on the wall clock of `timezone`), or an RFC 3339 instant.
 */
export function parseWhen(text: string, now: number, timezone: string): Parsed<number> {
  const s = text.trim();
  const usage = `"${s}" is neither a duration (30s, 1h30m, PT30S) nor an RFC 3339 time (2026-01-31T09:00:00Z)`;
  const d = parseDuration(s);
  if (d !== null) {
    if (d > MAX_SPAN_MS) return { ok: false, message: `"${s}" is longer than 100 years` };
    return { ok: true, value: now + d };
  }
  if (/^P/i.test(s)) {
    const iso = parseIsoDuration(s);
    return iso.ok ? { ok: true, value: isoOccurrence(now, iso.value, 1, timezone).at } : iso;
  }
  const at = parseRfc3339(s);
  if (at === null) return { ok: false, message: usage };
  if (at < MIN_INSTANT || at > MAX_INSTANT) return { ok: false, message: `"${s}" is outside the years 1970 to 9999` };
  return { ok: true, value: at };
}

/** An RFC 3339 instant within the supported years. */
export function parseInstant(text: string): Parsed<number> {
  const s = text.trim();
  const at = parseRfc3339(s);
  if (at === null) return { ok: false, message: `"${s}" is not an RFC 3339 time with an offset, e.g. 2026-01-31T09:00:00Z` };
  if (at < MIN_INSTANT || at > MAX_INSTANT) return { ok: false, message: `"${s}" is outside the years 1970 to 9999` };
  return { ok: true, value: at };
}
