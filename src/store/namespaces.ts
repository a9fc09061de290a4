// Jobs per namespace (table namespace_counts, kept by triggers on jobs): one indexed read, whatever the size.
import type { Store } from "./client.ts";
import { readOne } from "./sql.ts";

export async function namespaceJobCount(store: Store, ns: string): Promise<number> {
  const row = await readOne(store, { sql: "SELECT jobs FROM namespace_counts WHERE namespace = ?", args: [ns] });
  return Number(row?.jobs ?? 0);
}
