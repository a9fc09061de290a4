// Dapr's error envelope, `{errorCode, message}` plus an ErrorInfo detail on its newer errors, and the codes
// daprd gives each refusal and each failed scheduler call.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { statusOf } from "../../api/http.ts";
import { DomainError, domainErrorOf } from "../../domain/errors.ts";
import type { Logger } from "../../log.ts";
import { logFailure } from "../common/errors.ts";

/** An error answered in Dapr's shape: `{errorCode, message}`, plus `details` for the richer (kit) errors. */
export class DaprError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 500 | 503,
    readonly errorCode: string,
    message: string,
    /** Dapr's newer errors carry an ErrorInfo detail; its legacy ones (ERR_*) do not. */
    readonly rich = true,
  ) {
    super(message);
  }
}

/** A body daprd could not deserialize: wrong JSON, wrong types (messages.ErrMalformedRequest). */
export const malformed = (why: string) => new DaprError(400, "ERR_MALFORMED_REQUEST", `failed deserializing HTTP body: ${why}`, false);

/** A request daprd accepts but its Scheduler refuses (SchedulerScheduleJob), answered 400 here: see docs/compat/dapr.md. */
export const refused = (why: string) => new DaprError(400, "DAPR_SCHEDULER_SCHEDULE_JOB", `failed to schedule job due to: ${why}`);

export const nameEmpty = () => new DaprError(400, "DAPR_SCHEDULER_JOB_NAME_EMPTY", "Name is empty");

/** Each method's Dapr error code and message, as daprd names a failed scheduler call. */
export const OPS: Record<string, [code: string, what: string]> = {
  POST: ["DAPR_SCHEDULER_SCHEDULE_JOB", "failed to schedule job"],
  GET: ["DAPR_SCHEDULER_GET_JOB", "failed to get job"],
  DELETE: ["DAPR_SCHEDULER_DELETE_JOB", "failed to delete job"],
};

/**
 * Any error of a Dapr route as daprd answers it; `namespace` is the ErrorInfo's. What tock could not handle
 * is logged and a 500.
 */
export function errorResponse(c: Context, thrown: unknown, log: Logger, namespace: string): Response {
  const err = domainErrorOf(thrown);
  const reply = (status: ContentfulStatusCode, errorCode: string, message: string, rich = true) =>
    c.json(
      rich
        ? { errorCode, message, details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: errorCode, domain: "dapr.io", metadata: { namespace } }] }
        : { errorCode, message },
      status,
    );
  if (err instanceof DaprError) return reply(err.status, err.errorCode, err.message, err.rich);
  const [code, what] = OPS[c.req.method] ?? OPS.POST;
  // Native statuses: a 409 for overwrite false on an existing job; a 404 for a GET of an unknown one, where
  // daprd answers 500 with the same code (a 500 from tock means tock failed, never that a job is absent).
  if (err instanceof DomainError) return reply(statusOf(err.code), code, `${what} due to: ${err.message}`);
  logFailure(log, "dapr", err, c.req.path);
  return reply(500, code, `${what} due to: internal error; the request may not have been applied`);
}
