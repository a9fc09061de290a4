// Juice's error envelope, `{status: code, message}`: its own codes for what the client sent wrong (HTTP 400),
// the HTTP status as the code for the rest, and native field paths named as the Juice body names them.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { DomainError, domainErrorOf, type ErrorCode } from "../../domain/errors.ts";
import type { Logger } from "../../log.ts";
import { logFailure, renameField } from "../common/errors.ts";

// Juice's own codes (juice-common ErrorCode and CommonStatusCode, Java ints).
export const NOT_NULL = -2127552257; // OBJECT_NOT_NULL_ERROR: a required value is missing
export const NOT_EQUAL = -2127552256; // OBJECT_NOT_EQUAL_ERROR: a value outside its allowed set
export const INIT = -2127552007; // OBJECT_INIT_ERROR: the body or a field has the wrong form
export const DATA_FORMAT = -2127552019; // DATA_FORMAT_ERROR: ids (and the tenant) in the wrong form
export const NO_RECORD = 0x81300060 | 0; // QUERY_RECORD_EMPTY: no such task (for this tenant)

/** A refusal in Juice's terms: HTTP 400 with `{status: code, message}`. */
export class JuiceError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** HTTP status and Juice code for a domain error: 400 for what the client sent, 503 for a database that cannot take it now, 500 for the rest. */
function domainStatus(code: ErrorCode): [400 | 401 | 403 | 429 | 500 | 503, number] {
  switch (code) {
    case "invalid":
      return [400, INIT];
    case "unauthorized":
      return [401, 401];
    case "forbidden":
      return [403, 403];
    case "rate_limited":
      return [429, 429];
    case "not_found":
      return [400, NO_RECORD];
    case "too_large":
    case "unsupported_media_type":
      return [400, DATA_FORMAT];
    case "conflict":
      return [500, 500];
    case "unavailable":
      return [503, 503];
  }
}

/** Native target fields named as the Juice body names them, so a refusal points at what the client sent. */
const FIELDS: [string, string][] = [
  ["target.container.image", "container.docker.image"],
  ["target.container.args", "args"],
  ["target.container.env", "env"],
  ["target.container.resources", "resources"],
  ["target.container", "container"],
  ["target.process.env", "env"],
  ["target.process.shell", "commands"],
  ["target.process", "commands"],
];

function juiceMessage(e: DomainError): string {
  const field = e.field;
  const named = field && renameField(field, FIELDS);
  return field && named ? e.message.split(field).join(named) : e.message;
}

/** Any error of a Juice route as Juice answers it; what tock could not handle is logged and a 500. */
export function errorResponse(c: Context, thrown: unknown, log: Logger): Response {
  const err = domainErrorOf(thrown);
  if (err instanceof JuiceError) return c.json({ status: err.code, message: err.message }, 400);
  if (err instanceof DomainError) {
    const [http, code] = domainStatus(err.code);
    return c.json({ status: code, message: juiceMessage(err) }, http);
  }
  if (err instanceof HTTPException && err.status < 500) return c.json({ status: DATA_FORMAT, message: err.message || "bad request" }, 400);
  logFailure(log, "juice", err, c.req.path);
  // Juice's handler of unexpected exceptions answers its HTTP status as the code.
  return c.json({ status: 500, message: "internal error; the request may not have been applied" }, 500);
}
