// Applies the migrations embedded in migrations.gen.ts (generated from drizzle/ by
// scripts/embed-migrations.ts) — no file access at run time, so it works the same under Bun, Deno and
// the compiled binary.
//
// Bookkeeping is drizzle-orm's own: table `__drizzle_migrations (id, hash, created_at)`, one row per
// migration with created_at = the journal's `when`, and "apply every migration newer than the
// greatest created_at". A database migrated by drizzle's stock migrator and by this one agree.
//
// Concurrency: everything pending is applied in ONE `batch(…, "write")` (BEGIN IMMEDIATE). Its first
// statement re-checks, under the write lock, that the greatest created_at is still the one read
// before; if another process got there first, the statement fails on purpose (SQLite has no RAISE
// outside triggers, so it uses json_extract with an invalid path that carries a marker), the whole
// batch rolls back, and we re-read and retry. Two processes starting at once on one file: one applies,
// the other sees them applied. The loser's BEGIN IMMEDIATE may fail with SQLITE_BUSY (the client's busy
// timeout is a short slice): it is retried, waiting asynchronously, for up to `busyWaitMs`.
import type { Client, InStatement } from "@libsql/client";
import { retryBusy } from "./busy.ts";
import { type EmbeddedMigration, migrations as embedded } from "./migrations.gen.ts";

const TABLE = "__drizzle_migrations";
const GUARD_MARKER = "tock-migrate: migrations changed concurrently";
const MAX_ATTEMPTS = 5;

async function lastApplied(client: Client): Promise<number> {
  const rs = await client.execute(`SELECT created_at FROM "${TABLE}" ORDER BY created_at DESC LIMIT 1`);
  const v = rs.rows[0]?.[0];
  return v === undefined || v === null ? -1 : Number(v);
}

export async function migrate(
  client: Client,
  list: readonly EmbeddedMigration[] = embedded,
  busyWaitMs = 15_000,
): Promise<{ applied: string[] }> {
  const reconnect = () => client.reconnect();
  // Same definition as drizzle-orm's sqlite migrator (`id SERIAL PRIMARY KEY` is not a rowid alias;
  // drizzle leaves id NULL, and so do we).
  await retryBusy(
    () => client.execute(`CREATE TABLE IF NOT EXISTS "${TABLE}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`),
    busyWaitMs,
    reconnect,
  );

  for (let attempt = 1; ; attempt++) {
    const last = await lastApplied(client);
    const pending = list.filter((m) => m.when > last);
    if (pending.length === 0) return { applied: [] };

    const stmts: InStatement[] = [
      {
        sql:
          `SELECT json_extract('{}', CASE WHEN coalesce((SELECT created_at FROM "${TABLE}" ` +
          `ORDER BY created_at DESC LIMIT 1), -1) = ? THEN '$' ELSE ? END)`,
        args: [last, GUARD_MARKER],
      },
    ];
    const owner: (string | null)[] = [null]; // statement index -> migration tag, for error messages
    for (const m of pending) {
      for (const s of m.statements) {
        if (s.trim() === "") continue;
        stmts.push(s);
        owner.push(m.tag);
      }
      stmts.push({ sql: `INSERT INTO "${TABLE}" ("hash", "created_at") VALUES (?, ?)`, args: [m.hash, m.when] });
      owner.push(m.tag);
    }

    try {
      await retryBusy(() => client.batch(stmts, "write"), busyWaitMs, reconnect);
      return { applied: pending.map((m) => m.tag) };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg.includes(GUARD_MARKER)) {
        if (attempt >= MAX_ATTEMPTS) {
          throw new Error(`migrate: migrations kept changing under us (${attempt} attempts)`, { cause: e });
        }
        continue; // someone else migrated meanwhile: re-read and apply what is still missing
      }
      const index = (e as { statementIndex?: unknown }).statementIndex;
      const tag = typeof index === "number" ? owner[index] : undefined;
      const where = tag ? ` in migration ${tag} (batch statement ${index})` : "";
      throw new Error(`migrate: failed${where}: ${msg}`, { cause: e });
    }
  }
}
