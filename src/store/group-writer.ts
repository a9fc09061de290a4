// Group commit: batches queued in the same turn of the event loop share one write transaction, so a
// thousand finishing runs cost one commit, not a thousand. Nothing is acknowledged to a client before its
// write commits: callers await their own results.
import type { ResultSet } from "@libsql/client";
import type { Store } from "./client.ts";
import { isStorageFailure, type Stmt, write } from "./sql.ts";

/** Statements to commit together, and what their caller reads from their results. */
export interface Batch<T> {
  stmts: Stmt[];
  result(rs: ResultSet[]): T;
}

/** A batch whose results nobody reads. */
export const batchOf = (stmts: Stmt[]): Batch<void> => ({ stmts, result: () => {} });

interface Op {
  batch: Batch<unknown>;
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
}

export class GroupWriter {
  #queue: Op[] = [];
  #flushing: Promise<void> | null = null;
  #scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly maxStatements = 2000,
    /** How long a write waits for a locked database (default: the store's). */
    private readonly waitMs = store.writeWaitMs,
  ) {}

  /** Queues a batch to commit together with others; resolves with its result once committed. */
  submit<T>(batch: Batch<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ batch, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Resolves when everything submitted so far has been written (or failed). */
  async flushed(): Promise<void> {
    while (this.#queue.length > 0 || this.#flushing || this.#scheduled) {
      await (this.#flushing ?? new Promise((r) => setTimeout(r, 0)));
    }
  }

  #schedule() {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = null;
        if (this.#queue.length > 0) this.#schedule();
      });
    }, 0);
  }

  async #flush() {
    let count = 0;
    let n = 0;
    while (n < this.#queue.length && (n === 0 || count + this.#queue[n].batch.stmts.length <= this.maxStatements)) {
      count += this.#queue[n].batch.stmts.length;
      n++;
    }
    const ops = this.#queue.splice(0, n);
    let results: ResultSet[];
    try {
      results = await write(this.store, ops.length === 1 ? ops[0].batch.stmts : ops.flatMap((o) => o.batch.stmts), this.waitMs);
    } catch (e) {
      // A database that takes no writes takes none of them either.
      if (ops.length === 1 || isStorageFailure(e)) {
        for (const op of ops) op.reject(e);
        return;
      }
      // One bad op must not sink the others: retry each on its own.
      for (const op of ops) {
        try {
          settle(op, await write(this.store, op.batch.stmts, this.waitMs));
        } catch (err) {
          op.reject(err);
        }
      }
      return;
    }
    let at = 0;
    for (const op of ops) {
      const n = op.batch.stmts.length;
      settle(op, ops.length === 1 ? results : results.slice(at, at + n));
      at += n;
    }
  }
}

function settle(op: Op, rs: ResultSet[]) {
  try {
    op.resolve(op.batch.result(rs));
  } catch (e) {
    op.reject(e);
  }
}
