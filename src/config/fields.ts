// The building blocks of the config schema: durations, sizes, integers, strings and lists, each with a
// message that says what was expected and what the file had.
import * as v from "valibot";
import { parseDuration } from "../schedule/duration.ts";

/** Longest duration a timer can hold (setTimeout overflows past 2^31-1 ms, about 24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;
export const GiB = 1024 ** 3;

/** A value as the user wrote it, for messages: strings quoted, tables and arrays named. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date"; // smol-toml's TomlDate extends Date
  if (value && typeof value === "object") return "a table";
  return String(value);
}

export const got = (issue: { input: unknown }) => `, got ${describe(issue.input)}`;

/** A duration in ms; `long`: not a timer, so beyond 24 days (up to 100 years). */
export function duration(opts: { zero: boolean; long?: boolean }) {
  const max = opts.long ? 100 * 365 * 86_400_000 : MAX_DURATION_MS;
  const expect = opts.zero ? "a duration >= 0" : "a positive duration";
  return v.pipe(
    v.string((i) => `must be ${expect} such as "30s" or "1h30m"${got(i)}`),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const text = dataset.value;
      const ms = parseDuration(text);
      if (ms === null || (!opts.zero && ms <= 0) || ms > max) {
        const t = text.trim();
        const why = ms !== null
          ? ms > max ? `must be at most ${opts.long ? "100 years" : "24d"}` : `must be ${expect}`
          : t.startsWith("-") ? "must not be negative"
          : /^\d+(\.\d+)?$/.test(t) ? `needs a unit, such as "${t}s" or "${t}ms"`
          : `must be ${expect} with units ns, us, ms, s, m, h or d, such as "500ms", "30s", "1h30m"`;
        addIssue({ message: `${why}${got({ input: text })}` });
        return NEVER;
      }
      return ms;
    }),
  );
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i;
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: GiB };

/** Byte sizes: an integer, or a string such as "512KiB", "1MiB", "1MB" (KB/MB/GB are powers of 1000). */
export function size(min: number, max: number) {
  const expect = `must be a size from ${min} bytes to 1GiB, as integer bytes or a string such as "512KiB", "1MiB", "1MB"`;
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const raw = dataset.value;
      let bytes: number | null = null;
      if (typeof raw === "number") bytes = Number.isInteger(raw) ? raw : null;
      else if (typeof raw === "string") {
        const m = SIZE.exec(raw.trim());
        const unit = SIZE_UNITS[(m?.[2] ?? "b").toLowerCase()];
        // Fractions only with a unit larger than a byte ("1.5KiB"); the product is rounded.
        if (m && (unit > 1 || !m[1].includes("."))) bytes = Math.round(Number(m[1]) * unit);
      }
      if (bytes === null || bytes < min || bytes > max) {
        addIssue({ message: `${expect}${got({ input: raw })}` });
        return NEVER;
      }
      return bytes;
    }),
  );
}

export function int(min: number, max: number) {
  const expect = `must be an integer from ${min} to ${max}`;
  return v.pipe(
    v.number((i) => `${expect}${got(i)}`),
    v.check((n) => Number.isInteger(n) && n >= min && n <= max, (i) => `${expect}${got(i)}`),
  );
}

export function fraction() {
  const expect = "must be a number from 0 to 1";
  return v.pipe(
    v.number((i) => `${expect}${got(i)}`),
    v.check((n) => n >= 0 && n <= 1, (i) => `${expect}${got(i)}`),
  );
}

export function text() {
  return v.pipe(
    v.string((i) => `must be a string${got(i)}`),
    v.check((s) => s.trim() !== "", "must not be empty"),
  );
}

/** An optional string where "" also means unset (lets an empty env var or the example file clear it). */
export function optionalText() {
  return v.pipe(
    v.string((i) => `must be a string${got(i)}`),
    v.transform((s) => (s === "" ? undefined : s)),
  );
}

export function oneOf<const T extends readonly string[]>(options: T) {
  const list = options.map((o) => `"${o}"`).join(", ");
  return v.picklist(options, (i) => `must be one of ${list}${got(i)}`);
}

export function section<const E extends v.ObjectEntries>(entries: E) {
  return v.object(entries, (i) => `must be a table${got(i)}`);
}

const EXECUTABLE = /^[^\0]+$/;

/** A list of strings (an array in the file; JSON in an environment variable). */
export function strings(what: string, max: number) {
  return v.pipe(
    v.array(v.pipe(v.string(`each entry must be a string`), v.regex(EXECUTABLE, "must not be empty")), (i) => `must be an array of ${what}${got(i)}`),
    v.maxLength(max, `at most ${max} entries`),
  );
}

export const bool = () => v.boolean((i) => `must be true or false${got(i)}`);
