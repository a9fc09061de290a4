// Group commit: writes queued in the same turn of the event loop share one write transaction, so a
// thousand finishing runs cost one commit, not a thousand. Nothing is acknowledged to a client before its
// write commits: callers await their own result sets.
import type { ResultSet } from "@libsql/client";
import type { Store } from "../store/client.ts";
import { type Stmt, write } from "../store/sql.ts";

interface Op {
  stmts: Stmt[];
  resolve: (rs: ResultSet[]) => void;
  reject: (e: unknown) => void;
}

export class GroupWriter {
  #queue: Op[] = [];
  #flushing: Promise<void> | null = null;
  #scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly maxStatements = 2000,
  ) {}

  /** Queues statements to commit together with others; resolves with their result sets once committed. */
  submit(stmts: Stmt[]): Promise<ResultSet[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ stmts, resolve, reject });
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
    while (n < this.#queue.length && (n === 0 || count + this.#queue[n].stmts.length <= this.maxStatements)) {
      count += this.#queue[n].stmts.length;
      n++;
    }
    const ops = this.#queue.splice(0, n);
    try {
      const results = await write(this.store, ops.flatMap((o) => o.stmts));
      let at = 0;
      for (const op of ops) {
        op.resolve(results.slice(at, at + op.stmts.length));
        at += op.stmts.length;
      }
    } catch (e) {
      if (ops.length === 1) return ops[0].reject(e);
      // One bad op must not sink the others: retry each on its own.
      for (const op of ops) {
        try {
          op.resolve(await write(this.store, op.stmts));
        } catch (err) {
          op.reject(err);
        }
      }
    }
  }
}
