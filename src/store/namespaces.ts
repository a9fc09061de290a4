// Jobs counted: per namespace (table namespace_counts, kept by the statements that write jobs: one indexed
// read), and by state (a scan, for the metrics).
import { asc, count, eq, gt, isNull, sql } from "drizzle-orm";
import type { Store } from "./client.ts";
import { jobs, namespaceCounts } from "./schema.ts";

export async function namespaceJobCount(store: Store, ns: string): Promise<number> {
  const [row] = await store.db.select({ jobs: namespaceCounts.jobs }).from(namespaceCounts).where(eq(namespaceCounts.namespace, ns));
  return row?.jobs ?? 0;
}

/** Every namespace that has jobs, by name, with how many. */
export async function namespacesWithJobs(store: Store): Promise<{ namespace: string; jobs: number }[]> {
  return await store.db.select().from(namespaceCounts).where(gt(namespaceCounts.jobs, 0)).orderBy(asc(namespaceCounts.namespace));
}

/** Jobs of every namespace by state: scheduled, paused, manual (no schedule, waiting for triggers), finished. */
export async function jobsByState(store: Store): Promise<Record<string, number>> {
  const state = sql<string>`CASE WHEN ${jobs.enabled} = 0 THEN 'paused' WHEN ${jobs.nextFireAt} IS NOT NULL THEN 'scheduled' WHEN ${jobs.scheduleKind} = 'manual' THEN 'manual' ELSE 'finished' END`;
  const rows = await store.db.select({ state, jobs: count() }).from(jobs).where(isNull(jobs.workflowId)).groupBy(state);
  return Object.fromEntries(rows.map((r) => [r.state, r.jobs]));
}
