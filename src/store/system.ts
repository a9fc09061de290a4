// The database as a whole: whether it answers.
import type { Store } from "./client.ts";
import { read } from "./sql.ts";

/** Throws what the database says when it cannot answer a read. */
export async function ping(store: Store): Promise<void> {
  await read(store, "SELECT 1");
}
