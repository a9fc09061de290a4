// The database as a whole: whether it answers, and whether it takes writes.
import { identity, type Store } from "./client.ts";
import { read, write } from "./sql.ts";

/**
 * Why the database file this node opened is no longer the one at its path (deleted, or replaced by another
 * file), or null: SQLite goes on writing to the file it holds open, so such writes would reach nobody.
 */
export function fileProblem(store: Store): string | null {
  if (!store.file) return null;
  const now = identity(store.file.path);
  if (!now) return `the database file ${store.file.path} was deleted while open`;
  if (now.dev !== store.file.dev || now.ino !== store.file.ino) return `the database file ${store.file.path} was replaced by another file while open`;
  return null;
}

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
