// Alibaba SchedulerX's OpenAPI (job, instance and workflow endpoints) over the native domain verbs. Reads
// take GET or POST, changes POST only (the document names no methods; a GET must never change anything),
// with parameters in the query string, a form body or a JSON body; every answer is
// {code, success, message, requestId, data}. The workflow endpoints are in workflows.ts.
import { Hono } from "hono";
import { guard, scoped } from "../../api/auth.ts";
import type { RequestDeps, RouteDeps } from "../../api/deps.ts";
import { conflict, DomainError, invalid, notFound } from "../../domain/errors.ts";
import { getJobById, pauseJob, putJob, removeJob, resumeJob, triggerJob } from "../../domain/jobs.ts";
import { killRun } from "../../domain/kill.ts";
import { getRun, recentRuns } from "../../domain/runs.ts";
import type { JobView, RunView } from "../../domain/views.ts";
import { generatedName } from "../common/ids.ts";
import { errorResponse, restated } from "./errors.ts";
import { bodyOf, compatOf, nativeBody } from "./native.ts";
import { Params, readGiven } from "./request.ts";
import { checkSpec, createSpec, INSTANCE_PARAMETERS_ENV, merge, specOf } from "./spec.ts";
import { answer, jobConfigInfo, jobInstanceDetail } from "./view.ts";
import { WORKFLOW_CHANGES } from "./workflows.ts";

// ---- The operations: each reads its parameters, finds the job in the request's namespace and group, calls
// one native domain verb and shapes the result. ----

/** Runs a native verb, restating its validation errors for the SchedulerX parameter they came from. */
async function native<T>(verb: () => Promise<T>): Promise<T> {
  try {
    return await verb();
  } catch (e) {
    throw restated(e);
  }
}

const jobMissing = (id: number) => notFound(`jobId=${id} is not existed`);
const missing = (e: unknown) => e instanceof DomainError && e.code === "not_found";

/** The job `jobId` names, if it lives in the request's namespace and group (null scope: any). */
async function jobOf(deps: RequestDeps, p: Params, scope: string | null = p.scope()): Promise<JobView> {
  const id = p.id("jobId");
  const job = await getJobById(deps, id).catch((e) => Promise.reject(missing(e) ? jobMissing(id) : e));
  if (scope !== null && job.namespace !== scope) throw jobMissing(id);
  return job;
}

/** The run `field` names, if it is an instance of `job`. */
async function runOf(deps: RequestDeps, p: Params, job: JobView, field: string): Promise<RunView> {
  const id = p.id(field);
  const run = await getRun(deps, id).catch((e) => (missing(e) ? null : Promise.reject(e)));
  if (!run || run.namespace !== job.namespace || run.jobName !== job.name) throw notFound(`instanceId=${id} of jobId=${job.id} is not existed`);
  return run;
}

/** CreateJob: the new job's id. */
async function createJob(deps: RequestDeps, p: Params): Promise<number> {
  const scope = p.scope();
  const given = readGiven(p);
  const spec = createSpec(given);
  checkSpec(spec, given);
  const body = nativeBody(spec, given, null, deps.config);
  const { job } = await native(() => putJob(deps, scope, generatedName("schedulerx"), body, { createOnly: true, compat: compatOf(spec) }));
  return job.id;
}

async function getJobInfo(deps: RequestDeps, p: Params) {
  const job = await jobOf(deps, p);
  return jobConfigInfo(job, specOf(job, deps.config));
}

/** UpdateJob: the given fields change, the others stay (the vendor's "partial configuration"). */
async function updateJob(deps: RequestDeps, p: Params): Promise<void> {
  const job = await jobOf(deps, p);
  const given = readGiven(p);
  const base = specOf(job, deps.config);
  if (given.jobType !== undefined && given.jobType !== base.jobType) {
    throw invalid(`parameter jobType cannot be changed (the job is ${base.jobType}); create a new job instead`, "jobType");
  }
  if (Object.keys(given).length === 0) return;
  const spec = merge(base, given);
  checkSpec(spec, given);
  const body = nativeBody(spec, given, bodyOf(job), deps.config);
  await native(() => putJob(deps, job.namespace, job.name, body, { ifVersion: job.version, compat: compatOf(spec) }));
}

async function deleteJob(deps: RequestDeps, p: Params): Promise<void> {
  const job = await jobOf(deps, p);
  await removeJob(deps, job.namespace, job.name);
}

async function enableJob(deps: RequestDeps, p: Params): Promise<void> {
  const job = await jobOf(deps, p);
  await resumeJob(deps, job.namespace, job.name);
}

async function disableJob(deps: RequestDeps, p: Params): Promise<void> {
  const job = await jobOf(deps, p);
  await pauseJob(deps, job.namespace, job.name);
}

/** ExecuteJob: runs the job now; `instanceParameters` reach the run as a variable and a last argument. */
async function executeJob(deps: RequestDeps, p: Params): Promise<number> {
  const job = await jobOf(deps, p);
  const given = p.str("instanceParameters", { max: 32_768 }) || undefined; // an empty form value is none
  if (given?.includes("\0")) throw invalid("parameter instanceParameters must not contain NUL", "instanceParameters");
  const params = given === undefined ? undefined : { env: { [INSTANCE_PARAMETERS_ENV]: given }, args: [given] };
  const run = await triggerJob(deps, job.namespace, job.name, "api", params);
  return run.id;
}

/** StopInstance: kills a waiting or running instance (waits briefly for it to end). */
async function killInstance(deps: RequestDeps, p: Params): Promise<void> {
  const job = await jobOf(deps, p);
  const run = await runOf(deps, p, job, "instanceId");
  await killRun(deps, run.id).catch((e) => {
    if (e instanceof DomainError && e.code === "conflict") throw conflict(`instanceId=${run.id} is not running: it already ended`);
    throw e;
  });
}

/** GetJobInstanceList: the job's last 10 instances, newest first. */
async function instanceList(deps: RequestDeps, p: Params) {
  const scope = p.optionalScope();
  const job = await jobOf(deps, p, scope);
  // Without a namespace and group (the document names only jobId), only SchedulerX's own jobs answer:
  // another API's or a native job's runs, and their output, are not this caller's to see.
  if (scope === null && job.compat?.api !== "schedulerx") throw jobMissing(job.id);
  const spec = specOf(job, deps.config);
  const items = await recentRuns(deps, job.id, { offset: 0, limit: 10 });
  return items.map((run) => jobInstanceDetail(run, job.id, spec));
}

async function getInstance(deps: RequestDeps, p: Params) {
  const job = await jobOf(deps, p);
  const run = await runOf(deps, p, job, "jobInstanceId");
  return jobInstanceDetail(run, job.id, specOf(job, deps.config));
}

// ---- The routes ----

type Op = (deps: RequestDeps, p: Params) => Promise<unknown>;

/** Reads: GET or POST (the vendor's Go client POSTs everything). */
const READS: Record<string, Op> = {
  "/openapi/job/v1/get": getJobInfo, // sic: job/v1, as the document spells it
  "/openapi/v1/instance/getList": instanceList,
  "/openapi/v1/instance/get": getInstance,
};

/** Changes: POST only. */
const CHANGES: Record<string, Op> = {
  "/openapi/v1/job/create": createJob,
  "/openapi/v1/job/update": updateJob,
  "/openapi/v1/job/delete": deleteJob,
  "/openapi/v1/job/enable": enableJob,
  "/openapi/v1/job/disable": disableJob,
  "/openapi/v1/job/execute": executeJob,
  "/openapi/v1/instance/kill": killInstance,
  ...WORKFLOW_CHANGES,
};

export function schedulerxRoutes(deps: RouteDeps): Hono {
  const app = new Hono();
  app.use("/openapi/*", guard(deps));
  for (const [path, op] of Object.entries(READS)) {
    app.on(["GET", "POST"], path, async (c) => answer(c, 200, "", await op(scoped(c, deps), await Params.of(c))));
  }
  for (const [path, op] of Object.entries(CHANGES)) {
    app.post(path, async (c) => answer(c, 200, "", await op(scoped(c, deps), await Params.of(c))));
  }
  for (const path of Object.keys(READS)) app.all(path, (c) => answer(c, 405, `${c.req.method} is not allowed on ${path}; use GET or POST`));
  for (const path of Object.keys(CHANGES)) {
    app.all(path, (c) => answer(c, 405, `${c.req.method} is not allowed on ${path}: it changes things, so it takes POST only`));
  }
  app.all("/openapi/*", (c) => answer(c, 404, `no SchedulerX endpoint ${c.req.path}`));
  app.onError((err, c) => errorResponse(c, err, deps.log));
  return app;
}
