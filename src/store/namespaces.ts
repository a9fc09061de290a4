// Jobs per namespace (table namespace_counts, kept by the statements that write jobs): one indexed read.
import { asc, eq, gt } from "drizzle-orm";
import type { Store } from "./client.ts";
import { namespaceCounts } from "./schema.ts";

export async function namespaceJobCount(store: Store, ns: string): Promise<number> {
  const [row] = await store.db.select({ jobs: namespaceCounts.jobs }).from(namespaceCounts).where(eq(namespaceCounts.namespace, ns));
  return row?.jobs ?? 0;
}

/** Every namespace that has jobs, by name, with how many. */
export async function namespacesWithJobs(store: Store): Promise<{ namespace: string; jobs: number }[]> {
  return await store.db.select().from(namespaceCounts).where(gt(namespaceCounts.jobs, 0)).orderBy(asc(namespaceCounts.namespace));
}
