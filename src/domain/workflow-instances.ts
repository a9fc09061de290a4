// Workflow instances: starting one, advancing it (whichever node sees a step's run end starts the steps that
// became due, as ordinary runs), cancelling it, and how it reads.
import type { Clock } from "../clock.ts";
import type { Store } from "../store/client.ts";
import {
  advance,
  cancelInstance as cancelRow,
  type InstanceRow,
  type InstanceStatus,
  instanceById,
  instancesPage,
  type StepChange,
  type StepState,
  type StepRun,
  stepsOf,
  startInstance,
  type StepStatus,
} from "../store/instances.ts";
import { jobsNamed, workflowById } from "../store/workflows.ts";
import { audit, mayChange, sees } from "./access.ts";
import type { DomainDeps } from "./deps.ts";
import { conflict, notFound } from "./errors.ts";
import { type NotifyRule, parseInput, RunParams, type Upstream } from "./schemas.ts";
import { sealParams } from "./secrets.ts";
import { decide } from "./workflow-graph.ts";
import { instanceDocument, notices, type NotifySettings, rulesOf, workflowSubject } from "./notify.ts";
import type { Notices } from "../store/notifications.ts";
import { workflowOf } from "./workflows.ts";

export interface InstanceView {
  id: number;
  workflow: string;
  namespace: string;
  status: InstanceStatus;
  trigger: string;
  startedAt: string;
  endedAt: string | null;
  error?: string;
  steps: { id: string; status: StepStatus; runId: number | null; reason?: string }[];
}

/** Instances as the API shows them, their steps read in one query; a step's run is its latest attempt. */
async function instanceViews(store: Store, list: InstanceRow[]): Promise<InstanceView[]> {
  const steps = await stepsOf(store, list.map((i) => i.id));
  return list.map((inst) => viewOf(inst, steps.get(inst.id) ?? []));
}

function viewOf(inst: InstanceRow, steps: StepState[]): InstanceView {
  return {
    id: inst.id,
    workflow: inst.workflow,
    namespace: inst.namespace,
    status: inst.status,
    trigger: inst.trigger,
    startedAt: new Date(inst.startedAt).toISOString(),
    endedAt: inst.endedAt === null ? null : new Date(inst.endedAt).toISOString(),
    ...(inst.error ? { error: inst.error } : {}),
    steps: steps.map((s) => ({ id: s.stepId, status: s.status, runId: s.latest?.id ?? s.runId, ...(s.reason ? { reason: s.reason } : {}) })),
  };
}

/**
 * Starts an instance now and its first steps; answers it as it stands once they are queued. `params`
 * ({ env, args }, as a job's trigger takes them) reach every step that runs a process, script or container.
 */
export async function triggerWorkflow(deps: DomainDeps, ns: string, name: string, trigger = "manual", params?: unknown): Promise<InstanceView> {
  mayChange(deps.access, ns, () => notFound(`workflow ${ns}/${name} not found`));
  const given = params === undefined ? null : parseInput(RunParams, params);
  const w = await workflowOf(deps, ns, name);
  const stored = given && (given.env || given.args?.length) ? sealParams(deps.secrets, given) : null;
  const now = deps.clock.now();
  const shape = { id: w.id, namespace: ns, name, version: w.version, overlap: w.overlap, steps: w.steps.map((s) => s.id) };
  // Two triggers in one millisecond: the second takes the next one.
  for (let at = now; at < now + 100; at++) {
    const id = await startInstance(deps.store, shape, trigger, at, now, stored);
    if (id === null) continue;
    audit(deps, "workflow.trigger", { namespace: ns, name, instance: id });
    const done = await advanceInstance(withNotify(deps), id);
    if (done.started) deps.scheduler.wake();
    if (done.notified) deps.scheduler.notified?.();
    return getInstance(deps, id);
  }
  throw conflict(`workflow ${ns}/${name} is being triggered too often`);
}

export async function getInstance(deps: DomainDeps, id: number): Promise<InstanceView> {
  const inst = await instanceById(deps.store, id);
  if (!inst || !sees(deps.access, inst.namespace)) throw notFound(`workflow instance ${id} not found`);
  return (await instanceViews(deps.store, [inst]))[0];
}

export async function listInstances(deps: DomainDeps, ns: string, name: string, before: number | null, limit: number): Promise<{ items: InstanceView[]; nextCursor: string | null }> {
  const w = await workflowOf(deps, ns, name);
  const rows = await instancesPage(deps.store, w.id, before, limit + 1);
  const items = await instanceViews(deps.store, rows.slice(0, limit));
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1].id) : null };
}

/** Cancels a running instance: its running steps are killed, the rest cancelled. */
export async function cancelInstance(deps: DomainDeps, id: number): Promise<InstanceView> {
  const inst = await instanceById(deps.store, id);
  if (!inst || !sees(deps.access, inst.namespace)) throw notFound(`workflow instance ${id} not found`);
  mayChange(deps.access, inst.namespace, () => notFound(`workflow instance ${id} not found`));
  if (inst.status !== "running") throw conflict(`workflow instance ${id} already ended (${inst.status}); only a running one can be cancelled`);
  const now = deps.clock.now();
  const workflow = await workflowById(deps.store, inst.workflowId);
  const notices = instanceNotices({ ...inst, error: "cancelled by request" }, workflow?.notify as NotifyRule[] | null, "cancelled", deps.config.notify, now);
  const { running } = await cancelRow(deps.store, id, now, "cancelled by request", notices);
  if (notices) deps.scheduler.notified?.();
  audit(deps, "workflow.cancel", { instance: id });
  for (const run of running) void deps.scheduler.kill(run)?.catch(() => {});
  await advanceInstance(withNotify(deps), id);
  return getInstance(deps, id);
}

/** How a step whose run ended ends, or null while its run (or a retry of it) is still to come. */
function endOf(run: StepRun | undefined, instance: InstanceStatus): { status: StepStatus; reason: string | null } | null {
  if (!run) return { status: "failed", reason: "its run was removed" };
  switch (run.status) {
    case "queued":
    case "running":
      return null;
    case "succeeded":
      return { status: "succeeded", reason: null };
    case "skipped":
      return { status: "skipped", reason: run.error };
    case "killed":
      return instance === "cancelled" ? { status: "cancelled", reason: run.error } : { status: "failed", reason: run.error };
    default:
      return { status: "failed", reason: run.error ?? run.status };
  }
}

/**
 * Advances an instance from what is stored: steps whose runs ended take their end, then the steps that
 * became due start (as queued runs, any node's to claim) or are skipped, and the instance ends when every
 * step has. Safe on any node, twice or at once (the writes are guarded). Returns whether runs were queued.
 */
export async function advanceInstance(deps: { store: Store; clock: Clock; notify?: NotifySettings }, id: number): Promise<{ started: boolean; notified: boolean }> {
  const { store } = deps;
  const inst = await instanceById(store, id);
  if (!inst) return { started: false, notified: false };
  const [stepsById, workflow] = await Promise.all([stepsOf(store, [id]), workflowById(store, inst.workflowId)]);
  const changes: StepChange[] = [];
  const states = new Map<string, StepStatus>();
  const upstream = new Map<string, Upstream>();
  for (const s of stepsById.get(id) ?? []) {
    let status = s.status;
    let result = s.result;
    let output = s.output;
    if (status === "running") {
      const run = s.latest ?? undefined;
      const end = endOf(run, inst.status);
      if (end) {
        ({ status } = end);
        result = run?.result ?? null;
        output = run?.outputTail ?? null;
        changes.push({ step: s.stepId, ended: status, runId: run?.id ?? null, reason: end.reason, result, output });
      }
    }
    states.set(s.stepId, status);
    upstream.set(s.stepId, { status, result: result ?? null, output });
  }
  let end: InstanceStatus | null = null;
  let started = 0;
  if (inst.status === "running" && workflow && workflow.version === inst.workflowVersion) {
    const specs = workflow.steps;
    const settle = (step: string, status: "skipped" | "failed", reason: string) => {
      changes.push({ step, settled: status, reason });
      states.set(step, status);
      upstream.set(step, { status, result: null, output: null });
    };
    // The namespace's jobs that steps name, read once and only when such a step is to start.
    let named: Set<string> | null = null;
    for (;;) {
      const d = decide(specs, states);
      for (const s of d.skip) settle(s.id, "skipped", s.reason);
      const toStart = d.start.map((id) => specs.find((s) => s.id === id)!);
      if (named === null && toStart.some((s) => !s.own)) named = await jobsNamed(store, inst.namespace, specs.filter((s) => !s.own).map((s) => s.job));
      const missing = toStart.filter((s) => !s.own && !named!.has(s.job));
      for (const s of missing) settle(s.id, "failed", `job ${s.job} not found`);
      if (missing.length) continue; // their children may be decided now
      for (const id of d.start) {
        const spec = specs.find((s) => s.id === id)!;
        const parents = Object.fromEntries(spec.dependsOn.map((p) => [p, upstream.get(p)!]));
        const params = { ...(inst.params ? JSON.parse(inst.params) : {}), ...(spec.dependsOn.length ? { upstream: parents } : {}), ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}), ...(spec.retry ? { retry: spec.retry } : {}) };
        changes.push({ step: id, start: { jobNamespace: inst.namespace, job: spec.job, params: Object.keys(params).length ? JSON.stringify(params) : null } });
        started++;
      }
      end = d.done;
      break;
    }
  } else if (inst.status === "running") {
    end = "cancelled"; // its workflow was replaced or deleted (which cancel it in the same write): not reached
  }
  if (changes.length === 0 && end === null && inst.seq === inst.advanced) return { started: false, notified: false };
  const now = deps.clock.now();
  const notices = end && workflow && deps.notify ? instanceNotices(inst, workflow.notify as NotifyRule[] | null, end, deps.notify, now) : undefined;
  await advance(store, inst, changes, end, now, notices);
  return { started: started > 0, notified: notices !== undefined };
}

/** The notifications of an instance's end: failed is a failure, cancelled is killed, a success may be a recovery. */
function instanceNotices(inst: InstanceRow, own: NotifyRule[] | null, end: InstanceStatus, config: NotifySettings, now: number): Notices | undefined {
  const rules = rulesOf(own, config.namespaces[inst.namespace]);
  if (rules.length === 0) return undefined;
  const subject = workflowSubject(inst.workflowId);
  const document = (event: string) => instanceDocument(event, inst, end, inst.error, now);
  const event = end === "failed" ? "failure" : end === "cancelled" ? "killed" : "recovered";
  const items = notices(rules, [event], document, { namespace: inst.namespace, subject, runId: null, fence: null, instanceId: inst.id }).map((n) => ({ ...n, recovery: end === "succeeded" }));
  return { items, failed: end === "failed" ? [subject] : [], succeeded: end === "succeeded" ? [subject] : [] };
}

/** A verb's deps with [notify] as the advance takes it. */
const withNotify = (deps: DomainDeps) => ({ ...deps, notify: deps.config.notify });
