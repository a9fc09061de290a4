// Opens the libSQL database in one of its three storage modes (a file, a server, an embedded replica) and
// applies migrations.
import { existsSync } from "node:fs";
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { BUSY_SLICE_MS, retryBusy, WriteGate } from "./busy.ts";
import { databaseFilePath, secureDatabaseFile, secureReplicaFiles, type Warn } from "./file.ts";
import { identity, type OpenedFile } from "./file-identity.ts";
import "./kept.ts";
import { type Executor, LocalDb } from "./local.ts";
import { migrate } from "./migrate.ts";
import * as schema from "./schema.ts";

export type { Executor } from "./local.ts";

export type Db = ReturnType<typeof drizzle<typeof schema>>;


export interface DatabaseConfig {
  url: string;
  authToken?: string;
  syncUrl?: string;
  syncIntervalMs?: number;
  /** How long a write waits for a locked database before it fails unavailable ([database] busy_timeout). */
  busyTimeoutMs?: number;
}

export interface Store {
  client: Client;
  db: Db;
  /** The database file as opened (a local file or an embedded replica): its path and identity. */
  file?: OpenedFile;
  /** How long a write waits for a locked database by default ([database] busy_timeout). */
  writeWaitMs: number;
  /** An embedded replica: writes go to its primary. */
  replica: boolean;
  /**
   * What sql.ts's reads and writes run on: for a local file (not a replica) the driver itself, on a
   * connection of its own (local.ts); otherwise the client. (drizzle's few queries go through the client.)
   */
  sql: Executor;
  /** One write at a time tries a local file (busy.ts); none for a server, reached asynchronously. */
  gate?: WriteGate;
  /** Told of every database call once it returns (the node's metrics): a statement read, or a write's batch. */
  observe?: (kind: "read" | "write", ms: number, ok: boolean) => void;
  /** Drops every pooled connection (after a busy error) and re-applies the connection pragmas. */
  reconnect(): Promise<void>;
  close(): void;
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
  /** `checkpointThread`: a local file's WAL is checkpointed on a thread of its own (checkpoints.ts), for a serving node. */
  opts: { migrate?: boolean; connectTimeoutMs?: number; warn?: Warn; checkpointThread?: boolean } = {},
): Promise<Store> {
  const local = config.url.startsWith("file:") || config.url === ":memory:";
  if (config.syncUrl) await preflight(config.syncUrl, opts.connectTimeoutMs ?? 15_000);
  const file = databaseFilePath(config.url);
  // A replica's file is made by libSQL (it refuses an empty one made beforehand), and restricted after.
  const newReplica = file !== undefined && Boolean(config.syncUrl) && !existsSync(file);
  if (file !== undefined && !newReplica) secureDatabaseFile(file, opts.warn ?? (() => {}));
  const client = await bounded(
    async () =>
      createClient({
        url: config.url,
        authToken: config.authToken || undefined,
        syncUrl: config.syncUrl || undefined,
        syncInterval: config.syncUrl && config.syncIntervalMs ? config.syncIntervalMs / 1000 : undefined,
        // A replica reads its own writes at once (libSQL's default, made explicit: the API relies on it).
        readYourWrites: config.syncUrl ? true : undefined,
        // SQLite's own wait for a lock blocks the event loop: a short slice, the rest is waited for
        // asynchronously (busy.ts). Only this option reaches every pooled connection (a PRAGMA reaches one).
        timeout: BUSY_SLICE_MS,
        // One connection for a local file: every call is synchronous anyway, and the connection pragmas
        // (synchronous=NORMAL) then hold for every statement, not only on the first of a pool.
        concurrency: local ? 1 : undefined,
      }),
    opts.connectTimeoutMs ?? 15_000,
    `database ${config.syncUrl ? config.syncUrl : config.url}`,
  );
  const writeWaitMs = config.busyTimeoutMs ?? 5000;
  if (newReplica && file !== undefined) secureReplicaFiles(file);
  const pragmas = async () => {
    if (local && !config.syncUrl) {
      await client.execute("PRAGMA journal_mode=WAL");
      await client.execute("PRAGMA synchronous=NORMAL");
    }
  };
  try {
    // Turning a new file to WAL takes its lock, which another process starting at once may hold.
    await retryBusy(pragmas, opts.connectTimeoutMs ?? 15_000, () => client.reconnect());
    if (opts.migrate !== false) await bounded(() => migrate(client, undefined, opts.connectTimeoutMs ?? 15_000), opts.connectTimeoutMs ?? 15_000, "migration");
  } catch (e) {
    client.close();
    throw e;
  }
  const opened = file === undefined ? undefined : identity(file);
  const warn = (msg: string) => opts.warn?.(msg);
  const direct = file === undefined || config.syncUrl ? undefined : new LocalDb(file, BUSY_SLICE_MS, opts.checkpointThread ? { warn } : undefined);
  const store: Store = {
    client,
    db: drizzle(client, { schema }),
    file: opened && file !== undefined ? { path: file, ...opened } : undefined,
    writeWaitMs,
    replica: Boolean(config.syncUrl),
    sql: direct ?? { execute: (stmt) => client.execute(stmt), write: (stmts) => client.batch(stmts, "write") },
    gate: local ? new WriteGate() : undefined,
    async reconnect() {
      // A local connection that met a busy error is dropped (see sql.ts); a server's HTTP streams are not
      // affected, and replacing them would fail requests under way.
      if (!local) return;
      direct?.reconnect();
      client.reconnect();
      await pragmas();
    },
    close: () => {
      direct?.close();
      client.close();
    },
  };
  timeCalls(store);
  return store;
}

/** Times the client's calls for `store.observe` (drizzle's queries go through the same two methods). */
function timeCalls(store: Store): void {
  const { client } = store;
  const timed = <A extends unknown[], R>(call: (...args: A) => Promise<R>, kindOf: (args: A) => "read" | "write") =>
    (...args: A): Promise<R> => {
      const observe = store.observe;
      if (!observe) return call(...args);
      const started = performance.now();
      // (then, not an async wrapper: one promise more per call, not three)
      return call(...args).then(
        (result) => {
          observe(kindOf(args), performance.now() - started, true);
          return result;
        },
        (e) => {
          observe(kindOf(args), performance.now() - started, false);
          throw e;
        },
      );
    };
  client.execute = timed(client.execute.bind(client) as (...args: unknown[]) => Promise<any>, () => "read") as Client["execute"];
  client.batch = timed(client.batch.bind(client), (args) => (args[1] === "write" ? "write" : "read"));
  // (Through the client, the calls above time them.)
  const sql = store.sql;
  if (sql instanceof LocalDb) {
    sql.execute = timed(sql.execute.bind(sql), () => "read");
    sql.write = timed(sql.write.bind(sql), () => "write");
  }
}
