// Workflow verbs: create or replace, read, list, delete. A step with a target of its own is checked as a
// job's PUT checks it and stored as a job of the workflow's; a step that names a job runs that job.
import * as v from "valibot";
import { parseDuration } from "../schedule/duration.ts";
import { compilePlan, firstFire, nextFire, type Plan } from "../schedule/index.ts";
import {
  deleteWorkflow as deleteRow,
  jobsNamed,
  putWorkflow as putRow,
  setEnabled,
  stepJobName,
  type StoredStep,
  workflowById,
  workflowByName,
  type WorkflowRow,
  workflowsPage,
} from "../store/workflows.ts";
import type { JobFields } from "../store/jobs.ts";
import { audit, mayChange, sees } from "./access.ts";
import type { DomainDeps } from "./deps.ts";
import { DomainError, invalid, notFound } from "./errors.ts";
import { checkName, compileJob } from "./job-input.ts";
import { rowFields } from "./jobs.ts";
import { Misfire, Name, Notify, type NotifyRule, parseInput, RetryPolicy, Target, TimerDuration } from "./schemas.ts";
import { targetOf } from "./targets.ts";
import { checkGraph } from "./workflow-graph.ts";

const Step = v.strictObject({
  id: v.string(),
  dependsOn: v.optional(v.array(v.string()), []),
  when: v.optional(v.picklist(["success", "failure", "always"], "must be one of success, failure, always"), "success"),
  target: v.optional(Target),
  job: v.optional(Name),
  timeout: v.optional(TimerDuration),
  retry: v.optional(RetryPolicy),
});

export const WorkflowInput = v.strictObject({
  schedule: v.optional(v.pipe(v.string(), v.maxLength(200))),
  dueTime: v.optional(v.pipe(v.string(), v.maxLength(64))),
  timezone: v.optional(v.pipe(v.string(), v.maxLength(64))),
  misfire: v.optional(Misfire, "once"),
  enabled: v.optional(v.boolean(), true),
  overlap: v.optional(v.picklist(["allow", "forbid", "replace"], "must be one of allow, forbid, replace"), "forbid"),
  notify: v.optional(Notify),
  steps: v.array(Step),
});
export type WorkflowInput = v.InferOutput<typeof WorkflowInput>;

/** valibot's dot path of an item ("steps.2.target") as the graph checks write it ("steps[2].target"). */
const bracketed = (field: string | undefined) => field?.replace(/\.(\d+)(?=\.|$)/g, "[$1]");

function parseWorkflow(body: unknown): WorkflowInput {
  try {
    return parseInput(WorkflowInput, body);
  } catch (e) {
    if (e instanceof DomainError) throw new DomainError(e.code, e.message.replace(/^steps\.(\d+)/, "steps[$1]"), bracketed(e.field));
    throw e;
  }
}

export interface WorkflowView {
  id: number;
  namespace: string;
  name: string;
  schedule: string | null;
  dueTime: string | null;
  timezone: string;
  misfire: WorkflowRow["misfire"];
  enabled: boolean;
  overlap: WorkflowRow["overlap"];
  nextFireAt: string | null;
  notify: NotifyRule[];
  steps: Record<string, unknown>[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

export function workflowView(w: WorkflowRow): WorkflowView {
  const iso = (ms: number) => new Date(ms).toISOString();
  const s = (w.schedule ?? {}) as { schedule?: string; dueTime?: string; timezone?: string };
  return {
    id: w.id,
    namespace: w.namespace,
    name: w.name,
    schedule: s.schedule ?? null,
    dueTime: s.dueTime ?? null,
    timezone: (w.plan as Plan | null)?.timezone ?? s.timezone ?? "UTC",
    misfire: w.misfire,
    enabled: w.enabled,
    overlap: w.overlap,
    nextFireAt: w.nextFireAt === null ? null : iso(w.nextFireAt),
    notify: (w.notify as NotifyRule[] | null) ?? [],
    steps: w.steps.map((step) => step.view),
    createdAt: iso(w.createdAt),
    updatedAt: iso(w.updatedAt),
    version: w.version,
  };
}

/** Creates or replaces a workflow; a replace cancels its running instances. */
export async function putWorkflow(deps: DomainDeps, ns: string, name: string, body: unknown): Promise<{ created: boolean; workflow: WorkflowView }> {
  checkName(ns, "namespace");
  checkName(name, "name");
  mayChange(deps.access, ns, () => notFound(`namespace ${ns} not found`));
  const input = parseWorkflow(body);
  checkGraph(input.steps.map((s) => ({ id: s.id, dependsOn: s.dependsOn, when: s.when })));
  const now = deps.clock.now();
  const named = await jobsNamed(deps.store, ns, input.steps.flatMap((s) => (s.job ? [s.job] : [])));
  const steps: StoredStep[] = [];
  const stepJobs: JobFields[] = [];
  for (const [i, s] of input.steps.entries()) {
    const at = `steps[${i}]`;
    if ((s.target === undefined) === (s.job === undefined)) throw invalid(`step "${s.id}" needs either a target of its own or the name of a job (job), not ${s.target ? "both" : "neither"}`, at);
    const graph = { id: s.id, dependsOn: s.dependsOn, when: s.when };
    if (s.job !== undefined) {
      if (!named.has(s.job)) throw invalid(`step "${s.id}" runs job ${s.job}, which namespace ${ns} does not have`, `${at}.job`);
      const own = { ...(s.timeout ? { timeoutMs: parseDuration(s.timeout) ?? undefined } : {}), ...(s.retry ? { retry: s.retry } : {}) };
      steps.push({ ...graph, job: s.job, own: false, ...own, view: { ...graph, job: s.job, ...(s.timeout ? { timeout: s.timeout } : {}), ...(s.retry ? { retry: s.retry } : {}) } });
      continue;
    }
    const job = stepJobName(name, s.id);
    const fields = await stepJob(deps, ns, job, s, at, now);
    stepJobs.push(fields);
    const target = { [fields.targetKind]: fields.target };
    steps.push({ ...graph, job, own: true, view: { ...graph, target, ...(s.timeout ? { timeout: s.timeout } : {}), ...(s.retry ? { retry: s.retry } : {}) } });
  }
  const { schedule, plan } = compileSchedule(deps, input, now);
  const nextFireAt = plan && input.enabled ? firstFire(plan, now) : null;
  const notify = input.notify?.length ? input.notify : null;
  const fields = { namespace: ns, name, enabled: input.enabled, overlap: input.overlap, steps, schedule, plan, misfire: input.misfire, notify, nextFireAt, updatedAt: now };
  const { row, created } = await putRow(deps.store, fields, stepJobs, now);
  if (nextFireAt !== null) deps.scheduler.wake();
  audit(deps, created ? "workflow.create" : "workflow.replace", { namespace: ns, name });
  return { created, workflow: workflowView(row) };
}

/** A workflow's schedule fields, compiled as a job's are; none: it starts when triggered only. */
function compileSchedule(deps: DomainDeps, input: WorkflowInput, now: number): { schedule: Record<string, string> | null; plan: Plan | null } {
  const given = { schedule: input.schedule, dueTime: input.dueTime, timezone: input.timezone };
  if (given.schedule === undefined && given.dueTime === undefined) {
    if (given.timezone !== undefined) throw invalid("timezone applies to a schedule or dueTime, and the workflow has neither", "timezone");
    return { schedule: null, plan: null };
  }
  const compiled = compilePlan(given, now, { minEveryMs: deps.config.scheduler.minEvery });
  if (!compiled.ok) throw invalid(`${compiled.error.field}: ${compiled.error.message}`, compiled.error.field);
  const schedule = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as Record<string, string>;
  return { schedule, plan: compiled.plan };
}

/** Pauses (`enabled` false) or resumes a workflow's schedule; triggers start instances either way. */
export async function setWorkflowEnabled(deps: DomainDeps, ns: string, name: string, enabled: boolean): Promise<WorkflowView> {
  mayChange(deps.access, ns, () => notFound(`workflow ${ns}/${name} not found`));
  const w = await workflowOf(deps, ns, name);
  const now = deps.clock.now();
  // Resumed, it fires from now on: the slots that passed while it was paused are not made up.
  const next = enabled && w.plan ? nextFire(w.plan as Plan, now - 1, w.firedCount) : null;
  await setEnabled(deps.store, w.id, enabled, next, now);
  audit(deps, enabled ? "workflow.resume" : "workflow.pause", { namespace: ns, name });
  if (next !== null) deps.scheduler.wake();
  return workflowView(await workflowOf(deps, ns, name));
}

/** The workflow numbered `id` in namespace `ns` (SchedulerX's workflowId), or 404. */
export async function workflowNumbered(deps: DomainDeps, ns: string, id: number): Promise<WorkflowRow> {
  const row = sees(deps.access, ns) ? await workflowById(deps.store, id) : null;
  if (!row || row.namespace !== ns) throw notFound(`workflow ${id} not found`);
  return row;
}

/** A step's target, timeout and retry checked as a job's PUT checks them, as the row of the step's job. */
async function stepJob(deps: DomainDeps, ns: string, job: string, s: WorkflowInput["steps"][number], at: string, now: number): Promise<JobFields> {
  const body = { target: s.target, ...(s.timeout ? { timeout: s.timeout } : {}), ...(s.retry ? { retry: s.retry } : {}), overlap: "allow" };
  try {
    targetOf(s.target!);
    return await rowFields(deps, ns, job, compileJob(deps, body, ns), {}, now);
  } catch (e) {
    if (e instanceof DomainError) throw new DomainError(e.code, `step "${s.id}": ${e.message}`, e.field ? `${at}.${e.field}` : at);
    throw e;
  }
}

export async function getWorkflow(deps: DomainDeps, ns: string, name: string): Promise<WorkflowView> {
  return workflowView(await workflowOf(deps, ns, name));
}

/** The stored workflow, or 404 (also for a namespace the caller's key does not see). */
export async function workflowOf(deps: DomainDeps, ns: string, name: string): Promise<WorkflowRow> {
  const row = sees(deps.access, ns) ? await workflowByName(deps.store, ns, name) : null;
  if (!row) throw notFound(`workflow ${ns}/${name} not found`);
  return row;
}

export async function listWorkflows(deps: DomainDeps, ns: string, after: string | null, limit: number): Promise<{ items: WorkflowView[]; nextCursor: string | null }> {
  if (!sees(deps.access, ns)) return { items: [], nextCursor: null };
  const rows = await workflowsPage(deps.store, ns, after, limit + 1);
  const items = rows.slice(0, limit).map(workflowView);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1].name : null };
}

/** Deletes a workflow with its instances and its steps' runs; cancels what still runs. */
export async function deleteWorkflow(deps: DomainDeps, ns: string, name: string): Promise<void> {
  mayChange(deps.access, ns, () => notFound(`workflow ${ns}/${name} not found`));
  if (!(await deleteRow(deps.store, ns, name, deps.clock.now()))) throw notFound(`workflow ${ns}/${name} not found`);
  audit(deps, "workflow.delete", { namespace: ns, name });
}
