// The native API's operations, as the OpenAPI document lists them (src/api/openapi.ts turns this table into
// paths). Bodies and answers are valibot schemas: the request schemas are the ones the routes validate with;
// the query parameters' schemas state what the routes' own checks (src/api/http.ts intParam and the routes)
// accept, which tests/api/openapi.test.ts probes against the server at each bound.
import * as v from "valibot";
import { KeyInput } from "../../domain/keys.ts";
import { LOG_STREAMS } from "../../domain/logs.ts";
import { RUN_STATUSES } from "../../domain/runs.ts";
import { JobInput, Name, RunParams } from "../../domain/schemas.ts";
import { JobBatch } from "../../domain/job-batch.ts";
import { about, cursor, limit, ns, type Operation, type Param, path, query } from "./operation.ts";
import * as V from "./views.ts";
import { WORKFLOW_OPERATIONS } from "./workflow-paths.ts";

export type { Operation, Param, Reply, Tag } from "./operation.ts";

const oneOrMore = (values: readonly string[]) => `^(${values.join("|")})(,(${values.join("|")}))*$`;
const statuses = query("status", v.optional(v.pipe(v.string(), v.regex(new RegExp(oneOrMore(RUN_STATUSES))))), `one status or a comma list of them: ${RUN_STATUSES.join(", ")}`);

const name = path("name", Name, "the job's name");
const runId = path("id", v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(999_999_999_999_999)), "the run's id");
const keyId = path("id", v.pipe(v.string(), v.regex(/^[a-z0-9]{12}$/)), "the key's id (the part of its token after tock_)");
const job = "/api/v1/namespaces/{ns}/jobs/{name}";

export const OPERATIONS: Operation[] = [
  {
    method: "put", path: job, operationId: "putJob", tag: "Jobs",
    summary: "Create or replace a job",
    description:
      "Creates the job (201) or replaces it (200), and answers it as stored. A replaced job starts afresh: its fired count resets and its pending runs are dropped. What a GET of a job returns is taken back as it is: the fields the server sets and null values are ignored, `namespace` and `name` must be those of the path, and a secret value sent back as `\"<secret>\"` keeps the stored one.",
    params: [
      ns,
      name,
      { name: "If-None-Match", in: "header", schema: v.literal("*"), description: "`*`: only create; 409 if the job exists" },
      { name: "If-Match", in: "header", schema: v.pipe(v.string(), v.regex(/^"?\d+"?$/)), description: 'only replace this version (the job\'s ETag, "3"); 409 if it is at another, 404 if there is none' },
    ],
    body: { schema: JobInput, required: true, description: "the job; only `target` is required", example: { schedule: "*/5 * * * *", target: { http: { url: "http://127.0.0.1:8080/hook" } }, retry: { times: 3 } } },
    replies: [
      { status: 200, description: "replaced", schema: V.JobView, headers: ["ETag"] },
      { status: 201, description: "created", schema: V.JobView, headers: ["ETag", "Location"] },
    ],
    errors: [400, 403, 404, 409, 413, 415],
  },
  {
    method: "post", path: "/api/v1/namespaces/{ns}/jobs:batch", operationId: "putJobs", tag: "Jobs",
    summary: "Create or replace many jobs at once",
    description:
      "Up to 10,000 jobs of the namespace, each with its `name` and checked as a PUT checks it, written in one transaction: all of them, or none. When any is refused, the 400 lists every refused item (`error.items`) and nothing is written. A replaced job starts afresh, as with PUT. The body may be up to `[server] max_batch_body` (32 MiB).",
    params: [ns],
    body: { schema: JobBatch, required: true, description: "the jobs", example: { jobs: [{ name: "nightly", schedule: "0 2 * * *", target: { http: { url: "http://127.0.0.1:8080/hook" } } }] } },
    replies: [{ status: 200, description: "every job written", schema: V.BatchResult }],
    errors: [400, 403, 404, 413, 415],
  },
  {
    method: "get", path: job, operationId: "getJob", tag: "Jobs",
    summary: "Read a job",
    params: [ns, name],
    replies: [{ status: 200, description: "the job, with its version as ETag", schema: V.JobDetail, headers: ["ETag"] }],
    errors: [400, 404],
  },
  {
    method: "delete", path: job, operationId: "deleteJob", tag: "Jobs",
    summary: "Delete a job and its history",
    description: "A run already in flight finishes and keeps its record.",
    params: [ns, name],
    replies: [{ status: 204, description: "deleted" }],
    errors: [400, 403, 404],
  },
  {
    method: "get", path: "/api/v1/namespaces/{ns}/jobs", operationId: "listJobs", tag: "Jobs",
    summary: "List a namespace's jobs",
    params: [
      ns,
      query("prefix", v.optional(v.string()), "only the names that start with it (sort=name only)"),
      query("sort", v.optional(v.picklist(["name", "nextFireAt"]), "name"), "name; or nextFireAt: soonest first, jobs with no next fire time last"),
      limit(1000, 100),
      cursor,
    ],
    replies: [{ status: 200, description: "a page of jobs", schema: V.JobPage }],
    errors: [400],
  },
  {
    method: "post", path: `${job}/trigger`, operationId: "triggerJob", tag: "Jobs",
    summary: "Run a job now",
    description: "Queues a run now (trigger `manual`), whatever the schedule says, paused jobs too.",
    params: [ns, name],
    body: {
      schema: RunParams,
      required: false,
      anyType: true,
      description: "extra input for this run and its retries: variables over the job's own, arguments after its own (process, script and container jobs; HTTP and TCP runs ignore it). Read as JSON whatever its Content-Type.",
      example: { env: { REPORT_DAY: "2026-01-31" }, args: ["--full"] },
    },
    replies: [{ status: 202, description: "the run, queued", schema: V.TriggeredRun }],
    errors: [400, 403, 404, 409, 413],
  },
  {
    method: "post", path: `${job}/pause`, operationId: "pauseJob", tag: "Jobs",
    summary: "Pause a job",
    description: "Pausing drops its runs that have not started.",
    params: [ns, name],
    replies: [{ status: 200, description: "the job, paused", schema: V.JobView }],
    errors: [400, 403, 404],
  },
  {
    method: "post", path: `${job}/resume`, operationId: "resumeJob", tag: "Jobs",
    summary: "Resume a job",
    description: "A resumed job continues from now: slots missed while paused are not fired (a one-shot that has not fired yet still fires).",
    params: [ns, name],
    replies: [{ status: 200, description: "the job, resumed", schema: V.JobView }],
    errors: [400, 403, 404, 409],
  },
  {
    method: "get", path: `${job}/runs`, operationId: "listJobRuns", tag: "Runs",
    summary: "List a job's runs",
    description: "Newest slot first (a slot's latest attempt first).",
    params: [ns, name, limit(1000, 100), cursor, statuses],
    replies: [{ status: 200, description: "a page of runs", schema: V.RunPage }],
    errors: [400, 404],
  },
  {
    method: "get", path: "/api/v1/runs", operationId: "listRuns", tag: "Runs",
    summary: "List runs across jobs and namespaces",
    description: "Newest slot first: `?status=failed,timed_out&since=1h` is every failed run of the last hour.",
    params: [
      query("namespace", v.optional(Name), "only this namespace's runs"),
      statuses,
      query("since", v.optional(v.string()), "slots at or after: an RFC 3339 instant, or a duration before now (1h, 30m)"),
      query("until", v.optional(v.string()), "slots before: an RFC 3339 instant, or a duration before now"),
      limit(1000, 100),
      cursor,
    ],
    replies: [{ status: 200, description: "a page of runs", schema: V.RunPage }],
    errors: [400],
  },
  ...WORKFLOW_OPERATIONS,
  {
    method: "get", path: "/api/v1/runs/{id}", operationId: "getRun", tag: "Runs",
    summary: "Read a run",
    params: [runId],
    replies: [{ status: 200, description: "the run", schema: V.RunView }],
    errors: [400, 404],
  },
  {
    method: "delete", path: "/api/v1/runs/{id}", operationId: "deleteRun", tag: "Runs",
    summary: "Delete a finished run and its log lines",
    params: [runId],
    replies: [{ status: 204, description: "deleted" }],
    errors: [400, 403, 404, 409],
  },
  {
    method: "post", path: "/api/v1/runs/{id}/kill", operationId: "killRun", tag: "Runs",
    summary: "Kill a queued or running run",
    params: [runId],
    replies: [
      { status: 200, description: "the run, ended killed", schema: V.RunView },
      { status: 202, description: "the run, while its node is still stopping it (a process given its kill grace, or a run on another node)", schema: V.RunView },
    ],
    errors: [400, 403, 404, 409],
  },
  {
    method: "get", path: "/api/v1/runs/{id}/logs", operationId: "getRunLogs", tag: "Runs",
    summary: "A run's output lines, paged or followed live",
    description:
      "With `follow=1`, a stream of server-sent events instead: a `line` event per line (its `id` the line's seq, its data the line as JSON) as the run writes them, then one `end` event (`{\"status\": …}`) when it has ended. A reconnecting EventSource sends Last-Event-ID and resumes after that line. A comment line every 15 s keeps the stream open.",
    params: [
      runId,
      query("since", v.optional(v.string()), "lines at or after: an RFC 3339 time or Unix seconds"),
      query("until", v.optional(v.string()), "lines before: an RFC 3339 time or Unix seconds"),
      query("stream", v.optional(v.pipe(v.string(), v.regex(new RegExp(oneOrMore(LOG_STREAMS))))), `one stream or a comma list: ${LOG_STREAMS.join(", ")}`),
      limit(10_000, 1000),
      cursor,
      query("follow", v.optional(v.picklist(["1", "true", "0", "false"])), "1 or true: follow live, as server-sent events (no limit then)"),
      { name: "Last-Event-ID", in: "header", schema: v.pipe(v.string(), v.regex(/^\d{1,15}$/)), description: "with follow: resume after this line's seq" },
    ],
    replies: [
      {
        status: 200,
        description: "a page of lines; or, with follow, the lines as events",
        schema: V.LogPage,
        events: 'event: line\nid: 1\ndata: {"seq":1,"at":"2026-01-31T09:00:00.120Z","stream":"stdout","line":"hello"}\n\nevent: end\ndata: {"status":"succeeded"}\n\n',
      },
    ],
    errors: [400, 404],
  },
  {
    method: "get", path: "/api/v1/namespaces", operationId: "listNamespaces", tag: "Namespaces and schedules",
    summary: "The namespaces that hold jobs",
    description: "With how many jobs each holds; only those the key may see.",
    replies: [{ status: 200, description: "the namespaces", schema: V.NamespacePage }],
    errors: [],
  },
  {
    method: "get", path: "/api/v1/upcoming", operationId: "listUpcoming", tag: "Namespaces and schedules",
    summary: "What fires next",
    description: "Soonest first, across jobs and namespaces: a job's next slot, or a run already queued for its time (claimed ahead, or triggered).",
    params: [query("namespace", v.optional(Name), "only this namespace's jobs"), limit(1000, 20), cursor],
    replies: [{ status: 200, description: "a page of fire times", schema: V.UpcomingPage }],
    errors: [400],
  },
  {
    method: "get", path: "/api/v1/schedule/preview", operationId: "previewSchedule", tag: "Namespaces and schedules",
    summary: "The next fire times of a schedule",
    params: [
      query("spec", about(v.pipe(v.string(), v.minLength(1)), "required"), "a cron expression, @every duration or ISO 8601 repeating interval"),
      query("timezone", v.optional(v.string(), "UTC"), "an IANA time zone"),
      query("count", v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)), 10), "how many fire times"),
    ],
    replies: [{ status: 200, description: "the fire times, each with its local time and a note at a DST change", schema: V.Preview }],
    errors: [400],
  },
  {
    method: "get", path: "/api/v1/nodes", operationId: "listNodes", tag: "Nodes and health",
    summary: "The nodes sharing this database",
    description: "Last heartbeat, what each can run, runs in flight. Admin keys only.",
    replies: [{ status: 200, description: "the nodes", schema: V.NodePage }],
    errors: [403],
  },
  {
    method: "get", path: "/healthz", operationId: "health", tag: "Nodes and health",
    summary: "The process is up",
    replies: [{ status: 200, description: "up", schema: V.Health }],
    errors: [],
    open: true,
  },
  {
    method: "get", path: "/metrics", operationId: "metrics", tag: "Nodes and health",
    summary: "This node's metrics, for Prometheus",
    description: "The Prometheus text exposition format: runs by target kind and status, lateness and duration, runs in flight and held, claim cycles, database calls, HTTP requests by route, jobs by state, live nodes. Where keys are required, a key of any role that sees every namespace. Not served (404) with [metrics] enabled = false.",
    replies: [{ status: 200, description: "the metrics", text: { type: "text/plain; version=0.0.4", example: "# HELP tock_runs_in_flight Runs executing on this node now.\n# TYPE tock_runs_in_flight gauge\ntock_runs_in_flight 3\n" } }],
    errors: [403],
  },
  {
    method: "get", path: "/readyz", operationId: "readiness", tag: "Nodes and health",
    summary: "The node can do its work",
    description: "The database answers, the scheduler runs and this node's clock agrees with the database's.",
    replies: [
      { status: 200, description: "ready", schema: V.Readiness },
      { status: 503, description: "not ready, saying why", schema: V.Readiness, headers: ["Retry-After"] },
    ],
    errors: [],
    open: true,
  },
  {
    method: "post", path: "/api/v1/keys", operationId: "createKey", tag: "API keys",
    summary: "Make an API key",
    description: "Admin keys only; a key scoped to namespaces can only make keys within them. The token is in this answer alone.",
    body: { schema: KeyInput, required: true, description: "the key's role and namespaces", example: { role: "writer", namespaces: ["billing"], name: "billing-ci", expires: "90d" } },
    replies: [{ status: 201, description: "the key, with its token", schema: V.KeyCreated, headers: ["Location", "Cache-Control"] }],
    errors: [400, 403, 413, 415],
  },
  {
    method: "get", path: "/api/v1/keys", operationId: "listKeys", tag: "API keys",
    summary: "List API keys",
    description: "Those the caller administers. Admin keys only.",
    replies: [{ status: 200, description: "the keys (never their tokens)", schema: V.KeyPage }],
    errors: [403],
  },
  {
    method: "get", path: "/api/v1/keys/{id}", operationId: "getKey", tag: "API keys",
    summary: "Read an API key",
    params: [keyId],
    replies: [{ status: 200, description: "the key", schema: V.KeyView }],
    errors: [403, 404],
  },
  {
    method: "delete", path: "/api/v1/keys/{id}", operationId: "revokeKey", tag: "API keys",
    summary: "Revoke an API key",
    description: "Every node refuses it within a second or two. Revoking a revoked key is no error.",
    params: [keyId],
    replies: [{ status: 204, description: "revoked" }],
    errors: [403, 404],
  },
  {
    method: "get", path: "/api/v1/openapi.json", operationId: "openapi", tag: "Reference",
    summary: "This document",
    description: "OpenAPI 3.1, built from the schemas the server validates requests with. Served without a key: it holds no data. The reference page at /docs renders it.",
    replies: [
      { status: 200, description: "the document", schema: about(v.record(v.string(), v.unknown()), "an OpenAPI 3.1 document"), headers: ["ETag"] },
      { status: 304, description: "unchanged since the ETag sent in If-None-Match" },
    ],
    errors: [],
    open: true,
  },
];
