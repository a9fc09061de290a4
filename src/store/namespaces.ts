// Jobs per namespace (table namespace_counts, kept by the statements that write jobs): one indexed read.
import type { Store } from "./client.ts";
import { readOne } from "./sql.ts";

export async function namespaceJobCount(store: Store, ns: string): Promise<number> {
  const row = await readOne(store, { sql: "SELECT jobs FROM namespace_counts WHERE namespace = ?", args: [ns] });
  return Number(row?.jobs ?? 0);
}
