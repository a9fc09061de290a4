// The database as a whole: whether it answers, and whether it takes writes.
import type { Store } from "./client.ts";
import { read, write } from "./sql.ts";

/** Throws what the database says when it cannot answer a read. */
export async function ping(store: Store): Promise<void> {
  await read(store, "SELECT 1");
}

/**
 * A write that changes nothing but still takes the write lock and writes a page: whether the database takes
 * writes again, after they failed for its storage (clears the problem when it does).
 */
export async function probeWrite(store: Store): Promise<void> {
  await write(store, [{ sql: "UPDATE nodes SET heartbeat_at = heartbeat_at WHERE rowid = (SELECT min(rowid) FROM nodes)", args: [] }]);
}

export { writeProblem } from "./sql.ts";
