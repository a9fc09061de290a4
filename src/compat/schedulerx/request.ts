// SchedulerX request parameters: from the query string, a form body or a JSON body (readParams), where
// query and form values are strings. Each reader coerces strictly and throws `invalid` naming the parameter;
// readGiven reads a job's fields.
import type { Context } from "hono";
import { MAX_JSON_DEPTH, nestsWithin } from "../../api/http.ts";
import { invalid } from "../../domain/errors.ts";
import { parseId } from "../common/ids.ts";
import { readParams } from "../common/request.ts";
import { type Contact, type Given, MAX_TIMER_S } from "./spec.ts";

const INT32 = 2_147_483_647;
const CENTURY_S = 100 * 365 * 86_400;

/** Reads typed parameters out of a request's raw parameters. */
export class Params {
  private constructor(
    private readonly raw: Record<string, unknown>,
    private readonly headers: (name: string) => string | undefined,
  ) {}

  static async of(c: Context): Promise<Params> {
    return new Params(await readParams(c), (n) => c.req.header(n));
  }

  /** Whether the request carries the parameter (an empty form value or a JSON null counts as absent). */
  has(name: string): boolean {
    const v = this.raw[name];
    return v !== undefined && v !== null && v !== "";
  }

  /** A string; "" stays "" (a description may be emptied). */
  str(name: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null || (v === "" && opts.required)) {
      if (opts.required) throw invalid(`parameter ${name} is required`, name);
      return undefined;
    }
    if (typeof v !== "string") throw invalid(`parameter ${name} must be a string`, name);
    const max = opts.max ?? 4096;
    if (v.length > max) throw invalid(`parameter ${name} must be at most ${max} characters`, name);
    return v;
  }

  /** An integer in [min, max] from a JSON number or a string of digits. */
  int(name: string, min: number, max: number): number | undefined {
    if (!this.has(name)) return undefined;
    const v = this.raw[name];
    const n = typeof v === "number" ? v : typeof v === "string" && /^[+-]?\d{1,16}$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw invalid(`parameter ${name} must be an integer`, name);
    if (n < min || n > max) throw invalid(`parameter ${name} must be between ${min} and ${max}`, name);
    return n;
  }

  /** true or false, from a JSON boolean or the strings "true" / "false" (any case). */
  bool(name: string): boolean | undefined {
    if (!this.has(name)) return undefined;
    const v = this.raw[name];
    if (typeof v === "boolean") return v;
    if (typeof v === "string" && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === "true";
    throw invalid(`parameter ${name} must be true or false`, name);
  }

  /** A positive id (SchedulerX `long`), at most 2^53 - 1. */
  id(name: string): number {
    if (!this.has(name)) throw invalid(`parameter ${name} is required`, name);
    const id = parseId(this.raw[name]);
    if (id === null) throw invalid(`parameter ${name} must be a positive integer of at most ${Number.MAX_SAFE_INTEGER}`, name);
    return id;
  }

  /**
   * `contactInfo`: a JSON list in a JSON body, the same list as JSON text in a query or form field, or
   * Spring-style indexed fields (contactInfo[0].userPhone=…). Each contact keeps userPhone and userName.
   */
  contacts(): Contact[] | undefined {
    const name = "contactInfo";
    let v: unknown = this.raw[name];
    if (v === undefined || v === null || v === "") v = this.indexedContacts();
    if (v === undefined) return undefined;
    if (typeof v === "string") {
      if (!nestsWithin(v)) throw invalid(`parameter ${name} nests more than ${MAX_JSON_DEPTH} levels deep`, name);
      try {
        v = JSON.parse(v);
      } catch {
        throw invalid(`parameter ${name} must be a JSON list such as [{"userPhone":"1381111****","userName":"userA"}]`, name);
      }
    }
    if (!Array.isArray(v)) throw invalid(`parameter ${name} must be a list of contacts`, name);
    if (v.length > 100) throw invalid(`parameter ${name} may hold at most 100 contacts`, name);
    return v.map((c, i) => {
      if (c === null || typeof c !== "object" || Array.isArray(c)) throw invalid(`parameter ${name}[${i}] must be an object with userPhone and userName`, `${name}[${i}]`);
      const field = (key: "userPhone" | "userName") => {
        const s = (c as Record<string, unknown>)[key];
        if (s === undefined || s === null) return null;
        if (typeof s !== "string" || s.length > 256 || !s.isWellFormed()) throw invalid(`parameter ${name}[${i}].${key} must be a string of at most 256 characters`, `${name}[${i}].${key}`);
        return s;
      };
      return { userPhone: field("userPhone"), userName: field("userName") };
    });
  }

  private indexedContacts(): Record<string, unknown>[] | undefined {
    const out: Record<string, unknown>[] = [];
    for (const [key, value] of Object.entries(this.raw)) {
      const m = /^contactInfo\[(\d{1,2})\]\.(\w+)$/.exec(key);
      if (m) (out[Number(m[1])] ??= {})[m[2]!] = value;
    }
    return out.length ? Array.from(out, (c) => c ?? {}) : undefined;
  }

  /** The native namespace of the request's `namespace` and `groupId` (headers of the vendor's Go client as a fallback). */
  scope(): string {
    const namespace = this.str("namespace") || this.headers("schedulerx-namespace");
    const groupId = this.str("groupId") || this.headers("openapi-groupid");
    if (!namespace) throw invalid("parameter namespace is required", "namespace");
    if (!groupId) throw invalid("parameter groupId is required", "groupId");
    return nativeNamespace(namespace, groupId);
  }

  /** Like scope(), but null when neither namespace nor groupId is given (instance/getList documents only jobId). */
  optionalScope(): string | null {
    const given = this.has("namespace") || this.has("groupId") || this.headers("schedulerx-namespace") || this.headers("openapi-groupid");
    return given ? this.scope() : null;
  }
}

/**
 * `<namespace>:<groupId>`: a valid native namespace, and one pair per value, since a SchedulerX namespace
 * may not hold ':' here (it is an id such as a UUID).
 */
export function nativeNamespace(namespace: string, groupId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(namespace)) {
    throw invalid("parameter namespace must be letters, digits, '.', '_' or '-', starting with a letter or digit", "namespace");
  }
  if (!/^[A-Za-z0-9._-]+$/.test(groupId)) throw invalid("parameter groupId must be letters, digits, '.', '_' or '-'", "groupId");
  if (namespace.length + groupId.length > 199) throw invalid("parameters namespace and groupId together must be at most 198 characters", "groupId");
  return `${namespace}:${groupId}`;
}

/** Every job field the request carries, coerced and range-checked (no cross-field checks yet). */
export function readGiven(p: Params): Given {
  const g: Given = {
    jobType: p.str("jobType", { max: 32 }),
    className: p.str("className", { max: 1024 }),
    jarUrl: p.str("jarUrl", { max: 4096 }),
    content: p.str("content", { max: 1 << 20 }),
    name: p.str("name", { max: 200 }),
    description: p.str("description", { max: 4096 }),
    executeMode: p.str("executeMode", { max: 32 }),
    parameters: p.str("parameters", { max: 32_768 }) || undefined, // an empty form value is no parameters
    maxConcurrency: p.int("maxConcurrency", 1, 10_000),
    maxAttempt: p.int("maxAttempt", 0, 1000),
    attemptInterval: p.int("attemptInterval", 1, MAX_TIMER_S),
    timeType: p.int("timeType", 0, INT32),
    timeExpression: p.str("timeExpression", { max: 200 }),
    calendar: p.str("calendar", { max: 256 }),
    dataOffset: p.int("dataOffset", -CENTURY_S, CENTURY_S),
    pageSize: p.int("pageSize", 0, INT32),
    consumerSize: p.int("consumerSize", 0, INT32),
    queueSize: p.int("queueSize", 0, INT32),
    dispatcherSize: p.int("dispatcherSize", 0, INT32),
    taskMaxAttempt: p.int("taskMaxAttempt", 0, INT32),
    taskAttemptInterval: p.int("taskAttemptInterval", 0, INT32),
    timeoutEnable: p.bool("timeoutEnable"),
    timeout: p.int("timeout", 1, CENTURY_S),
    timeoutKillEnable: p.bool("timeoutKillEnable"),
    failEnable: p.bool("failEnable"),
    sendChannel: p.str("sendChannel", { max: 64 }),
    contactInfo: p.contacts(),
    namespaceSource: p.str("namespaceSource", { max: 64 }),
  };
  for (const k of Object.keys(g) as (keyof Given)[]) if (g[k] === undefined) delete g[k];
  return g;
}
