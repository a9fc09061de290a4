// Waiting for a locked database without blocking the event loop. A local database file is reached
// synchronously: while SQLite waits for another process's lock, the event loop waits with it. So SQLite
// itself waits only a short slice (BUSY_SLICE_MS, the client's busy timeout), and the rest of the wait
// happens here, asynchronously, between attempts, up to the caller's bound. One write at a time tries
// (WriteGate): a locked database blocks the loop for at most one slice at a time, however many writes
// queue behind it.

/** How long SQLite itself waits for a lock, blocking the event loop, before `write` waits asynchronously. */
export const BUSY_SLICE_MS = 10;

/** An error's code (SQLITE_BUSY, ECONNREFUSED …), or "". */
const codeOf = (err: unknown): string => String((err as { code?: unknown })?.code ?? "");

export function isBusy(e: unknown): boolean {
  const code = codeOf(e);
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED") || /database is locked/i.test(String((e as Error)?.message));
}

/** The database cannot take this write now (locked past the bound, or its file gone): nothing was written. */
export class StorageUnavailable extends Error {
  readonly code = "TOCK_STORAGE_UNAVAILABLE";
  constructor(message: string) {
    super(message);
    this.name = "StorageUnavailable";
  }
}

/**
 * Whether an error says the database cannot take requests at all (locked, full, read-only, its file gone or
 * broken, its server out of reach), rather than that one statement was refused.
 */
export function isStorageFailure(e: unknown): boolean {
  return causes(e).some((err) => {
    const code = codeOf(err);
    return err instanceof StorageUnavailable || isBusy(err) || LOCAL_FAILURE.test(code) || REMOTE_FAILURE.test(code);
  });
}

/** An error and those it wraps (the query builder wraps the driver's error as its cause), a few deep. */
function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let err = e; err && out.length < 4; err = (err as { cause?: unknown }).cause) out.push(err);
  return out;
}


/** SQLite's own: the file cannot take it. The statement was rolled back. */
const LOCAL_FAILURE = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB|PERM)/;
/** A libSQL server out of reach, or answering with an error of its own (HTTP 5xx, 401). */
const REMOTE_FAILURE = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ConnectionRefused|ConnectionClosed|SERVER_ERROR|HRANA_WEBSOCKET_ERROR|HRANA_CLOSED_ERROR|STREAM_EXPIRED)$/;

/** The server was never reached: nothing was sent. */
const NEVER_CONNECTED = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ConnectionRefused)$/;

/**
 * Whether a storage failure leaves it unknown if the write committed: the connection to a server broke, or
 * the disk failed mid-write. (A lock, a full disk or a read-only file refuse before anything is written.)
 */
export function outcomeUnknown(e: unknown): boolean {
  return causes(e).some((err) => {
    const code = codeOf(err);
    return (REMOTE_FAILURE.test(code) && !NEVER_CONNECTED.test(code)) || code.startsWith("SQLITE_IOERR");
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pause before attempt `n` (from 1) on a locked database: 5 ms doubling to 200 ms, jittered. */
const pause = (n: number) => Math.min(200, 5 * 2 ** Math.min(n - 1, 6)) * (0.5 + Math.random() / 2);

/**
 * Runs `attempt` until it is not refused for a lock, waiting asynchronously between tries, for up to `waitMs`;
 * then throws StorageUnavailable, saying the caller waited `totalMs` in all (its wait began earlier, in the
 * gate). `reset` runs after each busy error (drops the connection).
 */
export async function retryBusy<T>(attempt: () => Promise<T>, waitMs: number, reset: () => Promise<void> | void = () => {}, totalMs = waitMs): Promise<T> {
  const until = performance.now() + waitMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isBusy(e)) throw e;
      await reset();
      // The last try comes at the bound itself: a locked database is waited for the whole of it.
      const left = until - performance.now();
      if (left <= 0) {
        throw new StorageUnavailable(`the database is locked by another process or node: waited ${(totalMs / 1000).toFixed(1)} s for its write lock (${(e as Error).message})`);
      }
      await sleep(Math.min(pause(n), left));
    }
  }
}


/** Lets the next writer in; `left()` is how much of the caller's wait remains. */
export interface Release {
  (): void;
  left(): number;
}

interface Waiter {
  admit: () => void;
}

export class WriteGate {
  #held = false;
  #queue: Waiter[] = [];

  /** Waits for the gate, up to `waitMs` (then StorageUnavailable: the writes ahead hold it for a lock). */
  enter(waitMs: number): Promise<Release> {
    const until = performance.now() + waitMs;
    const release = Object.assign(() => this.#next(), { left: () => Math.max(0, until - performance.now()) }) as Release;
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve(release);
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(timer);
          resolve(release);
        },
      };
      const timer = setTimeout(() => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(new StorageUnavailable(`the database is locked by another process or node: waited ${(waitMs / 1000).toFixed(1)} s behind writes waiting for its write lock`));
      }, waitMs);
      this.#queue.push(waiter);
    });
  }

  #next() {
    const w = this.#queue.shift();
    if (w) w.admit();
    else this.#held = false;
  }
}
