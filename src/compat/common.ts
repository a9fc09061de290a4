// What the compat facades share: body reading, the vendors' time formats, numeric id parsing and generated
// native names. Nothing here schedules, stores or executes anything.
import type { Context } from "hono";
import { parseJsonText } from "../api/http.ts";
import { DomainError } from "../domain/errors.ts";
import type { Logger } from "../log.ts";

/** Largest id a facade hands out or accepts: survives a JSON round trip in any client (2^53 - 1). */
export const MAX_ID = Number.MAX_SAFE_INTEGER;

/**
 * A positive integer id from text (path, query or form), or null when it is not one. Digits only, no
 * sign, no exponent, at most 2^53 - 1.
 */
export function parseId(raw: unknown): number | null {
  if (typeof raw === "number") return Number.isSafeInteger(raw) && raw > 0 ? raw : null;
  if (typeof raw !== "string" || !/^\d{1,16}$/.test(raw.trim())) return null;
  const n = Number(raw.trim());
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/**
 * The request body parsed as JSON whatever its Content-Type (vendor clients do not all send one);
 * undefined for an empty body. Throws DomainError `invalid` (field "body") for malformed JSON.
 */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  return parseJsonText(text);
}

/**
 * Every parameter of a request as strings or JSON values: the query string, then a form body
 * (application/x-www-form-urlencoded or multipart) or a JSON object body over it.
 */
export async function readParams(c: Context): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...c.req.query() };
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (c.req.method === "GET" || c.req.method === "HEAD") return out;
  if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
    let form: Record<string, string | File | (string | File)[]>;
    try {
      form = await c.req.parseBody({ all: true });
    } catch (e) {
      throw new DomainError("invalid", `body is not a valid form: ${e instanceof Error ? e.message : String(e)}`, "body");
    }
    for (const [k, v] of Object.entries(form)) {
      const last = Array.isArray(v) ? v[v.length - 1] : v;
      if (typeof last === "string") out[k] = last;
    }
    return out;
  }
  const body = await readJson(c);
  if (body === undefined) return out;
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw new DomainError("invalid", "body must be a JSON object", "body");
  return { ...out, ...(body as Record<string, unknown>) };
}

/** A JSON object (not null, not an array). */
export const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/**
 * A native field path as the vendor's request named it: the first `[native prefix, vendor name]` of `table`
 * that is the path or a parent of it (`target.container.env.X` → `env.X`); undefined when none is.
 */
export function renameField(field: string, table: readonly (readonly [string, string])[]): string | undefined {
  const hit = table.find(([native]) => field === native || field.startsWith(`${native}.`));
  return hit && hit[1] + field.slice(hit[0].length);
}

/** Logs what a facade could not answer (it then answers its vendor's 5xx). */
export function logFailure(log: Logger, api: string, err: unknown, path: string): void {
  log.error(`${api} request failed`, { error: err instanceof Error ? (err.stack ?? err.message) : String(err), path });
}

const two = (n: number) => String(n).padStart(2, "0");

/** RFC 3339 in UTC with milliseconds (DCS, Dapr). */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString();

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

/**
 * A fresh native job name for an API whose jobs have numeric ids and free-text names (Alauda, Juice,
 * SchedulerX): `<prefix>-<16 random base-36 characters>`. The vendor's own name is kept in the job's
 * compat fields.
 */
export function generatedName(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}-${Array.from(bytes, (b) => (b % 36).toString(36)).join("")}`;
}
