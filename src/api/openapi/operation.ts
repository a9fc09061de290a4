// The shape of one native API operation in the OpenAPI table (openapi/paths.ts, openapi/workflow-paths.ts)
// and the parameters the operations share.
import * as v from "valibot";
import { Name } from "../../domain/schemas.ts";

export type Tag = "Jobs" | "Workflows" | "Runs" | "Namespaces and schedules" | "Nodes and health" | "API keys" | "Reference";

export interface Param {
  name: string;
  in: "path" | "query" | "header";
  schema: v.GenericSchema;
  description: string;
}

export interface Reply {
  status: number;
  description: string;
  /** The JSON body; none for 204 and 304. */
  schema?: v.GenericSchema;
  /** Response headers, by their name in #/components/headers. */
  headers?: string[];
  /** Also answered as server-sent events (a run's logs, followed). */
  events?: string;
  /** A plain-text body of this media type, with an example (the Prometheus exposition). */
  text?: { type: string; example: string };
}

export interface Operation {
  method: "get" | "put" | "post" | "delete";
  /** OpenAPI's form: {param}. */
  path: string;
  operationId: string;
  tag: Tag;
  summary: string;
  description?: string;
  params?: Param[];
  body?: { schema: v.GenericSchema; required: boolean; description: string; example?: unknown; anyType?: true };
  replies: Reply[];
  /** Error statuses besides those every route has (503) and every route that needs a key has (401, 429). */
  errors: number[];
  /** Served without an API key (src/api/auth.ts OPEN_PATHS, and the routes outside /api/v1). */
  open?: true;
}

export const about = <S extends v.GenericSchema>(schema: S, text: string) => v.pipe(schema, v.description(text));
export const path = (name: string, schema: v.GenericSchema, description: string): Param => ({ name, in: "path", schema, description });
export const query = (name: string, schema: v.GenericSchema, description: string): Param => ({ name, in: "query", schema, description });

/** `limit` as src/api/http.ts intParam takes it: an integer from 1 to max, `def` when absent or empty. */
export const limit = (max: number, def: number) => query("limit", v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(max)), def), "how many items a page holds at most");
export const cursor = query("cursor", v.optional(v.string()), "the `nextCursor` of the page before");
export const ns = path("ns", Name, "the namespace");
