// How the dashboard writes times, durations and targets for people.
import { roughDuration } from "../schedule/duration.ts";

/** "2026-03-14 07:00:00Z" from an RFC 3339 instant (null: "—"). */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** "in 4m", "12s ago": how far an instant is from now, in its largest unit. */
export function relative(iso: string | null | undefined, now: number): string {
  if (!iso) return "";
  const ms = Date.parse(iso) - now;
  const text = span(Math.abs(ms));
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** A duration in its largest unit or two: "850ms", "42s", "3m 5s", "2h 10m", "3d 4h". */
export const span = (ms: number) => roughDuration(ms, " ");

/** How long a run took, or has run so far. */
export function runTime(run: { startedAt: string | null; endedAt: string | null }, now: number): string {
  if (!run.startedAt) return "—";
  const end = run.endedAt ? Date.parse(run.endedAt) : now;
  return span(Math.max(0, end - Date.parse(run.startedAt)));
}

/** One line about a job's target: its URL, address, command or script language. */
export function targetSummary(target: Record<string, unknown>): string {
  const [kind, body] = Object.entries(target)[0] ?? ["?", {}];
  const t = (body ?? {}) as Record<string, unknown>;
  switch (kind) {
    case "http":
      return `${String(t.method ?? "POST")} ${String(t.url ?? "")}`;
    case "tcp":
      return `tcp ${String(t.addr ?? "")}`;
    case "process":
      return Array.isArray(t.command) ? t.command.map(String).join(" ") : "process";
    case "script":
      return `${String(t.language ?? "script")} script`;
    case "container":
      return `container ${String(t.image ?? "")}`;
    default:
      return kind;
  }
}

/** A job's schedule as written, with its zone when it has one that matters. */
export function scheduleText(job: { schedule: string | null; dueTime: string | null; scheduleKind: string; timezone: string | null }): string {
  const spec = job.schedule ?? (job.dueTime ? `once at ${job.dueTime}` : job.scheduleKind);
  return job.timezone && job.timezone !== "UTC" && (job.scheduleKind === "cron" || job.scheduleKind === "iso8601") ? `${spec} (${job.timezone})` : spec;
}

/** Statuses of a run that went wrong: the failed-runs page lists these. */
export const FAILED = ["failed", "timed_out", "lost"] as const;
