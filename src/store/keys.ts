// The SQL of API keys (table api_keys). Every create and revoke raises `rev` past every other key's, so a
// node knows its copy of the keys is current by reading one number.
import type { Store } from "./client.ts";
import { eq, sql } from "drizzle-orm";
import { apiKeys } from "./schema.ts";
import { json, num, readOne, write } from "./sql.ts";

export interface KeyRow {
  id: string;
  name: string;
  role: "reader" | "writer" | "admin";
  namespaces: string[] | null;
  /** SHA-256 (hex) of the key's secret part. */
  hash: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

const rowOf = (r: Record<string, unknown>): KeyRow => ({
  id: String(r.id),
  name: String(r.name),
  role: r.role as KeyRow["role"],
  namespaces: json<string[]>(r.namespaces),
  hash: String(r.hash),
  createdAt: Number(r.created_at),
  expiresAt: num(r.expires_at),
  revokedAt: num(r.revoked_at),
  lastUsedAt: num(r.last_used_at),
});

const NEXT_REV = "(SELECT COALESCE(max(rev), 0) + 1 FROM api_keys)";

export async function insertKey(store: Store, k: Omit<KeyRow, "revokedAt" | "lastUsedAt">): Promise<void> {
  await write(store, [
    {
      sql: `INSERT INTO api_keys (id, name, role, namespaces, hash, created_at, expires_at, rev) VALUES (?, ?, ?, ?, ?, ?, ?, ${NEXT_REV})`,
      args: [k.id, k.name, k.role, k.namespaces === null ? null : JSON.stringify(k.namespaces), k.hash, k.createdAt, k.expiresAt],
    },
  ]);
}

/** Revokes a key; null when there is no such key. Revoking a revoked key changes nothing. */
export async function revokeKeyRow(store: Store, id: string, now: number): Promise<KeyRow | null> {
  const [, rs] = await write(store, [
    { sql: `UPDATE api_keys SET revoked_at = ?, rev = ${NEXT_REV} WHERE id = ? AND revoked_at IS NULL`, args: [now, id] },
    { sql: "SELECT * FROM api_keys WHERE id = ?", args: [id] },
  ]);
  return rs.rows[0] ? rowOf(rs.rows[0]) : null;
}

/** The columns of a KeyRow, for the query builder. */
const KEY_COLUMNS = {
  id: apiKeys.id,
  name: apiKeys.name,
  role: apiKeys.role,
  namespaces: apiKeys.namespaces,
  hash: apiKeys.hash,
  createdAt: apiKeys.createdAt,
  expiresAt: apiKeys.expiresAt,
  revokedAt: apiKeys.revokedAt,
  lastUsedAt: apiKeys.lastUsedAt,
};

/** Every key, oldest first. */
export async function keyRows(store: Store): Promise<KeyRow[]> {
  return (await store.db.select(KEY_COLUMNS).from(apiKeys).orderBy(sql`rowid`)) as KeyRow[];
}

export async function keyRow(store: Store, id: string): Promise<KeyRow | null> {
  const [k] = await store.db.select(KEY_COLUMNS).from(apiKeys).where(eq(apiKeys.id, id));
  return (k as KeyRow | undefined) ?? null;
}

/** The greatest rev: changes whenever a key is made or revoked. */
export async function keysRevision(store: Store): Promise<number> {
  const r = await readOne(store, "SELECT COALESCE(max(rev), 0) AS rev FROM api_keys");
  return Number(r?.rev ?? 0);
}

/** Records when keys were last used (id -> time), never moving a time back. */
export async function touchKeys(store: Store, used: [string, number][]): Promise<void> {
  if (used.length === 0) return;
  await write(store, [
    {
      sql: `UPDATE api_keys SET last_used_at = max(COALESCE(last_used_at, 0), u.value->>1)
            FROM json_each(?) AS u WHERE api_keys.id = u.value->>0`,
      args: [JSON.stringify(used)],
    },
  ]);
}
