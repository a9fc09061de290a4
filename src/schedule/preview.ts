// The next fire times of a schedule, for people: UTC and local RFC 3339, with a note where DST moved a
// fire (spring-forward gap) or where its wall-clock time occurs twice (fall-back overlap).

import { cronMatches } from "./cron.ts";
import { isoIndexAfter, isoOccurrence } from "./iso8601.ts";
import { compilePlan, firstFire, nextFire, type Plan, type ScheduleError } from "./plan.ts";
import { isoPeriodOf } from "./spec.ts";
import { formatLocal, isAmbiguousLocal } from "./zone.ts";

export type PreviewNote = "dst-gap" | "dst-overlap";

export interface PreviewItem {
  /** RFC 3339 in UTC: "2027-03-14T07:00:00Z". */
  at: string;
  /** RFC 3339 with the zone's offset: "2027-03-14T03:00:00-04:00". */
  local: string;
  /** dst-gap: the pattern asked for a wall time that did not exist, and the fire moved past the gap. */
  note?: PreviewNote;
}

export type PreviewResult = { ok: true; items: PreviewItem[] } | { ok: false; error: ScheduleError };

export const MAX_PREVIEW = 1000;

/** Up to `count` fire times of `spec` from `now` on (fewer when the series ends). Errors name "spec", "timezone" or "count". */
export function preview(spec: string, timezone: string, count: number, now: number): PreviewResult {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PREVIEW) {
    return { ok: false, error: { field: "count", message: `count must be a whole number from 1 to ${MAX_PREVIEW}` } };
  }
  if (typeof spec !== "string" || spec.trim() === "") {
    return { ok: false, error: { field: "spec", message: "the schedule is empty" } };
  }
  const compiled = compilePlan({ schedule: spec, timezone }, now);
  if (!compiled.ok) {
    const { field, message } = compiled.error;
    return { ok: false, error: { field: field === "schedule" ? "spec" : field, message } };
  }
  const plan = compiled.plan;
  const items: PreviewItem[] = [];
  let at = firstFire(plan, now);
  while (at !== null && items.length < count) {
    const item: PreviewItem = { at: new Date(at).toISOString(), local: formatLocal(at, plan.timezone) };
    const note = noteFor(plan, at);
    if (note) item.note = note;
    items.push(item);
    at = nextFire(plan, at, items.length);
  }
  return { ok: true, items };
}

function noteFor(plan: Plan, at: number): PreviewNote | undefined {
  if (shiftedByGap(plan, at)) return "dst-gap";
  if (isAmbiguousLocal(at, plan.timezone)) return "dst-overlap";
  return undefined;
}

function shiftedByGap(plan: Plan, at: number): boolean {
  switch (plan.kind) {
    case "cron":
      // A fire whose wall-clock time does not match the pattern was moved there from a gap.
      return !cronMatches(plan.schedule!, plan.timezone, at);
    case "iso8601": {
      const period = isoPeriodOf(plan.schedule!);
      const k = isoIndexAfter(plan.anchorAt!, period, at - 1, plan.timezone);
      return isoOccurrence(plan.anchorAt!, period, k, plan.timezone).gap;
    }
    case "every":
    case "once":
    case "manual":
      return false; // exact elapsed time: never moved by DST
  }
}
