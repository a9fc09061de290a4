// SchedulerX request parameters: from the query string, a form body or a JSON body (readParams), where
// query and form values are strings. Each reader coerces strictly and throws `invalid` naming the parameter.
import type { Context } from "hono";
import { MAX_JSON_DEPTH, nestsWithin } from "../../api/http.ts";
import { invalid } from "../../domain/errors.ts";
import { parseId } from "../common/ids.ts";
import { readParams } from "../common/request.ts";

/** An alert contact (ContactInfo). */
export interface Contact {
  userPhone: string | null;
  userName: string | null;
}

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
