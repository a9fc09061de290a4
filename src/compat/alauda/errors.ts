// Alauda's error envelope, `{"errors": [{"source", "code", "message", "fields"}]}`, the code and status of each
// domain error, and native field paths restated as the Alauda fields they came from.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DomainError, domainErrorOf, type ErrorCode } from "../../domain/errors.ts";
import type { Logger } from "../../log.ts";
import { logFailure } from "../common/errors.ts";

/** Alauda's error code (and HTTP status) for each domain error: an exhaustive switch, no default. */
function codeOf(code: ErrorCode): [ContentfulStatusCode, string] {
  switch (code) {
    case "invalid":
      return [400, "invalid_args"];
    case "unauthorized": // Django REST framework's codes, which Alauda's API used
      return [401, "not_authenticated"];
    case "forbidden":
      return [403, "permission_denied"];
    case "rate_limited":
      return [429, "throttled"];
    case "not_found":
      return [404, "resource_not_exist"];
    case "conflict":
      return [409, "resource_state_conflict"];
    case "too_large":
      return [413, "request_too_large"];
    case "unsupported_media_type":
      return [415, "unsupported_media_type"];
    case "unavailable":
      return [503, "service_unavailable"];
  }
}

/** `{"errors": [{"source", "code", "message"}]}`, plus `fields` naming the request field at fault. */
export function errorBody(code: string, message: string, field?: string) {
  const error: Record<string, unknown> = { source: "tock", code, message };
  if (field) error.fields = [{ [field]: [message] }];
  return { errors: [error] };
}

/** Any error of an Alauda route as Alauda answers it; what tock could not handle is logged and a 500. */
export function errorResponse(c: Context, thrown: unknown, log: Logger): Response {
  const err = domainErrorOf(thrown);
  if (err instanceof DomainError) {
    const [status, code] = codeOf(err.code);
    return c.json(errorBody(code, err.message, err.field), status);
  }
  if (err instanceof HTTPException && err.status < 500) {
    return c.json(errorBody(err.status === 404 ? "resource_not_exist" : "invalid_args", err.message || "bad request"), err.status as ContentfulStatusCode);
  }
  logFailure(log, "alauda", err, c.req.path);
  return c.json(errorBody("server_error", "internal error; the request may not have been applied"), 500);
}

/** Native field paths of the job body an Alauda request becomes, as the Alauda fields they came from. */
const FIELDS: [RegExp, string][] = [
  [/^target\.container\.image$/, "docker_image_repo"],
  [/^target\.container\.tag$/, "docker_image_tag"],
  [/^target\.container\.(?:args|command)(?:\.\d+)?$/, "command"],
  [/^target\.container\.env/, "runtime_vars"], // keeps the variable's name: runtime_vars.PATH
  [/^target\.container\.resources.*$/, "resource_size"],
  [/^(?:schedule|dueTime|repeats|ttl|startAt|endAt|timezone)$/, "schedule_mode"],
  [/^enabled$/, "is_schedule_active"],
];

function alaudaField(field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  for (const [re, name] of FIELDS) if (re.test(field)) return field.replace(re, name);
  return field.startsWith("target") ? undefined : field; // target.container: the server's config, no request field
}

/** A native validation error restated for the Alauda field it came from; any other error as it is. */
export function restated(e: unknown): unknown {
  if (!(e instanceof DomainError) || e.code !== "invalid") return e;
  const field = alaudaField(e.field);
  const message = e.field && field !== e.field ? e.message.replace(e.field, field ?? "the container target") : e.message;
  return new DomainError("invalid", message, field);
}
