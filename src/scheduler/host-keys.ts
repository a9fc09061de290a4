// The per-host limit keys on the address a run connects to: a host name is resolved through the executors'
// own Egress (the same cache and policy), so every spelling of one host shares one limit.
import type { Egress } from "../net/egress.ts";
import { hostOfIp } from "../net/address.ts";
import type { Claimed } from "./types.ts";

/**
 * The address each host name of these runs resolves to (the first one the egress policy allows, where the
 * executor will connect), by namespace and name. Null when no run names a host; a name that does not
 * resolve, or only to refused addresses, resolves to null (the run keys on the name itself).
 */
export function resolveHostKeys(egress: Egress, runs: Claimed[]): Map<string, Promise<string | null>> | null {
  let keys: Map<string, Promise<string | null>> | null = null;
  for (const run of runs) {
    const name = run.job.resolve?.name;
    if (name === undefined || run.cancelled) continue;
    const k = `${run.namespace}\u0000${name}`;
    keys ??= new Map();
    if (keys.has(k)) continue;
    keys.set(k, Promise.resolve(egress.pin(run.namespace, name)).then((p) => (p.addresses ? hostOfIp(p.addresses[0]) : null), () => null));
  }
  return keys;
}
