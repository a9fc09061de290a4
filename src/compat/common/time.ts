// Time formats more than one vendor writes.

/** RFC 3339 in UTC with milliseconds (DCS, Dapr, Alauda's list items). */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString();

/** "yyyy-MM-dd HH:mm:ss" in UTC (SchedulerX's date strings). */
export function plainDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}
