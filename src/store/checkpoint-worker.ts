// The WAL checkpointer's thread (checkpoints.ts starts it): one connection per database file, each
// checkpointing PASSIVE (never waiting for, nor blocking, readers and writers) when told of writes, at
// most once every MIN_GAP_MS.
import Database from "libsql";

declare const self: Worker;

const MIN_GAP_MS = 100;

interface File {
  db: { prepare(sql: string): { run(args: unknown[]): unknown; get(args: unknown[]): unknown } ; close(): void };
  last: number;
  timer: ReturnType<typeof setTimeout> | null;
}
const files = new Map<string, File>();

function checkpoint(path: string) {
  const f = files.get(path);
  if (!f) return;
  f.timer = null;
  f.last = Date.now();
  try {
    f.db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get([]);
    postMessage({ op: "done", path });
  } catch (e) {
    postMessage({ op: "failed", path, error: (e as Error).message });
  }
}

self.onmessage = (event: MessageEvent<{ op: "open" | "wrote" | "close"; path: string }>) => {
  const { op, path } = event.data;
  const f = files.get(path);
  if (op === "open") {
    if (f) return void postMessage({ op: "opened", path });
    try {
      const db = new Database(path, { timeout: 0 }) as unknown as File["db"];
      db.prepare("PRAGMA synchronous=NORMAL").run([]);
      files.set(path, { db, last: 0, timer: null });
      postMessage({ op: "opened", path });
    } catch (e) {
      postMessage({ op: "failed", path, error: (e as Error).message });
    }
  } else if (op === "wrote") {
    if (!f || f.timer) return;
    f.timer = setTimeout(() => checkpoint(path), Math.max(0, f.last + MIN_GAP_MS - Date.now()));
  } else if (op === "close" && f) {
    if (f.timer) clearTimeout(f.timer);
    files.delete(path);
    try {
      f.db.close();
    } catch {
      // closed already
    }
    postMessage({ op: "closed", path });
  }
};
