// Shared HTTP plumbing of the native API: error mapping, JSON bodies, query parameters.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DomainError, domainErrorOf, type ErrorCode, invalid, type ItemProblem } from "../domain/errors.ts";
import { checkName } from "../domain/job-input.ts";

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  switch (code) {
    case "invalid":
      return 400;
    case "unauthorized":
      return 401;
    case "forbidden":
      return 403;
    case "not_found":
      return 404;
    case "conflict":
      return 409;
    case "too_large":
      return 413;
    case "unsupported_media_type":
      return 415;
    case "rate_limited":
      return 429;
    case "unavailable":
      return 503;
  }
}

export function errorBody(code: string, message: string, field?: string, items?: ItemProblem[]) {
  return { error: { code, message, ...(field ? { field } : {}), ...(items ? { items } : {}) } };
}

/** Maps anything thrown by a handler to the native error shape; never a 500 for what a client sent. */
export function toErrorResponse(c: Context, thrown: unknown, log: (msg: string, f: Record<string, unknown>) => void): Response {
  const err = domainErrorOf(thrown);
  if (err instanceof DomainError) return c.json(errorBody(err.code, err.message, err.field, err.items), statusOf(err.code));
  if (err instanceof HTTPException) {
    const status = err.status;
    const code = status === 413 ? "too_large" : status === 415 ? "unsupported_media_type" : status === 404 ? "not_found" : "invalid";
    return c.json(errorBody(code, err.message || "bad request"), status as ContentfulStatusCode);
  }
  log("request failed", { error: err instanceof Error ? (err.stack ?? err.message) : String(err), path: c.req.path });
  return c.json(errorBody("internal", "internal error; the request may not have been applied"), 500);
}

/** Reads a JSON object body; 415 for another content type, 400 for malformed JSON. */
export async function jsonBody(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new DomainError("unsupported_media_type", "request body must be JSON (Content-Type: application/json)");
  }
  return parseJsonText(await c.req.text());
}

/** Deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether JSON text nests arrays and objects at most `max` deep, found by one pass over the text with no
 * recursion (a body nested 50,000 deep must cost a scan, not a stack). Brackets inside strings do not count.
 */
export function nestsWithin(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92) i++; // backslash: skip the escaped character
      else if (ch === 34) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 91 || ch === 123) {
      if (++depth > max) return false;
    } else if (ch === 93 || ch === 125) depth--;
  }
  return true;
}

/**
 * Parses JSON text; 400 naming the field for malformed JSON, nesting past MAX_JSON_DEPTH, a lone surrogate
 * escape or a number too large for a double. JSON.parse itself takes any depth without recursion (a body
 * nested a million deep parses in a tenth of a second, in Bun and in Deno); the checks are then one walk
 * of the values, which for bodies of long strings is far less than a pass over every character.
 */
export function parseJsonText(text: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw invalid(`body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, "body");
  }
  const found = walk(body, 1);
  if (found === DEEP) throw invalid(`body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`, "body");
  // A number past a double's range (1e309) parses as Infinity, which JSON cannot write: stored, it would
  // come back null.
  if (found !== null) throw invalid(`${found || "body"}: a number too large for a double (at most about 1.8e308)`, found || "body");
  // A lone surrogate can only come from a \uD800-\uDFFF escape (UTF-8 bytes cannot encode one): most bodies
  // have none, and need no walk.
  const bad = SURROGATE_ESCAPE.test(text) ? illFormed(body, "") : null;
  if (bad !== null) throw invalid(`${bad || "body"}: contains a lone surrogate escape (\\ud800-\\udfff), which is not Unicode text`, bad || "body");
  return body;
}

const DEEP = Symbol("nested too deep");

/**
 * The first problem in a parsed value: DEEP for an array or object more than MAX_JSON_DEPTH levels deep
 * (`depth` is the value's own; nesting anywhere wins over a number), else the dotted path ("" for the
 * root) of the first number that parsed as ±Infinity; null for none.
 */
function walk(value: unknown, depth: number): string | typeof DEEP | null {
  if (typeof value === "number") return Number.isFinite(value) ? null : "";
  if (value === null || typeof value !== "object") return null;
  if (depth > MAX_JSON_DEPTH) return DEEP;
  let first: string | null = null;
  // (for…in gives an array's indexes too, as the strings a dotted path names them by.)
  for (const key in value) {
    const found = walk((value as Record<string, unknown>)[key], depth + 1);
    if (found === DEEP) return DEEP;
    if (found !== null && first === null) first = found ? `${key}.${found}` : key;
  }
  return first;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * The dotted path of the first string or key with a lone surrogate ("" for the root), or null. Such a
 * string cannot be stored as UTF-8: it must be refused here, not fail every later read of the row.
 */
function illFormed(value: unknown, path: string): string | null {
  if (typeof value === "string") return value.isWellFormed() ? null : path;
  if (value === null || typeof value !== "object") return null;
  for (const [key, inner] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (!key.isWellFormed()) return at.toWellFormed();
    const found = illFormed(inner, at);
    if (found !== null) return found;
  }
  return null;
}

export function intParam(c: Context, name: string, opts: { min: number; max: number; def?: number }): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return opts.def;
  if (!/^-?\d+$/.test(raw)) throw invalid(`${name} must be an integer`, name);
  const n = Number(raw);
  if (n < opts.min || n > opts.max) throw invalid(`${name} must be between ${opts.min} and ${opts.max}`, name);
  return n;
}

/** A path's namespace, and name when given, checked: 400 naming the one that is not a valid name. */
export function names(ns: string, name?: string): void {
  checkName(ns, "namespace");
  if (name !== undefined) checkName(name, "name");
}
