// Time formats more than one vendor writes.

/** RFC 3339 in UTC with milliseconds (DCS, Dapr, Alauda's list items). */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString();

const two = (n: number) => String(n).padStart(2, "0");

/** ISO 8601 with microseconds and an explicit +00:00 offset, as Alauda writes: 2015-12-28T14:31:07.639255+00:00. */
export function isoMicros(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000+00:00`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Java's DateFormat MEDIUM in en_US, in UTC, as Juice writes: "Dec 8, 2016 4:03:08 PM". */
export function javaMediumDate(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${h % 12 === 0 ? 12 : h % 12}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${h < 12 ? "AM" : "PM"}`;
}

/** "yyyy-MM-dd HH:mm:ss" in UTC (SchedulerX's date strings). */
export function plainDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}
