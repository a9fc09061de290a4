// The OpenAPI 3.1 document of the native API, served at /api/v1/openapi.json and rendered at /docs. Its
// schemas are converted by @valibot/to-json-schema (valibot's own converter) from the schemas the server
// validates requests with (src/domain/schemas.ts, src/domain/keys.ts) and from the descriptions of its
// answers (openapi/views.ts); openapi/paths.ts lists the operations. Built on the first request, then kept.
import { toJsonSchemaDefs, type ConversionConfig } from "@valibot/to-json-schema";
import { createHash } from "node:crypto";
import type * as v from "valibot";
import { KeyInput } from "../domain/keys.ts";
import { WorkflowInput } from "../domain/workflows.ts";
import { ContainerTarget, HttpTarget, JobInput, Misfire, Name, NotifyRule, Overlap, ProcessTarget, RetryPolicy, RunParams, ScriptTarget, Target, TcpTarget } from "../domain/schemas.ts";
import { OPERATIONS, type Operation, type Param, type Tag } from "./openapi/paths.ts";
import { ERROR_CODES, VIEWS } from "./openapi/views.ts";

// deno-lint-ignore no-explicit-any -- a JSON document built by hand, read back by key
type Json = Record<string, any>;

/** The schemas named in #/components/schemas: a use of one of these objects anywhere becomes a $ref. */
const COMPONENTS: Record<string, v.GenericSchema> = { JobInput, WorkflowInput, NotifyRule, Target, HttpTarget, TcpTarget, ProcessTarget, ScriptTarget, ContainerTarget, RetryPolicy, Overlap, Misfire, RunParams, KeyInput, Name, ...VIEWS };

/** What the request fields mean, in words; what they must be comes from the schemas. */
const FIELD_DOCS: Record<string, Record<string, string>> = {
  JobInput: {
    schedule: 'When it fires: a cron expression ("*/5 * * * *", "@daily"), "@every 90s", or an ISO 8601 repeating interval ("R5/2026-01-31T00:00:00Z/P1M"). Absent: a one-shot at dueTime, or a job that runs only when triggered',
    dueTime: "The first fire: a duration from now (30s) or an RFC 3339 instant; alone, a one-shot",
    timezone: "The IANA time zone of a cron or ISO schedule (default UTC)",
    repeats: "Fire at most this many times",
    ttl: "No fire after this: a duration from now, or an RFC 3339 instant",
    startAt: "No fire before this RFC 3339 instant",
    endAt: "No fire after this RFC 3339 instant",
    enabled: "false: created paused",
    target: "What a run calls or runs: exactly one of http, tcp, process, script, container",
    timeout: "How long a run may take",
    retry: "Attempts after a failed run",
    overlap: "When a run is due while the one before still runs: allow, forbid (skip the new one), replace (kill the old one), queue",
    maxConcurrency: "Runs of the job in flight at once, at most",
    broadcast: "Each slot on every live node that can run it (process, script and container jobs)",
    misfire: "Slots missed while no node could fire them: skip, once (fire the latest), all",
    payload: "Sent as the HTTP body (application/json) when the target sets no body",
    memo: "Free text",
    labels: "Names and values of your own",
    notify: "Notifications its runs send: each the events it is sent for and where",
  },
  WorkflowInput: {
    schedule: "When an instance starts, as a job's schedule; absent: started by triggers (or dueTime) only",
    dueTime: "A one-shot: a duration from now (30s) or an RFC 3339 instant",
    timezone: "The IANA time zone of a cron or ISO schedule (default UTC)",
    misfire: "Slots missed while no node could start them: skip, once (the latest), all",
    enabled: "false: its schedule is paused (triggers still start instances)",
    overlap: "When an instance is due while one still runs: allow, forbid (the new one is stored cancelled), replace (the running one is cancelled)",
    notify: "Notifications its instances send",
    steps: "Its steps: each an id, dependsOn (the steps it runs after), when (success, failure, always), and a target of its own or the name of a job of the namespace",
  },
  NotifyRule: {
    on: "The events it is sent for: failure, timeout, retries_exhausted, recovered, misfire, killed",
    http: "Where it is POSTed (JSON, signed as callbacks are): a URL and headers",
  },
  KeyInput: {
    role: "reader: reads; writer: reads and changes jobs and runs; admin: also keys and nodes",
    namespaces: 'The namespaces it may act in: names, or prefixes ending in * ("team-*")',
    allNamespaces: "true: every namespace (instead of namespaces)",
    name: "A label for people",
    expires: "How long it works: a duration from now (90d)",
  },
  JobView: { target: 'The target as stored: a secret value (an Authorization header, a secretEnv variable…) reads "<secret>"' },
  RunParams: {
    env: "Variables over the job's own",
    args: "Arguments after the job's own (a process's argv, a shell string's $1…, a script's or container's args)",
  },
};

const TAGS: { name: Tag; description: string }[] = [
  { name: "Jobs", description: "Create, read, replace, delete, trigger, pause and resume jobs" },
  { name: "Workflows", description: "Steps that run after steps, each an ordinary run; their instances" },
  { name: "Runs", description: "Runs: their records, output lines (live too), kills and deletion" },
  { name: "Namespaces and schedules", description: "Views across jobs: namespaces, what fires next, schedule previews" },
  { name: "Nodes and health", description: "The nodes sharing the database, liveness and readiness" },
  { name: "API keys", description: "Keys and their roles (admin keys only)" },
  { name: "Reference", description: "This document" },
];

const error = (code: (typeof ERROR_CODES)[number], message: string, field?: string) => ({ error: field ? { code, message, field } : { code, message } });

/** The error answers, by status: the common body (ErrorBody), an example, and the headers that come with them. */
const ERRORS: Record<number, { name: string; description: string; example: unknown; headers?: string[] }> = {
  400: { name: "BadRequest", description: "A field, parameter or header is not valid; `error.field` names it", example: error("invalid", "timeout must be a duration such as 500ms, 30s, 1m30s or 2h", "timeout") },
  401: { name: "Unauthorized", description: "No valid API key, where keys are required", example: error("unauthorized", "an API key is required (Authorization: Bearer <key>)"), headers: ["WWW-Authenticate"] },
  403: { name: "Forbidden", description: "The key's role does not allow it, or a page of another origin tried to change something", example: error("forbidden", "a reader key may not change jobs") },
  404: { name: "NotFound", description: "No such resource, or the key may not see its namespace", example: error("not_found", "job billing/nightly not found") },
  409: { name: "Conflict", description: "The resource is not in a state that allows it (exists already, another version, a run still in flight)", example: error("conflict", "job billing/nightly is at version 4, not 3") },
  413: { name: "TooLarge", description: "The body is larger than [server] max_body", example: error("too_large", "request body is larger than 1048576 bytes") },
  415: { name: "UnsupportedMediaType", description: "The body is not JSON (Content-Type: application/json)", example: error("unsupported_media_type", "request body must be JSON (Content-Type: application/json)") },
  429: { name: "RateLimited", description: "The key is over its rate ([limits] rate)", example: error("rate_limited", "API key abc is over its rate (10/s, [limits] rate); retry later"), headers: ["Retry-After"] },
  503: { name: "Unavailable", description: "The database cannot take requests now, or the server has [limits] max_concurrent_requests in flight", example: error("unavailable", "the database cannot take requests now (database is locked); nothing was changed: retry shortly"), headers: ["Retry-After"] },
};

const HEADERS: Json = {
  ETag: { description: 'The job\'s version ("3"), for If-Match; the document\'s hash, for If-None-Match', schema: { type: "string" } },
  Location: { description: "Where the resource made now is", schema: { type: "string" } },
  "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer", minimum: 1 } },
  "WWW-Authenticate": { description: 'Bearer realm="tock" (with error="invalid_token" for a key that does not work)', schema: { type: "string" } },
  "Cache-Control": { description: "no-store: the answer holds a secret", schema: { type: "string" } },
};

const DESCRIPTION = `tock's own REST API. The foreign APIs it also serves (DCS, Dapr, Alauda, Juice, SchedulerX) are not described here.

- **Keys.** Where API keys are required (any address but loopback, by default: \`[auth] mode\`), every request but /healthz, /readyz and this document carries \`Authorization: Bearer tock_…\`. A key acts within its namespaces, as its role allows.
- **Bodies** are JSON. Times are RFC 3339 in UTC; durations are Go-style strings (\`500ms\`, \`30s\`, \`1h30m\`, \`2d\`). Unknown fields are refused.
- **Paging.** A list answers \`{"items": [...], "nextCursor": ...}\`; pass \`nextCursor\` back as \`cursor\` for the next page (null on the last).
- **Errors** answer \`{"error": {"code", "message", "field"?}}\`. Besides those listed for each operation: 405 (with \`Allow\`) for a method a path does not serve, 421 for a Host the server does not answer to, 503 (with \`Retry-After\`) when the database cannot take requests or too many are in flight.`;

/** Where conversion keeps the messages of a schema's rules, until they are joined to its description. */
const RULES = "x-tock-rules";

const CONFIG: ConversionConfig = {
  target: "draft-2020-12",
  // A pipe's last schema is what it checks (a map's pre-checks before its record() add nothing to describe).
  typeMode: "output",
  errorMode: "throw", // a schema the converter cannot describe fails the build of the document (and its test)
  overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
  // A check (which JSON Schema cannot state) is described in the words of its message, and so is a pattern
  // ("must be host:port" says more to a reader than a regular expression).
  overrideAction: ({ valibotAction, jsonSchema, errors }) => {
    const { type, message } = valibotAction as { type: string; message?: unknown };
    const withRule = () => (typeof message === "string" ? { ...jsonSchema, [RULES]: [...((jsonSchema as Json)[RULES] ?? []), message] } : { ...jsonSchema });
    if (type === "check") return withRule(); // never an error: the server is the judge of it
    if (type === "regex" && !errors && typeof message === "string") return withRule();
    return undefined;
  },
};

/** Joins each schema's rule messages to its description ("; " between), in place. */
function describeRules(value: unknown): void {
  if (Array.isArray(value)) for (const x of value) describeRules(x);
  else if (value && typeof value === "object") {
    const node = value as Json;
    if (node[RULES]) {
      node.description = [node.description, ...new Set<string>(node[RULES])].filter(Boolean).join("; ");
      delete node[RULES];
    }
    for (const x of Object.values(node)) describeRules(x);
  }
}

/** The schemas of the operations' parameters and bodies that are not components, under names of their own. */
function inlineSchemas(): Map<v.GenericSchema, string> {
  const named = new Set(Object.values(COMPONENTS));
  const out = new Map<v.GenericSchema, string>();
  const add = (s: v.GenericSchema | undefined) => {
    if (s && !named.has(s) && !out.has(s)) out.set(s, `~inline${out.size}`);
  };
  for (const op of OPERATIONS) {
    for (const p of op.params ?? []) add(p.schema);
    add(op.body?.schema);
    for (const r of op.replies) add(r.schema);
  }
  return out;
}

const isOptional = (s: v.GenericSchema) => s.type === "optional";

function parameter(p: Param, schemaOf: (s: v.GenericSchema) => Json): Json {
  const required = p.in === "path" || (p.in === "query" && !isOptional(p.schema)); // headers are all optional
  return { name: p.name, in: p.in, required, description: p.description, schema: schemaOf(p.schema) };
}

function operation(op: Operation, schemaOf: (s: v.GenericSchema) => Json): Json {
  const responses: Json = {};
  for (const r of op.replies) {
    const content: Json = {};
    if (r.schema) content["application/json"] = { schema: schemaOf(r.schema) };
    if (r.events) content["text/event-stream"] = { schema: { type: "string", description: "server-sent events" }, example: r.events };
    if (r.text) content[r.text.type] = { schema: { type: "string" }, example: r.text.example };
    responses[r.status] = {
      description: r.description,
      ...(r.headers ? { headers: Object.fromEntries(r.headers.map((h) => [h, { $ref: `#/components/headers/${h}` }])) } : {}),
      ...(r.schema || r.events || r.text ? { content } : {}),
    };
  }
  const errors = [...op.errors, ...(op.open ? [] : [401, 429]), 503];
  for (const status of [...new Set(errors)].sort((a, b) => a - b)) responses[status] ??= { $ref: `#/components/responses/${ERRORS[status].name}` };
  const body = op.body && {
    required: op.body.required,
    description: op.body.description,
    content: { "application/json": { schema: schemaOf(op.body.schema), ...(op.body.example ? { example: op.body.example } : {}) } },
  };
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.params?.length ? { parameters: op.params.map((p) => parameter(p, schemaOf)) } : {}),
    ...(body ? { requestBody: body } : {}),
    responses,
    ...(op.open ? { security: [] } : {}),
  };
}

/** Every "$ref" in a JSON value. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const x of value) refsIn(x, out);
  else if (value && typeof value === "object") for (const [k, x] of Object.entries(value)) k === "$ref" && typeof x === "string" ? out.push(x) : refsIn(x, out);
  return out;
}

/** The document, built anew (openApiJson keeps one). */
export function buildOpenApi(version: string): Json {
  const inline = inlineSchemas();
  const all = toJsonSchemaDefs({ ...COMPONENTS, ...Object.fromEntries([...inline].map(([s, key]) => [key, s])) }, CONFIG) as Record<string, Json>;
  describeRules(all);
  const schemas = Object.fromEntries(Object.keys(COMPONENTS).map((k) => [k, all[k]]));
  for (const [component, fields] of Object.entries(FIELD_DOCS)) {
    const props = schemas[component].properties as Json;
    for (const [field, text] of Object.entries(fields)) {
      if (!props[field]) throw new Error(`FIELD_DOCS describes ${component}.${field}, which the schema does not have`);
      const rules = props[field].description;
      props[field] = { ...props[field], description: rules ? `${text}; ${rules}` : text };
    }
  }
  const schemaOf = (s: v.GenericSchema): Json => (inline.has(s) ? all[inline.get(s)!] : { $ref: `#/components/schemas/${Object.keys(COMPONENTS).find((k) => COMPONENTS[k] === s)}` });
  const paths: Json = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op, schemaOf);
  const responses = Object.fromEntries(
    Object.values(ERRORS).map((e) => [
      e.name,
      {
        description: e.description,
        ...(e.headers ? { headers: Object.fromEntries(e.headers.map((h) => [h, { $ref: `#/components/headers/${h}` }])) } : {}),
        content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" }, example: e.example } },
      },
    ]),
  );
  const doc = {
    openapi: "3.1.1",
    info: { title: "tock", version, description: DESCRIPTION },
    tags: TAGS,
    security: [{ apiKey: [] }],
    paths,
    components: {
      schemas,
      responses,
      headers: HEADERS,
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "tock_<id>_<secret>",
          description: "An API key (`tock keys create`, or POST /api/v1/keys). Needed where [auth] mode requires keys: by default, on any address but loopback.",
        },
      },
    },
  };
  const dangling = refsIn(doc).filter((r) => !r.startsWith("#/components/") || !(r.split("/")[3] in (doc.components as Json)[r.split("/")[2]]));
  if (dangling.length > 0) throw new Error(`the OpenAPI document refers to what it does not hold: ${[...new Set(dangling)].join(", ")}`);
  return doc;
}

let built: { version: string; text: string; hash: string } | undefined;

/** The document as served: its JSON text and a hash of it (its ETag), built on first use and kept. */
export function openApiJson(version: string): { text: string; hash: string } {
  if (built?.version !== version) {
    const text = JSON.stringify(buildOpenApi(version));
    built = { version, text, hash: createHash("sha256").update(text).digest("base64url").slice(0, 22) };
  }
  return built;
}
