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

export async function write(store: Store, stmts: Stmt[]): Promise<ResultSet[]> {
  try {
    return await store.client.batch(stmts, "write");
  } catch (e) {
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
