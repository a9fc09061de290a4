// Who is asking, and what they may do: every domain verb checks the caller's Access (the API key a request
// carried, or full access for tock's own work and for a server with authentication off). A namespace the
// caller may not see behaves as if it did not exist; a role too weak for a change is a 403.
import type { Logger } from "../log.ts";
import { forbidden } from "./errors.ts";

export const ROLES = ["reader", "writer", "admin"] as const;
/** reader: reads; writer: also changes jobs and runs; admin: also keys and nodes. */
export type Role = (typeof ROLES)[number];

export interface Access {
  /** The API key of the request; null when authentication is off (or for tock's own work). */
  key: { id: string; name: string } | null;
  role: Role;
  /** Namespaces this caller may see (a trailing `*` matches a prefix); null: every one. */
  namespaces: readonly string[] | null;
}

/** tock's own work (callbacks, start-up) and every request of a server with authentication off. */
export const FULL_ACCESS: Access = Object.freeze({ key: null, role: "admin", namespaces: null });

/** What a request that was never authenticated gets: nothing (a route left unguarded sees no namespace). */
export const NO_ACCESS: Access = Object.freeze({ key: null, role: "reader", namespaces: [] });

const RANK: Record<Role, number> = { reader: 0, writer: 1, admin: 2 };

export function namespaceMatches(pattern: string, ns: string): boolean {
  return pattern.endsWith("*") ? ns.startsWith(pattern.slice(0, -1)) : ns === pattern;
}

/** Whether the caller may see namespace `ns` at all. */
export function sees(access: Access, ns: string): boolean {
  return access.namespaces === null || access.namespaces.some((p) => namespaceMatches(p, ns));
}

/** Throws 403 unless the caller's role is at least `role`; `what` says what was refused. */
export function requireRole(access: Access, role: Role, what: string): void {
  if (RANK[access.role] < RANK[role]) throw forbidden(`${what} needs a ${role} key; this key is a ${access.role} key`);
}

/**
 * A change in namespace `ns`: `missing()` (the caller's not-found) if the caller may not see it, 403 if it
 * may only read.
 */
export function mayChange(access: Access, ns: string, missing: () => Error): void {
  if (!sees(access, ns)) throw missing();
  requireRole(access, "writer", `changing jobs and runs in namespace ${ns}`);
}

/**
 * Whether every namespace `inner` can see, `outer` can see too: a scoped admin may only hand out keys
 * (and see keys) within its own namespaces.
 */
export function covers(outer: Access["namespaces"], inner: Access["namespaces"]): boolean {
  if (outer === null) return true;
  if (inner === null) return false;
  return inner.every((p) => outer.some((o) => (o.endsWith("*") ? p.startsWith(o.slice(0, -1)) : !p.endsWith("*") && o === p)));
}

/** Logs a change made through the API, with the key that made it (every change is accountable). */
export function audit(deps: { access: Access; log: Logger }, action: string, fields: Record<string, unknown>): void {
  const key = deps.access.key;
  deps.log.info("change", { action, ...fields, keyId: key?.id ?? null, keyName: key?.name ?? null });
}
