// [limits] max_jobs: a namespace's job count is read (one indexed row) at most once a second per node, and
// this node's own creates are added to it meanwhile; only an estimate at the limit reads it again before
// refusing. So a create costs no read, and creates on other nodes can pass the limit by what they make
// within that second.
import type { Config } from "../config.ts";
import type { Store } from "../store/client.ts";
import { namespaceJobCount } from "../store/namespaces.ts";

const FRESH_MS = 1000;

/** A namespace's [limits] max_jobs: its own, else the default. */
export const maxJobsOf = (limits: Config["limits"], ns: string): number => limits.namespaces[ns]?.maxJobs ?? limits.maxJobs;

interface Count {
  n: number;
  at: number;
}

const counts = new WeakMap<Store, Map<string, Count>>();

/** Whether namespace `ns` may take one more job under `max`. */
export async function roomFor(store: Store, ns: string, max: number): Promise<boolean> {
  let byNs = counts.get(store);
  if (!byNs) counts.set(store, (byNs = new Map()));
  let c = byNs.get(ns);
  const now = performance.now();
  if (!c || now - c.at >= FRESH_MS || c.n >= max) {
    if (byNs.size >= 10_000) byNs.clear(); // namespaces seen recently only
    c = { n: await namespaceJobCount(store, ns), at: now };
    byNs.set(ns, c);
  }
  return c.n < max;
}

/** A job was created in `ns` here: counted until the next read. */
export function counted(store: Store, ns: string): void {
  const c = counts.get(store)?.get(ns);
  if (c) c.n++;
}
