// Reading a facade's request: its body as JSON whatever the Content-Type, or every parameter from the query
// string and a form or JSON body. Vendor clients do not all send the headers a native client would.
import type { Context } from "hono";
import { parseJsonText } from "../../api/http.ts";
import { DomainError } from "../../domain/errors.ts";

/** A JSON object (not null, not an array). */
export const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/**
 * The request body parsed as JSON whatever its Content-Type; undefined for an empty body. Throws
 * DomainError `invalid` (field "body") for malformed JSON.
 */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  return parseJsonText(text);
}

/**
 * Every parameter of a request as strings or JSON values: the query string, then a form body
 * (application/x-www-form-urlencoded or multipart) or a JSON object body over it.
 */
export async function readParams(c: Context): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...c.req.query() };
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (c.req.method === "GET" || c.req.method === "HEAD") return out;
  if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
    let form: Record<string, string | File | (string | File)[]>;
    try {
      form = await c.req.parseBody({ all: true });
    } catch (e) {
      throw new DomainError("invalid", `body is not a valid form: ${e instanceof Error ? e.message : String(e)}`, "body");
    }
    for (const [k, v] of Object.entries(form)) {
      const last = Array.isArray(v) ? v[v.length - 1] : v;
      if (typeof last === "string") out[k] = last;
    }
    return out;
  }
  const body = await readJson(c);
  if (body === undefined) return out;
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw new DomainError("invalid", "body must be a JSON object", "body");
  return { ...out, ...(body as Record<string, unknown>) };
}
