// A job's schedule input compiled into a Plan: plain data the store keeps in columns, from which the next
// fire time is computed by pure functions. Semantics follow Dapr's jobs API: `schedule` (cron, @every,
// ISO 8601 repeating interval), `dueTime` (first fire), `repeats`, `ttl`, plus `startAt`/`endAt` bounds.

import { cronNext } from "./cron.ts";
import { isoIndexAfter, isoOccurrence } from "./iso8601.ts";
import { MAX_INSTANT, MAX_REPEATS, MIN_INSTANT } from "./limits.ts";
import { everyMsOf, isoPeriodOf, parseInstant, parseSpec, parseWhen, type Spec } from "./spec.ts";
import { formatUtc, normalizeTimeZone } from "./zone.ts";

export type ScheduleKind = "cron" | "every" | "once" | "iso8601" | "manual";

export interface Plan {
  kind: ScheduleKind;
  /** As given (trimmed), e.g. "*\/5 * * * *", "@every 1h30m", "R5/2026-01-31T00:00:00Z/P1M"; null for once/manual. */
  schedule: string | null;
  /** IANA zone name; "UTC" by default. */
  timezone: string;
  /** First fire: from dueTime (an @every without dueTime but with a future startAt starts at startAt). */
  dueAt: number | null;
  /** @every: the series is anchorAt + k * every (k >= 1), after dueAt; iso8601: the series start. */
  anchorAt: number | null;
  /** No fire before (inclusive bound). */
  startAt: number | null;
  /** No fire after (inclusive bound): the earliest of endAt, ttl and an ISO series' last occurrence. */
  endAt: number | null;
  /** Maximum number of fires: the smaller of `repeats` and an ISO `Rn`. */
  repeats: number | null;
}

export interface ScheduleInput {
  schedule?: string;
  dueTime?: string;
  timezone?: string;
  repeats?: number;
  ttl?: string;
  startAt?: string;
  endAt?: string;
}

/** `field` is the input key at fault: "schedule", "dueTime", "timezone", "repeats", "ttl", "startAt", "endAt". */
export interface ScheduleError {
  field: string;
  message: string;
}

export type CompileResult = { ok: true; plan: Plan } | { ok: false; error: ScheduleError };

export interface CompileOptions {
  /** Shortest accepted @every interval, ms (default 1000). */
  minEveryMs?: number;
}

const fail = (field: string, message: string): CompileResult => ({ ok: false, error: { field, message } });

function text(input: ScheduleInput, field: keyof ScheduleInput): string | undefined | ScheduleError {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") return { field, message: `${field} must be a string` };
  return v;
}

function isError(v: unknown): v is ScheduleError {
  return typeof v === "object" && v !== null;
}

/** Validates a schedule input and compiles it into a Plan; `now` is the creation time. */
export function compilePlan(input: ScheduleInput, now: number, opts: CompileOptions = {}): CompileResult {
  const minEveryMs = opts.minEveryMs ?? 1000;
  const fields = {} as Record<"schedule" | "dueTime" | "timezone" | "ttl" | "startAt" | "endAt", string | undefined>;
  for (const f of ["schedule", "dueTime", "timezone", "ttl", "startAt", "endAt"] as const) {
    const v = text(input, f);
    if (isError(v)) return { ok: false, error: v };
    fields[f] = v;
  }

  let timezone = "UTC";
  if (fields.timezone !== undefined) {
    const tz = normalizeTimeZone(fields.timezone);
    if (tz === null) return fail("timezone", `"${fields.timezone}" is not an IANA time zone name (e.g. UTC, Europe/London, America/New_York)`);
    timezone = tz;
  }

  let repeats: number | null = null;
  if (input.repeats !== undefined && input.repeats !== null) {
    const r = input.repeats;
    if (typeof r !== "number" || !Number.isInteger(r)) return fail("repeats", "repeats must be a whole number");
    if (r === 0) return fail("repeats", "repeats is 0, so the job would never fire; omit it for no limit");
    if (r < 0 || r > MAX_REPEATS) return fail("repeats", `repeats must be between 1 and ${MAX_REPEATS}`);
    repeats = r;
  }

  let startAt: number | null = null;
  if (fields.startAt !== undefined) {
    const p = parseInstant(fields.startAt);
    if (!p.ok) return fail("startAt", p.message);
    startAt = p.value;
  }
  let endAt: number | null = null;
  let endField = "endAt";
  if (fields.endAt !== undefined) {
    const p = parseInstant(fields.endAt);
    if (!p.ok) return fail("endAt", p.message);
    endAt = p.value;
  }
  if (fields.ttl !== undefined) {
    const p = parseWhen(fields.ttl, now, timezone);
    if (!p.ok) return fail("ttl", p.message);
    if (endAt === null || p.value < endAt) {
      endAt = p.value;
      endField = "ttl";
    }
  }
  if (startAt !== null && endAt !== null && endAt < startAt) {
    return fail(endField, `${endField} (${formatUtc(endAt)}) is before startAt (${formatUtc(startAt)})`);
  }

  let dueAt: number | null = null;
  if (fields.dueTime !== undefined) {
    const p = parseWhen(fields.dueTime, now, timezone);
    if (!p.ok) return fail("dueTime", p.message);
    dueAt = p.value;
  }

  const schedule = fields.schedule?.trim() || null;
  let spec: Spec | null = null;
  if (schedule !== null) {
    const p = parseSpec(schedule, timezone, minEveryMs);
    if (!p.ok) return fail("schedule", p.message);
    spec = p.value;
  }

  const plan: Plan = { kind: "manual", schedule, timezone, dueAt, anchorAt: null, startAt, endAt, repeats };
  if (spec === null) {
    plan.kind = dueAt === null ? "manual" : "once";
  } else if (spec.kind === "cron") {
    plan.kind = "cron";
  } else if (spec.kind === "every") {
    plan.kind = "every";
    // Without dueTime the series counts from now (first fire now + every), or starts at a future startAt.
    if (dueAt === null && startAt !== null && startAt > now) plan.dueAt = startAt;
    plan.anchorAt = plan.dueAt ?? now;
  } else {
    plan.kind = "iso8601";
    const { count, start, period } = spec.repeat;
    if (start !== null && (start < MIN_INSTANT || start > MAX_INSTANT)) {
      return fail("schedule", "the series start is outside the years 1970 to 9999");
    }
    plan.anchorAt = start ?? dueAt ?? Math.max(now, startAt ?? now);
    if (count !== null) {
      plan.repeats = repeats === null ? count : Math.min(repeats, count);
      // Rn also ends the series at its last occurrence, even when earlier ones lie in the past.
      const last = isoOccurrence(plan.anchorAt, period, count - 1, timezone).at;
      if (last <= MAX_INSTANT && (plan.endAt === null || last < plan.endAt)) {
        plan.endAt = last;
        endField = "schedule";
      }
    }
  }

  if (plan.kind !== "manual" && firstFire(plan, now) === null) return neverFires(plan, now, endField);
  return { ok: true, plan };
}

/** Names the input that makes a compiled plan unable to fire. */
function neverFires(plan: Plan, now: number, endField: string): CompileResult {
  const unbounded = firstFire({ ...plan, startAt: null, endAt: null }, now);
  if (unbounded === null) return fail("schedule", `"${plan.schedule}" never fires: no date matches it`);
  const fromStart = firstFire({ ...plan, endAt: null }, now);
  if (fromStart === null) {
    const start = formatUtc(plan.startAt!);
    return plan.kind === "once"
      ? fail("startAt", `startAt (${start}) is after the only time the job would fire (${formatUtc(unbounded)})`)
      : fail("startAt", `"${plan.schedule}" has no fire time at or after startAt (${start})`);
  }
  if (endField === "schedule") {
    const last = formatUtc(plan.endAt!);
    return fail("schedule", `the last occurrence of "${plan.schedule}" (${last}) is before the first fire (${formatUtc(fromStart)})`);
  }
  return fail(endField, `${endField} (${formatUtc(plan.endAt!)}) is before the first fire (${formatUtc(fromStart)})`);
}

/**
 * The slot to store when the job is created: dueAt if set (even in the past: it fires at once); for an ISO
 * 8601 series its start, which is its first occurrence, even when that is `now`; else the first slot after
 * `now` (a cron job created at 12:00:00.000 next fires at its following slot, as in Vixie cron).
 */
export function firstFire(plan: Plan, now: number): number | null {
  if (plan.dueAt !== null) return nextFire(plan, plan.dueAt - 1, 0);
  return nextFire(plan, plan.kind === "iso8601" ? now - 1 : now, 0);
}

/** The first slot strictly after `after`, given that `firedCount` slots have fired; null when finished. */
export function nextFire(plan: Plan, after: number, firedCount: number): number | null {
  if (plan.kind === "manual") return null;
  if (plan.repeats !== null && firedCount >= plan.repeats) return null;
  const lo = plan.startAt === null ? after : Math.max(after, plan.startAt - 1); // candidates are > lo
  let next: number | null;
  if (plan.dueAt !== null && plan.dueAt > lo) {
    next = plan.dueAt;
  } else {
    // Later slots follow the schedule after dueAt.
    const base = plan.dueAt === null ? lo : Math.max(lo, plan.dueAt);
    next = scheduleAfter(plan, base);
  }
  if (next === null || next > MAX_INSTANT || (plan.endAt !== null && next > plan.endAt)) return null;
  return next;
}

function scheduleAfter(plan: Plan, base: number): number | null {
  switch (plan.kind) {
    case "cron":
      return cronNext(plan.schedule!, plan.timezone, base);
    case "every": {
      const every = everyMsOf(plan.schedule!);
      const anchor = plan.anchorAt!;
      const k = Math.max(1, Math.floor((base - anchor) / every) + 1);
      return anchor + k * every;
    }
    case "iso8601": {
      const period = isoPeriodOf(plan.schedule!);
      const k = isoIndexAfter(plan.anchorAt!, period, base, plan.timezone);
      return isoOccurrence(plan.anchorAt!, period, k, plan.timezone).at;
    }
    case "once":
    case "manual":
      return null;
  }
}
