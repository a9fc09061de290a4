// Opens the libSQL database in one of its three storage modes (a file, a server, an embedded replica) and
// applies migrations.
import { statSync } from "node:fs";
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { databaseFilePath, secureDatabaseFile, type Warn } from "./file.ts";
import { migrate } from "./migrate.ts";
import * as schema from "./schema.ts";

export type Db = ReturnType<typeof drizzle<typeof schema>>;

export interface DatabaseConfig {
  url: string;
  authToken?: string;
  syncUrl?: string;
  syncIntervalMs?: number;
}

export interface Store {
  client: Client;
  db: Db;
  /** The database file as opened (a local file or an embedded replica): its path and identity. */
  file?: { path: string; dev: number; ino: number };
  /** Drops every pooled connection (after a busy error) and re-applies the connection pragmas. */
  reconnect(): Promise<void>;
  close(): void;
}

/** A file's identity (device and inode): another file at the same path has another. */
export function identity(path: string): { dev: number; ino: number } | undefined {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/** Rejects after `ms`: createClient blocks for a long time on a sync_url that accepts but never answers. */
function bounded<T>(work: () => Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000}s`)), ms);
    work().then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * An embedded replica's createClient blocks the whole process while it syncs: for a primary that accepts
 * connections but never answers, for longer than 15 s (measured here), and no timer can interrupt a
 * blocked thread. So the primary is asked first, asynchronously and with a deadline; any HTTP answer at all
 * means it is there.
 */
export async function preflight(syncUrl: string, timeoutMs: number): Promise<void> {
  const http = syncUrl.replace(/^libsql:/, "https:").replace(/^wss:/, "https:").replace(/^ws:/, "http:");
  try {
    const res = await fetch(http, { method: "GET", signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await res.body?.cancel();
  } catch (e) {
    const err = e as Error;
    if (err.name === "TimeoutError" || err.name === "AbortError") {
      throw new Error(`database sync_url ${syncUrl} did not answer within ${timeoutMs / 1000}s`);
    }
    throw new Error(`database sync_url ${syncUrl} cannot be reached: ${err.message}`);
  }
}

export async function openStore(
  config: DatabaseConfig,
  opts: { migrate?: boolean; connectTimeoutMs?: number; busyTimeoutMs?: number; warn?: Warn } = {},
): Promise<Store> {
  const local = config.url.startsWith("file:") || config.url === ":memory:";
  if (config.syncUrl) await preflight(config.syncUrl, opts.connectTimeoutMs ?? 15_000);
  const file = databaseFilePath(config.url);
  if (file !== undefined) secureDatabaseFile(file, opts.warn ?? (() => {}));
  const client = await bounded(
    async () =>
      createClient({
        url: config.url,
        authToken: config.authToken || undefined,
        syncUrl: config.syncUrl || undefined,
        syncInterval: config.syncUrl && config.syncIntervalMs ? config.syncIntervalMs / 1000 : undefined,
        // The busy timeout must reach every pooled connection: only this option does (a PRAGMA reaches one).
        timeout: opts.busyTimeoutMs ?? 5000,
        // One connection for a local file: every call is synchronous anyway, and the connection pragmas
        // (synchronous=NORMAL) then hold for every statement, not only on the first of a pool.
        concurrency: local ? 1 : undefined,
      }),
    opts.connectTimeoutMs ?? 15_000,
    `database ${config.syncUrl ? config.syncUrl : config.url}`,
  );
  const pragmas = async () => {
    if (local && !config.syncUrl) {
      await client.execute("PRAGMA journal_mode=WAL");
      await client.execute("PRAGMA synchronous=NORMAL");
    }
  };
  try {
    await pragmas();
    if (opts.migrate !== false) await bounded(() => migrate(client), opts.connectTimeoutMs ?? 15_000, "migration");
  } catch (e) {
    client.close();
    throw e;
  }
  const db = drizzle(client, { schema });
  const opened = file === undefined ? undefined : identity(file);
  return {
    client,
    db,
    file: opened && file !== undefined ? { path: file, ...opened } : undefined,
    async reconnect() {
      client.reconnect();
      await pragmas();
    },
    close: () => client.close(),
  };
}
