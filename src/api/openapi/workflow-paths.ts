// The workflow operations of the native API, as the OpenAPI document lists them: workflows, their instances,
// and a namespace's notifications (src/api/workflows.ts serves them).
import * as v from "valibot";
import { Name, RunParams } from "../../domain/schemas.ts";
import { WorkflowInput } from "../../domain/workflows.ts";
import { cursor, limit, ns, type Operation, path, query } from "./operation.ts";
import * as V from "./views.ts";

const workflow = "/api/v1/namespaces/{ns}/workflows/{name}";
const wfName = path("name", Name, "the workflow's name");
const instanceId = path("id", v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(9_999_999_999_999_999)), "the instance's id");
/** The cursor of a list paged by id (newest first): the last id of the page before. */
const idCursor = query("cursor", v.optional(v.pipe(v.string(), v.regex(/^[1-9]\d{0,15}$/))), "the `nextCursor` of the page before");

export const WORKFLOW_OPERATIONS: Operation[] = [
  {
    method: "put", path: workflow, operationId: "putWorkflow", tag: "Workflows",
    summary: "Create or replace a workflow",
    description:
      "Steps that run after steps: each runs a target of its own or a job of the namespace, as an ordinary run (timeout, retries, logs, kill). A step starts when its parents are done and its `when` holds, and is skipped, with the reason, when it does not. Cycles, unknown or repeated step ids and a step no path reaches are refused naming the step. Replacing a workflow cancels its running instances.",
    params: [ns, wfName],
    body: { schema: WorkflowInput, required: true, description: "the workflow", example: { steps: [{ id: "extract", target: { http: { url: "https://etl.example/extract" } } }, { id: "load", dependsOn: ["extract"], job: "load-warehouse" }] } },
    replies: [
      { status: 200, description: "replaced", schema: V.WorkflowView },
      { status: 201, description: "created", schema: V.WorkflowView },
    ],
    errors: [400, 403, 404, 413, 415],
  },
  {
    method: "get", path: workflow, operationId: "getWorkflow", tag: "Workflows",
    summary: "Read a workflow",
    params: [ns, wfName],
    replies: [{ status: 200, description: "the workflow", schema: V.WorkflowView }],
    errors: [400, 404],
  },
  {
    method: "delete", path: workflow, operationId: "deleteWorkflow", tag: "Workflows",
    summary: "Delete a workflow, its instances and its steps' runs",
    description: "Running instances are cancelled first.",
    params: [ns, wfName],
    replies: [{ status: 204, description: "deleted" }],
    errors: [400, 403, 404],
  },
  {
    method: "get", path: "/api/v1/namespaces/{ns}/workflows", operationId: "listWorkflows", tag: "Workflows",
    summary: "List a namespace's workflows by name",
    params: [ns, limit(1000, 100), cursor],
    replies: [{ status: 200, description: "a page of workflows", schema: V.WorkflowPage }],
    errors: [400],
  },
  {
    method: "post", path: `${workflow}/trigger`, operationId: "triggerWorkflow", tag: "Workflows",
    summary: "Start an instance now",
    description: "Its first steps are queued before the answer. With overlap forbid and an instance still running, the new one is answered cancelled, saying why.",
    params: [ns, wfName],
    body: {
      schema: RunParams,
      required: false,
      anyType: true,
      description: "extra input for every step: variables over each step's own, arguments after its own (process, script and container steps). Read as JSON whatever its Content-Type.",
      example: { env: { BATCH: "2026-01-31" } },
    },
    replies: [{ status: 202, description: "the instance", schema: V.InstanceView }],
    errors: [400, 403, 404, 409, 413],
  },
  {
    method: "get", path: `${workflow}/instances`, operationId: "listWorkflowInstances", tag: "Workflows",
    summary: "A workflow's instances, newest first",
    params: [ns, wfName, limit(1000, 100), idCursor],
    replies: [{ status: 200, description: "a page of instances", schema: V.InstancePage }],
    errors: [400, 404],
  },
  {
    method: "get", path: "/api/v1/namespaces/{ns}/notifications", operationId: "listNotifications", tag: "Workflows",
    summary: "A namespace's notifications, newest first",
    description: "What its jobs and workflows sent ([notify] and their `notify`): delivered, failed after its retries, pending, or suppressed (held back by [notify] min_interval).",
    params: [ns, limit(1000, 100), idCursor],
    replies: [{ status: 200, description: "a page of notifications", schema: V.NotificationPage }],
    errors: [400],
  },
  {
    method: "get", path: "/api/v1/workflow-instances/{id}", operationId: "getWorkflowInstance", tag: "Workflows",
    summary: "Read an instance and its steps",
    params: [instanceId],
    replies: [{ status: 200, description: "the instance", schema: V.InstanceView }],
    errors: [400, 404],
  },
  {
    method: "post", path: "/api/v1/workflow-instances/{id}/cancel", operationId: "cancelWorkflowInstance", tag: "Workflows",
    summary: "Cancel a running instance",
    description: "Its running steps are killed, its other steps cancelled.",
    params: [instanceId],
    replies: [{ status: 200, description: "the instance, cancelled", schema: V.InstanceView }],
    errors: [400, 403, 404, 409],
  },
];
