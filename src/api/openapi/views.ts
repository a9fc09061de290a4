// What the native API answers, described once in valibot for the OpenAPI document (src/api/openapi.ts). The
// domain builds its views as plain objects (src/domain/views.ts and others); the type checks at the end of
// this file fail to compile when a view gains or loses a field these do not, and tests/api/openapi.test.ts
// validates real answers against the document. Request bodies are not here: the document takes them from
// the schemas that validate them (src/domain/schemas.ts, src/domain/keys.ts).
import * as v from "valibot";
import { ROLES } from "../../domain/access.ts";
import type { ErrorCode } from "../../domain/errors.ts";
import type { LogLine as LogLineView, LogPage as LogPageView } from "../../domain/logs.ts";
import { LOG_STREAMS } from "../../domain/logs.ts";
import type { NodeView as NodeViewType } from "../../domain/nodes.ts";
import { RUN_STATUSES } from "../../domain/runs.ts";
import { Misfire, NotifyRule, Overlap, RetryPolicy, Target } from "../../domain/schemas.ts";
import type { JobView as JobViewType, RunView as RunViewType, runView } from "../../domain/views.ts";
import type { KeyView as KeyViewType } from "../../domain/keys.ts";
import type { BatchResult as BatchResultType } from "../../domain/job-batch.ts";
import type { PreviewItem as PreviewItemType } from "../../schedule/index.ts";
import type { InstanceView as InstanceViewType } from "../../domain/workflow-instances.ts";
import type { WorkflowView as WorkflowViewType } from "../../domain/workflows.ts";
import type { NotificationView as NotificationViewType } from "../../domain/notifications.ts";
import { NOTIFY_EVENTS } from "../../config/notify.ts";

const about = <S extends v.GenericSchema>(schema: S, text: string) => v.pipe(schema, v.description(text));

/** An instant as the API writes it: RFC 3339 in UTC. */
const Instant = v.pipe(v.string(), v.isoTimestamp());
const MaybeInstant = v.nullable(Instant);
const Int = v.pipe(v.number(), v.integer());
const Cursor = about(v.nullable(v.string()), "null on the last page; otherwise pass it back as `cursor` for the next page");

export const JobStatus = v.picklist(["scheduled", "paused", "manual", "finished"]);

export const JobView = v.object({
  id: Int,
  namespace: v.string(),
  name: v.string(),
  schedule: v.nullable(v.string()),
  scheduleKind: about(v.picklist(["cron", "every", "once", "iso8601", "manual"]), "what the schedule fields compiled to"),
  dueTime: v.nullable(v.string()),
  timezone: v.string(),
  repeats: v.nullable(Int),
  ttl: v.nullable(v.string()),
  startAt: MaybeInstant,
  endAt: MaybeInstant,
  enabled: v.boolean(),
  status: about(JobStatus, "scheduled: it has a next fire time; paused; manual: it fires only when triggered; finished: its series has ended"),
  target: Target,
  timeout: v.nullable(v.string()),
  retry: v.nullable(RetryPolicy),
  overlap: Overlap,
  maxConcurrency: v.nullable(Int),
  broadcast: v.boolean(),
  misfire: Misfire,
  payload: v.unknown(),
  memo: v.nullable(v.string()),
  labels: v.record(v.string(), v.string()),
  notify: about(v.array(NotifyRule), "the notifications its runs send ([notify.namespaces] adds the namespace's)"),
  compat: about(v.nullable(v.record(v.string(), v.unknown())), "for a job a foreign API made: which API, and the fields it keeps that have no native one"),
  nextFireAt: MaybeInstant,
  firedCount: Int,
  version: about(Int, "increases with every change; the ETag of the job, and what If-Match takes"),
  createdAt: Instant,
  updatedAt: Instant,
});

/** GET of one job adds why its queued runs wait, when they do. */
export const JobDetail = v.object({
  ...JobView.entries,
  waiting: v.optional(about(v.string(), "why its queued runs wait: no live node can run its target")),
});

export const RunStatus = v.picklist(RUN_STATUSES);
const RUN_TRIGGERS = ["schedule", "manual", "retry", "api", "recovery", "workflow"] as const;

export const RunView = v.object({
  id: Int,
  namespace: v.string(),
  jobName: v.string(),
  scheduledAt: about(Instant, "the slot this run is for"),
  dueAt: Instant,
  startedAt: MaybeInstant,
  endedAt: MaybeInstant,
  status: RunStatus,
  attempt: about(Int, "1 for a slot's first attempt; retries count up"),
  trigger: v.picklist(RUN_TRIGGERS),
  webhookId: about(v.string(), "the webhook-id an HTTP callback carries: the same for every attempt of a slot"),
  nodeId: v.nullable(v.string()),
  node: about(v.nullable(v.string()), "the node that started it"),
  result: v.nullable(v.record(v.string(), v.unknown())),
  error: v.nullable(v.string()),
  outputTail: v.nullable(v.string()),
  killRequestedAt: MaybeInstant,
  params: about(
    v.nullable(v.object({ env: v.optional(v.record(v.string(), v.string())), args: v.optional(v.array(v.string())) })),
    'the extra input a trigger gave (variables\' values read "<secret>")',
  ),
  forNode: about(v.nullable(v.string()), "a broadcast job's run: the node it is for"),
  waiting: v.optional(about(v.string(), "why it waits in the queue: no live node can run its target")),
});

export const TriggeredRun = v.object({
  ...RunView.entries,
  broadcastRuns: v.optional(about(v.array(v.object({ id: Int, forNode: v.nullable(v.string()) })), "a broadcast job: the run queued for each live node")),
});

const page = <S extends v.GenericSchema>(item: S) => v.object({ items: v.array(item), nextCursor: Cursor });

export const JobPage = page(JobView);
export const RunPage = page(RunView);
export const NamespacePage = page(v.object({ namespace: v.string(), jobs: about(Int, "how many jobs it holds") }));
export const UpcomingPage = page(
  v.object({ namespace: v.string(), name: v.string(), at: Instant, runId: about(v.nullable(Int), "a run already queued for that time, or null for the job's next slot") }),
);

export const LogLine = v.object({ seq: about(Int, "the line's place in the run's output; the id of its event when followed"), at: Instant, stream: v.picklist(LOG_STREAMS), line: v.string() });
export const LogPage = v.object({ runId: Int, status: RunStatus, items: v.array(LogLine), nextCursor: Cursor });

export const PreviewItem = v.object({
  at: Instant,
  local: about(v.string(), "the same instant in the schedule's time zone, with its offset"),
  note: v.optional(about(v.picklist(["dst-gap", "dst-overlap"]), "dst-gap: the wall time did not exist that day; dst-overlap: it occurred twice")),
});
export const Preview = v.object({ spec: v.string(), timezone: v.string(), items: v.array(PreviewItem) });

export const NodeView = v.object({
  id: v.string(),
  version: v.string(),
  startedAt: MaybeInstant,
  heartbeatAt: MaybeInstant,
  executors: about(v.array(v.string()), "the kinds of target it can run"),
  scriptLanguages: v.array(v.string()),
  running: about(Int, "runs in flight on it"),
});
export const NodePage = page(NodeView);

export const KeyView = v.object({
  id: v.string(),
  name: v.string(),
  role: v.picklist(ROLES),
  allNamespaces: v.boolean(),
  namespaces: v.array(v.string()),
  status: v.picklist(["active", "revoked", "expired"]),
  createdAt: Instant,
  expiresAt: MaybeInstant,
  lastUsedAt: MaybeInstant,
  revokedAt: MaybeInstant,
});
export const KeyPage = page(KeyView);
export const KeyCreated = v.object({ ...KeyView.entries, key: about(v.string(), "the token (tock_<id>_<secret>): in this answer only, never again") });

export const Health = v.object({ status: v.literal("ok"), version: v.string() });
export const Readiness = v.object({
  status: v.picklist(["ready", "not ready"]),
  database: about(v.string(), '"ok", or why the database cannot take requests'),
  scheduler: about(v.string(), '"ok", "stopped", or why this node is not doing its share'),
  node: v.string(),
});

/** Every `error.code` the native API answers: the domain's, and those of the HTTP layer. */
export const ERROR_CODES = [
  "invalid",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "misdirected",
  "conflict",
  "too_large",
  "unsupported_media_type",
  "rate_limited",
  "unavailable",
  "internal",
] as const;
export const ErrorBody = v.object({
  error: v.object({
    code: v.picklist(ERROR_CODES),
    message: v.string(),
    field: v.optional(about(v.string(), "the field, parameter or header at fault (dotted for nested fields: target.http.url)")),
    items: v.optional(
      about(
        v.array(v.object({ index: Int, name: v.optional(v.string()), field: v.optional(v.string()), message: v.string() })),
        "a batch's refused items, every one: its place in `jobs`, its name, the field at fault and why",
      ),
    ),
  }),
});

export const BatchResult = v.object({
  created: Int,
  replaced: Int,
  items: about(
    v.array(v.object({ name: v.string(), id: Int, version: Int, created: v.boolean(), nextFireAt: MaybeInstant })),
    "each job as written, in the order given",
  ),
});

/** The response schemas, by their name in #/components/schemas. */
const WorkflowStep = v.object({
  id: v.string(),
  dependsOn: about(v.array(v.string()), "the steps it runs after"),
  when: about(v.picklist(["success", "failure", "always"]), "success: every parent succeeded; failure: at least one parent failed; always: its parents are done"),
  target: v.optional(Target),
  job: v.optional(about(v.string(), "the job of the namespace it runs (instead of a target of its own)")),
  timeout: v.optional(v.string()),
  retry: v.optional(RetryPolicy),
});

export const WorkflowView = v.object({
  id: about(Int, "the workflow's number (SchedulerX's workflowId)"),
  namespace: v.string(),
  name: v.string(),
  schedule: about(v.nullable(v.string()), "cron, @every or ISO 8601 repeating interval; null: started by triggers (and dueTime) only"),
  dueTime: v.nullable(v.string()),
  timezone: v.string(),
  misfire: Misfire,
  enabled: about(v.boolean(), "false: its schedule is paused (triggers still start instances)"),
  nextFireAt: MaybeInstant,
  notify: v.array(NotifyRule),
  overlap: about(v.picklist(["allow", "forbid", "replace"]), "what a new instance does while one runs: allow; forbid (it is stored cancelled, saying why); replace (the running one is cancelled)"),
  steps: v.array(WorkflowStep),
  createdAt: Instant,
  updatedAt: Instant,
  version: Int,
});

export const WorkflowPage = v.object({ items: v.array(WorkflowView), nextCursor: Cursor });

export const InstanceView = v.object({
  id: Int,
  workflow: v.string(),
  namespace: v.string(),
  status: v.picklist(["running", "succeeded", "failed", "cancelled"]),
  trigger: v.string(),
  startedAt: Instant,
  endedAt: MaybeInstant,
  error: v.optional(about(v.string(), "why it was cancelled")),
  steps: v.array(
    v.object({
      id: v.string(),
      status: v.picklist(["waiting", "running", "succeeded", "failed", "skipped", "cancelled"]),
      runId: about(v.nullable(Int), "its run (the latest attempt); null before it starts"),
      reason: v.optional(about(v.string(), "why it was skipped, failed or cancelled")),
    }),
  ),
});

export const InstancePage = v.object({ items: v.array(InstanceView), nextCursor: Cursor });

export const NotificationView = v.object({
  id: Int,
  event: v.picklist(NOTIFY_EVENTS),
  status: about(v.picklist(["pending", "delivered", "failed", "suppressed"]), "suppressed: held back, its job or workflow sent one within [notify] min_interval"),
  url: v.string(),
  document: about(v.record(v.string(), v.unknown()), "what was POSTed: event, namespace, job or workflow, run or instance, status, error, at, and suppressed when some were held back before it"),
  attempts: Int,
  createdAt: Instant,
  endedAt: MaybeInstant,
  lastError: v.nullable(v.string()),
});

export const NotificationPage = v.object({ items: v.array(NotificationView), nextCursor: Cursor });

export const VIEWS = {
  NotificationView,
  NotificationPage,
  WorkflowView,
  WorkflowPage,
  InstanceView,
  InstancePage,
  JobView,
  JobDetail,
  JobPage,
  RunView,
  TriggeredRun,
  RunPage,
  NamespacePage,
  UpcomingPage,
  LogLine,
  LogPage,
  Preview,
  NodeView,
  NodePage,
  KeyView,
  KeyPage,
  KeyCreated,
  Health,
  Readiness,
  ErrorBody,
  BatchResult,
};

// Compile-time checks: each schema has exactly the fields of the view the domain builds (the values' types
// are checked at run time: tests/api/openapi.test.ts validates real answers against the document), and the
// lists of values cover the domain's.
type SameFields<View, S extends v.GenericSchema> = [keyof View] extends [keyof v.InferOutput<S>] ? ([keyof v.InferOutput<S>] extends [keyof View] ? true : false) : false;
/** Every value of the union `All` is listed. */
type Lists<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : false;
export const VIEW_CHECKS: [
  SameFields<JobViewType, typeof JobView>,
  SameFields<RunViewType, typeof RunView>,
  Lists<Parameters<typeof runView>[0]["trigger"], (typeof RUN_TRIGGERS)[number]>,
  SameFields<LogLineView, typeof LogLine>,
  SameFields<LogPageView, typeof LogPage>,
  SameFields<NodeViewType, typeof NodeView>,
  SameFields<KeyViewType, typeof KeyView>,
  SameFields<PreviewItemType, typeof PreviewItem>,
  Lists<ErrorCode, (typeof ERROR_CODES)[number]>,
  SameFields<BatchResultType, typeof BatchResult>,
  SameFields<BatchResultType["items"][number], (typeof BatchResult)["entries"]["items"]["pipe"][0]["item"]>,
  SameFields<WorkflowViewType, typeof WorkflowView>,
  SameFields<InstanceViewType, typeof InstanceView>,
  SameFields<InstanceViewType["steps"][number], (typeof InstanceView)["entries"]["steps"]["item"]>,
  SameFields<NotificationViewType, typeof NotificationView>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
