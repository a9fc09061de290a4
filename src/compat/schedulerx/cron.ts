// SchedulerX cron expressions are Quartz's: 6 or 7 fields (seconds first, an optional year last), '?' for
// "no specific value" in day-of-month or day-of-week, and day-of-week numbered 1-7 from Sunday. tock's
// schedules are croner's 6-field patterns with day-of-week 0-6 from Sunday and no year field. This turns
// the one into the other, or says clearly why it cannot.
import { parseCron } from "../../schedule/cron.ts";

export type Translated = { ok: true; pattern: string } | { ok: false; message: string };

const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** A Quartz day-of-week value (1-7 or SUN-SAT) as 1-7, or null. */
function quartzDay(text: string): number | null {
  if (/^[1-7]$/.test(text)) return Number(text);
  const i = DAYS.indexOf(text.toUpperCase());
  return i < 0 ? null : i + 1;
}

/**
 * One comma-separated item of a Quartz day-of-week field as croner items (0-6). Ranges and steps are
 * spelled out as lists: Quartz ranges wrap past Saturday and its steps count from its own numbering, which
 * croner reads differently.
 */
function dayItem(item: string): string[] | string {
  const last = /^(.+)L$/i.exec(item);
  if (item.toUpperCase() === "L") return ["6"]; // "L" alone is the last day of the week: Saturday
  if (last) {
    const d = quartzDay(last[1]!);
    return d === null ? `"${item}" is not a day followed by L (e.g. 6L, the last Friday of the month)` : [`${d - 1}#L`];
  }
  const nth = /^([^#]+)#([1-5])$/.exec(item);
  if (nth) {
    const d = quartzDay(nth[1]!);
    return d === null ? `"${item}" is not a day#n item (e.g. 2#1, the first Monday of the month)` : [`${d - 1}#${nth[2]}`];
  }
  if (item.includes("#")) return `"${item}": the n of day#n must be 1 to 5`;
  const m = /^(\*|[^-/]+)(?:-([^/]+))?(?:\/(\d+))?$/.exec(item);
  if (!m) return `"${item}" is not a day of week (1-7 or SUN-SAT), a range, a step, day#n or dayL`;
  const from = m[1] === "*" ? 1 : quartzDay(m[1]!);
  const to = m[2] !== undefined ? quartzDay(m[2]) : m[1] === "*" || m[3] !== undefined ? 7 : from;
  if (from === null || to === null) return `"${item}" names a day that is not 1-7 or SUN-SAT`;
  if (m[1] === "*" && m[2] !== undefined) return `"${item}" is not a valid range`;
  const step = m[3] === undefined ? 1 : Number(m[3]);
  if (step < 1 || step > 7) return `"${item}": the step must be 1 to 7`;
  const span = (to - from + 7) % 7; // Quartz ranges wrap: FRI-MON is Friday to Monday
  const out: string[] = [];
  for (let k = 0; k <= span; k += step) out.push(String(((from - 1 + k) % 7 + 7) % 7));
  return out;
}

function dayOfWeek(field: string): Translated {
  if (field === "?" || field === "*") return { ok: true, pattern: "*" };
  const out: string[] = [];
  for (const item of field.split(",")) {
    const r = dayItem(item);
    if (typeof r === "string") return { ok: false, message: `day-of-week ${r}` };
    for (const v of r) if (!out.includes(v)) out.push(v);
  }
  return { ok: true, pattern: out.join(",") };
}

function dayOfMonth(field: string): Translated {
  if (field === "?") return { ok: true, pattern: "*" };
  if (/^L-\d+$/i.test(field)) return { ok: false, message: `day-of-month "${field}" (an offset from the last day) is not supported; use L, LW or a day number` };
  return { ok: true, pattern: field.toUpperCase() === "LW" ? "LW" : field };
}

/**
 * Translates a SchedulerX (Quartz) cron expression into a croner pattern tock accepts, checking that
 * croner parses it. Messages describe the vendor expression, not the translation.
 */
export function quartzToCroner(expression: string): Translated {
  const fields = expression.trim().split(/\s+/);
  if (fields.length < 6 || fields.length > 7 || fields[0] === "") {
    return {
      ok: false,
      message: `"${expression}" has ${fields[0] === "" ? 0 : fields.length} fields; a SchedulerX cron expression has 6 (second minute hour day-of-month month day-of-week) or 7 (and a year), e.g. 0 0/10 * * * ?`,
    };
  }
  const [sec, min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string, string?];
  if (year !== undefined && year !== "*") return { ok: false, message: `the year field "${year}" is not supported; leave it out or use *` };
  // Croner would take L, W, # or ? in these fields too, where Quartz refuses them.
  for (const [name, f] of [["second", sec], ["minute", min], ["hour", hour], ["month", month.replace(/[A-Z]{3}/gi, "")]] as const) {
    if (/[?LW#]/i.test(f)) return { ok: false, message: `the ${name} field "${name === "month" ? month : f}" may only use numbers, *, ',', '-' and '/'` };
  }
  // Quartz asks for '?' in one of the two day fields; '*' in one of them means the same here.
  const free = (f: string) => f === "?" || f === "*";
  if (!free(dom) && !free(dow)) {
    return { ok: false, message: `day-of-month "${dom}" and day-of-week "${dow}" cannot both be set; put ? in one of them` };
  }
  if (dom === "?" && dow === "?") return { ok: false, message: "day-of-month and day-of-week cannot both be ?; put * in one of them" };
  const d = dayOfMonth(dom);
  if (!d.ok) return d;
  const w = dayOfWeek(dow);
  if (!w.ok) return w;
  const pattern = [sec, min, hour, d.pattern, month, w.pattern].join(" ");
  const parsed = parseCron(pattern, "UTC");
  if (!parsed.ok) return { ok: false, message: `"${expression}" is not a valid cron expression: ${parsed.message.replace(/^invalid cron expression "[^"]*": /, "")}` };
  return { ok: true, pattern };
}
