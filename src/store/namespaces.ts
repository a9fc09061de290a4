// Jobs per namespace (table namespace_counts, kept by the statements that write jobs): one indexed read.
import { eq } from "drizzle-orm";
import type { Store } from "./client.ts";
import { namespaceCounts } from "./schema.ts";

export async function namespaceJobCount(store: Store, ns: string): Promise<number> {
  const [row] = await store.db.select({ jobs: namespaceCounts.jobs }).from(namespaceCounts).where(eq(namespaceCounts.namespace, ns));
  return row?.jobs ?? 0;
}
