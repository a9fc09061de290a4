// The valibot schema of tock.toml. Input keys are the file's snake_case keys; the output is camelCase, with
// durations in milliseconds and sizes in bytes. Defaults are written in the file's own form ("30s", "1MiB")
// and pass through the same parsing as user values, so tock.example.toml can show them verbatim.
import * as v from "valibot";
import { parseIp, parseNameRule } from "../net/address.ts";
import { Executors } from "./executors.ts";

export { DEFAULT_INTERPRETERS } from "./executors.ts";
import { bool, duration, GiB, got, int, fraction, oneOf, optionalText, section, size, strings, text } from "./fields.ts";
import { Auth, Callbacks, Egress, Limits, Secrets, Tls } from "./security.ts";
import { Notify } from "./notify.ts";

const DATABASE_URL = /^(file|libsql|https?|wss?):/;
const REMOTE_URL = /^(libsql|https?|wss?):\/\//;

const Server = section({
  host: v.optional(text(), "127.0.0.1"),
  port: v.optional(int(0, 65535), 8080),
  max_body: v.optional(size(1, GiB), "1MiB"),
  // A batch of jobs (POST …/jobs:batch, up to 10,000) may be this large.
  max_batch_body: v.optional(size(1, GiB), "32MiB"),
  // Names and addresses clients may use in Host; others get 421 (no DNS rebinding). [] means this
  // server's own addresses, its host name and localhost.
  hosts: v.optional(
    v.pipe(
      strings("host names or addresses", 1000),
      v.check((l) => l.every((h) => parseIp(h) !== null || parseNameRule(h) !== null), "entries must be host names (api.example.com, *.example.com) or addresses"),
    ),
    [],
  ),
  // Browser origins allowed to call the API (CORS); none by default.
  cors_origins: v.optional(
    v.pipe(
      strings("origins", 1000),
      v.check((l) => l.every(isOrigin), 'entries must be origins such as "https://app.example.com" (scheme, host and port only)'),
      v.transform((l) => l.map((o) => new URL(o).origin)),
    ),
    [],
  ),
  // Also listen on this Unix socket (created with mode 0660).
  socket: v.optional(optionalText()),
  tls: v.optional(Tls, {}),
});

function isOrigin(o: string): boolean {
  if (!URL.canParse(o)) return false;
  const u = new URL(o);
  return (u.protocol === "http:" || u.protocol === "https:") && u.origin !== "null" && o.replace(/\/$/, "").toLowerCase() === u.origin.toLowerCase();
}

const Database = v.pipe(
  section({
    url: v.optional(
      v.pipe(
        text(),
        v.regex(DATABASE_URL, (i) => `must start with file:, libsql:, http(s): or ws(s):${got(i)}`),
      ),
      "file:tock.db",
    ),
    auth_token: v.optional(optionalText()),
    sync_url: v.optional(
      v.pipe(
        optionalText(),
        v.check((s) => s === undefined || REMOTE_URL.test(s), (i) => `must be a libsql://, https:// or wss:// URL${got(i)}`),
      ),
    ),
    sync_interval: v.optional(duration({ zero: false }), "5s"),
    // How long a write waits for a database locked by another process or node, then 503 (API) or a retry.
    busy_timeout: v.optional(duration({ zero: true }), "5s"),
  }),
  v.forward(
    v.partialCheck(
      [["url"], ["sync_url"]],
      (db) => db.sync_url === undefined || db.url.startsWith("file:"),
      "needs a file: url (an embedded replica) in database.url",
    ),
    ["sync_url"],
  ),
);

const Retry = v.pipe(
  section({
    times: v.optional(int(0, 1000), 0),
    interval: v.optional(duration({ zero: true }), "1s"),
    backoff: v.optional(oneOf(["fixed", "exponential"]), "exponential"),
    max_interval: v.optional(duration({ zero: false }), "1m"),
    jitter: v.optional(fraction(), 0.2),
  }),
  v.forward(
    v.partialCheck(
      [["interval"], ["max_interval"]],
      (r) => r.max_interval >= r.interval,
      "must be at least scheduler.default_retry.interval",
    ),
    ["max_interval"],
  ),
);

const Scheduler = v.pipe(section({
  // "" means the default too, so the example file can show the key uncommented.
  node_id: v.optional(
    v.pipe(
      v.string((i) => `must be a string${got(i)}`),
      v.transform((s) => s.trim()),
    ),
    "",
  ),
  lookahead: v.optional(duration({ zero: false }), "5s"),
  poll_interval: v.optional(duration({ zero: false }), "1s"),
  batch_size: v.optional(int(1, 10_000), 500),
  lease: v.optional(duration({ zero: false }), "30s"),
  shutdown_grace: v.optional(duration({ zero: true }), "30s"),
  default_timeout: v.optional(duration({ zero: false }), "30s"),
  misfire_threshold: v.optional(duration({ zero: true }), "5s"),
  misfire_all_cap: v.optional(int(1, 100_000), 100),
  min_every: v.optional(duration({ zero: false }), "1s"),
  max_in_flight: v.optional(int(1, 1_000_000), 1024),
  max_in_flight_per_host: v.optional(int(1, 1_000_000), 64),
  max_held: v.optional(int(100, 10_000_000), 20_000),
  // Beyond this difference between this node's clock and the database's, the node stops claiming; 0: off.
  max_clock_skew: v.optional(duration({ zero: true }), "2s"),
  // Each node writes its heartbeat this often; one silent for node_timeout is dead and its runs are taken over.
  heartbeat: v.optional(duration({ zero: false }), "1s"),
  node_timeout: v.optional(duration({ zero: false }), "5s"),
  default_retry: v.optional(Retry, {}),
}),
  v.forward(
    v.partialCheck(
      [["heartbeat"], ["node_timeout"]],
      (s) => s.node_timeout >= 3 * s.heartbeat,
      "must be at least three times scheduler.heartbeat (a node would be taken for dead between two of its beats)",
    ),
    ["node_timeout"],
  ),
);

const History = section({
  keep_per_job: v.optional(int(0, 100_000_000), 1000),
  max_age: v.optional(duration({ zero: true, long: true }), "30d"),
  prune_interval: v.optional(duration({ zero: false }), "1m"),
  prune_batch: v.optional(int(1, 100_000), 500),
});



/** The foreign scheduler APIs tock also serves (src/compat), each at its vendor's path; each can be turned off. */
/** An http(s) URL a notification is sent to, or none. */
const notifyUrl = () => v.pipe(optionalText(), v.check((s) => s === undefined || (/^https?:\/\/\S+$/i.test(s) && URL.canParse(s)), (i) => `must be an http:// or https:// URL${got(i)}`));

const Compat = section({
  dcs: v.optional(bool(), true),
  // DCS "limits max number of concurrent requests": past this many in flight, its routes answer 429.
  dcs_max_requests: v.optional(int(1, 1_000_000), 256),
  // Executions a DCS job's /his answers, newest first.
  dcs_history_size: v.optional(int(1, 1000), 10),
  dapr: v.optional(bool(), true),
  // Dapr jobs live in this native namespace and are delivered as POST <dapr_app_url>/job/<name>.
  dapr_namespace: v.optional(v.pipe(text(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, "must be a namespace name (letters, digits, '.', '_', ':', '-')")), "dapr"),
  dapr_app_url: v.optional(
    v.pipe(
      optionalText(),
      v.check((s) => s === undefined || /^https?:\/\/[^/?#]+(\/[^?#]*)?$/i.test(s), (i) => `must be an http:// or https:// URL with no query${got(i)}`),
    ),
  ),
  // The shortest `@every` of a Dapr job (daprd takes any positive period; [scheduler] min_every is the
  // native API's floor).
  dapr_min_every: v.optional(duration({ zero: false }), "1ms"),
  alauda: v.optional(bool(), true),
  alauda_region: v.optional(text(), "BEIJING1"),
  // Where the failures and recoveries of jobs made through the Alauda API are notified (none: nowhere).
  alauda_notify_url: v.optional(notifyUrl()),
  juice: v.optional(bool(), true),
  schedulerx: v.optional(bool(), true),
  // The program that runs SchedulerX `java` jobs (it gets the className, then the jarUrl if any); empty
  // means java jobs are refused.
  schedulerx_java_command: v.optional(strings("strings", 32), []),
  // Where SchedulerX jobs' alarms (monitorConfig failEnable, timeoutEnable) are notified, their contacts in
  // the document (none: alarms are kept but not sent).
  schedulerx_alarm_url: v.optional(notifyUrl()),
});

// GET /metrics, in the Prometheus text format: behind API keys where the API is (any key that sees every
// namespace), off with enabled = false.
const Metrics = section({
  enabled: v.optional(bool(), true),
});

const Log = section({
  level: v.optional(oneOf(["debug", "info", "warn", "error"]), "info"),
  format: v.optional(oneOf(["json", "text"]), "json"),
  // A line per finished run: "all" (successes at info), "failures" (failures and timeouts at warn, the
  // rest at debug) or "none".
  runs: v.optional(oneOf(["all", "failures", "none"]), "failures"),
});

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
type Camelized<T> = T extends readonly unknown[] ? T
  : T extends object ? { [K in keyof T as K extends string ? CamelCase<K> : K]: Camelized<T[K]> }
  : T;

function camelize<T>(value: T): Camelized<T> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value as Camelized<T>;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    // The keys of a [*.namespaces] table are namespace names, kept as written.
    out[key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] =
      key === "namespaces" && inner && typeof inner === "object" ? Object.fromEntries(Object.entries(inner).map(([ns, x]) => [ns, camelize(x)])) : camelize(inner);
  }
  return out as Camelized<T>;
}

export const ConfigSchema = v.pipe(
  v.object(
    {
      server: v.optional(Server, {}),
      database: v.optional(Database, {}),
      scheduler: v.optional(Scheduler, {}),
      executors: v.optional(Executors, {}),
      history: v.optional(History, {}),
      compat: v.optional(Compat, {}),
      log: v.optional(Log, {}),
      metrics: v.optional(Metrics, {}),
      auth: v.optional(Auth, {}),
      egress: v.optional(Egress, {}),
      callbacks: v.optional(Callbacks, {}),
      secrets: v.optional(Secrets, {}),
      limits: v.optional(Limits, {}),
      notify: v.optional(Notify, {}),
    },
    (i) => `the configuration must be a table${got(i)}`,
  ),
  v.transform(camelize),
  v.transform((c) => {
    // Defaults that follow other keys.
    if (c.limits.maxInFlight === 0) c.limits.maxInFlight = Math.max(1, Math.floor(c.scheduler.maxInFlight / 2));
    if (c.limits.burst === 0 && c.limits.rate) c.limits.burst = c.limits.rate.count * 2;
    return c;
  }),
);
export type Config = v.InferOutput<typeof ConfigSchema>;

/** One key of the file as the schema knows it: its path and the JS type an env string must become. */
export interface KeyInfo {
  path: string[];
  /** "json": a list or table, given in an environment variable as JSON. */
  kind: "number" | "boolean" | "string" | "json";
}

// Walks the schema rather than a second list, so a key added to the schema gets its env var for free.
type SchemaNode = { type: string; wrapped?: SchemaNode; entries?: Record<string, SchemaNode> };

function unwrap(node: SchemaNode): SchemaNode {
  return node.type === "optional" && node.wrapped ? unwrap(node.wrapped) : node;
}

/** The entries of a table in the schema at `path` ([] is the root), or undefined for a leaf. */
export function tableAt(path: readonly string[]): Record<string, SchemaNode> | undefined {
  let node: SchemaNode | undefined = unwrap(ConfigSchema as unknown as SchemaNode);
  for (const key of path) {
    const entries: Record<string, SchemaNode> | undefined = node?.entries;
    node = entries && Object.hasOwn(entries, key) ? unwrap(entries[key]) : undefined;
  }
  return node?.entries;
}

function leaves(node: SchemaNode, path: string[]): KeyInfo[] {
  const inner = unwrap(node);
  if (inner.entries) return Object.entries(inner.entries).flatMap(([key, child]) => leaves(child, [...path, key]));
  const kind = inner.type === "number" ? "number"
    : inner.type === "boolean" ? "boolean"
    : ["array", "record", "union"].includes(inner.type) ? "json"
    : "string";
  return [{ path, kind }];
}

/** Every leaf key of the file. */
export const KEYS: readonly KeyInfo[] = leaves(ConfigSchema as unknown as SchemaNode, []);
