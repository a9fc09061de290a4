// Every write goes through `write`: one BEGIN IMMEDIATE batch. As measured here, after an
// SQLITE_BUSY error a libSQL connection may report later writes as committed when they were not, so a
// busy error drops the client's connections (reconnect) before the write is tried again. A locked
// database is waited for asynchronously (busy.ts), never with the event loop blocked for long.
import type { InStatement, InValue, ResultSet, Row } from "@libsql/client";
import type { Store } from "./client.ts";
import { isStorageFailure, retryBusy, StorageUnavailable } from "./busy.ts";
import { fileProblem } from "./file-identity.ts";

export { BUSY_SLICE_MS, isBusy, isStorageFailure, StorageUnavailable } from "./busy.ts";

export type Stmt = InStatement;

/** A condition a statement must also meet (SQL after `AND`, and its arguments, which come last). */
export interface Guard {
  sql: string;
  args: InValue[];
}

/** `guard` as the end of a WHERE clause, and its arguments. */
export const andGuard = (guard: Guard | null) => (guard ? ` AND ${guard.sql}` : "");
export const guardArgs = (guard: Guard | null): InValue[] => (guard ? guard.args : []);

export interface WriteProblem {
  /** When writes started to fail. */
  since: number;
  error: string;
}

const problems = new WeakMap<Store, WriteProblem>();

/** Why writes to this database fail now (the last write failed for its storage), or null. */
export const writeProblem = (store: Store): WriteProblem | null => problems.get(store) ?? null;

/**
 * Commits `stmts` in one write transaction. A locked database is waited for up to `waitMs` (default: the
 * store's, [database] busy_timeout), then StorageUnavailable, having changed nothing. A write that went to
 * a database file deleted or replaced meanwhile is not acknowledged either.
 */
export async function write(store: Store, stmts: Stmt[], waitMs = store.writeWaitMs): Promise<ResultSet[]> {
  const release = store.gate ? await store.gate.enter(waitMs) : null;
  try {
    const rs = await retryBusy(() => store.sql.write(stmts), release ? release.left() : waitMs, () => store.reconnect(), waitMs);
    // (A replica's writes go to its primary: its local file says nothing of them.)
    const gone = store.replica ? null : fileProblem(store.file);
    if (gone) throw new StorageUnavailable(gone);
    problems.delete(store);
    return rs;
  } catch (e) {
    if (isStorageFailure(e) && !problems.has(store)) problems.set(store, { since: Date.now(), error: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    release?.();
  }
}

export async function read(store: Store, stmt: Stmt): Promise<Row[]> {
  return (await store.sql.execute(stmt)).rows;
}

export async function readOne(store: Store, stmt: Stmt): Promise<Row | undefined> {
  return (await store.sql.execute(stmt)).rows[0];
}

/**
 * The database's clock, in ms: heartbeats are written and compared in it, so nodes whose own clocks differ
 * (within max_clock_skew each) never take a live node for dead.
 */
export const DB_NOW = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/** Rows per statement of `valuesTable`, largest first; the last statement is padded to the smallest. */
const CHUNKS = [256, 64, 16];

/** valuesTable's statement texts, by the statement after the WITH clause, then the clause's head and size. */
const texts = new Map<string, Map<string, string[]>>();

function textOf(head: string, row: string, size: number, sql: string): string {
  let byHead = texts.get(sql);
  if (!byHead) texts.set(sql, (byHead = new Map()));
  let bySize = byHead.get(head);
  if (!bySize) byHead.set(head, (bySize = []));
  return (bySize[size] ??= `${head} ${Array(size).fill(row).join(", ")}) ${sql}`);
}

/**
 * Rows bound as values, as the table `name(columns)` of a WITH clause before `sql`; `tail` are the
 * arguments of sql's own placeholders (after the clause's). The rows go in statements of 256, 64 or 16
 * rows, the last padded with rows of NULL (which match nothing), so a statement's text, and what SQLite
 * prepared for it, is one of three, built once. Binding values costs less than taking each out of a JSON
 * array (json_each), which parses each row's text again.
 */
export function valuesTable(name: string, columns: readonly string[], rows: unknown[][], sql: string, tail: unknown[] = []): Stmt[] {
  const stmts: Stmt[] = [];
  const head = `WITH ${name}(${columns.join(", ")}) AS (VALUES`;
  const row = `(${columns.map(() => "?").join(", ")})`;
  for (let i = 0; i < rows.length; ) {
    const left = rows.length - i;
    const size = CHUNKS.find((c) => c <= left) ?? CHUNKS[CHUNKS.length - 1];
    const args: unknown[] = [];
    for (let k = 0; k < size; k++) {
      const r = rows[i + k];
      if (r) for (const v of r) args.push(v);
      else for (let c = 0; c < columns.length; c++) args.push(null);
    }
    for (const v of tail) args.push(v);
    stmts.push({ sql: textOf(head, row, size, sql), args: args as InValue[] });
    i += Math.min(size, left);
  }
  return stmts;
}

/** A JSON column to its value (null stays null). */
export const json = <T>(value: unknown): T | null => (value == null ? null : (JSON.parse(String(value)) as T));
export const num = (value: unknown): number | null => (value == null ? null : Number(value));
export const str = (value: unknown): string | null => (value == null ? null : String(value));
