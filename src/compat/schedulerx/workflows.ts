// SchedulerX's workflow endpoints (execute, enable, disable, delete) over native workflows: a SchedulerX
// workflow is a native workflow made with the native API in namespace `<namespace>:<groupId>`, and its
// `workflowId` is the native workflow's `id`. All four change things: POST only, a writer key.
import type { RequestDeps } from "../../api/deps.ts";
import { requireRole } from "../../domain/access.ts";
import { DomainError, invalid, notFound } from "../../domain/errors.ts";
import { triggerWorkflow } from "../../domain/workflow-instances.ts";
import { deleteWorkflow as removeWorkflow, setWorkflowEnabled, workflowNumbered } from "../../domain/workflows.ts";
import type { Params } from "./request.ts";
import { INSTANCE_PARAMETERS_ENV } from "./spec.ts";

/** ExecuteWorkflowRequest's instanceParameters: at most 1000 bytes, the vendor's document says (UTF-8 bytes). */
export const MAX_WORKFLOW_INSTANCE_PARAMETERS = 1000;

const workflowMissing = (id: number) => notFound(`workflowId=${id} is not existed`);
const missing = (e: unknown) => e instanceof DomainError && e.code === "not_found";

/**
 * Runs `op` on the workflow `workflowId` names, if it lives in the request's namespace and group; an unknown
 * workflow, or one of another namespace or group, is the vendor's not-found (also if it goes meanwhile).
 */
async function withWorkflow<T>(deps: RequestDeps, p: Params, op: (w: { namespace: string; name: string }) => Promise<T>): Promise<T> {
  requireRole(deps.access, "writer", "workflow operations");
  const scope = p.scope();
  const id = p.id("workflowId");
  try {
    return await op(await workflowNumbered(deps, scope, id));
  } catch (e) {
    throw missing(e) ? workflowMissing(id) : e;
  }
}

/** instanceParameters: at most 1000 bytes, no NUL; an empty form value is none. */
function instanceParameters(p: Params): string | undefined {
  const name = "instanceParameters";
  const given = p.str(name, { max: Number.MAX_SAFE_INTEGER }) || undefined;
  if (given === undefined) return undefined;
  if (Buffer.byteLength(given, "utf8") > MAX_WORKFLOW_INSTANCE_PARAMETERS) {
    throw invalid(`parameter ${name} must be at most ${MAX_WORKFLOW_INSTANCE_PARAMETERS} bytes (UTF-8)`, name);
  }
  if (given.includes("\0")) throw invalid(`parameter ${name} must not contain NUL`, name);
  return given;
}

/**
 * ExecuteWorkflow: starts an instance now (trigger `api`); `data` is its id. `instanceParameters` reach
 * every process, script or container step as a variable and a last argument, as a job's execute gives them.
 */
async function executeWorkflow(deps: RequestDeps, p: Params): Promise<number> {
  return withWorkflow(deps, p, async (w) => {
    const given = instanceParameters(p);
    const params = given === undefined ? undefined : { env: { [INSTANCE_PARAMETERS_ENV]: given }, args: [given] };
    return (await triggerWorkflow(deps, w.namespace, w.name, "api", params)).id;
  });
}

/** EnableWorkflow / DisableWorkflow: resume or pause the workflow's schedule (execute still starts it). */
const enabling = (enabled: boolean) => async (deps: RequestDeps, p: Params): Promise<void> => {
  await withWorkflow(deps, p, (w) => setWorkflowEnabled(deps, w.namespace, w.name, enabled));
};

/** DeleteWorkflow: the workflow with its instances; what still runs is cancelled. */
async function deleteWorkflow(deps: RequestDeps, p: Params): Promise<void> {
  await withWorkflow(deps, p, (w) => removeWorkflow(deps, w.namespace, w.name));
}

/** The workflow endpoints, by path (all changes: POST only). */
export const WORKFLOW_CHANGES: Record<string, (deps: RequestDeps, p: Params) => Promise<unknown>> = {
  "/openapi/v1/workflow/execute": executeWorkflow,
  "/openapi/v1/workflow/enable": enabling(true),
  "/openapi/v1/workflow/disable": enabling(false),
  "/openapi/v1/workflow/delete": deleteWorkflow,
};
