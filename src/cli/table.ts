// Output for people: aligned tables with wide cells cut short, times in local time and relative to now.
import { roughDuration } from "../schedule/duration.ts";

export interface Column {
  header: string;
  /** Cells longer than this are cut, ending in "…". */
  max?: number;
}

/** An aligned table, two spaces between columns, no trailing blanks; "-" for an empty cell. */
export function table(columns: Column[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => columns.map((c, i) => cut(text(r[i]), c.max)));
  const all = [columns.map((c) => c.header), ...cells];
  const widths = columns.map((_, i) => Math.max(...all.map((r) => width(r[i]))));
  return `${all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : pad(cell, widths[i]))).join("  ").trimEnd()).join("\n")}\n`;
}

/** Label: value lines, the labels aligned; rows without a value are left out. */
export function details(rows: [string, string | number | null | undefined][]): string {
  const shown = rows.filter(([, v]) => v !== null && v !== undefined && v !== "");
  const w = Math.max(...shown.map(([k]) => k.length)) + 1;
  return `${shown.map(([k, v]) => `${`${k}:`.padEnd(w)} ${String(v).replace(/\n/g, `\n${" ".repeat(w + 1)}`)}`).join("\n")}\n`;
}

const text = (v: string | number | null | undefined) => (v === null || v === undefined || v === "" ? "-" : String(v).replace(/[\r\n\t]+/g, " "));

/** Display width: code points (so "…" is one). */
const width = (s: string) => [...s].length;
const pad = (s: string, w: number) => s + " ".repeat(Math.max(0, w - width(s)));

export function cut(s: string, max?: number): string {
  if (max === undefined) return s;
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

const two = (n: number) => String(n).padStart(2, "0");

/** "2026-03-14 09:30:00" in this machine's time zone (TZ), or "-". */
export function localTime(iso: string | null | undefined): string {
  if (!iso) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** "in 5m", "3h ago", "now", from the largest unit down to two parts ("in 1h30m"), or "-". */
export function relative(iso: string | null | undefined, now: number): string {
  if (!iso) return "-";
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const ms = at - now;
  if (Math.abs(ms) < 1000) return "now";
  const span = shortDuration(Math.abs(ms));
  return ms > 0 ? `in ${span}` : `${span} ago`;
}

/** 90_061_000 -> "1d1h": the two largest units, the smaller left out when zero. */
export const shortDuration = (ms: number) => roughDuration(ms);

/** "2026-03-14 09:30:00 (in 5m)", or "-". */
export const when = (iso: string | null | undefined, now: number) => (iso ? `${localTime(iso)} (${relative(iso, now)})` : "-");

/** How long a run took, from start to end, or "-". */
export function took(start: string | null | undefined, end: string | null | undefined): string {
  if (!start || !end) return "-";
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) && ms >= 0 ? shortDuration(ms) : "-";
}
