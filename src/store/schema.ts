// tock's tables. Times are integer milliseconds since the epoch (UTC); JSON columns hold
// objects validated at the API boundary.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const jobs = sqliteTable(
  "jobs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    // The schedule as the client gave it, and what it compiled to.
    schedule: text("schedule"),
    scheduleKind: text("schedule_kind", { enum: ["cron", "every", "once", "iso8601", "manual"] }).notNull(),
    timezone: text("timezone").notNull().default("UTC"),
    dueTime: text("due_time"),
    ttl: text("ttl"),
    // Resolved instants (ms): first fire, anchor of @every / ISO 8601 repeats, bounds.
    dueAt: integer("due_at"),
    anchorAt: integer("anchor_at"),
    startAt: integer("start_at"),
    endAt: integer("end_at"),
    repeats: integer("repeats"),
    firedCount: integer("fired_count").notNull().default(0),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    targetKind: text("target_kind", { enum: ["http", "tcp", "process", "script", "container"] }).notNull(),
    target: text("target", { mode: "json" }).notNull(),
    // Policy.
    timeoutMs: integer("timeout_ms"),
    retry: text("retry", { mode: "json" }),
    overlap: text("overlap", { enum: ["allow", "forbid", "replace", "queue"] }).notNull().default("forbid"),
    maxConcurrency: integer("max_concurrency"),
    // Each slot runs once on every live node that can run it (process, script and container jobs).
    broadcast: integer("broadcast", { mode: "boolean" }).notNull().default(false),
    misfire: text("misfire", { enum: ["skip", "once", "all"] }).notNull().default("once"),
    payload: text("payload", { mode: "json" }),
    memo: text("memo"),
    labels: text("labels", { mode: "json" }),
    // What a compat facade (src/compat) keeps of a job made through it that has no native field:
    // { api: "alauda" | "juice" | …, …the vendor's fields }. A native replace clears it.
    compat: text("compat", { mode: "json" }),
    // Deliveries to make when a run of this job ends (a JSON list of kinds, e.g. ["juice.callback"]): the
    // end record and its deliveries are written in one transaction (table deliveries).
    onEnd: text("on_end", { mode: "json" }).$type<string[]>(),
    // The target's secret values (credential headers, secret variables), sealed with [secrets] key
    // (src/domain/secrets.ts); the target itself holds a placeholder where each one goes.
    secrets: text("secrets"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    // Null when the job is paused, manual-only or has no slot left.
    nextFireAt: integer("next_fire_at"),
    version: integer("version").notNull().default(1),
    // A job made for a step of a workflow (its name "workflow/<workflow>/<step>", which no API can write):
    // it belongs to the workflow, and job lists and counts leave it out.
    workflowId: integer("workflow_id"),
    // Notifications this job sends (JSON list of { on: [events], http: { url, headers } }).
    notify: text("notify", { mode: "json" }),
  },
  (t) => [
    uniqueIndex("jobs_namespace_name").on(t.namespace, t.name),
    index("jobs_next_fire_at").on(t.nextFireAt).where(sql`next_fire_at IS NOT NULL`),
  ],
);

export const runs = sqliteTable(
  "runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    jobId: integer("job_id").notNull(),
    namespace: text("namespace").notNull(),
    jobName: text("job_name").notNull(),
    // The slot this run belongs to, and when this attempt may start (later than the slot for retries).
    scheduledAt: integer("scheduled_at").notNull(),
    dueAt: integer("due_at").notNull(),
    trigger: text("trigger", { enum: ["schedule", "manual", "retry", "api", "recovery", "workflow"] }).notNull(),
    attempt: integer("attempt").notNull().default(1),
    // Id of the slot's first run, shared by its retries: sent as `webhook-id` so receivers can deduplicate.
    // Null on the first run itself (its own id is the key).
    key: integer("key"),
    status: text("status", {
      enum: ["queued", "running", "succeeded", "failed", "timed_out", "killed", "skipped", "lost"],
    }).notNull(),
    nodeId: text("node_id"),
    leaseUntil: integer("lease_until"),
    fence: integer("fence").notNull().default(0),
    startedAt: integer("started_at"),
    endedAt: integer("ended_at"),
    result: text("result", { mode: "json" }),
    error: text("error"),
    outputTail: text("output_tail"),
    // Set by a kill request; the node running the run aborts it (and recovery does not retry it).
    killRequestedAt: integer("kill_requested_at"),
    // Extra input for this run only, from the trigger that queued it ({ env, args }); its retries keep it.
    params: text("params", { mode: "json" }),
    // A process, script or container run's process group, and who it is ("<boot id>:<start time>" of its
    // leader): recovery on the same host ends a group still running, never a process that reused the pid.
    pgid: integer("pgid"),
    proc: text("proc"),
    // A container run's container name: recovery on the same machine removes it (it outlives its CLI).
    container: text("container"),
    // A broadcast job's run is for one node, which alone may claim it ('' for every other run): a slot has
    // one run per attempt and node.
    forNode: text("for_node").notNull().default(""),
    // A step's run: its workflow instance and step (0 and '' for every other run). A step's runs have the
    // instance's slot as theirs, so the slot key holds one run per attempt of each step of an instance.
    instanceId: integer("instance_id").notNull().default(0),
    stepId: text("step_id").notNull().default(""),
  },
  (t) => [
    uniqueIndex("runs_slot").on(t.jobId, t.scheduledAt, t.attempt, t.forNode, t.instanceId, t.stepId),
    index("runs_instance").on(t.instanceId).where(sql`instance_id != 0`),
    // Only runs in flight are in these: finished history (the bulk of the table) never weighs on claiming.
    // Queued runs no node holds (triggers, far retries, released ones), by due time: what claiming walks.
    index("runs_unowned").on(t.dueAt).where(sql`status = 'queued' AND node_id IS NULL`),
    index("runs_queued_lease").on(t.leaseUntil).where(sql`status = 'queued'`),
    index("runs_queued_job").on(t.jobId).where(sql`status = 'queued'`),
    index("runs_running").on(t.leaseUntil).where(sql`status = 'running'`),
    index("runs_running_job").on(t.jobId).where(sql`status = 'running'`),
    // Every run by slot: the fleet's run list across jobs (newest first, a time window).
    index("runs_scheduled_at").on(t.scheduledAt),
    // Queued broadcast runs, each for one node (few): those of nodes that left end skipped.
    index("runs_queued_for_node").on(t.forNode).where(sql`status = 'queued' AND for_node != ''`),
  ],
);

export const runLogs = sqliteTable(
  "run_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    runId: integer("run_id").notNull(),
    seq: integer("seq").notNull(),
    at: integer("at").notNull(),
    stream: text("stream").notNull(),
    line: text("line").notNull(),
  },
  (t) => [index("run_logs_run").on(t.runId, t.seq)],
);

export const nodes = sqliteTable("nodes", {
  id: text("id").primaryKey(),
  startedAt: integer("started_at").notNull(),
  heartbeatAt: integer("heartbeat_at").notNull(),
  version: text("version").notNull(),
  // The kinds of target the node can run (JSON list: "http", "tcp", and "process", "script", "container"
  // where its config turns them on).
  executors: text("executors", { mode: "json" }).$type<string[]>(),
});

// API keys (src/domain/keys.ts). A key is shown once, when made: only the SHA-256 of its secret part is kept.
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull().default(""),
    role: text("role", { enum: ["reader", "writer", "admin"] }).notNull(),
    // JSON list of namespaces (a trailing * matches a prefix); null: every namespace.
    namespaces: text("namespaces", { mode: "json" }),
    hash: text("hash").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
    lastUsedAt: integer("last_used_at"),
    // Raised past every other key's on each create and revoke: a node reloads its copy of the keys when the
    // greatest rev moves (last use does not move it).
    rev: integer("rev").notNull(),
  },
  (t) => [index("api_keys_rev").on(t.rev)],
);

// Jobs per namespace, kept by the statements that create and delete jobs (store/job-writes.ts): the
// [limits] max_jobs check reads one row.
export const namespaceCounts = sqliteTable("namespace_counts", {
  namespace: text("namespace").primaryKey(),
  jobs: integer("jobs").notNull(),
});

// Side effects of run ends that must survive a crash (a facade's completion callback): an outbox. A row is
// written with the end of its run, in the same transaction, and sent by whichever node takes its lease,
// retried until it is delivered or its attempts run out.
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    runId: integer("run_id").notNull(),
    kind: text("kind").notNull(),
    namespace: text("namespace").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    // When the next attempt may start; a node holds the row until lease_until while it sends.
    dueAt: integer("due_at").notNull(),
    nodeId: text("node_id"),
    leaseUntil: integer("lease_until"),
    createdAt: integer("created_at").notNull(),
    endedAt: integer("ended_at"),
    lastError: text("last_error"),
  },
  (t) => [uniqueIndex("deliveries_run_kind").on(t.runId, t.kind), index("deliveries_pending").on(t.dueAt).where(sql`status = 'pending'`)],
);

// Workflows (src/domain/workflows.ts): steps that depend on steps, each step run as an ordinary run. A step
// with a target of its own runs as a job of the workflow's (jobs.workflow_id); one that names a job runs it.
export const workflows = sqliteTable(
  "workflows",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    overlap: text("overlap", { enum: ["allow", "forbid", "replace"] }).notNull().default("forbid"),
    // The steps as written (each inline target as its job stores it: secret values taken out).
    steps: text("steps", { mode: "json" }).notNull(),
    // The schedule as written ({schedule, dueTime, timezone, startAt, endAt, repeats}; null: triggered only),
    // what it compiled to (src/schedule's Plan), and the misfire policy.
    schedule: text("schedule", { mode: "json" }),
    plan: text("plan", { mode: "json" }),
    misfire: text("misfire", { enum: ["skip", "once", "all"] }).notNull().default("once"),
    // Notifications its instances send (as jobs.notify).
    notify: text("notify", { mode: "json" }),
    firedCount: integer("fired_count").notNull().default(0),
    // Null when paused, triggered only or finished. A node that starts the slot's instance moves it on,
    // writing its own token (fire_token): the instances it then inserts are guarded by that token.
    nextFireAt: integer("next_fire_at"),
    fireToken: text("fire_token"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    version: integer("version").notNull().default(1),
  },
  (t) => [
    uniqueIndex("workflows_namespace_name").on(t.namespace, t.name),
    index("workflows_next_fire_at").on(t.nextFireAt).where(sql`next_fire_at IS NOT NULL`),
  ],
);

// One run of a workflow. Ending a step's run raises `seq` (a trigger on runs, in the transaction that ends
// it); a node advances the instance (starts the steps that became due) and sets `advanced` to the seq it
// saw, so an end that came meanwhile, or one whose node died before advancing, is advanced again.
export const workflowInstances = sqliteTable(
  "workflow_instances",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workflowId: integer("workflow_id").notNull(),
    namespace: text("namespace").notNull(),
    workflow: text("workflow").notNull(),
    workflowVersion: integer("workflow_version").notNull(),
    status: text("status", { enum: ["running", "succeeded", "failed", "cancelled"] }).notNull(),
    trigger: text("trigger").notNull(),
    // The instance's slot: its steps' runs have it as theirs.
    scheduledAt: integer("scheduled_at").notNull(),
    startedAt: integer("started_at").notNull(),
    endedAt: integer("ended_at"),
    error: text("error"),
    // Extra input from the trigger that started it ({ env, args }, variables sealed), for every step's run.
    params: text("params"),
    seq: integer("seq").notNull().default(0),
    advanced: integer("advanced").notNull().default(0),
  },
  (t) => [
    uniqueIndex("workflow_instances_slot").on(t.workflowId, t.scheduledAt),
    index("workflow_instances_unadvanced").on(t.id).where(sql`seq != advanced`),
    index("workflow_instances_running").on(t.workflowId).where(sql`status = 'running'`),
  ],
);

// Each step of an instance: waiting until its parents are done, then running (its run, the latest attempt),
// then how it ended; what a child step is given of it (result, output tail) is copied here when it ends.
export const workflowSteps = sqliteTable(
  "workflow_steps",
  {
    instanceId: integer("instance_id").notNull(),
    stepId: text("step_id").notNull(),
    position: integer("position").notNull(),
    status: text("status", { enum: ["waiting", "running", "succeeded", "failed", "skipped", "cancelled"] }).notNull(),
    runId: integer("run_id"),
    reason: text("reason"),
    result: text("result", { mode: "json" }),
    output: text("output"),
  },
  (t) => [primaryKey({ columns: [t.instanceId, t.stepId] })],
);

// Notifications (src/domain/notify.ts): written with the end of the run or instance they tell of, in the
// same transaction, then sent by any node under a lease like the deliveries, signed and egress-checked,
// retried; held back (status suppressed) when the same job or workflow sent one within [notify] min_interval.
export const notifications = sqliteTable(
  "notifications",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    namespace: text("namespace").notNull(),
    // "job:<id>" or "workflow:<id>": whose failures share one min_interval.
    subject: text("subject").notNull(),
    event: text("event").notNull(),
    runId: integer("run_id"),
    instanceId: integer("instance_id"),
    // The document sent (without "suppressed", added when it is sent), the URL and headers it goes to.
    document: text("document", { mode: "json" }).notNull(),
    url: text("url").notNull(),
    headers: text("headers", { mode: "json" }),
    status: text("status", { enum: ["pending", "delivered", "failed", "suppressed"] }).notNull(),
    // How many notifications of the subject were held back before this one (sent as "suppressed").
    suppressed: integer("suppressed"),
    attempts: integer("attempts").notNull().default(0),
    dueAt: integer("due_at").notNull(),
    nodeId: text("node_id"),
    leaseUntil: integer("lease_until"),
    createdAt: integer("created_at").notNull(),
    endedAt: integer("ended_at"),
    lastError: text("last_error"),
  },
  (t) => [index("notifications_pending").on(t.dueAt).where(sql`status = 'pending'`), index("notifications_namespace").on(t.namespace, t.id)],
);

// Per job or workflow that notifies: whether its last end was a failure (a success then is "recovered"),
// when it last sent a notification that is held to min_interval, and how many it has held back since.
export const notifyState = sqliteTable("notify_state", {
  subject: text("subject").primaryKey(),
  failing: integer("failing").notNull().default(0),
  sentAt: integer("sent_at"),
  held: integer("held").notNull().default(0),
});
