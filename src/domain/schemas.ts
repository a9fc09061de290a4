// The native API's input schemas (one schema, one type, one name). Schedule strings are
// checked by src/schedule when the job is compiled; here they are only shapes.
import * as v from "valibot";
import { parseDuration } from "../schedule/duration.ts";
import { NOTIFY_EVENTS, NOTIFY_UNSETTABLE_HEADERS } from "../config/notify.ts";
import { invalid } from "./errors.ts";

const MAX_DURATION_MS = 100 * 365 * 86_400_000;

export const Duration = v.pipe(
  v.string(),
  v.check((s) => {
    const ms = parseDuration(s);
    return ms !== null && ms <= MAX_DURATION_MS;
  }, "must be a duration such as 500ms, 30s, 1m30s or 2h"),
);

/** A duration that becomes a timer: more than 0s, at most 24 days (runtimes' timer limit). */
export const TimerDuration = v.pipe(
  Duration,
  v.check((s) => (parseDuration(s) ?? 0) > 0, "must be longer than 0s"),
  v.check((s) => (parseDuration(s) ?? 0) <= 24 * 86_400_000, "must be at most 24 days (24d)"),
);

/** Keys valibot's record() leaves out of its output (its guard against prototype pollution). */
export const UNKEPT_KEYS: readonly string[] = ["__proto__", "prototype", "constructor"];
const unkeptKey = (x: unknown) => (x !== null && typeof x === "object" ? Object.keys(x).find((k) => UNKEPT_KEYS.includes(k)) : undefined);

/**
 * `record` refusing a key it would silently leave out (__proto__, prototype, constructor): a map given one
 * would otherwise be accepted and stored without it.
 */
export const keepingKeys = <S extends v.GenericSchema>(record: S) =>
  v.pipe(
    // (A record schema takes an array as an object of index keys: a map given as [] is refused, not emptied.)
    v.custom<unknown>((x) => !Array.isArray(x), "must be an object of names and values, not an array"),
    v.custom<unknown>((x) => unkeptKey(x) === undefined, (issue) => `may not hold the key ${JSON.stringify(unkeptKey(issue.input))}: tock cannot keep it`),
    record,
  );

export const Name = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, "must be 1-200 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit"),
);

/** host:port, the host a name, an IPv4 address or a bracketed IPv6 one (the port's range is checked apart). */
export const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
/** What an HTTP header value can carry: tab, visible ASCII, space and Latin-1 (no CR, LF or other controls). */
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const RESERVED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "webhook-id", "webhook-timestamp", "webhook-signature"]);

const HttpUrl = v.pipe(v.string(), v.url("must be an absolute URL"), v.check((u) => /^https?:\/\//i.test(u), "must be an http:// or https:// URL"));

/** Headers to send: valid names, Latin-1 values, none of `unsettable` (lower-case names), as `why` says. */
const headers = (unsettable: ReadonlySet<string>, why: string) =>
  v.pipe(
    keepingKeys(
      v.record(
        v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "is not a valid header name")),
        v.pipe(v.string(), v.regex(HEADER_VALUE, "must be Latin-1 text with no control characters (CR, LF, …)")),
      ),
    ),
    v.check((h) => Object.keys(h).every((k) => !unsettable.has(k.toLowerCase())), why),
  );

export const HttpTarget = v.strictObject({
  url: HttpUrl,
  method: v.optional(v.picklist(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], "must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"), "POST"),
  headers: v.optional(headers(RESERVED_HEADERS, "may not set Host, Content-Length, Transfer-Encoding, Connection or webhook-* (tock sets them)")),
  body: v.optional(v.pipe(v.string(), v.maxLength(1 << 20, "must be at most 1 MiB"))),
  /** Headers whose values are write-only, besides Authorization, Proxy-Authorization, Cookie and X-Api-Key. */
  secretHeaders: v.optional(v.pipe(v.array(v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "is not a valid header name"))), v.maxLength(64, "at most 64 headers"))),
});
export type HttpTarget = v.InferOutput<typeof HttpTarget>;

export const Base64 = v.pipe(v.string(), v.regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, "must be base64"));

export const TcpTarget = v.strictObject({
  addr: v.pipe(
    v.string(),
    v.regex(HOST_PORT, "must be host:port"),
    v.check((a) => {
      const port = Number(a.slice(a.lastIndexOf(":") + 1));
      return port > 0 && port < 65536;
    }, "port must be 1-65535"),
  ),
  body: Base64,
  ack: v.optional(Base64),
});
export type TcpTarget = v.InferOutput<typeof TcpTarget>;

const EnvVars = v.pipe(
  keepingKeys(v.record(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "is not an environment variable name")), v.pipe(v.string(), v.maxLength(32_768), v.check((s) => !s.includes("\0"), "must not contain NUL")))),
  v.check((e) => Object.keys(e).length <= 256, "at most 256 variables"),
);

/** Variables whose values are write-only (never shown by any API; sealed in the database). */
const SecretEnv = v.pipe(
  v.array(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "is not an environment variable name"))),
  v.maxLength(256, "at most 256 variables"),
);

const Arg = v.pipe(v.string(), v.maxLength(32_768, "must be at most 32 KiB"), v.check((s) => !s.includes("\0"), "must not contain NUL"));
const Argv = v.pipe(v.array(Arg), v.maxLength(1024, "at most 1024 arguments"));

const AbsolutePath = v.pipe(v.string(), v.maxLength(4096), v.check((s) => s.startsWith("/") && !s.includes("\0"), "must be an absolute path"));

/** A local command: argv (never through a shell), or a `shell` string run by the configured shell. */
export const ProcessTarget = v.pipe(
  v.strictObject({
    command: v.optional(v.pipe(Argv, v.minLength(1, "must name the program to run"), v.check((a) => a[0] !== "", "must name the program to run"))),
    shell: v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(1 << 20, "must be at most 1 MiB"), v.check((s) => !s.includes("\0"), "must not contain NUL"))),
    env: v.optional(EnvVars),
    secretEnv: v.optional(SecretEnv),
    cwd: v.optional(AbsolutePath),
    inheritEnv: v.optional(v.boolean(), false),
  }),
  v.check((t) => (t.command ? 1 : 0) + (t.shell !== undefined ? 1 : 0) === 1, "must have exactly one of command (an argv array) or shell (a string)"),
  // The same rule for the OpenAPI document (src/api/openapi.ts), which cannot read the check.
  v.metadata({ oneOf: [{ required: ["command"] }, { required: ["shell"] }] }),
);
export type ProcessTarget = v.InferOutput<typeof ProcessTarget>;

/** Content run by the interpreter the config names for `language`. */
export const ScriptTarget = v.strictObject({
  language: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9+.-]{0,31}$/, "must be a language name such as shell or python")),
  content: v.pipe(v.string(), v.maxLength(1 << 20, "must be at most 1 MiB"), v.check((s) => !s.includes("\0"), "must not contain NUL")),
  args: v.optional(Argv),
  env: v.optional(EnvVars),
  secretEnv: v.optional(SecretEnv),
  cwd: v.optional(AbsolutePath),
});
export type ScriptTarget = v.InferOutput<typeof ScriptTarget>;

/**
 * An image run by the configured container CLI (`run --rm`). (Patterns spell out both cases, with no /i:
 * the OpenAPI document takes them as JSON Schema patterns, which have no flags.)
 */
export const ContainerTarget = v.strictObject({
  image: v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._\/:@-]{0,254}$/, "must be an image reference such as alpine or registry.example.com/team/app"), v.check((s) => !s.startsWith("-"), "must not start with '-'")),
  tag: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be a tag such as 3.20 or latest"))),
  command: v.optional(v.pipe(Argv, v.minLength(1, "must not be empty"), v.check((a) => a[0] !== "", "must name the entrypoint"))),
  args: v.optional(Argv),
  env: v.optional(EnvVars),
  secretEnv: v.optional(SecretEnv),
  /** Limits passed to the engine as --cpus and --memory. */
  resources: v.optional(
    v.strictObject({
      cpus: v.optional(v.pipe(v.number(), v.minValue(0.01, "must be at least 0.01"), v.maxValue(1024, "must be at most 1024"))),
      memory: v.optional(v.pipe(v.string(), v.regex(/^[1-9]\d{0,12}[bkmgBKMG]?$/, "must be a size such as 256m or 1g"))),
    }),
  ),
});
export type ContainerTarget = v.InferOutput<typeof ContainerTarget>;

/**
 * Extra input for one run (a trigger's): variables added to a process, script or container job's
 * environment, and arguments appended to its command. HTTP and TCP runs ignore it.
 */
export const RunParams = v.strictObject({
  env: v.optional(EnvVars),
  args: v.optional(Argv),
});
export type RunParams = v.InferOutput<typeof RunParams>;

/** What a step of a workflow is given of one parent: how it ended, its result, the tail of its output. */
export interface Upstream {
  status: string;
  result: unknown;
  output: string | null;
}

/**
 * What a workflow stores in its step's run params besides a trigger's: the parents' results (by step id),
 * and, for a step that names a job, the step's own timeout and retry in place of the job's.
 */
export interface StepParams {
  upstream?: Record<string, Upstream>;
  timeoutMs?: number;
  retry?: RetryPolicy;
}

/** A run's params as stored and as its executor gets them. */
export type StoredRunParams = RunParams & StepParams;

export const TARGET_KINDS = ["http", "tcp", "process", "script", "container"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const Target = v.pipe(
  v.strictObject({
    http: v.optional(HttpTarget),
    tcp: v.optional(TcpTarget),
    process: v.optional(ProcessTarget),
    script: v.optional(ScriptTarget),
    container: v.optional(ContainerTarget),
  }),
  v.check((t) => TARGET_KINDS.filter((k) => t[k] !== undefined).length === 1, "must have exactly one of http, tcp, process, script or container"),
  v.metadata({ minProperties: 1, maxProperties: 1 }), // the check, for the OpenAPI document
);
export type Target = v.InferOutput<typeof Target>;

export const RetryPolicy = v.strictObject({
  times: v.pipe(v.number(), v.integer("must be an integer"), v.minValue(0), v.maxValue(1000)),
  interval: v.optional(TimerDuration, "1s"),
  backoff: v.optional(v.picklist(["fixed", "exponential"], "must be fixed or exponential"), "exponential"),
  maxInterval: v.optional(TimerDuration),
});
export type RetryPolicy = v.InferOutput<typeof RetryPolicy>;

/** A notification: the events it is sent for, and where (docs/notifications.md). */
export const NotifyRule = v.strictObject({
  on: v.pipe(
    v.array(v.picklist(NOTIFY_EVENTS, `must be one of ${NOTIFY_EVENTS.join(", ")}`)),
    v.minLength(1, "must list at least one event"),
    v.check((e) => new Set(e).size === e.length, "must not list an event twice"),
  ),
  http: v.strictObject({
    url: HttpUrl,
    headers: v.optional(
      headers(
        NOTIFY_UNSETTABLE_HEADERS,
        "may not set Host, Content-Length, Transfer-Encoding, Connection, webhook-* or a credential (Authorization, Cookie, X-Api-Key): notifications are signed (webhook-signature), which a receiver checks instead",
      ),
    ),
  }),
  // Fields of your own, sent in the document as "data" (a runbook link, who to call).
  data: v.optional(v.pipe(keepingKeys(v.record(v.string(), v.unknown())), v.check((d) => JSON.stringify(d).length <= 4096, "must be at most 4 KiB as JSON"))),
});
export type NotifyRule = v.InferOutput<typeof NotifyRule>;
export const Notify = v.pipe(v.array(NotifyRule), v.maxLength(8, "at most 8 notifications"));

export const Overlap = v.picklist(["allow", "forbid", "replace", "queue"], "must be one of allow, forbid, replace, queue");
export const Misfire = v.picklist(["skip", "once", "all"], "must be one of skip, once, all");

export const JobInput = v.strictObject({
  schedule: v.optional(v.pipe(v.string(), v.maxLength(200))),
  dueTime: v.optional(v.pipe(v.string(), v.maxLength(64))),
  timezone: v.optional(v.pipe(v.string(), v.maxLength(64))),
  repeats: v.optional(v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1, "must be at least 1"))),
  ttl: v.optional(v.pipe(v.string(), v.maxLength(64))),
  startAt: v.optional(v.pipe(v.string(), v.maxLength(64))),
  endAt: v.optional(v.pipe(v.string(), v.maxLength(64))),
  enabled: v.optional(v.boolean(), true),
  target: Target,
  timeout: v.optional(TimerDuration),
  retry: v.optional(RetryPolicy),
  overlap: v.optional(Overlap, "forbid"),
  maxConcurrency: v.optional(v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1), v.maxValue(10_000))),
  // Each slot once on every live node that can run it: process, script and container jobs only.
  broadcast: v.optional(v.boolean(), false),
  misfire: v.optional(Misfire, "once"),
  payload: v.optional(v.unknown()),
  // SQLite text columns end at a NUL when read back: a memo holding one would come back cut short.
  memo: v.optional(v.pipe(v.string(), v.maxLength(4096), v.check((s) => !s.includes("\0"), "must not contain NUL"))),
  labels: v.optional(
    v.pipe(
      keepingKeys(v.record(v.pipe(v.string(), v.maxLength(63)), v.pipe(v.string(), v.maxLength(256)))),
      v.check((l) => Object.keys(l).length <= 64, "at most 64 labels"),
    ),
  ),
  notify: v.optional(Notify),
});
export type JobInput = v.InferOutput<typeof JobInput>;

/** Validates `input` against `schema`; throws a DomainError naming the first bad field. */
export function parseInput<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const field = v.getDotPath(issue) ?? undefined;
  throw invalid(issueMessage(issue, field ?? "body"), field);
}

/** What a type a schema expected is, in words ("string" → "a string", a picklist → one of its values). */
function expectedText(expected: string): string {
  const words: Record<string, string> = { string: "a string", number: "a number", boolean: "true or false", Object: "an object", Array: "an array", integer: "an integer" };
  if (words[expected]) return words[expected];
  // A picklist or union: ("a" | "b") or "a" | "b".
  const options = expected.replace(/^\(|\)$/g, "").split(" | ");
  return options.length > 1 ? `one of ${options.join(", ")}` : expected;
}

/**
 * A validation issue in the words of the field, not of the validation library: "timeout must be a string,
 * not 5", "target is required". Messages the schemas set themselves are kept.
 */
function issueMessage(issue: v.BaseIssue<unknown>, field: string): string {
  if (issue.kind === "schema" && issue.expected && issue.message.startsWith("Invalid")) {
    if (issue.received === "undefined") {
      if (field === "target") return `target is required: one of http, tcp, process, script or container`;
      return `${field} is required`;
    }
    if (issue.type === "strict_object" && issue.message.startsWith("Invalid key")) return `${field} is not a field this accepts`;
    const received = issue.received === "Object" ? "an object" : issue.received === "Array" ? "an array" : issue.received;
    return `${field} must be ${expectedText(issue.expected)}, not ${received}`;
  }
  return issue.expected && issue.message.startsWith("Invalid") ? `${field}: ${issue.message}` : `${field} ${issue.message}`;
}
