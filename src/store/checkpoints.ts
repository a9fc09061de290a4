// Checkpointing a local database's WAL on a thread of its own (checkpoint-worker.ts). SQLite copies the
// WAL back into the database file inside the commit that grows the WAL past 1,000 pages, on the
// committing connection: on tock's one JavaScript thread, that copy and the fsyncs around it held up
// everything else (a fifth of the API's time with jobs of a realistic size). Here the committing
// connection's own checkpoints are turned off once the thread has the file open, and turned back on
// should the thread fail; the thread checkpoints PASSIVE after writes, at most ten times a second.
// The durability of a commit does not change: in WAL mode with synchronous=NORMAL it never depended on
// checkpoints. One thread serves every file the process has open; it ends when the last is closed.

export interface CheckpointEvents {
  /** The thread has the file open: the connection's own checkpoints may be turned off. */
  opened(): void;
  /** The thread cannot checkpoint the file: the connection's own checkpoints must be turned back on. */
  failed(error: string): void;
}

export interface Checkpoints {
  /** A write committed: a checkpoint is due. */
  wrote(): void;
  detach(): void;
}

type Message = { op: "opened" | "failed" | "done" | "closed"; path: string; error?: string };

let worker: Worker | null = null;
const attached = new Map<string, Set<CheckpointEvents>>();
/** Files told of a write and not checkpointed since. */
const due = new Set<string>();

function start(): Worker {
  const w = new Worker(new URL("./checkpoint-worker.ts", import.meta.url).href, { type: "module" });
  // (Bun: the thread alone does not keep the process alive.)
  (w as { unref?: () => void }).unref?.();
  w.onmessage = (event: MessageEvent<Message>) => {
    const { op, path, error } = event.data;
    if (op === "done" || op === "failed") due.delete(path);
    if (op === "closed" && attached.size === 0 && worker === w) {
      worker = null;
      w.terminate();
    }
    for (const l of attached.get(path) ?? []) {
      if (op === "opened") l.opened();
      else if (op === "failed") l.failed(error ?? "checkpoint failed");
    }
  };
  w.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    if (worker === w) worker = null;
    w.terminate();
    const all = [...attached.values()].flatMap((set) => [...set]);
    attached.clear();
    due.clear();
    for (const l of all) l.failed(event.message || "the checkpoint thread failed");
  };
  return w;
}

/** Has the thread checkpoint the WAL of the database file at `path` after writes. */
export function checkpointInBackground(path: string, events: CheckpointEvents): Checkpoints {
  let set = attached.get(path);
  if (!set) attached.set(path, (set = new Set()));
  set.add(events);
  let w: Worker | null;
  try {
    w = worker ??= start();
    w.postMessage({ op: "open", path });
  } catch (e) {
    set.delete(events);
    w = null;
    queueMicrotask(() => events.failed((e as Error).message));
  }
  return {
    wrote() {
      if (worker !== w || !w || due.has(path)) return;
      due.add(path);
      w.postMessage({ op: "wrote", path });
    },
    detach() {
      const mine = attached.get(path);
      if (!mine?.delete(events)) return;
      if (mine.size > 0) return;
      attached.delete(path);
      due.delete(path);
      if (worker === w && w) w.postMessage({ op: "close", path });
    },
  };
}
