// Juice (HujiangTechnology's Mesos framework) task API: run a container or a shell command now, query tasks
// in batches, kill one, and POST the result to the task's callbackUrl when it ends (callbacks.ts). A task is
// a native manual job in the tenant's namespace (X-Tenant-Id), triggered once at submission; taskId is the
// job's id.
import { type Context, Hono } from "hono";
import { guard, scoped } from "../../api/auth.ts";
import type { RequestDeps, RouteDeps } from "../../api/deps.ts";
import { DomainError } from "../../domain/errors.ts";
import { getJobById, putJob, removeJob, triggerJob } from "../../domain/jobs.ts";
import { JUICE_CALLBACK } from "./callbacks.ts";
import { killRun } from "../../domain/kill.ts";
import { getRun, recentRuns } from "../../domain/runs.ts";
import type { JobView, RunView } from "../../domain/views.ts";
import { egressPolicy } from "../../net/egress.ts";
import { generatedName } from "../common/ids.ts";
import { readJson } from "../common/request.ts";
import { errorResponse, INIT, JuiceError, NO_RECORD } from "./errors.ts";
import { parseTask, taskId, taskIds, tenantOf } from "./request.ts";
import { killView, ok, statusOf, taskItem } from "./view.ts";

export function juiceRoutes(deps: RouteDeps): Hono {
  const app = new Hono();
  app.use("/v1/tasks", guard(deps));
  app.use("/v1/tasks/*", guard(deps));

  app.post("/v1/tasks", async (c) => {
    const d = scoped(c, deps);
    const tenant = tenantOf(c);
    const task = parseTask(await readJson(c), tenant);
    // The callback goes where the tenant's jobs may go: refused now if that is already known (an address).
    const callbackUrl = task.compat.callbackUrl as string | undefined;
    const refused = callbackUrl === undefined ? null : egressPolicy(deps.config.egress).check(tenant, new URL(callbackUrl).hostname);
    if (refused) throw new JuiceError(INIT, `callbackUrl: ${refused}`);
    const name = generatedName("juice");
    const { job } = await putJob(d, tenant, name, task.job, { createOnly: true, compat: task.compat, secrets: task.secrets, onEnd: callbackUrl === undefined ? undefined : [JUICE_CALLBACK] });
    try {
      await triggerJob(d, tenant, name, "api");
    } catch (e) {
      // The client gets no taskId: no task may be left behind, waiting forever at NOT_START.
      await removeJob(d, tenant, name).catch(() => {});
      throw e;
    }
    return c.json(ok({ taskId: job.id }));
  });

  app.get("/v1/tasks", async (c) => {
    const tenant = tenantOf(c);
    const d = scoped(c, deps);
    const tasks = await Promise.all(taskIds(c.req.query("taskIds")).map((id) => findTask(d, tenant, id)));
    // Like Juice's `WHERE task_id IN (…) AND tenant_id = ?`: unknown ids and other tenants' are left out.
    return c.json(ok(tasks.flatMap((t) => (t ? [taskItem(t.job, t.run)] : []))));
  });

  app.post("/v1/tasks/kill", async (c) => {
    const tenant = tenantOf(c);
    const id = taskId(c.req.query("taskId"));
    const d = scoped(c, deps);
    const task = await findTask(d, tenant, id);
    if (!task) throw new JuiceError(NO_RECORD, "task not exist to kill!");
    return c.json(ok(await killTask(d, task)));
  });

  // Anything else under /v1/tasks answers in Juice's shape too (its status code as `status`), never the native one.
  const notAllowed = (allow: string) => (c: Context) => {
    c.header("Allow", allow);
    return c.json({ status: 405, message: `method ${c.req.method} is not supported here; use ${allow}` }, 405);
  };
  app.all("/v1/tasks", notAllowed("GET, POST"));
  app.all("/v1/tasks/kill", notAllowed("POST"));
  app.all("/v1/tasks/*", (c) => c.json({ status: 404, message: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404));

  app.onError((err, c) => errorResponse(c, err, deps.log));

  return app;
}

interface Task {
  job: JobView;
  run: RunView | null;
}

/** A job of this tenant by id with its latest run, or null (another tenant's task is not found either). */
async function findTask(deps: RequestDeps, tenant: string, id: number): Promise<Task | null> {
  let job: JobView;
  try {
    job = await getJobById(deps, id);
  } catch (e) {
    if (e instanceof DomainError && e.code === "not_found") return null;
    throw e;
  }
  if (job.namespace !== tenant) return null;
  const items = await recentRuns(deps, job.id, { offset: 0, limit: 1 });
  return { job, run: items[0] ?? null };
}

/** Kills the task's run if it is queued or running; like Juice, a task past RUNNING is left as it is. */
async function killTask(deps: RequestDeps, { job, run }: Task) {
  if (!run || (run.status !== "queued" && run.status !== "running")) return killView(false, job, run);
  try {
    const { run: now, ended } = await killRun(deps, run.id);
    if (!ended) return { submitKill: true, resultMessage: "juice accept kill task command", currentStatus: statusOf(now)[0] };
    return killView(true, job, now);
  } catch (e) {
    // It ended on its own between the read and the kill.
    if (e instanceof DomainError && e.code === "conflict") return killView(false, job, await getRun(deps, run.id));
    throw e;
  }
}
