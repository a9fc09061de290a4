// The local database file holds every job with its targets, headers and payloads: it is created readable
// by its owner only. SQLite creates the -wal and -shm files with the database file's own mode, so creating
// that one file 0600 before libSQL opens it covers all three (tests/store/file.test.ts checks it).
import { chmodSync, closeSync, existsSync, openSync, statSync } from "node:fs";

/**
 * The file a `file:` URL names, read as libSQL reads it (@libsql/core parseUri: an optional empty or
 * localhost authority, a percent-decoded path, query and fragment ignored); undefined for in-memory and
 * remote databases, and for URLs libSQL itself will refuse.
 */
export function databaseFilePath(url: string): string | undefined {
  const m = /^file:(?:\/\/([^/?#]*))?([^?#]*)/i.exec(url);
  if (!m) return undefined;
  const [, authority, raw] = m;
  if (authority !== undefined && authority !== "" && authority.toLowerCase() !== "localhost") return undefined;
  let path = raw;
  try {
    path = decodeURIComponent(raw);
  } catch {
    // libSQL keeps a path it cannot decode as written
  }
  return path === "" || path === ":memory:" ? undefined : path;
}

export type Warn = (msg: string, fields?: Record<string, unknown>) => void;

/**
 * Creates the database file with mode 0600 if it does not exist. An existing file keeps its mode (it is the
 * operator's), with a warning when group or others may open it.
 */
export function secureDatabaseFile(path: string, warn: Warn): void {
  try {
    // "wx": only if absent, so a file made a moment ago by another node is never truncated.
    closeSync(openSync(path, "wx", 0o600));
    return;
  } catch (e) {
    // A missing directory or no permission: libSQL fails to open it next, with its own message.
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") return;
  }
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return;
  }
  if (mode & 0o077) {
    warn("the database file can be read or written by group or others: it holds every job, with its targets and headers (chmod 600 it)", {
      file: path,
      mode: `0${mode.toString(8)}`,
    });
  }
}

/**
 * An embedded replica's files, once libSQL made them: readable by their owner only. (libSQL refuses to make
 * a replica of a file that exists without its replication index, so the replica's file cannot be created
 * 0600 beforehand; it holds the same jobs.)
 */
export function secureReplicaFiles(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`, `${path}-info`, `${path}-client_wal_index`]) {
    try {
      if (existsSync(f)) chmodSync(f, 0o600);
    } catch {
      // not ours to change: the operator's
    }
  }
}
