// DCS's error envelope, `{"msg": …}`, and the status of each refusal: 400 when the body is not a DCS job,
// 422 when it is one that tock cannot take or a native job that DCS cannot express.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DomainError, domainErrorOf } from "../../domain/errors.ts";
import type { Logger } from "../../log.ts";
import { logFailure, renameField } from "../common/errors.ts";

/** An answer in DCS's own terms: the status and the `msg` of its `{"msg": …}` body. */
export class DcsError extends Error {
  constructor(
    readonly status: 400 | 422,
    message: string,
  ) {
    super(message);
  }
}

/** Native field paths in messages, in DCS's words (longest first). */
const FIELDS: [string, string][] = [
  ["target.http.headers", "callback.http.header"],
  ["target.http", "callback.http"],
  ["target.tcp", "callback.tcp"],
  ["target", "callback"],
  ["retry.times", "callback.retryTimes"],
  ["retry.interval", "callback.retryInterval"],
  ["retry", "callback"],
  ["timeout", "callback.timeout"],
  ["schedule", "expr"],
  ["timezone", "expr"],
  ["repeats", "times"],
  ["namespace", "ns"],
];

function dcsMessage(err: DomainError): string {
  const field = err.field;
  if (!field) return err.message;
  const named = renameField(field, FIELDS) ?? field;
  return err.message.startsWith(field) ? named + err.message.slice(field.length) : `${named}: ${err.message}`;
}

/** Any error of a DCS route as DCS answers it; what tock could not handle is logged and a 500. */
export function errorResponse(c: Context, thrown: unknown, log: Logger): Response {
  const err = domainErrorOf(thrown);
  const msg = (message: string, status: ContentfulStatusCode) => c.json({ msg: message }, status);
  if (err instanceof DcsError) return msg(err.message, err.status);
  if (err instanceof DomainError) {
    switch (err.code) {
      case "invalid": // the body was a valid DCS job (checked first): what tock refuses is unprocessable
        return msg(dcsMessage(err), 422);
      case "unauthorized":
        return msg(err.message, 401);
      case "forbidden":
        return msg(err.message, 403);
      case "rate_limited":
        return msg(err.message, 429);
      case "not_found":
        return msg("not found", 404);
      case "conflict":
        return msg(err.message, 422);
      case "too_large":
        return msg(err.message, 413);
      case "unsupported_media_type":
        return msg(err.message, 400);
      case "unavailable":
        return msg(err.message, 503);
    }
  }
  if (err instanceof HTTPException && err.status < 500) return msg(err.message || "bad request", err.status as ContentfulStatusCode);
  logFailure(log, "dcs", err, c.req.path);
  return msg("internal error; the request may not have been applied", 500);
}
