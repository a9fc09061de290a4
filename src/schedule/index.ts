// Pure schedule math: compile a job's schedule input into a Plan, compute fire times, preview them.

export { compilePlan, firstFire, nextFire } from "./plan.ts";
export type { CompileOptions, CompileResult, Plan, ScheduleError, ScheduleInput, ScheduleKind } from "./plan.ts";
export { MAX_PREVIEW, preview } from "./preview.ts";
export type { PreviewItem, PreviewNote, PreviewResult } from "./preview.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { parseRfc3339 } from "./iso8601.ts";
export { CRON_NICKNAMES } from "./cron.ts";
export { formatLocal, formatUtc, isValidTimeZone, normalizeTimeZone, offsetAt } from "./zone.ts";
