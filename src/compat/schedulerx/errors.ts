// SchedulerX's errors: the same envelope as its answers, `code` repeating the HTTP status, and native
// validation errors restated for the parameter they came from.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { statusOf } from "../../api/http.ts";
import { DomainError, domainErrorOf, invalid } from "../../domain/errors.ts";
import type { Logger } from "../../log.ts";
import { logFailure } from "../common/errors.ts";
import { answer } from "./view.ts";

/** Any error of a SchedulerX route in the envelope; what tock could not handle is logged and a 500. */
export function errorResponse(c: Context, thrown: unknown, log: Logger): Response {
  const err = domainErrorOf(thrown);
  if (err instanceof DomainError) return answer(c, statusOf(err.code), err.message);
  if (err instanceof HTTPException && err.status < 500) return answer(c, err.status as ContentfulStatusCode, err.message || "bad request");
  logFailure(log, "schedulerx", err, c.req.path);
  return answer(c, 500, "internal error; the request may not have been applied");
}

/** Native field names of the job body to the SchedulerX parameter that set them. */
const FIELDS: [RegExp, string][] = [
  [/^(schedule|dueTime)$/, "timeExpression"],
  [/^timeout$/, "timeout"],
  [/^retry\.times$/, "maxAttempt"],
  [/^retry/, "attemptInterval"],
  [/^maxConcurrency$/, "maxConcurrency"],
  [/^memo$/, "description"],
  [/^target\.script\.content$/, "content"],
  [/^target\.\w+\.env/, "parameters"],
  [/^target\.process\.command/, "className"],
  [/^target/, "jobType"],
];

/** A native validation error restated for the SchedulerX parameter it came from; any other error as it is. */
export function restated(e: unknown): unknown {
  if (!(e instanceof DomainError) || e.code !== "invalid" || !e.field) return e;
  const field = FIELDS.find(([re]) => re.test(e.field!))?.[1];
  if (!field) return e;
  const message = e.message.startsWith(e.field) ? e.message.slice(e.field.length).replace(/^:?\s*/, "") : e.message;
  return invalid(`parameter ${field}: ${message}`, field);
}
