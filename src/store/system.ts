// The database as a whole: whether it answers, and whether it takes writes.
import type { Store } from "./client.ts";
import { fileProblem as fileProblemOf } from "./file-identity.ts";
import { read, write } from "./sql.ts";

/**
 * Why the database file this node opened is no longer the one at its path (deleted, or replaced by another
 * file), or null: SQLite goes on writing to the file it holds open, so such writes would reach nobody.
 */
export const fileProblem = (store: Store): string | null => fileProblemOf(store.file);

/** How long the probe write of a readiness check waits for a locked database. */
const PROBE_WAIT_MS = 250;

/** Throws what the database says when it cannot answer a read. */
export async function ping(store: Store): Promise<void> {
  await read(store, "SELECT 1");
}

/**
 * A write that changes nothing but still takes the write lock and writes a page: whether the database takes
 * writes again, after they failed for its storage (clears the problem when it does).
 */
export async function probeWrite(store: Store): Promise<void> {
  // A readiness check answers within a probe's patience, not after [database] busy_timeout.
  const waitMs = Math.min(store.writeWaitMs, PROBE_WAIT_MS);
  await write(store, [{ sql: "UPDATE nodes SET heartbeat_at = heartbeat_at WHERE rowid = (SELECT min(rowid) FROM nodes)", args: [] }], waitMs);
}

export { writeProblem } from "./sql.ts";

/**
 * Writes a consistent copy of the whole database to a new file at `path` (VACUUM INTO): a snapshot taken
 * in one read transaction, so writers go on meanwhile, and compacted. The file must not exist yet.
 */
export async function backupTo(store: Store, path: string): Promise<void> {
  await read(store, { sql: "VACUUM INTO ?", args: [path] });
}
