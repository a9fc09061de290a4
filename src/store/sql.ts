// Every write goes through `write`: one BEGIN IMMEDIATE batch. As measured here, after an
// SQLITE_BUSY error a libSQL connection may report later writes as committed when they were not, so a
// busy error drops the client's connections (reconnect) before the error reaches the caller.
import type { InStatement, ResultSet, Row } from "@libsql/client";
import type { Store } from "./client.ts";

export type Stmt = InStatement;

export function isBusy(e: unknown): boolean {
  const code = (e as { code?: string; rawCode?: number; message?: string })?.code ?? "";
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED") || /database is locked/i.test(String((e as Error)?.message));
}

/**
 * Whether an error says the database cannot take writes at all (locked, full, read-only, its file gone or
 * broken), rather than that one statement was refused.
 */
export function isStorageFailure(e: unknown): boolean {
  const code = String((e as { code?: string })?.code ?? "");
  return isBusy(e) || /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB|PERM)/.test(code);
}

export interface WriteProblem {
  /** When writes started to fail. */
  since: number;
  error: string;
}

const problems = new WeakMap<Store, WriteProblem>();

/** Why writes to this database fail now (the last write failed for its storage), or null. */
export const writeProblem = (store: Store): WriteProblem | null => problems.get(store) ?? null;

export async function write(store: Store, stmts: Stmt[]): Promise<ResultSet[]> {
  try {
    const rs = await store.client.batch(stmts, "write");
    problems.delete(store);
    return rs;
  } catch (e) {
    if (isStorageFailure(e) && !problems.has(store)) problems.set(store, { since: Date.now(), error: e instanceof Error ? e.message : String(e) });
    if (isBusy(e)) await store.reconnect();
    throw e;
  }
}

export async function read(store: Store, stmt: Stmt): Promise<Row[]> {
  return (await store.client.execute(stmt)).rows;
}

export async function readOne(store: Store, stmt: Stmt): Promise<Row | undefined> {
  return (await store.client.execute(stmt)).rows[0];
}

/** A JSON column to its value (null stays null). */
export const json = <T>(value: unknown): T | null => (value == null ? null : (JSON.parse(String(value)) as T));
export const num = (value: unknown): number | null => (value == null ? null : Number(value));
export const str = (value: unknown): string | null => (value == null ? null : String(value));
