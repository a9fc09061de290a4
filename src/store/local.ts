// A local database file reached through the libsql driver itself, on a connection of its own, for the
// store's reads and writes (sql.ts). The client library converts every value and builds every row with
// property descriptors, asks each statement twice for its columns and tries raw mode by catching an
// exception: a fifth of the time of a run's SQL (claim, mark, end) went there. Here rows are plain objects
// by column name (no access by index: tock's SQL reads columns by name) and integers plain numbers (tock
// stores none beyond 2^53). Errors are the client's (LibsqlError, with its codes), so callers see no
// difference. Statements are kept prepared (kept.ts).
import { type InStatement, type InValue, LibsqlError, type ResultSet, type Row } from "@libsql/client";
import Database from "libsql";
import { type Checkpoints, checkpointInBackground } from "./checkpoints.ts";
import "./kept.ts";

interface Statement {
  readonly reader: boolean;
  raw(on?: boolean): Statement;
  columns(): { name: string }[];
  all(args: unknown[] | Record<string, unknown>): unknown[][];
  run(args: unknown[] | Record<string, unknown>): { changes: number; lastInsertRowid: number | bigint };
}
interface Connection {
  prepare(sql: string): Statement;
  close(): void;
  readonly inTransaction: boolean;
}

/** SQLite's primary result codes, by number (an extended code's low byte). */
const BASE_CODES = [
  "SQLITE_OK", "SQLITE_ERROR", "SQLITE_INTERNAL", "SQLITE_PERM", "SQLITE_ABORT", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_NOMEM",
  "SQLITE_READONLY", "SQLITE_INTERRUPT", "SQLITE_IOERR", "SQLITE_CORRUPT", "SQLITE_NOTFOUND", "SQLITE_FULL", "SQLITE_CANTOPEN",
  "SQLITE_PROTOCOL", "SQLITE_EMPTY", "SQLITE_SCHEMA", "SQLITE_TOOBIG", "SQLITE_CONSTRAINT", "SQLITE_MISMATCH", "SQLITE_MISUSE",
  "SQLITE_NOLFS", "SQLITE_AUTH", "SQLITE_FORMAT", "SQLITE_RANGE", "SQLITE_NOTADB", "SQLITE_NOTICE", "SQLITE_WARNING",
];

/** The driver's error as the client library reports it. */
function libsqlError(e: unknown): unknown {
  const err = e as { name?: string; message?: string; code?: unknown; rawCode?: unknown };
  if (err?.name !== "SqliteError" || typeof err.code !== "string") return e;
  const raw = typeof err.rawCode === "number" ? err.rawCode : undefined;
  const base = raw === undefined ? "SQLITE_UNKNOWN" : (BASE_CODES[raw & 0xff] ?? `SQLITE_UNKNOWN_${raw & 0xff}`);
  return new LibsqlError(String(err.message), base, err.code, raw, e as Error);
}

function valueOf(v: InValue | undefined): unknown {
  switch (typeof v) {
    case "number":
      if (!Number.isFinite(v)) throw new RangeError("Only finite numbers (not Infinity or NaN) can be passed as arguments");
      return v;
    case "string":
    case "bigint":
      return v;
    case "boolean":
      return v ? 1 : 0;
    case "undefined":
      throw new TypeError("undefined cannot be passed as an argument");
    default:
      if (v === null) return null;
      if (v instanceof Date) return v.valueOf();
      if (v instanceof ArrayBuffer) return Buffer.from(v);
      return v;
  }
}

function argsOf(stmt: InStatement): unknown[] | Record<string, unknown> {
  if (typeof stmt === "string" || stmt.args === undefined) return [];
  if (Array.isArray(stmt.args)) return stmt.args.map(valueOf);
  const named: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(stmt.args)) named[/^[@$:]/.test(k) ? k.slice(1) : k] = valueOf(v);
  return named;
}

/** What the driver tells of a kept statement, asked once: whether it returns rows, and their columns. */
const shapes = new WeakMap<Statement, { reader: boolean; columns: string[] }>();

function shapeOf(stmt: Statement): { reader: boolean; columns: string[] } {
  let shape = shapes.get(stmt);
  if (!shape) {
    const reader = stmt.reader;
    if (reader) stmt.raw(true);
    shape = { reader, columns: reader ? stmt.columns().map((c) => c.name) : [] };
    shapes.set(stmt, shape);
  }
  return shape;
}

/** Runs statements: one read, or a write transaction (BEGIN IMMEDIATE … COMMIT). */
export interface Executor {
  execute(stmt: InStatement): Promise<ResultSet>;
  write(stmts: InStatement[]): Promise<ResultSet[]>;
}

/** A statement's result as the driver gives it: rows as arrays of values, in `columns` order. */
interface RawResult {
  columns: string[];
  values: unknown[][];
  rowsAffected: number;
  lastInsertRowid?: bigint;
}

/** The client's shape of a result: rows as plain objects by column name. */
function resultSet(raw: RawResult): ResultSet {
  const { columns, values, rowsAffected, lastInsertRowid } = raw;
  const rows: Row[] = new Array(values.length);
  const n = columns.length;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const row: Record<string, unknown> = {};
    // A name twice in one result (a join's two ids): the first is the one kept, as the client does.
    for (let c = 0; c < n; c++) if (!(columns[c] in row)) row[columns[c]] = v[c];
    rows[i] = row as Row;
  }
  return { columns, columnTypes: columns.map(() => ""), rows, rowsAffected, lastInsertRowid, toJSON: () => ({ columns, rows, rowsAffected }) };
}

function execute(db: Connection, stmt: InStatement): RawResult {
  const sql = typeof stmt === "string" ? stmt : stmt.sql;
  const args = argsOf(stmt);
  let prepared: Statement;
  try {
    prepared = db.prepare(sql);
  } catch (e) {
    throw libsqlError(e);
  }
  const { reader, columns } = shapeOf(prepared);
  try {
    if (!reader) {
      const info = prepared.run(args);
      return { columns, values: [], rowsAffected: info.changes, lastInsertRowid: BigInt(info.lastInsertRowid) };
    }
    return { columns, values: prepared.all(args), rowsAffected: 0 };
  } catch (e) {
    throw libsqlError(e);
  }
}

/** SQLite's default: a commit that grows the WAL past this many pages checkpoints it. */
const AUTOCHECKPOINT_PAGES = 1000;

/** A connection to one database file, opened at first use and again after `reconnect`. */
export class LocalDb {
  #db: Connection | null = null;
  #checkpoints: Checkpoints | null = null;
  /** Whether another thread checkpoints the WAL (checkpoints.ts): this connection's own are off. */
  #offThread = false;

  constructor(
    private readonly path: string,
    /** SQLite's own wait for a lock, in ms. */
    private readonly timeoutMs: number,
    /** Checkpoint the WAL on a thread of its own; `warn` is told if that thread fails. */
    background?: { warn: (msg: string) => void },
  ) {
    if (!background) return;
    this.#checkpoints = checkpointInBackground(path, {
      opened: () => {
        this.#offThread = true;
        this.#autocheckpoint(0);
      },
      failed: (error) => {
        if (!this.#checkpoints) return;
        this.#checkpoints = null;
        this.#offThread = false;
        this.#autocheckpoint(AUTOCHECKPOINT_PAGES);
        background.warn(`WAL checkpoints are made by the committing thread again: the checkpoint thread failed (${error})`);
      },
    });
  }

  #autocheckpoint(pages: number) {
    try {
      this.#db?.prepare(`PRAGMA wal_autocheckpoint=${pages}`).run([]);
    } catch {
      // an unusable connection: the next call opens another, which applies it
    }
  }

  #connection(): Connection {
    if (this.#db) return this.#db;
    const db = new Database(this.path, { timeout: this.timeoutMs }) as unknown as Connection;
    try {
      // Per connection (the file is in WAL mode already: the client turned it).
      db.prepare("PRAGMA synchronous=NORMAL").run([]);
      if (this.#offThread) db.prepare("PRAGMA wal_autocheckpoint=0").run([]);
    } catch (e) {
      db.close();
      throw libsqlError(e);
    }
    return (this.#db = db);
  }

  async execute(stmt: InStatement): Promise<ResultSet> {
    return resultSet(execute(this.#connection(), stmt));
  }

  /** The statements in one write transaction (BEGIN IMMEDIATE), committed, or rolled back on error. */
  async write(stmts: InStatement[]): Promise<ResultSet[]> {
    const db = this.#connection();
    execute(db, "BEGIN IMMEDIATE");
    try {
      const out: RawResult[] = new Array(stmts.length);
      for (let i = 0; i < stmts.length; i++) out[i] = execute(db, stmts[i]);
      execute(db, "COMMIT");
      if (this.#offThread) this.#checkpoints?.wrote();
      return out.map(resultSet);
    } finally {
      if (db.inTransaction) {
        try {
          db.prepare("ROLLBACK").run([]);
        } catch {
          // the connection is unusable: the next call opens another
          this.reconnect();
        }
      }
    }
  }

  /** Drops the connection (after a busy error, see sql.ts); the next call opens a new one. */
  reconnect(): void {
    const db = this.#db;
    this.#db = null;
    try {
      db?.close();
    } catch {
      // already closed
    }
  }

  close(): void {
    this.#checkpoints?.detach();
    this.#checkpoints = null;
    this.reconnect();
  }
}
