// Nasty input against every route of every API (native, DCS, Dapr, Alauda, Juice, SchedulerX), generated
// with fast-check: valid requests changed field by field, bad JSON, wrong types, 1e309, -0, 2^53+1, lone
// surrogate escapes, control characters and NUL, ../ %2F %00 in path segments, 1 MB strings, 10,000-deep
// nesting, duplicate keys, bogus cron, ISO 8601 series, Go durations, RFC 3339 times and zones, wrong
// Content-Types, empty and form bodies (and JSON as a form), repeated and empty query parameters, odd headers,
// wrong methods and unknown paths under each API's prefix. One app in-process over a real database file,
// process jobs on, the scheduler stopped (so nothing runs; runs stay queued).
//
// Checked for every request: no 5xx (but /readyz's 503 with the scheduler stopped); every 4xx body is JSON
// in its API's own error shape (the global 413 in the native one, and Dapr's 405 with no body, as
// documented); nothing logged as an error and no promise left rejected; a refused request changes no job,
// run or key; a native PUT's answer is what reading the job back gives; and
// the jobs made through each API before the run (the "fixed" jobs) stay byte for byte as they were.
// Generated requests aim at other names and ids, but for "poison", bodies no API may accept, sent at the
// fixed jobs and required to be refused. Every job the run stores is also read back through every API.
//
// The last test prints the figures. NASTY_SCALE=10 bun test tests/security/nasty.test.ts hunts ten times longer.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { createApp } from "../../src/app.ts";
import { execId } from "../../src/compat/alauda/execs.ts";
import { parseConfig } from "../../src/config.ts";
import { createKey, KeyRing } from "../../src/domain/keys.ts";
import { read } from "../../src/store/sql.ts";
import { memoryLogger, type TestEnv, testEnv, withProcesses } from "../helpers.ts";

type Api = "native" | "dcs" | "dapr" | "alauda" | "juice" | "schedulerx";
const APIS: Api[] = ["native", "dcs", "dapr", "alauda", "juice", "schedulerx"];

// ---- JSON text that JSON.stringify cannot write ----

/** Emitted verbatim: 1e309, -0, 2^53+1, "\ud800", 10,000-deep nesting. */
class Raw {
  constructor(readonly text: string) {}
}
/** An extra entry written after an object's own, so a key can appear twice. */
const DUP = Symbol("duplicate key");

function jsonText(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(jsonText).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    const dup = (v as { [DUP]?: [string, unknown] })[DUP];
    if (dup) entries.push(dup);
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(",")}}`;
  }
  return v === undefined ? "null" : JSON.stringify(v);
}

/** A form field's text: strings as they are, anything else as JSON text. */
const formValue = (v: unknown) => (typeof v === "string" ? v : jsonText(v));
const formText = (o: Record<string, unknown>) => {
  const entries = Object.entries(o).filter(([, x]) => x !== undefined).map(([k, x]) => [k, formValue(x)] as [string, string]);
  const dup = (o as { [DUP]?: [string, unknown] })[DUP];
  if (dup) entries.push([dup[0], formValue(dup[1])]);
  return entries;
};
const urlencoded = (entries: [string, string][]) => entries.map(([k, x]) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`).join("&");
const BOUNDARY = "nastyBoundary7MA4YWxk";
const multipart = (entries: [string, string][]) =>
  `${entries.map(([k, x]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k.replace(/["\r\n]/g, "_")}"\r\n\r\n${x}\r\n`).join("")}--${BOUNDARY}--\r\n`;

// ---- nasty values ----

const MB = "x".repeat(1_000_000); // 1 MB: under max_body (1 MiB), so it reaches validation
const DEEP = new Raw(`${"[".repeat(10_000)}${"]".repeat(10_000)}`);
const DEEP_OBJECT = new Raw(`${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`);
const NUMBERS = ["1e309", "-1e309", "-0", "-0.0", "9007199254740993", "-9007199254740993", "1e21", "123456789012345678901234567890", "1E400", "0.1e-400", "4294967296", "2147483648", "-2147483649", "1.5", "0.0000001", "-1", "0", "1e3"].map((t) => new Raw(t));
const SURROGATES = ['"\\ud800"', '"\\udfff"', '"a\\uDBFFb"', '"\\udc00\\ud800"', '["\\ud83d"]', '{"\\ud800":1}'].map((t) => new Raw(t));
const SCHEDULES = [
  "* * * * * * * *", "61 * * * *", "*/0 * * * *", "0 0 31 2 *", "0 0 30 2 *", "L W #", "@reboot", "@every", "@every -1s", "@every 0s", "@every 1e309s", "@every 99999999999h",
  "@every 1ms", "@every 2562048h", "CRON_TZ=Mars/Olympus * * * * *", "TZ= * * * * *", "TZ=../../etc/localtime 0 * * * *", "0 0 * * * ?", "0 0 * * * ? 2099", "0 0 L-3 * * ?", "? ? * * * ?",
  "0 0 1W * * ?", "0 0 * * 6L ?", "0 0 * * FRI-MON ?", "R/P", "R-1/PT1S", "R5/2026-13-45T00:00:00Z/P1M", "R/P0D", "R99999999999/PT1S", "R1/9999-12-31T23:59:59Z/P1Y",
  "R/2026-01-01T00:00:00Z/PT0.000001S", "R5/P1M/2026-01-01T00:00:00Z", "R1/2015-12-31T16:00:23.446Z/PT1H", "R5/2030-01-01T00:00:00Z/P1Y2M10DT2H30M", "R/2030-01-01T00:00:00Z/PT1S", "R//", "P1D", "*/5 * * * *",
  "0 30 2 * * *", "@daily", "@DAILY", "@midnight", " ", "",
];
const DURATIONS = ["1h-1m", "1.5.5s", "9999999999999999h", "-0s", "0", "1", "1µs", "1us", "1ns", "2562048h", "1d", "1w", ".s", "1e3s", "NaNs", "Infinitys", "PT30S", "P1D", "30s", "24d", "25d", "0s", "-1s", "1h30m", "+5s"];
const TIMES = [
  "2026-02-30T00:00:00Z", "0000-00-00T00:00:00Z", "9999-12-31T23:59:60Z", "2026-01-01T00:00:00+25:00", "2026-01-01T00:00:00", "275760-09-13T00:00:00Z", "+275760-09-13T00:00:00Z",
  "-000001-01-01T00:00:00Z", "2026-01-01t00:00:00z", "1970-01-01T00:00:00Z", "2030-01-01T00:00:00.123456789Z", "2030-01-01T00:00:00Z", "2030-01-01", "1e309", "now",
];
const ZONES = ["Mars/Olympus", "../../etc/passwd", "UTC+25", "Etc/GMT+14", "Etc/GMT-15", "EST5EDT", "America/New_York\u0000", "z".repeat(300), "Europe/London ", "utc", "Europe/Paris", "UTC", "Z", "+05:30", "localtime", "posix/Asia/Tokyo"];
const STRINGS = [
  "", " ", "\u0000", "a\u0000b", "\u0001\u001f\u007f", "\r\n", "a\r\nInjected: yes", "../../etc/passwd", "..", "%2F", "%00", "a%2Fb", "日本語", "😀", "\u202e\u0301", "\ufeff", "\ud7ff\ue000",
  "x".repeat(201), "x".repeat(5000), "x".repeat(70_000), "/bin/true", "http://127.0.0.1:9/x", "http://[::1]:99999/", "ftp://x", "javascript:alert(1)", "http://u:p@127.0.0.1:9/", "127.0.0.1:0", "[::1]:9",
  "aGk=", "!!notbase64", "true", "null", "1", "-1", "{}", "[]", "<script>", "' OR 1=1 --", "$(id)", "`id`", "%s%n", "LD_PRELOAD", "PATH", "DOCKER_HOST",
];
const HUGE = new Raw(`"${"y".repeat(1_000_000)}"`);

// Grammars for the strings that parse: schedules, durations, instants, zones (most wrong, some right).
const bigOrOdd = fc.constantFrom("0", "1", "7", "59", "60", "61", "99", "999", "2147483648", "99999999999999999999", "00", "-1", "1.5", ".5", "1e3");
const small = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 61 }).map(String) }, { weight: 1, arbitrary: bigOrOdd });
const cronName = fc.constantFrom("MON", "FRI", "SUN", "JAN", "DEC", "mon", "XYZ", "L", "LW", "W", "?", "*", "#");
const cronAtom: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("*", "?") },
  { weight: 4, arbitrary: small },
  { weight: 2, arbitrary: fc.tuple(small, small).map(([a, b]) => `${a}-${b}`) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom("*", "0", "5", "1-5", "MON-FRI"), small).map(([a, b]) => `${a}/${b}`) },
  { weight: 1, arbitrary: fc.tuple(small, small).map(([a, b]) => `${a}#${b}`) },
  { weight: 1, arbitrary: small.map((a) => fc.constantFrom(`${a}L`, `${a}W`, `L-${a}`, `${a}LW`)).chain((x) => x) },
  { weight: 1, arbitrary: cronName },
  { weight: 1, arbitrary: fc.tuple(cronName, cronName).map(([a, b]) => `${a}-${b}`) },
);
const cronField = fc.array(cronAtom, { minLength: 1, maxLength: 3 }).map((a) => a.join(","));
const zoneName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("UTC", "Europe/London", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns", "Asia/Tehran", "Etc/GMT+12", "Etc/GMT-14", "Europe/Dublin", "Africa/Casablanca") },
  { weight: 1, arbitrary: fc.constantFrom(...ZONES) },
);
const cron = fc
  .tuple(fc.option(fc.tuple(fc.constantFrom("CRON_TZ=", "TZ="), zoneName).map(([k, z]) => `${k}${z} `), { freq: 4 }), fc.array(cronField, { minLength: 4, maxLength: 8 }))
  .map(([tz, fields]) => `${tz ?? ""}${fields.join(" ")}`);
const unit = fc.constantFrom("ns", "us", "µs", "ms", "s", "m", "h", "d", "w", "y", "", "S", "H", "sec");
const durationText = fc.array(fc.tuple(fc.oneof(small, fc.constantFrom("0.001", "1.000000001", "9007199254740993", "2562047", "-5")), unit).map(([n, u]) => n + u), { minLength: 1, maxLength: 3 }).map((a) => a.join(""));
const year = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1970, max: 2100 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom("0000", "0001", "1969", "9999", "275760", "+275760", "-000001", "10000") });
const two = (max: number) => fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, "0")) }, { weight: 1, arbitrary: fc.constantFrom("00", "13", "24", "29", "30", "31", "32", "60", "61", "99", "1", "") });
const offset = fc.constantFrom("Z", "z", "+00:00", "-00:00", "+05:45", "+14:00", "-12:00", "+24:00", "+99:99", "", "+0530", "UTC");
const instant = fc
  .tuple(year, two(12), two(31), two(23), two(59), two(59), fc.constantFrom("", ".1", ".123456789", ".9999999999999", ","), offset, fc.constantFrom("T", "t", " "))
  .map(([y, mo, d, h, mi, s, frac, off, t]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${frac}${off}`);
const isoNumber = fc.oneof(small, fc.constantFrom("0.5", "1,5", "99999999999"));
const isoPeriod = fc
  .tuple(fc.array(fc.tuple(isoNumber, fc.constantFrom("Y", "M", "W", "D")), { maxLength: 2 }), fc.array(fc.tuple(isoNumber, fc.constantFrom("H", "M", "S")), { maxLength: 2 }), fc.boolean())
  .map(([date, time, t]) => `P${date.map(([n, u]) => n + u).join("")}${t || time.length ? "T" : ""}${time.map(([n, u]) => n + u).join("")}`);
const iso = fc
  .tuple(fc.constantFrom("R", "R0", "R1", "R5", "R-1", "R99999999999", "r3", "R2147483648"), fc.option(instant, { freq: 3 }), isoPeriod, fc.option(instant, { freq: 6 }))
  .map(([r, start, period, end]) => [r, start, period, end].filter((x) => x !== null).join("/"));
const scheduleText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: cron },
  { weight: 2, arbitrary: iso },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom("@every ", "@every", "@EVERY ", "@every  "), durationText).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: fc.constantFrom("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@reboot", "@DAILY", "@", "@every") },
  { weight: 1, arbitrary: fc.constantFrom(...SCHEDULES) },
);
const whenText: fc.Arbitrary<string> = fc.oneof(durationText, instant, isoPeriod, fc.constantFrom(...DURATIONS, ...TIMES));

/** Values for fields whose last key names what they hold. */
const HOT: Record<string, fc.Arbitrary<unknown>> = {};
for (const k of ["schedule", "expr", "timeExpression", "schedule_mode", "spec"]) HOT[k] = scheduleText;
for (const k of ["dueTime", "due_time", "ttl", "timeout", "interval", "maxInterval", "retryInterval", "expires"]) HOT[k] = whenText;
for (const k of ["startAt", "endAt"]) HOT[k] = fc.oneof(instant, fc.constantFrom(...TIMES));
for (const k of ["timezone"]) HOT[k] = zoneName;
const count = fc.oneof(
  fc.constantFrom<unknown>(0, 1, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e300, 0.5, "1", "4294967295", "-0", new Raw("-0"), new Raw("9007199254740993"), new Raw("1e309"), new Raw("1.0"), new Raw("1e0"), 10_000, 10_001, 1000, 1001),
  fc.integer({ min: -100, max: 100_000 }).filter((n) => !fixedIds.has(n)),
);
for (const k of ["repeats", "times", "retryTimes", "maxRetries", "max_retries", "maxConcurrency", "maxAttempt", "attemptInterval", "timeType", "dataOffset", "pageSize", "queueSize", "cpus", "cpu", "mem", "timeout"]) HOT[k] = HOT[k] ? fc.oneof(HOT[k], count) : count;

/** A value that a fixed job's id may never be (ids here are never below 1,000,001 or are drawn from other pools). */
let fixedIds = new Set<number>();
const randomInt = fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }).filter((n) => !fixedIds.has(n));

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<unknown>(...NUMBERS, ...SURROGATES, ...STRINGS, ...SCHEDULES, ...DURATIONS, ...TIMES, ...ZONES, true, false, null, [], {}, [null], { a: null }, 0, 1.5e300, -1e-300, 2 ** 53, -(2 ** 53)) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 16 }) },
  { weight: 1, arbitrary: randomInt },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(DEEP, DEEP_OBJECT) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(MB, HUGE, { k: MB }) },
);

// ---- bodies: valid templates mutated field by field, and the rest ----

type Json = Record<string, unknown>;

/** Every path to a value inside `t` (objects and arrays), the root excluded. */
function paths(t: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (t === null || typeof t !== "object") return [];
  const out: (string | number)[][] = [];
  for (const [k, x] of Object.entries(t)) {
    const p = [...at, Array.isArray(t) ? Number(k) : k];
    out.push(p, ...paths(x, p));
  }
  return out;
}

type Mutation = { op: "set" | "delete" | "null" | "extra" | "dup" | "dupFirst"; path: (string | number)[]; value: unknown };

/** A change to a leaf that keeps it close to what it was: a character inserted, a length at a limit, a number scaled. */
type Variant =
  | { kind: "insert"; text: string; where: number }
  | { kind: "length"; to: number }
  | { kind: "case"; upper: boolean }
  | { kind: "space"; text: string }
  | { kind: "number"; scale: number; add: number }
  | { kind: "raw"; suffix: string };
const variant: fc.Arbitrary<Variant> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      text: fc.constantFrom("\0", "\0", "\0", "\x01", "\x1f", "\x7f", "\r\n", "\t", "😀", "\u0301", "\ufeff", "\u2028", "\\", '"', "'", "%00", "../", "/", ":", " ", "é", "\x85", "\xa0", "日"),
      where: fc.constantFrom(0, 0.5, 1),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("length" as const), to: fc.constantFrom(0, 1, 63, 64, 65, 199, 200, 201, 255, 256, 4095, 4096, 4097, 32_768, 32_769, 65_536, 1 << 20, (1 << 20) + 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("case" as const), upper: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("space" as const), text: fc.constantFrom(" ", "\t", "\n", "\u00a0", "\u3000") }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("number" as const), scale: fc.constantFrom(1, -1, 0, 2, 10, 1000, 2 ** 31, 2 ** 53, 1e300, 0.5, 1e-9), add: fc.constantFrom(0, 1, -1, 0.5, 2 ** 53) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("raw" as const), suffix: fc.constantFrom(".0", "e0", "E+0", "0000000000", ".00000000000000000001", "e309", "e-400") }) },
);

/** `v` changed by `r`. */
function applyVariant(v: unknown, r: Variant): unknown {
  if (typeof v === "string") {
    switch (r.kind) {
      case "insert": {
        const at = Math.round(v.length * r.where);
        return v.slice(0, at) + r.text + v.slice(at);
      }
      case "length":
        return v.length === 0 ? "x".repeat(r.to) : v.repeat(Math.ceil(r.to / v.length)).slice(0, r.to);
      case "case":
        return r.upper ? v.toUpperCase() : v.toLowerCase();
      case "space":
        return r.text + v + r.text;
      default:
        return v;
    }
  }
  if (typeof v === "number") {
    if (r.kind === "number") return v * r.scale + r.add;
    if (r.kind === "raw") return new Raw(`${JSON.stringify(v)}${r.suffix}`);
  }
  return v;
}

/** Paths to the strings and numbers inside `t`. */
function leaves(t: unknown): (string | number)[][] {
  return paths(t).filter((p) => {
    let at: any = t;
    for (const k of p) at = at[k];
    return typeof at === "string" || typeof at === "number";
  });
}

function varied(template: Json): fc.Arbitrary<Json> {
  const all = leaves(template);
  if (all.length === 0) return fc.constant(template);
  return fc.array(fc.tuple(fc.constantFrom(...all), variant), { minLength: 1, maxLength: 2 }).map((changes) => {
    const body = structuredClone(template);
    for (const [path, r] of changes) {
      let parent: any = body;
      for (const k of path.slice(0, -1)) parent = parent[k];
      const key = path[path.length - 1];
      parent[key] = applyVariant(parent[key], r);
    }
    return body;
  });
}

/** A deep copy that keeps Raw values (generated values are shared: a later change must not reach them). */
const copy = (v: unknown): unknown =>
  v instanceof Raw ? v : Array.isArray(v) ? v.map(copy) : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)])) : v;

function mutate(template: Json, mutations: Mutation[]): Json {
  const body = structuredClone(template);
  for (const mutation of mutations) {
    const m = { ...mutation, value: copy(mutation.value) };
    let parent: any = body;
    for (const k of m.path.slice(0, -1)) {
      if (parent === null || typeof parent !== "object") break;
      parent = parent[k];
    }
    if (parent === null || typeof parent !== "object") continue;
    const key = m.path[m.path.length - 1];
    switch (m.op) {
      case "set":
        parent[key] = m.value;
        break;
      case "delete":
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      case "null":
        parent[key] = null;
        break;
      case "extra":
        if (!Array.isArray(parent)) parent[`zz${String(key)}`] = m.value;
        else parent.push(m.value);
        break;
      case "dup": // the key again, after, with the nasty value: the last one wins in JSON.parse
        if (Array.isArray(parent)) parent.push(m.value);
        else parent[DUP] = [String(key), m.value];
        break;
      case "dupFirst": // the nasty value first, then the key again with its own value
        if (!Array.isArray(parent)) {
          parent[DUP] = [String(key), parent[key]];
          parent[key] = m.value;
        }
        break;
    }
  }
  return body;
}

function mutations(template: Json): fc.Arbitrary<Mutation[]> {
  const all = [[] as (string | number)[], ...paths(template)].filter((p) => p.length > 0);
  const one = fc.constantFrom(...all).chain((path) => {
    const hot = HOT[String(path[path.length - 1])];
    return fc.record({
      op: fc.constantFrom<Mutation["op"]>("set", "set", "set", "set", "delete", "null", "extra", "dup", "dupFirst"),
      path: fc.constant(path),
      value: hot ? fc.oneof({ weight: 3, arbitrary: hot }, { weight: 1, arbitrary: nastyValue }) : nastyValue,
    });
  });
  return fc.array(one, { minLength: 1, maxLength: 3 });
}

const BAD_JSON = [
  "{", "}", "nul", "{'a':1}", '{"a":1,}', "[1,2", "NaN", "Infinity", "undefined", '\ufeff{"a":1}', '{"a":01}', '{"a":.5}', '{"a":"\\x41"}', '{"a":"\u0000"}', '{"a" 1}',
  "{}{}", "<xml/>", "a=1&b=2", '"just a string', "\u0000", "\u00ff\u00fe", '{"a":"\\u12"}', "[" + "1,".repeat(1000) + "]", '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}',
];
const NON_OBJECTS = ["[]", "[{}]", '"a"', "1", "-0", "1e309", "null", "true", "false", '""', "[null]"];

interface Body {
  text?: string;
  type?: string;
  /** What the body is, for the report on a failure. */
  kind: string;
  /** A body no API accepts (it must be refused): only these are sent at the fixed jobs. */
  poison?: boolean;
}

const JSON_TYPES = ["application/json", "application/json; charset=utf-8", "application/merge-patch+json", "APPLICATION/JSON"];
const OTHER_TYPES = ["text/plain", "application/xml", "application/json; charset=utf-16", "application/x-www-form-urlencoded", "multipart/form-data", `multipart/form-data; boundary=${BOUNDARY}`, "application/octet-stream", "", "application/jsonx", ";;;", "*/*"];

/** Bodies for a route taking JSON (form: also its urlencoded and multipart forms, as SchedulerX takes them). */
function bodies(templates: Json[], opts: { form?: boolean } = {}): fc.Arbitrary<Body> {
  const template = fc.constantFrom(...templates);
  const jsonType = fc.constantFrom(...JSON_TYPES);
  const anyType = fc.constantFrom(...JSON_TYPES, ...OTHER_TYPES);
  const mutated = template.chain((t) => fc.tuple(fc.constant(t), mutations(t))).map(([t, m]) => mutate(t, m));
  const asForm = (o: Json, type: string | null): Body => {
    const entries = formText(o);
    return type === "multipart"
      ? { text: multipart(entries), type: `multipart/form-data; boundary=${BOUNDARY}`, kind: "multipart" }
      : { text: urlencoded(entries), type: type ?? "application/x-www-form-urlencoded", kind: "form" };
  };
  const arbs: fc.WeightedArbitrary<Body>[] = [
    { weight: 4, arbitrary: fc.tuple(template, jsonType).map(([t, type]) => ({ text: jsonText(t), type, kind: "valid" })) },
    { weight: 12, arbitrary: fc.tuple(mutated, jsonType).map(([b, type]) => ({ text: jsonText(b), type, kind: "mutated" })) },
    { weight: 10, arbitrary: fc.tuple(template.chain(varied), jsonType).map(([b, type]) => ({ text: jsonText(b), type, kind: "varied" })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...BAD_JSON), anyType).map(([text, type]) => ({ text, type, kind: "bad json" })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NON_OBJECTS), jsonType).map(([text, type]) => ({ text, type, kind: "not an object" })) },
    { weight: 1, arbitrary: fc.constantFrom<Body>({ kind: "no body" }, { text: "", type: "application/json", kind: "empty" }, { text: "   \n", type: "application/json", kind: "blank" }) },
    { weight: 2, arbitrary: fc.tuple(template, anyType).map(([t, type]) => ({ text: jsonText(t), type, kind: "valid, other type" })) },
    { weight: opts.form ? 6 : 2, arbitrary: fc.tuple(fc.oneof(template, mutated), fc.constantFrom(null, "multipart")).map(([o, type]) => asForm(o, type)) },
    { weight: 1, arbitrary: fc.tuple(template, jsonType).map(([t, type]) => ({ text: jsonText(t), type, kind: "json as form" })).map((b) => ({ ...b, type: "application/x-www-form-urlencoded" })) },
    { weight: 1, arbitrary: poison(templates) },
  ];
  if (opts.form) arbs.push({ weight: 4, arbitrary: fc.tuple(fc.oneof(mutated, template.chain(varied)), fc.constantFrom(null, "multipart")).map(([o, type]) => asForm(o, type)) });
  return fc.oneof(...arbs);
}

/** Bodies every API must refuse: bad JSON, too deep, a lone surrogate anywhere, over max_body. */
function poison(templates: Json[]): fc.Arbitrary<Body> {
  const type = fc.constantFrom(...JSON_TYPES);
  const template = fc.constantFrom(...templates);
  const withSurrogate = template
    .chain((t) => fc.tuple(fc.constant(t), fc.constantFrom(...paths(t)), fc.constantFrom(...SURROGATES), fc.constantFrom<Mutation["op"]>("set", "extra", "dup")))
    .map(([t, path, value, op]) => jsonText(mutate(t, [{ op, path, value }])));
  const deep = template.chain((t) => fc.tuple(fc.constant(t), fc.constantFrom(...paths(t)), fc.constantFrom(DEEP, DEEP_OBJECT))).map(([t, path, value]) => jsonText(mutate(t, [{ op: "set", path, value }])));
  const tooLarge = template.map((t) => jsonText({ ...t, zzpad: "z".repeat(2_000_000) }));
  return fc.tuple(fc.oneof({ weight: 3, arbitrary: withSurrogate }, { weight: 2, arbitrary: deep }, { weight: 2, arbitrary: fc.constantFrom(...BAD_JSON.filter((b) => b[0] !== "\ufeff" && !b.includes("__proto__") && !b.includes("constructor") && b !== "[" + "1,".repeat(1000) + "]" && b !== "a=1&b=2" && b !== "<xml/>")) }, { weight: 1, arbitrary: tooLarge }), type).map(([text, t]) => ({ text, type: t, kind: "poison", poison: true }));
}

// ---- path segments, ids, query strings, headers ----

const NASTY_SEGMENTS = [
  "..", ".", "%2F", "a%2Fb", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "%00", "a%00b", "%", "%zz", "%C0%AF", "%ED%A0%80", "%FF", "%01", "%0D%0A", "%20", "%09", "x".repeat(201), "x".repeat(5000), "%E6%97%A5", "%F0%9F%98%80",
  "a:b", "-a", "_a", "a.b", ":", "NUL", "1e309", "-0", "9007199254740993", "0", "-1", "00001", "0x10", "1.5", "+1", "%201", "null", "undefined", "__proto__", "constructor", "*", "%2A", "a;b", "a,b",
];
/** Valid-looking names that are never a fixed job's (those are longer than 12 characters). */
const scratchName = fc.oneof(fc.constantFrom("s1", "s2", "s3", "x", "A.b_c:d-e"), fc.stringMatching(/^[a-z0-9][a-z0-9._:-]{0,11}$/));
/** Whether a path segment cannot be read as a fixed job's id ("6", "06", "6.0", "%36" …). */
const notFixedId = (segment: string): boolean => {
  let text = segment;
  try {
    text = decodeURIComponent(segment);
  } catch {
    // not percent-encoded text: as written
  }
  const n = Number(text.trim());
  return text.trim() === "" || !Number.isInteger(n) || !fixedIds.has(n);
};
const nameSegment = fc.oneof({ weight: 4, arbitrary: scratchName }, { weight: 2, arbitrary: fc.constantFrom(...NASTY_SEGMENTS) }, { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }).map(encodeURIComponent) });
const namespaceSegment = fc.oneof({ weight: 4, arbitrary: fc.constantFrom("ns", "t1", "scratch", "dapr", "sx:g") }, { weight: 1, arbitrary: scratchName }, { weight: 2, arbitrary: fc.constantFrom(...NASTY_SEGMENTS) });

/** Ids of things made during the run (and the scratch ones): what generated requests aim at besides random ids. */
const pools = { jobs: [] as number[], runs: [] as number[], keys: [] as string[] };
const fromPool = (pool: () => unknown[]) => fc.nat().map((i) => {
  const p = pool();
  return p.length ? String(p[i % p.length]) : "1000001";
});
const idSegment = fc.oneof({ weight: 4, arbitrary: fromPool(() => pools.jobs) }, { weight: 1, arbitrary: randomInt.map(String) }, { weight: 2, arbitrary: fc.constantFrom(...NASTY_SEGMENTS) });
const runSegment = fc.oneof({ weight: 4, arbitrary: fromPool(() => pools.runs) }, { weight: 1, arbitrary: randomInt.map(String) }, { weight: 2, arbitrary: fc.constantFrom(...NASTY_SEGMENTS) });
const execSegment = fc.oneof(
  { weight: 4, arbitrary: fromPool(() => pools.runs).map((r) => execId(Number(r))) },
  { weight: 1, arbitrary: fc.constantFrom("a1a0da00-0000-4000-8000-000000000000", "a1a0da00-0000-4000-8fff-ffffffffffff", "A1A0DA00-0000-4000-8000-00000000000A", "a1a0da00-0000-4000-9000-000000000001", "not-a-uuid") },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY_SEGMENTS) },
);

const QVALUES = ["", " ", "0", "-1", "1", "1000", "1001", "10001", "1e3", "1.5", "abc", "99999999999999999999", "9007199254740993", "-0", "true", "false", "yes", "%00", "\u0000", "../x", "a,b", ",", ",,,", "last", "first", "x".repeat(3000), "日本", "\ud800", ...TIMES.slice(0, 6), ...SCHEDULES.slice(0, 12), ...ZONES.slice(0, 6)];
const QVALID: Record<string, string[]> = {
  limit: ["1", "10", "1000"], cursor: ["eyJhIjoxfQ", "MTA", "x"], prefix: ["s", "a.", ""], status: ["failed,timed_out", "queued", "killed", "bogus"], since: ["2020-01-01T00:00:00Z", "0", "1700000000"],
  until: ["2100-01-01T00:00:00Z", "9999999999"], stream: ["stdout", "stderr,tock", "bogus"], follow: ["0", "1", "true", "false"], spec: ["@every 1h", "30 2 * * *", "R5/2030-01-01T00:00:00Z/P1M"], timezone: ["America/New_York", "UTC"],
  count: ["1", "1000", "0"], namespace: ["t1", "ns", "sx"], page: ["1", "2", "last", "0"], page_size: ["1", "100", "101"], start_time: ["0", "1700000000"], end_time: ["0", "9999999999"],
  taskIds: ["1", "1,2,3", ",".repeat(1001)], taskId: ["1"], groupId: ["g"], jobId: ["1000001"], jobInstanceId: ["1000001"], instanceId: ["1000001"],
};
const QHOT: Record<string, fc.Arbitrary<string>> = { spec: scheduleText, timezone: zoneName, since: fc.oneof(instant, small), until: fc.oneof(instant, small), start_time: small, end_time: small };
const queryValue = (key: string) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...(Object.hasOwn(QVALID, key) ? QVALID[key] : ["x"])) },
    { weight: 3, arbitrary: fc.constantFrom(...QVALUES) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 10 }) },
    { weight: Object.hasOwn(QHOT, key) ? 4 : 0, arbitrary: Object.hasOwn(QHOT, key) ? QHOT[key] : fc.constant("") },
  );

/** A query string over `keys`: repeated and empty parameters, unknown ones, now and then a raw piece. */
function queryString(keys: string[], extra: fc.Arbitrary<[string, string]>[] = []): fc.Arbitrary<string> {
  const key = fc.constantFrom(...keys, "x", "", "limit[]", "__proto__");
  const pair = key.chain((k) => fc.tuple(fc.constant(k), queryValue(k)));
  const raw = fc.constantFrom("&&", "=", "a=%zz", "%00=%00", "a=1&a=2&a=", "=x", "&", "x=%ED%A0%80", "a+b=c+d", "limit=1&limit=abc");
  return fc
    .tuple(fc.array(fc.oneof(pair, ...extra), { maxLength: 5 }), fc.option(raw, { freq: 5 }))
    .map(([pairs, r]) => {
      const parts = pairs.map(([k, x]) => `${encodeURIComponent(k)}=${encodeURIComponent(x.isWellFormed() ? x : x.toWellFormed())}`);
      if (r) parts.push(r);
      return parts.length ? `?${parts.join("&")}` : "";
    });
}

const ODD_HEADERS: Record<string, string[]> = {
  "x-tenant-id": ["t1", "", " ", "../x", "x".repeat(300), "ten ant", "%00", "\u00e9", "fixed-juice-tenant", "a:b", "-x"],
  "if-match": ['"1"', "1", "*", 'W/"1"', '"abc"', "", '"99999999999999999999"', '"-1"', "1,2", '""', '"1e309"'],
  "if-none-match": ["*", '"1"', "x", ""],
  "last-event-id": ["5", "-1", "abc", "99999999999999999", "", "1.5", " 7 "],
  authorization: ["Bearer", "Bearer x", "Basic Zm9vOmJhcg==", `Bearer ${"x".repeat(10_000)}`, "Bearer tock_aaaaaaaaaaaa_bbbb", "Bearer \t", "", "\u00ff\u00fe"],
  "dapr-api-token": ["x", "", "tock_aaaaaaaaaaaa_bbbb"],
  "schedulerx-namespace": ["sx", "", "bad ns", "x".repeat(250), "a:b"],
  "openapi-groupid": ["g", "", "bad group", "%00"],
  "x-request-id": ["x".repeat(300), "\u00e9", "a b"],
  accept: ["text/event-stream", "application/xml", "*/*"],
  "content-encoding": ["gzip", "br"],
};
const HEADER_NAMES = Object.keys(ODD_HEADERS);
const oddHeaders = fc
  .array(fc.constantFrom(...HEADER_NAMES).chain((k) => fc.tuple(fc.constant(k), fc.constantFrom(...ODD_HEADERS[k]))), { maxLength: 3 })
  .map((pairs) => Object.fromEntries(pairs));

// ---- routes ----

const ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND"];

interface Req {
  api: Api;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Body;
  /** Aimed at a fixed job with a poison body: must be refused. */
  atFixed?: boolean;
  /** Sent to the app that requires API keys: with `token` as its key, or garbage when null. */
  keyed?: { token: string | null };
}

interface Route {
  api: Api;
  /** The path (without its query), generated. */
  path: fc.Arbitrary<string>;
  methods: string[];
  query?: string[];
  body?: fc.Arbitrary<Body>;
  headers?: fc.Arbitrary<Record<string, string>>;
  /** How often it is picked among its API's routes (1). */
  weight?: number;
}

/** A request to a route: one of its methods, or now and then another (and its body sometimes sent anyway). */
function requestOn(r: Route): fc.Arbitrary<Req> {
  const method = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...r.methods) }, { weight: 1, arbitrary: fc.constantFrom(...ALL_METHODS) });
  const body = r.body ?? bodies([{ a: 1 }]);
  return fc
    .record({
      method,
      path: r.path,
      query: queryString(r.query ?? ["x"]),
      headers: fc.tuple(r.headers ?? fc.constant({}), oddHeaders).map(([a, b]) => ({ ...a, ...b })),
      body: fc.option(body, { freq: r.body ? 8 : 3, nil: undefined }),
    })
    .map(({ method, path, query, headers, body }) => ({ api: r.api, method, path: path + query, headers, body: method === "GET" || method === "HEAD" ? undefined : body }));
}

// Valid templates, per API.
const URL9 = "http://127.0.0.1:9/x";
const NATIVE_JOBS: Json[] = [
  {
    schedule: "*/5 * * * *", timezone: "Europe/Paris", target: { http: { url: URL9, method: "PUT", headers: { a: "b", Authorization: "Bearer s3cret" }, body: "raw" } },
    retry: { times: 2, interval: "1s", backoff: "fixed", maxInterval: "10s" }, timeout: "5s", overlap: "queue", misfire: "all", payload: { k: [1, 2] }, labels: { a: "b" }, memo: "m",
    repeats: 3, startAt: "2030-01-01T00:00:00Z", endAt: "2031-01-01T00:00:00Z", enabled: true, maxConcurrency: 2,
  },
  { schedule: "@every 1h", target: { tcp: { addr: "127.0.0.1:9", body: "aGk=", ack: "b2s=" } }, ttl: "24h" },
  { dueTime: "30s", target: { http: { url: URL9 } } },
  { schedule: "R5/2030-01-31T00:00:00Z/P1M", timezone: "America/New_York", target: { http: { url: URL9, secretHeaders: ["a"], headers: { a: "b" } } } },
  { target: { process: { command: ["/bin/true", "x"], env: { A: "1" }, secretEnv: ["A"], cwd: "/tmp" } } },
  { schedule: "@every 1h", enabled: false, target: { process: { shell: "echo hi", env: { B: "2" } } } },
  { target: { script: { language: "python", content: "print(1)", args: ["x"], env: {}, cwd: "/tmp" } } },
  { target: { container: { image: "alpine", tag: "3.20", command: ["/bin/sh", "-c"], args: ["echo hi"], env: { K: "v" }, resources: { cpus: 0.5, memory: "256m" } } } },
];
const DCS_JOBS: Json[] = [
  { expr: "CRON_TZ=Asia/Tokyo */5 * * * *", callback: { http: { url: URL9, header: { "Content-Type": "text/plain", a: "b" }, body: "hi" }, timeout: "3s", retryTimes: 2, retryInterval: "1s" }, times: 5, memo: "m" },
  { expr: "@every 1h", callback: { tcp: { addr: "127.0.0.1:9", body: "aGk=", ack: "" } } },
];
const DAPR_JOBS: Json[] = [
  { schedule: "@every 1h", dueTime: "10s", repeats: 3, ttl: "1h", data: { a: [1, "b"] }, overwrite: true, failure_policy: { constant: { interval: "1s", maxRetries: 3 } } },
  { job: { schedule: "0 0 * * * *", due_time: "2030-01-01T00:00:00Z", data: "x", failurePolicy: { drop: {} } }, overwrite: true },
  { dueTime: "PT30S", overwrite: true },
];
const ALAUDA_CREATE: Json[] = [
  { name: "n", namespace: "t1", docker_image_repo: "alpine", docker_image_tag: "3.20", command: "echo 'a b'", resource_size: "XXS", schedule_mode: "R5/2030-01-01T00:00:00Z/PT1H", is_schedule_active: true, runtime_vars: { A: "1" }, region_name: "BEIJING1" },
  { name: "名字", namespace: "t1", docker_image_repo: "alpine" },
];
const ALAUDA_UPDATE: Json[] = [{ command: "/bin bash", is_schedule_active: false, runtime_vars: { B: "2" } }, { schedule_mode: null, resource_size: "XS", docker_image_tag: "latest" }];
const JUICE_TASKS: Json[] = [
  { taskName: "t", commands: "true", env: { name: "A", value: "1" }, resources: { cpu: 1, mem: 512 }, constraints: { field: "hostname", values: ["h"] }, callbackUrl: "http://u:p@127.0.0.1:9/cb" },
  { taskName: "c", container: { docker: { image: "alpine", forcePullImage: false, privileged: false, net: "BRIDGE", parameters: [], portMappings: [] }, type: "DOCKER", volumes: [] }, args: ["x"], env: [{ name: "A", value: "1" }], runMode: "CONTAINER" },
];
const SX = { namespace: "sx", groupId: "g" };
const SX_CREATE: Json[] = [
  { ...SX, jobType: "shell", content: "true", name: "n", executeMode: "standalone", timeType: 1, timeExpression: "0 0 * * * ?", maxAttempt: 2, attemptInterval: 5, parameters: "p", timeoutEnable: "true", timeout: 60, timeoutKillEnable: true, contactInfo: [{ userPhone: "1", userName: "u" }], dataOffset: 60, pageSize: 10 },
  { ...SX, jobType: "python", content: "print(1)", name: "n", executeMode: "standalone", timeType: 3, timeExpression: "30", "contactInfo[0].userName": "u" },
  { ...SX, jobType: "java", className: "a.B", jarUrl: "http://127.0.0.1:9/a.jar", name: "n", executeMode: "standalone", timeType: 100 },
  { ...SX, jobType: "shell", content: "true", name: "n", executeMode: "standalone", timeType: 4, timeExpression: "5", maxConcurrency: 3 },
];
const sxJobId = () => fc.oneof({ weight: 4, arbitrary: fromPool(() => pools.jobs) }, { weight: 1, arbitrary: randomInt.map(String) });
/** SchedulerX bodies: the templates with a jobId (and instance ids) of the run's jobs. */
const sxBodies = (templates: Json[], ids: string[] = []) =>
  fc.tuple(sxJobId(), fromPool(() => pools.runs)).chain(([jobId, run]) => bodies(templates.map((t) => ({ ...t, jobId, ...Object.fromEntries(ids.map((k) => [k, run])) })), { form: true }));

const tenant = fc.constantFrom<Record<string, string>>({ "x-tenant-id": "t1" }, { "x-tenant-id": "t1" }, {});

function routes(): Route[] {
  const jobPath = (tail = "") => fc.tuple(namespaceSegment, nameSegment).map(([ns, n]) => `/api/v1/namespaces/${ns}/jobs/${n}${tail}`);
  const native: Route[] = [
    { api: "native", path: jobPath(), methods: ["PUT", "PUT", "PUT", "GET", "DELETE"], weight: 8, body: bodies(NATIVE_JOBS), headers: fc.constantFrom<Record<string, string>>({}, { "if-none-match": "*" }, { "if-match": '"1"' }) },
    { api: "native", path: namespaceSegment.map((ns) => `/api/v1/namespaces/${ns}/jobs`), methods: ["GET"], query: ["prefix", "limit", "cursor"] },
    { api: "native", path: jobPath("/trigger"), methods: ["POST"], body: bodies([{ env: { A: "1" }, args: ["x", "y"] }, { args: [] }]) },
    { api: "native", path: fc.tuple(jobPath(), fc.constantFrom("/pause", "/resume")).map(([p, t]) => p + t), methods: ["POST"] },
    { api: "native", path: jobPath("/runs"), methods: ["GET"], query: ["limit", "cursor", "status"] },
    { api: "native", path: runSegment.map((id) => `/api/v1/runs/${id}`), methods: ["GET", "DELETE"] },
    { api: "native", path: runSegment.map((id) => `/api/v1/runs/${id}/kill`), methods: ["POST"] },
    { api: "native", path: runSegment.map((id) => `/api/v1/runs/${id}/logs`), methods: ["GET"], query: ["since", "until", "stream", "limit", "cursor", "follow"], headers: fc.constantFrom<Record<string, string>>({}, { "last-event-id": "3" }) },
    { api: "native", path: fc.constant("/api/v1/keys"), methods: ["POST", "GET"], body: bodies([{ role: "reader", namespaces: ["t1", "sx:*"], name: "k", expires: "1h" }, { role: "admin", allNamespaces: true }]) },
    { api: "native", path: fc.oneof(fromPool(() => pools.keys), fc.constantFrom(...NASTY_SEGMENTS)).map((id) => `/api/v1/keys/${id}`), methods: ["GET", "DELETE"] },
    { api: "native", path: fc.constant("/api/v1/nodes"), methods: ["GET"] },
    { api: "native", path: fc.constant("/api/v1/schedule/preview"), methods: ["GET"], query: ["spec", "timezone", "count", "spec", "spec"] },
    { api: "native", path: fc.constantFrom("/healthz", "/readyz"), methods: ["GET"] },
    { api: "native", path: fc.tuple(fc.constantFrom("/api/v1/", "/api/v1/namespaces/", "/api/v1/runs/1/", "/api/v1/namespaces/ns/jobs/s1/x/", "/", "/api/v2/"), nameSegment).map(([a, b]) => a + b), methods: ALL_METHODS },
  ];
  const dcs: Route[] = [
    { api: "dcs", path: fc.tuple(namespaceSegment, nameSegment).map(([ns, n]) => `/jobs/${ns}/${n}`), methods: ["PUT", "PUT", "PUT", "GET", "DELETE"], weight: 4, body: bodies(DCS_JOBS) },
    { api: "dcs", path: fc.tuple(namespaceSegment, nameSegment).map(([ns, n]) => `/jobs/${ns}/${n}/his`), methods: ["GET"] },
    { api: "dcs", path: fc.tuple(fc.constantFrom("/jobs", "/jobs/", "/jobs/ns/", "/jobs/ns/s1/his/", "/jobs/ns/s1/x/"), nameSegment).map(([a, b]) => a + b), methods: ALL_METHODS },
  ];
  const dapr: Route[] = (["/v1.0-alpha1", "/v1.0"] as const).flatMap((p): Route[] => [
    { api: "dapr", path: nameSegment.map((n) => `${p}/jobs/${n}`), methods: ["POST", "POST", "POST", "GET", "DELETE"], weight: 3, body: bodies(DAPR_JOBS), headers: fc.constantFrom<Record<string, string>>({}, { "dapr-api-token": "x" }) },
    { api: "dapr", path: fc.constantFrom(`${p}/jobs`, `${p}/jobs/`, `${p}/jobs/%20`, `${p}/jobs/a%7Cb`), methods: ALL_METHODS, body: bodies(DAPR_JOBS) },
    { api: "dapr", path: fc.tuple(fc.constantFrom(`${p}/jobs/s1/`, `${p}/jobs/s1/x/`, `${p}/`), nameSegment).map(([a, b]) => a + b), methods: ALL_METHODS },
  ]);
  const alauda: Route[] = [
    { api: "alauda", path: fc.constant("/v1/jobs"), methods: ["POST", "POST", "GET"], query: ["namespace", "page", "page_size"], weight: 3, body: bodies(ALAUDA_CREATE) },
    { api: "alauda", path: idSegment.map((id) => `/v1/jobs/${id}`), methods: ["GET", "PUT", "PUT", "DELETE"], weight: 2, body: bodies(ALAUDA_UPDATE) },
    { api: "alauda", path: idSegment.map((id) => `/v1/jobs/${id}/execs`), methods: ["POST", "GET"], query: ["page", "page_size"] },
    { api: "alauda", path: fc.tuple(idSegment, execSegment).map(([id, ex]) => `/v1/jobs/${id}/execs/${ex}`), methods: ["GET", "DELETE"] },
    { api: "alauda", path: fc.tuple(idSegment, execSegment).map(([id, ex]) => `/v1/jobs/${id}/execs/${ex}/logs`), methods: ["GET"], query: ["start_time", "end_time"] },
    // (After "/v1/jobs/" a name is an id: one that reads as a fixed job's id would change it, rightly. The
    // same for Juice's "/v1/tasks/" below.)
    { api: "alauda", path: fc.tuple(fc.constantFrom("/v1/jobs/", "/v1/jobs/1/", "/v1/jobs/1/execs/x/logs/", "/v1/"), nameSegment.filter(notFixedId)).map(([a, b]) => a + b), methods: ALL_METHODS },
  ];
  const juice: Route[] = [
    { api: "juice", path: fc.constant("/v1/tasks"), methods: ["POST"], query: ["taskIds"], weight: 3, body: bodies(JUICE_TASKS), headers: tenant },
    {
      api: "juice",
      path: fc.constant("/v1/tasks"),
      methods: ["GET"],
      headers: tenant,
      query: ["taskIds"],
    },
    { api: "juice", path: fc.constant("/v1/tasks/kill"), methods: ["POST"], query: ["taskId"], headers: tenant },
    { api: "juice", path: fc.tuple(fc.constantFrom("/v1/tasks/", "/v1/tasks/kill/", "/v1/tasks/reconcile"), nameSegment.filter(notFixedId)).map(([a, b]) => a + b), methods: ALL_METHODS, headers: tenant },
  ];
  const sxRead = (path: string, templates: Json[], ids: string[] = []): Route => ({ api: "schedulerx", path: fc.constant(path), methods: ["GET", "POST"], query: ["namespace", "groupId", "jobId", ...ids], body: sxBodies(templates, ids) });
  const sxChange = (path: string, templates: Json[], ids: string[] = []): Route => ({ api: "schedulerx", path: fc.constant(path), methods: ["POST"], query: ["namespace", "groupId", "jobId"], body: sxBodies(templates, ids) });
  const schedulerx: Route[] = [
    sxRead("/openapi/job/v1/get", [SX]),
    sxRead("/openapi/v1/instance/getList", [SX, {}]),
    sxRead("/openapi/v1/instance/get", [SX], ["jobInstanceId"]),
    { ...sxChange("/openapi/v1/job/create", SX_CREATE), weight: 4 },
    { weight: 3, ...sxChange("/openapi/v1/job/update", [{ ...SX, description: "d", timeType: 1, timeExpression: "0 */5 * * * ?", maxAttempt: 1 }, { ...SX, content: "echo 2", parameters: "" }]) },
    ...["delete", "enable", "disable"].map((verb) => sxChange(`/openapi/v1/job/${verb}`, [SX])),
    sxChange("/openapi/v1/job/execute", [{ ...SX, instanceParameters: "p" }]),
    sxChange("/openapi/v1/instance/kill", [SX], ["instanceId"]),
    { api: "schedulerx", path: fc.constantFrom(...["execute", "enable", "disable", "delete"].map((v) => `/openapi/v1/workflow/${v}`)), methods: ["POST"], body: bodies([{ ...SX, workflowId: 1 }], { form: true }) },
    { api: "schedulerx", path: fc.tuple(fc.constantFrom("/openapi/", "/openapi/v1/", "/openapi/v1/job/", "/openapi/job/v1/get/", "/openapi/v1/workflow/"), nameSegment).map(([a, b]) => a + b), methods: ALL_METHODS },
  ];
  return [...native, ...dcs, ...dapr, ...alauda, ...juice, ...schedulerx];
}

// ---- the fixed jobs, and poison aimed at them ----

interface Fixed {
  native: { ns: string; name: string }[];
  dcs: { ns: string; name: string };
  dapr: string;
  alauda: number;
  juice: number;
  sx: number;
  ids: number[];
}

function poisonAt(f: Fixed): fc.Arbitrary<Req> {
  const nativeJob = fc.constantFrom(...f.native).map((j) => `/api/v1/namespaces/${j.ns}/jobs/${j.name}`);
  const sxPoison = poison([{ ...SX, jobId: String(f.sx), description: "changed" }]);
  const arbs: fc.Arbitrary<Req>[] = [
    fc.tuple(nativeJob, poison(NATIVE_JOBS), fc.constantFrom({}, { "if-match": '"1"' }, { "if-none-match": "*" })).map(([path, body, headers]) => ({ api: "native" as Api, method: "PUT", path, headers, body })),
    // A wrong Content-Type (415) or a bad If-Match (400), with a valid body.
    fc.tuple(nativeJob, fc.constantFrom(...NATIVE_JOBS), fc.constantFrom(...OTHER_TYPES.filter((t) => !/json/i.test(t) || t === "application/jsonx"))).map(([path, t, type]) => ({ api: "native" as Api, method: "PUT", path, headers: {}, body: { text: jsonText(t), type, kind: "wrong type", poison: true } })),
    fc.tuple(nativeJob, fc.constantFrom(...NATIVE_JOBS), fc.constantFrom("abc", '"1e309"', "W/1", '"-1"', "1.5")).map(([path, t, ifMatch]) => ({ api: "native" as Api, method: "PUT", path, headers: { "if-match": ifMatch }, body: { text: jsonText(t), type: "application/json", kind: "bad If-Match", poison: true } })),
    fc.tuple(nativeJob, poison([{ env: { A: "1" }, args: ["x"] }])).map(([path, body]) => ({ api: "native" as Api, method: "POST", path: `${path}/trigger`, headers: {}, body })),
    poison(DCS_JOBS).map((body) => ({ api: "dcs" as Api, method: "PUT", path: `/jobs/${f.dcs.ns}/${f.dcs.name}`, headers: {}, body })),
    fc.tuple(fc.constantFrom("/v1.0-alpha1", "/v1.0"), poison(DAPR_JOBS)).map(([p, body]) => ({ api: "dapr" as Api, method: "POST", path: `${p}/jobs/${f.dapr}`, headers: {}, body })),
    poison(ALAUDA_UPDATE).map((body) => ({ api: "alauda" as Api, method: "PUT", path: `/v1/jobs/${f.alauda}`, headers: {}, body })),
    fc.tuple(fc.constantFrom("update", "delete", "enable", "disable", "execute"), sxPoison).map(([verb, body]) => ({ api: "schedulerx" as Api, method: "POST", path: `/openapi/v1/job/${verb}?namespace=sx-fixed&groupId=g&jobId=${f.sx}`, headers: {}, body })),
  ];
  return fc.oneof(...arbs).map((r) => ({ ...r, atFixed: true }));
}

// ---- sending and judging ----

let env: TestEnv;
/** The same deps and database behind an app that requires API keys, and an admin key for it. */
let keyedApp: TestEnv["app"];
let adminToken = "";
const log = memoryLogger();
let fixed: Fixed;
let fixedBefore = "";
const stats = { sent: 0, perApi: Object.fromEntries(APIS.map((a) => [a, 0])) as Record<Api, number>, statuses: {} as Record<number, number>, fiveXX: 0, poison: 0 };

/** Which API a path belongs to, as the app routes it (after URL normalisation). */
function apiOf(path: string): Api {
  const p = new URL(path, "http://localhost").pathname;
  if (p === "/jobs" || p.startsWith("/jobs/")) return "dcs";
  if (/^\/v1\.0(-alpha1)?\//.test(p)) return "dapr";
  if (p === "/v1/jobs" || p.startsWith("/v1/jobs/")) return "alauda";
  if (p === "/v1/tasks" || p.startsWith("/v1/tasks/")) return "juice";
  if (p.startsWith("/openapi/")) return "schedulerx";
  return "native";
}

const isString = (x: unknown) => typeof x === "string";
/** Each API's error body. */
const SHAPE: Record<Api, (b: any, status: number) => boolean> = {
  native: (b) => isString(b?.error?.code) && isString(b.error.message),
  dcs: (b) => isString(b?.msg),
  dapr: (b) => isString(b?.errorCode) && isString(b.message),
  alauda: (b) => Array.isArray(b?.errors) && b.errors.length > 0 && isString(b.errors[0].code) && isString(b.errors[0].message) && b.errors[0].source === "tock",
  juice: (b) => typeof b?.status === "number" && isString(b.message) && !("data" in b),
  schedulerx: (b, status) => b?.code === status && b.success === false && isString(b.message) && isString(b.requestId),
};

/** Documented exceptions: the global 413 (native shape on every API) and Dapr's 405 with no body. */
function shapeOk(api: Api, status: number, text: string, method: string): boolean {
  if (method === "HEAD") return text === "";
  if (api === "dapr" && status === 405) return text === "";
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  if (status === 413 && SHAPE.native(body, status)) return true;
  return SHAPE[api](body, status);
}

/** Documented 5xx: /readyz while the scheduler is stopped (503). */
function allowed5xx(req: Req, status: number): boolean {
  const p = new URL(req.path, "http://localhost").pathname;
  if (status === 503) return (req.method === "GET" || req.method === "HEAD") && p === "/readyz";
  return false;
}

function describe(req: Req, status: number, text: string): string {
  const b = req.body;
  return `${req.method} ${req.path.slice(0, 300)} ${JSON.stringify(req.headers).slice(0, 300)} body[${b?.kind}] ${b?.type ?? "-"} ${(b?.text ?? "").slice(0, 300)} -> ${status} ${text.slice(0, 500)}`;
}

/** A digest of every job, run and key: what a refused request must leave as it was. */
async function everything(): Promise<string> {
  const [jobs] = await read(env.deps.store, "SELECT count(*) AS n, total(id * version) AS v, max(updated_at) AS u, total(coalesce(next_fire_at, 0) % 1000003) AS f FROM jobs");
  const [runs] = await read(env.deps.store, "SELECT count(*) AS n, max(id) AS m, total(id * length(status)) AS s, total(coalesce(kill_requested_at, 0) % 1000003) AS k FROM runs");
  const [keys] = await read(env.deps.store, "SELECT count(*) AS n, count(revoked_at) AS r FROM api_keys");
  return JSON.stringify([jobs, runs, keys]);
}

async function fixedRows(): Promise<string> {
  const rows = await read(env.deps.store, { sql: `SELECT * FROM jobs WHERE id IN (${fixed.ids.join(",")}) ORDER BY id`, args: [] });
  return JSON.stringify(rows);
}

const pathname0 = (path: string) => new URL(path, "http://localhost").pathname;

/** Sends one request in-process and checks what every answer must be. */
async function send(req: Req): Promise<void> {
  const headers = new Headers();
  for (const [k, x] of Object.entries(req.headers)) {
    try {
      headers.set(k, x);
    } catch {
      // a value Headers refuses (a client cannot send it either)
    }
  }
  const init: RequestInit = { method: req.method, headers };
  if (req.body?.text !== undefined && req.method !== "GET" && req.method !== "HEAD") {
    init.body = req.body.text;
    if (req.body.type !== undefined) headers.set("content-type", req.body.type);
  }
  const abort = new AbortController();
  init.signal = abort.signal;
  const api = apiOf(req.path);
  const before = await everything();
  const app = req.keyed ? keyedApp : env.app;
  const res = await app.request(req.path, init);
  let text: string;
  if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream") && res.body) {
    // A followed run's log: read what comes first, then leave, as a client would.
    const reader = res.body.getReader();
    await reader.read();
    abort.abort();
    await reader.cancel();
    text = "";
  } else {
    text = await res.text();
  }
  stats.sent++;
  stats.perApi[api]++;
  stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
  const where = describe(req, res.status, text);
  if (res.status >= 500 && !allowed5xx(req, res.status)) {
    stats.fiveXX++;
    throw new Error(`5xx: ${where}`);
  }
  if (res.status >= 400 && res.status < 500 && !shapeOk(api, res.status, text, req.method)) throw new Error(`not ${api}'s error shape: ${where}`);
  const errors = log.lines.filter((l) => l.level === "error");
  if (errors.length > 0) throw new Error(`logged an error: ${JSON.stringify(errors).slice(0, 1000)} for ${where}`);
  if (req.keyed && req.keyed.token === null && res.status < 300 && pathname0(req.path) !== "/healthz") throw new Error(`served without a valid key: ${where}`);
  if (req.atFixed) {
    stats.poison++;
    if (res.status < 400 || res.status >= 500) throw new Error(`a poison request was not refused: ${where}`);
  }
  if ((await fixedRows()) !== fixedBefore) throw new Error(`a fixed job changed: ${where}`);
  if (res.status >= 400 && (await everything()) !== before) throw new Error(`a refused request changed something: ${where}`);
  if (res.status < 300) remember(req, api, text);
  // A job is answered "as stored": reading it back must give the same, byte for byte.
  const pathname = pathname0(req.path);
  if (api === "native" && req.method === "PUT" && res.status < 300 && /^\/api\/v1\/namespaces\/[^/]+\/jobs\/[^/]+$/.test(pathname)) {
    const back = await app.request(pathname, { headers: req.keyed?.token ? { authorization: `Bearer ${req.keyed.token}` } : {} });
    const backText = await back.text();
    stats.sent++;
    stats.perApi.native++;
    stats.statuses[back.status] = (stats.statuses[back.status] ?? 0) + 1;
    if (back.status !== 200 || !sameJobRead(text, backText)) throw new Error(`the job read back is not the one answered: ${where} -> read back ${back.status} ${backText.slice(0, 500)}`);
    const lost = lostKeys(req.body?.text, JSON.parse(text));
    if (lost) throw new Error(`accepted, but ${lost} is not kept: ${where}`);
  }
}

/** JSON values equal as JSON reads them (so 0 and -0 are one number, but Infinity is not null). */
function sameJson(a: unknown, b: unknown): boolean {
  if (typeof a === "number" || typeof b === "number") return a === b;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Json)[k], (b as Json)[k]));
}

/**
 * What an accepted native job lost of what was sent: its payload changed, or a key of a map (labels, a
 * target's headers or env) missing from the answer.
 */
function lostKeys(sent: string | undefined, answer: any): string | undefined {
  let body: any;
  try {
    body = JSON.parse(sent ?? "");
  } catch {
    return undefined; // a form body that happened to be accepted: nothing to compare
  }
  if (body === null || typeof body !== "object") return undefined;
  if (body.payload !== undefined && !sameJson(body.payload, answer.payload)) return "payload";
  const maps: [string, unknown, unknown][] = [["labels", body.labels, answer.labels]];
  for (const kind of Object.keys(body.target ?? {})) {
    for (const map of ["headers", "env"]) maps.push([`target.${kind}.${map}`, body.target[kind]?.[map], answer.target?.[kind]?.[map]]);
  }
  for (const [name, given, kept] of maps) {
    if (given === null || typeof given !== "object" || Array.isArray(given)) continue;
    const missing = Object.keys(given).find((k) => kept === null || typeof kept !== "object" || !Object.hasOwn(kept, k));
    if (missing !== undefined) return `${name}.${missing}`;
  }
  return undefined;
}

/** Remembers what a request made (jobs, runs, keys), so that later requests aim at it. */
function remember(req: Req, api: Api, text: string): void {
  let b: any;
  try {
    b = JSON.parse(text);
  } catch {
    return;
  }
  const p = new URL(req.path, "http://localhost").pathname;
  const add = (pool: number[], id: unknown) => {
    if (typeof id === "number" && Number.isSafeInteger(id) && !fixedIds.has(id)) pool.push(id);
  };
  if (api === "native" && req.method === "PUT" && p.startsWith("/api/v1/namespaces/")) add(pools.jobs, b?.id);
  if (api === "native" && req.method === "POST" && p.endsWith("/trigger")) add(pools.runs, b?.id);
  if (api === "native" && req.method === "POST" && p === "/api/v1/keys" && typeof b?.id === "string") pools.keys.push(b.id);
  if (api === "alauda" && req.method === "POST" && p === "/v1/jobs") add(pools.jobs, b?.id);
  if (api === "alauda" && req.method === "POST" && p.endsWith("/execs") && typeof b?.id === "string") add(pools.runs, runIdOfExec(b.id));
  if (api === "juice" && req.method === "POST" && p === "/v1/tasks") add(pools.jobs, b?.data?.taskId);
  if (api === "schedulerx" && p === "/openapi/v1/job/create") add(pools.jobs, b?.data);
  if (api === "schedulerx" && p === "/openapi/v1/job/execute") add(pools.runs, b?.data);
}

/**
 * Reads every job changed since the last sweep through every API that can show it (native, DCS, Dapr,
 * Alauda, Juice, SchedulerX): whatever a request managed to store must read back without a 5xx.
 */
let sweptUntil = 0;
async function sweep(): Promise<number> {
  const changed = await read(env.deps.store, { sql: "SELECT id, namespace, name, updated_at, target_kind, schedule_kind, timezone, compat FROM jobs WHERE updated_at >= ? ORDER BY id", args: [sweptUntil] });
  // Two jobs of each shape (API, target, schedule, zone), and a few more: reading thousands would add nothing.
  const shapes = new Map<string, number>();
  const rows = changed.filter((r, i) => {
    const shape = `${r.compat === null ? "native" : JSON.parse(String(r.compat)).api}|${r.target_kind}|${r.schedule_kind}|${r.timezone === "UTC"}`;
    const seen = shapes.get(shape) ?? 0;
    shapes.set(shape, seen + 1);
    return seen < 2 || i % 25 === 0;
  });
  for (const r of changed) sweptUntil = Math.max(sweptUntil, Number(r.updated_at));
  let sent = 0;
  for (const r of rows) {
    const [id, ns, name] = [Number(r.id), String(r.namespace), String(r.name)];
    const e = (x: string) => encodeURIComponent(x);
    const reads: Req[] = [
      { api: "native", method: "GET", path: `/api/v1/namespaces/${e(ns)}/jobs/${e(name)}`, headers: {} },
      { api: "native", method: "GET", path: `/api/v1/namespaces/${e(ns)}/jobs/${e(name)}/runs`, headers: {} },
      { api: "native", method: "GET", path: `/api/v1/namespaces/${e(ns)}/jobs?prefix=${e(name)}`, headers: {} },
      { api: "dcs", method: "GET", path: `/jobs/${e(ns)}/${e(name)}`, headers: {} },
      { api: "dcs", method: "GET", path: `/jobs/${e(ns)}/${e(name)}/his`, headers: {} },
      { api: "alauda", method: "GET", path: `/v1/jobs/${id}`, headers: {} },
      { api: "alauda", method: "GET", path: `/v1/jobs/${id}/execs`, headers: {} },
      { api: "alauda", method: "GET", path: `/v1/jobs?namespace=${e(ns)}&page=last`, headers: {} },
      { api: "juice", method: "GET", path: `/v1/tasks?taskIds=${id}`, headers: { "x-tenant-id": ns } },
    ];
    if (ns === "dapr") reads.push({ api: "dapr", method: "GET", path: `/v1.0/jobs/${e(name)}`, headers: {} });
    const [sxNs, group] = ns.split(":");
    if (group !== undefined) {
      const q = `namespace=${e(sxNs)}&groupId=${e(group)}&jobId=${id}`;
      reads.push({ api: "schedulerx", method: "GET", path: `/openapi/job/v1/get?${q}`, headers: {} }, { api: "schedulerx", method: "POST", path: `/openapi/v1/instance/getList?${q}`, headers: {} });
    }
    for (const req of reads) await send(req);
    sent += reads.length;
  }
  return sent;
}

beforeAll(async () => {
  const compat = parseConfig(null, {}).compat;
  env = await testEnv({
    log,
    config: {
      executors: withProcesses({}, { container: { cli: "/bin/true", runArgs: [] } }),
      compat: { ...compat, daprAppUrl: "http://127.0.0.1:9", schedulerxJavaCommand: ["/bin/true"] },
    },
  });
  const must = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await env.call(method, path, body, headers);
    if (r.status >= 300) throw new Error(`setup ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const sxForm = (o: Json) => urlencoded(formText(o));
  const FORM = { "content-type": "application/x-www-form-urlencoded" };

  // The fixed jobs: one or more through each API, never aimed at by generated requests (but poison).
  const nativeFixed = [
    { ns: "fixed-native-ns", name: "fixed-native-http" },
    { ns: "fixed-native-ns", name: "fixed-native-proc" },
    { ns: "ns", name: "fixed-native-iso8601" },
  ];
  const ids: number[] = [];
  ids.push((await must("PUT", `/api/v1/namespaces/${nativeFixed[0].ns}/jobs/${nativeFixed[0].name}`, NATIVE_JOBS[0])).id);
  ids.push((await must("PUT", `/api/v1/namespaces/${nativeFixed[1].ns}/jobs/${nativeFixed[1].name}`, NATIVE_JOBS[4])).id);
  ids.push((await must("PUT", `/api/v1/namespaces/${nativeFixed[2].ns}/jobs/${nativeFixed[2].name}`, NATIVE_JOBS[3])).id);
  const dcsFixed = { ns: "ns", name: "fixed-dcs-job-1" };
  await must("PUT", `/jobs/${dcsFixed.ns}/${dcsFixed.name}`, DCS_JOBS[0]);
  ids.push((await must("GET", `/api/v1/namespaces/${dcsFixed.ns}/jobs/${dcsFixed.name}`)).id);
  const daprFixed = "fixed-dapr-job-1";
  await must("POST", `/v1.0-alpha1/jobs/${daprFixed}`, DAPR_JOBS[0]);
  ids.push((await must("GET", `/api/v1/namespaces/dapr/jobs/${daprFixed}`)).id);
  const alauda = (await must("POST", "/v1/jobs", ALAUDA_CREATE[0])).id;
  ids.push(alauda);
  const juice = (await must("POST", "/v1/tasks", JUICE_TASKS[0], { "x-tenant-id": "t1" })).data.taskId;
  ids.push(juice);
  const sx = (await must("POST", "/openapi/v1/job/create", sxForm({ ...SX_CREATE[0], namespace: "sx-fixed" }), FORM)).data;
  ids.push(sx);
  fixed = { native: nativeFixed, dcs: dcsFixed, dapr: daprFixed, alauda, juice, sx, ids };
  fixedIds = new Set(ids);

  // Scratch resources for the generated requests to read, change, run and delete.
  for (const [i, t] of NATIVE_JOBS.entries()) {
    const job = await must("PUT", `/api/v1/namespaces/${["ns", "t1", "scratch"][i % 3]}/jobs/s${(i % 3) + 1}`, t);
    pools.jobs.push(job.id);
    pools.runs.push((await must("POST", `/api/v1/namespaces/${job.namespace}/jobs/${job.name}/trigger`)).id);
  }
  for (const t of ALAUDA_CREATE) {
    const id = (await must("POST", "/v1/jobs", t)).id;
    pools.jobs.push(id);
    scratchAlauda.push(id);
    pools.runs.push(runIdOfExec((await must("POST", `/v1/jobs/${id}/execs`)).id));
  }
  for (const t of JUICE_TASKS) pools.jobs.push((await must("POST", "/v1/tasks", t, { "x-tenant-id": "t1" })).data.taskId);
  for (const t of SX_CREATE) {
    const id = (await must("POST", "/openapi/v1/job/create", sxForm(t), FORM)).data;
    pools.jobs.push(id);
    scratchSx.push(id);
    pools.runs.push((await must("POST", "/openapi/v1/job/execute", sxForm({ ...SX, jobId: id }), FORM)).data);
  }
  await must("PUT", "/jobs/ns/s1", DCS_JOBS[0]);
  await must("POST", "/v1.0/jobs/s1", DAPR_JOBS[0]);
  pools.keys.push((await must("POST", "/api/v1/keys", { role: "reader", namespaces: ["t1"] })).id);
  for (const id of ids) if (pools.jobs.includes(id)) throw new Error("a fixed id is in a scratch pool");
  fixedBefore = await fixedRows();
  // Its own key ring, with no per-key rate: a 429 would depend on how fast this machine is today.
  const { access: _, ...deps } = env.deps;
  const keys = new KeyRing({ store: deps.store, clock: deps.clock, log: deps.log }, { rate: null });
  keyedApp = createApp({ ...deps, keys, config: { ...deps.config, auth: { ...deps.config.auth, mode: "keys" } } });
  adminToken = (await createKey(env.deps, { role: "admin", allNamespaces: true, name: "nasty" })).token;
  await keys.refresh();
}, 30_000);

afterAll(async () => {
  process.off("unhandledRejection", onCrash);
  process.off("uncaughtException", onCrash);
  await env?.close();
});

/** Errors nobody awaited (a handler's promise left behind): the process would log them, or die. */
const crashes: string[] = [];
const onCrash = (e: unknown) => void crashes.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
process.on("unhandledRejection", onCrash);
process.on("uncaughtException", onCrash);

function runIdOfExec(exec: string): number {
  return Number.parseInt(exec.replaceAll("-", "").slice(-15), 16);
}

// ---- field by field: every leaf and key of every valid body, each replaced by each odd value ----

/** What replaces one value: odd text around the original, numbers JSON cannot hold, other types. */
const FIELD_VALUES: ((v: unknown) => unknown)[] = [
  (v) => `${v}\0`,
  (v) => `\0${v}`,
  (v) => `${v}\x01\x1f\x7f\r\nX-Injected: 1`,
  (v) => ` ${v}😀\u0301 `,
  (v) => `../${v}%2F%00`,
  (v) => String(v).repeat(Math.ceil(4097 / Math.max(1, String(v).length))).slice(0, 4097),
  () => "",
  () => new Raw("1e309"),
  () => new Raw("-0"),
  () => new Raw("9007199254740993"),
  () => -1,
  () => 0.5,
  (v) => (typeof v === "number" ? String(v) : Number(v)),
  () => null,
  () => [],
  (v) => ({ v }),
  () => new Raw('"\\ud800"'),
];
const KEY_VALUES: ((k: string) => string)[] = [(k) => `${k}\0`, () => "", (k) => `${k} x😀`, () => "LD_PRELOAD", () => "__proto__"];

/** Every body one change away from `template`: each leaf replaced by each FIELD_VALUE, each key renamed. */
function fieldByField(template: Json): { body: Json; change: string }[] {
  const out: { body: Json; change: string }[] = [];
  const walk = (at: (string | number)[]) => {
    let node: any = template;
    for (const k of at) node = node[k];
    if (node === null || typeof node !== "object") {
      FIELD_VALUES.forEach((f, i) => out.push({ body: replaced(template, at, (old) => f(old)), change: `${at.join(".")} value #${i}` }));
      return;
    }
    for (const key of Object.keys(node)) {
      if (!Array.isArray(node)) {
        KEY_VALUES.forEach((f, i) =>
          out.push({
            body: replaced(template, at, (obj: Json) => Object.fromEntries(Object.entries(obj).map(([k, x]) => [k === key ? f(k) : k, x]))),
            change: `${[...at, key].join(".")} key #${i}`,
          }),
        );
      }
      walk([...at, Array.isArray(node) ? Number(key) : key]);
    }
  };
  walk([]);
  return out;
}

function replaced(template: Json, at: (string | number)[], f: (old: any) => unknown): Json {
  if (at.length === 0) return f(structuredClone(template)) as Json;
  const body = structuredClone(template);
  let parent: any = body;
  for (const k of at.slice(0, -1)) parent = parent[k];
  const key = at[at.length - 1];
  parent[key] = f(parent[key]);
  return body;
}

/** The create and update routes of each API, with the bodies they take. */
function fieldRoutes(): { api: Api; method: string; path: () => string; templates: Json[]; headers?: Record<string, string>; form?: boolean }[] {
  const alaudaId = () => String(pools.jobs.find((id) => scratchAlauda.includes(id)) ?? 1_000_001);
  return [
    { api: "native", method: "PUT", path: () => "/api/v1/namespaces/ns/jobs/fbf", templates: NATIVE_JOBS },
    { api: "native", method: "POST", path: () => "/api/v1/namespaces/ns/jobs/s1/trigger", templates: [{ env: { A: "1" }, args: ["x", "y"] }] },
    { api: "native", method: "POST", path: () => "/api/v1/keys", templates: [{ role: "reader", namespaces: ["t1", "sx:*"], name: "k", expires: "1h" }] },
    { api: "dcs", method: "PUT", path: () => "/jobs/ns/fbf", templates: DCS_JOBS },
    { api: "dapr", method: "POST", path: () => "/v1.0/jobs/fbf", templates: DAPR_JOBS },
    { api: "alauda", method: "POST", path: () => "/v1/jobs", templates: ALAUDA_CREATE },
    { api: "alauda", method: "PUT", path: () => `/v1/jobs/${alaudaId()}`, templates: ALAUDA_UPDATE },
    { api: "juice", method: "POST", path: () => "/v1/tasks", templates: JUICE_TASKS, headers: { "x-tenant-id": "t1" } },
    { api: "schedulerx", method: "POST", path: () => "/openapi/v1/job/create", templates: SX_CREATE, form: true },
    { api: "schedulerx", method: "POST", path: () => "/openapi/v1/job/update", templates: [{ ...SX, jobId: String(scratchSx[0] ?? 1_000_001), description: "d", timeType: 1, timeExpression: "0 */5 * * * ?", maxAttempt: 1, content: "echo 2" }] },
  ];
}
/** Scratch jobs made in setup through Alauda and SchedulerX, for the update routes. */
const scratchAlauda: number[] = [];
const scratchSx: number[] = [];

test("field by field: each value and key of each valid body replaced by each odd one, on every create and update route", async () => {
  let n = 0;
  for (const r of fieldRoutes()) {
    for (const t of r.templates) {
      for (const { body, change } of fieldByField(t)) {
        const text = r.form ? urlencoded(formText(body)) : jsonText(body);
        const type = r.form ? "application/x-www-form-urlencoded" : "application/json";
        try {
          await send({ api: r.api, method: r.method, path: r.path(), headers: r.headers ?? {}, body: { text, type, kind: `field by field: ${change}` } });
        } catch (e) {
          throw new Error(`${change}: ${e instanceof Error ? e.message : String(e)}`);
        }
        n++;
      }
    }
  }
  await sweep();
  expect(n).toBeGreaterThan(1000);
}, 120_000);

/** NASTY_SCALE=10 multiplies every run count, for a longer hunt than the test suite's. */
const SCALE = Number(process.env.NASTY_SCALE ?? 1);
const NUM_RUNS: Record<Api, number> = { native: 1500, dcs: 600, dapr: 700, alauda: 900, juice: 500, schedulerx: 1300 };

for (const api of APIS) {
  test(`${api}: nasty requests on every route are refused in ${api}'s shape, never a 5xx`, async () => {
    const mine = routes().filter((r) => r.api === api);
    const request = fc.oneof(...mine.map((r) => ({ weight: r.weight ?? 1, arbitrary: requestOn(r) })));
    await fc.assert(
      fc.asyncProperty(request, async (req) => send(req)),
      { numRuns: Math.round(NUM_RUNS[api] * SCALE), endOnFailure: true },
    );
    await sweep();
  }, 120_000 * Math.max(1, SCALE));
}

test("poison aimed at the fixed jobs is refused by every API, changing nothing", async () => {
  await fc.assert(
    fc.asyncProperty(poisonAt(fixed), async (req) => send(req)),
    { numRuns: Math.round(400 * SCALE), endOnFailure: true },
  );
}, 60_000 * Math.max(1, SCALE));

test("with API keys required: every route with a good key, a garbage one or none; never served without a valid key", async () => {
  const token = fc.oneof(
    { weight: 3, arbitrary: fc.constant<{ token: string | null; headers: Record<string, string> }>({ token: adminToken, headers: { authorization: `Bearer ${adminToken}` } }) },
    { weight: 1, arbitrary: fc.constant({ token: adminToken, headers: { "dapr-api-token": adminToken } }) },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.constantFrom(...ODD_HEADERS.authorization).map((a) => ({ authorization: a })),
          fc.constantFrom(...ODD_HEADERS["dapr-api-token"]).map((a) => ({ "dapr-api-token": a })),
          fc.constant({}),
          fc.constantFrom(`Bearer ${adminToken}x`, `Bearer ${adminToken.slice(0, -1)}`, `bearer  ${adminToken.toUpperCase()}`, `Bearer ${adminToken} ${adminToken}`, `Basic ${adminToken}`, `Bearer ${adminToken}\u00e9`).map((a) => ({ authorization: a })),
          fc.string({ unit: "binary-ascii", maxLength: 80 }).map((t) => ({ authorization: `Bearer tock_${t}` })),
        )
        .map((headers) => ({ token: null, headers })),
    },
  );
  const request = fc.oneof(...routes().map((r) => ({ weight: r.weight ?? 1, arbitrary: requestOn(r) })));
  await fc.assert(
    fc.asyncProperty(request, token, async (req, t) => {
      const headers = { ...req.headers };
      delete headers.authorization;
      delete headers["dapr-api-token"];
      await send({ ...req, headers: { ...headers, ...t.headers }, keyed: { token: t.token } });
    }),
    { numRuns: Math.round(1200 * SCALE), endOnFailure: true },
  );
}, 120_000 * Math.max(1, SCALE));

test("the fixed jobs are byte for byte as they were, and the figures", async () => {
  expect(await fixedRows()).toBe(fixedBefore);
  expect(log.lines.filter((l) => l.level === "error")).toEqual([]);
  expect(crashes).toEqual([]);
  const statuses = Object.entries(stats.statuses).map(([s, n]) => `${s}:${n}`).join(" ");
  console.log(`nasty: ${stats.sent} requests sent (${APIS.map((a) => `${a} ${stats.perApi[a]}`).join(", ")}; ${stats.poison} poison at fixed jobs); statuses ${statuses}; 5xx (undocumented) ${stats.fiveXX}`);
  expect(stats.fiveXX).toBe(0);
  expect(stats.sent).toBeGreaterThanOrEqual(5000);
  for (const a of APIS) expect(stats.perApi[a]).toBeGreaterThan(0);
});

/**
 * Whether a job read back is the one a PUT answered: byte for byte, unless it fired in between (a one-shot
 * due at once: the scheduler runs here), when only what firing changes may differ.
 */
function sameJobRead(answered: string, back: string): boolean {
  if (answered === back) return true;
  const a = JSON.parse(answered);
  const b = JSON.parse(back);
  if (!(b.firedCount > a.firedCount)) return false;
  for (const j of [a, b]) for (const k of ["status", "nextFireAt", "firedCount", "version", "updatedAt"]) delete j[k];
  return JSON.stringify(a) === JSON.stringify(b);
}
