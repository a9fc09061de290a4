// A small libSQL server for tests: Hrana over HTTP (JSON, protocol versions 2 and 3), backed by a real
// database file through the `libsql` package. No libSQL server (sqld) can be installed here, so the remote
// mode of tock is tested against this instead.
//
// The protocol is the published one: "The Hrana protocol specification (version 3)",
// https://github.com/tursodatabase/libsql/blob/main/docs/HRANA_3_SPEC.md — section "Hrana over HTTP".
// What it serves:
//   GET  /, /health              200 (anything answering HTTP is "there" for tock's sync_url preflight)
//   GET  /v2, /v3                200: these versions are spoken, JSON encoding
//   GET  /v3-protobuf            404: Protobuf is not (clients then fall back to v2 JSON)
//   POST /v2/pipeline, /v3/pipeline   a pipeline of stream requests on the stream a baton names
//   POST /v3/cursor              a batch whose results stream back as lines of JSON
//
// Streams: each is one database connection (from a small pool), taken on the first pipeline without a
// baton. Every response carries a fresh random baton for the stream (the old one is void at once), or null
// once it is closed; a stream idle for `streamIdleMs` is closed (rolled back if in a transaction), as a
// server does for clients that vanish. So an interactive transaction (BEGIN IMMEDIATE, statements, COMMIT in separate HTTP requests)
// holds its connection and its lock across requests, exactly as on a real server.
//
// Locks: every connection has SQLite's busy timeout 0, and a statement refused for a lock (SQLITE_BUSY) is
// run again (the same prepared statement) here, asynchronously, for up to `busyTimeoutMs` (SQLite's busy
// handler does the same, but synchronously, which would stop this one-threaded server from serving the
// request that releases the lock). Past that the client gets the error as sqld reports it: code
// "SQLITE_BUSY", message "SQLite error: …", and the connection is replaced once out of any transaction (see
// Stream.tainted).
//
// Errors as sqld (libsql-server) reports them: SQLite errors by their primary code name (SQLITE_BUSY,
// SQLITE_CONSTRAINT, …), errors of preparation as SQL_INPUT_ERROR, and SQL_NO_STATEMENT / SQL_MANY_STATEMENTS
// for a statement text with none or several. A request without the expected bearer token gets 401 with
// sqld's own body ({"error": …}), which clients report as "Server returned HTTP status 401".
//
// Known differences from sqld: arguments are not checked against the statement's parameters (libsql binds a
// missing one as NULL and ignores extras; sqld answers ARGS_INVALID); a nameless `?` cannot take a named
// argument (libsql would abort the process: refused as ARGS_INVALID); text is cut at a NUL character (libsql
// does so locally too); `describe` is not served; statements are classified (INSERT/UPDATE/DELETE, for
// affected_row_count) by their first keyword rather than by a parser; sqld's own transaction timeout is not
// enforced (only stream expiry); and there is no replication endpoint: an embedded replica cannot sync from
// this server. docs/storage.md says what the tests built on it cover.
//
// Run it by hand: bun tests/hrana-server.ts --db /tmp/x.db [--port 8080] [--auth-token T] [--busy-timeout 500]
import { randomBytes } from "node:crypto";
import Database from "libsql";

export interface HranaServerOptions {
  /** The database file (created if missing). */
  path: string;
  /** Requests must carry `Authorization: Bearer <authToken>`; none checked if unset. */
  authToken?: string;
  /** How long a statement waits for a lock held by another connection before SQLITE_BUSY (default 500). */
  busyTimeoutMs?: number;
  /** A stream with no request for this long is closed, its transaction rolled back (default 10 s). */
  streamIdleMs?: number;
  /** Answer every stream response with this server's URL as `base_url` (the client must then use it). */
  sendBaseUrl?: boolean;
  port?: number;
  hostname?: string;
}

export interface HranaStats {
  /** HTTP requests by "METHOD /path". */
  http: Record<string, number>;
  /** Stream requests by type (execute, batch, sequence, store_sql, close, …). */
  requests: Record<string, number>;
  /** Pipelines and cursors that continued a stream by its baton. */
  batonsUsed: number;
  streamsOpened: number;
  streamsExpired: number;
  /** Responses after which the stream stayed inside a transaction (an interactive transaction spanning requests). */
  openTransactionsAcrossRequests: number;
  /** Statements that met a lock and waited for it. */
  busyWaits: number;
  /** Statements that gave up on a lock: SQLITE_BUSY sent to the client. */
  busyErrors: number;
  authFailures: number;
  /** Pipelines whose baton was unknown (expired, already used or forged). */
  badBatons: number;
}

export interface HranaServer {
  url: string;
  port: number;
  stats: HranaStats;
  /** Streams open now, and how many of them are inside a transaction. */
  streams(): { open: number; inTransaction: number };
  /** Closes every stream (rolling back) and stops listening. */
  stop(): Promise<void>;
}

// --- the protocol's structures (JSON) -------------------------------------------------------------------

type Value = { type: "null" } | { type: "integer"; value: string } | { type: "float"; value: number } | { type: "text"; value: string } | { type: "blob"; base64: string };
interface Stmt {
  sql?: string | null;
  sql_id?: number | null;
  args?: Value[];
  named_args?: { name: string; value: Value }[];
  want_rows?: boolean;
}
type Cond =
  | { type: "ok"; step: number }
  | { type: "error"; step: number }
  | { type: "not"; cond: Cond }
  | { type: "and"; conds: Cond[] }
  | { type: "or"; conds: Cond[] }
  | { type: "is_autocommit" };
interface Batch {
  steps: { condition?: Cond | null; stmt: Stmt }[];
}
interface StreamRequest {
  type: string;
  stmt?: Stmt;
  batch?: Batch;
  sql?: string | null;
  sql_id?: number | null;
}
interface ProtoError {
  message: string;
  code: string;
}
interface Col {
  name: string | null;
  decltype: string | null;
}
interface StmtResult {
  cols: Col[];
  rows: Value[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
}

/** An error to report to the client as a Hrana Error. */
class HranaError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
  toProto(): ProtoError {
    return { message: this.message, code: this.code };
  }
}

// --- SQLite values and errors ---------------------------------------------------------------------------

const PRIMARY_CODES: Record<number, string> = {
  1: "SQLITE_ERROR",
  2: "SQLITE_INTERNAL",
  3: "SQLITE_PERM",
  4: "SQLITE_ABORT",
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  7: "SQLITE_NOMEM",
  8: "SQLITE_READONLY",
  9: "SQLITE_INTERRUPT",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  12: "SQLITE_NOTFOUND",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  15: "SQLITE_PROTOCOL",
  17: "SQLITE_SCHEMA",
  18: "SQLITE_TOOBIG",
  19: "SQLITE_CONSTRAINT",
  20: "SQLITE_MISMATCH",
  21: "SQLITE_MISUSE",
  22: "SQLITE_NOLFS",
  23: "SQLITE_AUTH",
  25: "SQLITE_RANGE",
  26: "SQLITE_NOTADB",
};

interface SqliteError {
  message: string;
  code?: string;
  rawCode?: number;
}

const rawCodeOf = (e: unknown): number | undefined => {
  const raw = (e as SqliteError)?.rawCode;
  return typeof raw === "number" ? raw : undefined;
};

/** SQLITE_BUSY itself, not SQLITE_BUSY_SNAPSHOT (a stale read transaction, which waiting cannot cure). */
const isLockWait = (e: unknown) => {
  const raw = rawCodeOf(e);
  return raw !== undefined && (raw & 0xff) === 5 && raw !== 517;
};

/** An error from libsql as sqld reports it: SQLite errors by primary code; failures to prepare as input errors. */
function fromSqlite(e: unknown, preparing: boolean): HranaError {
  if (e instanceof HranaError) return e;
  const raw = rawCodeOf(e);
  const message = (e as Error)?.message ?? String(e);
  if (raw === undefined) return new HranaError(`Internal error: ${message}`, "INTERNAL");
  const code = PRIMARY_CODES[raw & 0xff] ?? "SQLITE_UNKNOWN";
  if (preparing && code === "SQLITE_ERROR") return new HranaError(`SQL input error: ${message}`, "SQL_INPUT_ERROR");
  return new HranaError(`SQLite error: ${message}`, code);
}

function valueIn(v: Value): unknown {
  switch (v?.type) {
    case "null":
      return null;
    case "integer":
      return BigInt(v.value);
    case "float":
      return Number(v.value);
    case "text":
      return String(v.value);
    case "blob":
      return Buffer.from(v.base64, "base64");
    default:
      throw new HranaError(`Unknown value type ${JSON.stringify((v as { type?: unknown })?.type)}`, "PROTO_ERROR");
  }
}

function valueOut(v: unknown): Value {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  if (typeof v === "number") return { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  if (v instanceof Uint8Array) return { type: "blob", base64: Buffer.from(v).toString("base64") };
  if (v instanceof ArrayBuffer) return { type: "blob", base64: Buffer.from(v).toString("base64") };
  return { type: "text", value: String(v) };
}

// --- SQL text -------------------------------------------------------------------------------------------

/** The SQL text with its quoted strings, quoted identifiers and comments blanked out (same length). */
function blankOut(sql: string): string {
  const out = sql.split("");
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== "\n") out[k] = " ";
  };
  while (i < sql.length) {
    const c = sql[i];
    let end = i + 1;
    if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      end = nl < 0 ? sql.length : nl;
    } else if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      end = close < 0 ? sql.length : close + 2;
    } else if (c === "'" || c === '"' || c === "`" || c === "[") {
      const closer = c === "[" ? "]" : c;
      end = sql.length;
      for (let j = i + 1; j < sql.length; j++) {
        if (sql[j] !== closer) continue;
        if (closer !== "]" && sql[j + 1] === closer) {
          j++; // a doubled quote inside
          continue;
        }
        end = j + 1;
        break;
      }
    } else {
      i++;
      continue;
    }
    blank(i, end);
    i = end;
  }
  return out.join("");
}

/**
 * The statements of an SQL text, split at top-level semicolons (outside quotes, identifiers and comments;
 * a CREATE TRIGGER's body runs to the END before its semicolon), trimmed, empty ones dropped. sqld parses a
 * statement text the same way and refuses none or several in one statement.
 */
export function splitStatements(sql: string): string[] {
  const code = blankOut(sql);
  const out: string[] = [];
  let start = 0;
  let words: string[] = [];
  for (const m of code.matchAll(/[A-Za-z_][A-Za-z0-9_$]*|;/g)) {
    if (m[0] !== ";") {
      words.push(m[0].toUpperCase());
      continue;
    }
    const trigger = words[0] === "CREATE" && (words[1] === "TRIGGER" || (/^TEMP(ORARY)?$/.test(words[1] ?? "") && words[2] === "TRIGGER"));
    if (trigger && words[words.length - 1] !== "END") continue;
    if (code.slice(start, m.index).trim() !== "") out.push(sql.slice(start, m.index).trim());
    start = m.index + 1;
    words = [];
  }
  if (code.slice(start).trim() !== "") out.push(sql.slice(start).trim());
  return out;
}

/** Whether the statement has a nameless `?` parameter (which libsql cannot bind by name: it aborts). */
const hasNamelessParam = (sql: string) => /\?(?![0-9])/.test(blankOut(sql));

/** INSERT/REPLACE, UPDATE, DELETE: the statements whose affected_row_count and last_insert_rowid mean something. */
function kindOf(sql: string): { iud: boolean; insert: boolean; cte: boolean } {
  const first = /^[A-Za-z]+/.exec(sql)?.[0]?.toUpperCase() ?? "";
  const insert = first === "INSERT" || first === "REPLACE";
  return { iud: insert || first === "UPDATE" || first === "DELETE", insert, cte: first === "WITH" };
}

// --- streams --------------------------------------------------------------------------------------------

type Connection = InstanceType<typeof Database>;

interface Stream {
  conn: Connection;
  /**
   * A statement of this connection was refused for a lock and given up on. libsql cannot reset it, and
   * SQLite keeps such a statement active, and with it the connection's transaction: later statements in
   * "autocommit" would then never commit, though reported done. So the connection is replaced (see settle).
   */
  tainted: boolean;
  sqls: Map<number, string>;
  /** A request on it is being served (a second one with the same baton is refused). */
  serving: boolean;
  closed: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SQLite's default busy handler's pauses (ms), then 100 ms each. */
const PAUSES = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50];

/** How many idle connections are kept for new streams. */
const POOL = 16;

export function startHranaServer(opts: HranaServerOptions): HranaServer {
  const busyTimeoutMs = opts.busyTimeoutMs ?? 500;
  const streamIdleMs = opts.streamIdleMs ?? 10_000;
  const stats: HranaStats = {
    http: {},
    requests: {},
    batonsUsed: 0,
    streamsOpened: 0,
    streamsExpired: 0,
    openTransactionsAcrossRequests: 0,
    busyWaits: 0,
    busyErrors: 0,
    authFailures: 0,
    badBatons: 0,
  };
  const batons = new Map<string, Stream>();
  const live = new Set<Stream>();

  // WAL, as sqld runs its databases: readers are not blocked by a writer. This connection stays open while
  // the server runs, as a server's own does: the last connection of a WAL database to close checkpoints it
  // and deletes its -wal and -shm files, which connections closed with statements not yet finalized (libsql
  // finalizes them when they are collected) must never see.
  const anchor = new Database(opts.path, { timeout: 5000 });
  anchor.exec("PRAGMA journal_mode=WAL");

  // Connections are pooled: opening one per stream (tock opens a stream for every statement) leaves two
  // file descriptors per closed connection until its statements are collected.
  const idle: Connection[] = [];
  const acquire = (): Connection => idle.pop() ?? new Database(opts.path, { timeout: 0 });
  const release = (conn: Connection, tainted: boolean) => {
    if (!tainted && idle.length < POOL) {
      try {
        if (conn.inTransaction) conn.exec("ROLLBACK");
        idle.push(conn);
        return;
      } catch {
        // closed below
      }
    }
    try {
      if (conn.inTransaction) conn.exec("ROLLBACK");
    } catch {
      // closing rolls back anyway
    }
    try {
      conn.close();
    } catch {
      // already closed
    }
  };

  /** A tainted connection out of its transaction is swapped for a fresh one (no one can tell: none is in progress). */
  const settle = (s: Stream) => {
    if (!s.tainted || s.closed || s.conn.inTransaction) return;
    release(s.conn, true);
    s.conn = acquire();
    s.tainted = false;
  };

  const openStream = (): Stream => {
    const s: Stream = { conn: acquire(), tainted: false, sqls: new Map(), serving: false, closed: false };
    live.add(s);
    stats.streamsOpened++;
    return s;
  };

  const closeStream = (s: Stream) => {
    if (s.closed) return;
    s.closed = true;
    clearTimeout(s.timer);
    live.delete(s);
    release(s.conn, s.tainted);
  };

  /** A new baton for the stream, and its idle timer restarted. */
  const handOver = (s: Stream): string | null => {
    if (s.closed) return null;
    const baton = randomBytes(18).toString("base64url");
    batons.set(baton, s);
    clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      batons.delete(baton);
      if (!s.closed) stats.streamsExpired++;
      closeStream(s);
    }, streamIdleMs);
    s.timer.unref?.();
    if (s.conn.inTransaction) stats.openTransactionsAcrossRequests++;
    return baton;
  };

  /**
   * Runs `work` until it is not refused for a lock, waiting asynchronously between tries, up to the busy
   * timeout; then the SQLITE_BUSY error goes to the client.
   */
  async function withLockWait<T>(work: () => T): Promise<T> {
    const until = performance.now() + busyTimeoutMs;
    for (let n = 0; ; n++) {
      try {
        return work();
      } catch (e) {
        if (!isLockWait(e)) throw e;
        const pause = PAUSES[n] ?? 100;
        if (performance.now() + pause > until) {
          stats.busyErrors++;
          throw e;
        }
        if (n === 0) stats.busyWaits++;
        await sleep(pause);
      }
    }
  }

  const sqlOf = (s: Stream, sql: string | null | undefined, sqlId: number | null | undefined): string => {
    if (sql != null && sqlId != null) throw new HranaError("Only one of `sql` and `sql_id` may be given", "PROTO_ERROR");
    if (sql != null) return sql;
    if (sqlId != null) {
      const stored = s.sqls.get(sqlId);
      if (stored === undefined) throw new HranaError(`SQL text ${sqlId} not found`, "SQL_NOT_FOUND");
      return stored;
    }
    throw new HranaError("One of `sql` and `sql_id` must be given", "PROTO_ERROR");
  };

  const one = (conn: Connection, sql: string): bigint[] => conn.prepare(sql).raw(true).safeIntegers(true).all()[0] as bigint[];

  async function execute(s: Stream, stmt: Stmt): Promise<StmtResult> {
    const text = sqlOf(s, stmt.sql, stmt.sql_id);
    const parts = splitStatements(text);
    if (parts.length === 0) throw new HranaError("SQL string does not contain any statement", "SQL_NO_STATEMENT");
    if (parts.length > 1) throw new HranaError("SQL string contains more than one statement", "SQL_MANY_STATEMENTS");
    const sql = parts[0];
    const args = stmt.args ?? [];
    const named = stmt.named_args ?? [];
    let params: unknown[] | Record<string, unknown>;
    if (named.length === 0) params = args.map(valueIn);
    else if (hasNamelessParam(sql)) throw new HranaError("Arguments do not match SQL parameters: a nameless `?` cannot take a named argument", "ARGS_INVALID");
    else if (args.length === 0) params = Object.fromEntries(named.map((a) => [a.name.replace(/^[:@$]/, ""), valueIn(a.value)]));
    else throw new HranaError("Specifying both positional and named arguments is not supported", "ARGS_BOTH_POSITIONAL_AND_NAMED");
    const kind = kindOf(sql);
    const conn = s.conn;

    // One prepared statement for every try: running it again resets it, as SQLite's busy handler retries.
    let prepared: ReturnType<Connection["prepare"]> | undefined;
    let stuck = false; // the statement's last try was refused for a lock: it is left active
    // libsql takes positional arguments spread, named ones as one object (names without their prefix).
    const bound = Array.isArray(params) ? params : [params];
    type Run = (...a: unknown[]) => unknown;
    try {
      return await withLockWait(() => {
        if (!prepared) {
          try {
            prepared = conn.prepare(sql);
          } catch (e) {
            if (isLockWait(e)) throw e;
            throw fromSqlite(e, true);
          }
          // raw (rows as arrays) is for statements that return rows only; safeIntegers: integers as bigint.
          if (prepared.reader) prepared.raw(true);
          prepared.safeIntegers(true);
        }
        const st = prepared;
        const cols: Col[] = st.columns().map((c) => ({ name: c.name, decltype: c.type ?? null }));
        const before = kind.cte ? one(conn, "SELECT total_changes()")[0] : 0n;
        let rows: unknown[][] = [];
        try {
          // `all` runs the statement to its end: a statement left half-read would keep its read transaction.
          if (st.reader) rows = (st.all as Run).apply(st, bound) as unknown[][];
          else (st.run as Run).apply(st, bound);
        } catch (e) {
          const raw = rawCodeOf(e);
          if (raw !== undefined && ((raw & 0xff) === 5 || (raw & 0xff) === 6)) stuck = true;
          if (isLockWait(e)) throw e;
          throw fromSqlite(e, false);
        }
        stuck = false;
        const iud = kind.iud || (kind.cte && one(conn, "SELECT total_changes()")[0] !== before);
        const [changes, rowid] = iud ? one(conn, "SELECT changes(), last_insert_rowid()") : [0n, 0n];
        return {
          cols,
          rows: stmt.want_rows === false ? [] : rows.map((r) => r.map(valueOut)),
          affected_row_count: Number(changes),
          last_insert_rowid: kind.insert ? String(rowid) : null,
        };
      });
    } finally {
      // A statement that ran after a lock wait was reset by running it; one given up on was not.
      if (stuck) s.tainted = true;
      settle(s);
    }
  }

  function evalCond(s: Stream, c: Cond | null | undefined, ok: (boolean | undefined)[], version: number): boolean {
    if (c == null) return true;
    switch (c.type) {
      case "ok":
        return ok[c.step] === true;
      case "error":
        return ok[c.step] === false;
      case "not":
        return !evalCond(s, c.cond, ok, version);
      case "and":
        return c.conds.every((x) => evalCond(s, x, ok, version));
      case "or":
        return c.conds.some((x) => evalCond(s, x, ok, version));
      case "is_autocommit":
        if (version < 3) throw new HranaError("The `is_autocommit` condition needs Hrana 3", "PROTO_ERROR");
        return !s.conn.inTransaction;
      default:
        throw new HranaError(`Unknown condition type ${JSON.stringify((c as { type?: unknown }).type)}`, "PROTO_ERROR");
    }
  }

  /** Runs a batch step by step; `each` sees every step as it ends (for cursors). */
  async function runBatch(s: Stream, batch: Batch, version: number, each?: (step: number, r: StmtResult | null, e: ProtoError | null) => void) {
    const results: (StmtResult | null)[] = [];
    const errors: (ProtoError | null)[] = [];
    const ok: (boolean | undefined)[] = [];
    for (let i = 0; i < batch.steps.length; i++) {
      const step = batch.steps[i];
      if (!evalCond(s, step.condition, ok, version)) {
        results.push(null);
        errors.push(null);
        continue;
      }
      try {
        const r = await execute(s, step.stmt);
        results.push(r);
        errors.push(null);
        ok[i] = true;
        each?.(i, r, null);
      } catch (e) {
        const err = fromSqlite(e, false).toProto();
        results.push(null);
        errors.push(err);
        ok[i] = false;
        each?.(i, null, err);
      }
    }
    return { step_results: results, step_errors: errors };
  }

  async function serveRequest(s: Stream, req: StreamRequest, version: number): Promise<Record<string, unknown>> {
    switch (req.type) {
      case "close":
        closeStream(s);
        return { type: "close" };
      case "execute":
        return { type: "execute", result: await execute(s, req.stmt ?? {}) };
      case "batch":
        return { type: "batch", result: await runBatch(s, req.batch ?? { steps: [] }, version) };
      case "sequence": {
        // Statement by statement, so a lock wait retries only the statement that met the lock. `exec`
        // finalizes its statement, even after an error.
        for (const sql of splitStatements(sqlOf(s, req.sql, req.sql_id))) {
          await withLockWait(() => {
            try {
              s.conn.exec(sql);
            } catch (e) {
              if (isLockWait(e)) throw e;
              throw fromSqlite(e, false);
            }
          });
        }
        return { type: "sequence" };
      }
      case "store_sql": {
        const id = (req as { sql_id?: number }).sql_id;
        if (typeof id !== "number" || typeof req.sql !== "string") throw new HranaError("store_sql needs sql_id and sql", "PROTO_ERROR");
        if (s.sqls.has(id)) throw new HranaError(`SQL text ${id} is already stored`, "PROTO_ERROR");
        s.sqls.set(id, req.sql);
        return { type: "store_sql" };
      }
      case "close_sql":
        s.sqls.delete((req as { sql_id?: number }).sql_id ?? -1);
        return { type: "close_sql" };
      case "get_autocommit":
        if (version < 3) throw new HranaError("get_autocommit needs Hrana 3", "PROTO_ERROR");
        return { type: "get_autocommit", is_autocommit: !s.conn.inTransaction };
      case "describe":
        throw new HranaError("describe is not served by this test server", "NOT_SUPPORTED");
      default:
        throw new HranaError(`Unknown request type ${JSON.stringify(req.type)}`, "PROTO_ERROR");
    }
  }

  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  // The Error structure (message, code) on an HTTP error, which clients parse into a coded error.
  const httpError = (status: number, message: string, code: string) => json({ message, code }, status);

  /** The stream a request names by its baton (or a new one), marked as being served. */
  const streamFor = (baton: string | null | undefined): Stream | Response => {
    if (baton == null) return openStream();
    const s = batons.get(baton);
    batons.delete(baton); // a baton is good for one request
    if (!s || s.closed) {
      stats.badBatons++;
      return httpError(400, "The stream has expired or the baton is invalid", "STREAM_EXPIRED");
    }
    if (s.serving) return httpError(400, "A request on this stream is already being served", "STREAM_BUSY");
    stats.batonsUsed++;
    return s;
  };

  let baseUrl = "";

  /**
   * Reads a request body, finds the stream its baton names (or opens one), and serves `work` on it, one
   * request at a time per stream; answers with what `answer` makes of the next baton.
   */
  async function onStream<B extends { baton?: string | null }>(req: Request, work: (s: Stream, body: B) => Promise<void>, answer: (baton: string | null, head: { baton: string | null; base_url: string | null }) => Response): Promise<Response> {
    let body: B;
    try {
      body = (await req.json()) as B;
    } catch {
      return httpError(400, "The request body is not valid JSON", "PROTO_ERROR");
    }
    const s = streamFor(body.baton);
    if (s instanceof Response) return s;
    s.serving = true;
    try {
      await work(s, body);
    } finally {
      s.serving = false;
    }
    const baton = handOver(s);
    return answer(baton, { baton, base_url: opts.sendBaseUrl && baton ? baseUrl : null });
  }

  function pipeline(req: Request, version: number): Promise<Response> {
    const results: unknown[] = [];
    return onStream<{ baton?: string | null; requests?: StreamRequest[] }>(
      req,
      async (s, body) => {
        for (const r of body.requests ?? []) {
          stats.requests[r.type] = (stats.requests[r.type] ?? 0) + 1;
          if (s.closed) {
            results.push({ type: "error", error: { message: "The stream is closed", code: "STREAM_CLOSED" } });
            continue;
          }
          try {
            results.push({ type: "ok", response: await serveRequest(s, r, version) });
          } catch (e) {
            results.push({ type: "error", error: fromSqlite(e, false).toProto() });
          }
        }
      },
      (_, head) => json({ ...head, results }),
    );
  }

  function cursor(req: Request): Promise<Response> {
    const lines: unknown[] = [];
    return onStream<{ baton?: string | null; batch?: Batch }>(
      req,
      async (s, body) => {
        try {
          stats.requests.cursor = (stats.requests.cursor ?? 0) + 1;
          await runBatch(s, body.batch ?? { steps: [] }, 3, (step, r, e) => {
            if (e) {
              lines.push({ type: "step_error", step, error: e });
              return;
            }
            lines.push({ type: "step_begin", step, cols: r!.cols });
            for (const row of r!.rows) lines.push({ type: "row", row });
            lines.push({ type: "step_end", affected_row_count: r!.affected_row_count, last_insert_rowid: r!.last_insert_rowid });
          });
        } catch (e) {
          lines.push({ type: "error", error: fromSqlite(e, false).toProto() });
        }
      },
      (_, head) => new Response([head, ...lines].map((l) => `${JSON.stringify(l)}\n`).join(""), { headers: { "content-type": "text/plain" } }),
    );
  }

  const authorized = (req: Request): Response | null => {
    if (opts.authToken === undefined) return null;
    const header = req.headers.get("authorization");
    if (header === `Bearer ${opts.authToken}`) return null;
    stats.authFailures++;
    // sqld's own answer: 401 with {"error": …}, which is not a Hrana Error structure.
    const why = header === null ? "The `Authorization` HTTP header is required but was not specified" : "The JWT is invalid";
    return new Response(JSON.stringify({ error: `Unauthorized: \`${why}\`` }), { status: 401, headers: { "content-type": "application/json" } });
  };

  const server = Bun.serve({
    port: opts.port ?? 0,
    hostname: opts.hostname ?? "127.0.0.1",
    async fetch(req) {
      const path = new URL(req.url).pathname.replace(/\/+$/, "") || "/";
      const key = `${req.method} ${path}`;
      stats.http[key] = (stats.http[key] ?? 0) + 1;
      if (req.method === "GET") {
        if (path === "/" || path === "/health") return new Response("hrana test server\n");
        if (path === "/v2" || path === "/v3") return new Response("ok\n");
        return new Response("not found\n", { status: 404 });
      }
      if (req.method === "POST") {
        const denied = authorized(req);
        if (denied) return denied;
        if (path === "/v2/pipeline") return pipeline(req, 2);
        if (path === "/v3/pipeline") return pipeline(req, 3);
        if (path === "/v3/cursor") return cursor(req);
      }
      return new Response("not found\n", { status: 404 });
    },
  });
  baseUrl = `http://${server.hostname}:${server.port}/`;

  return {
    url: `http://${server.hostname}:${server.port}`,
    port: server.port!,
    stats,
    streams: () => ({ open: live.size, inTransaction: [...live].filter((s) => !s.closed && s.conn.inTransaction).length }),
    async stop() {
      await server.stop(true);
      for (const s of [...live]) closeStream(s);
      batons.clear();
      anchor.close();
    },
  };
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const path = arg("db");
  if (!path) {
    process.stderr.write("usage: bun tests/hrana-server.ts --db FILE [--port N] [--auth-token T] [--busy-timeout MS] [--stream-idle MS]\n");
    process.exit(2);
  }
  const s = startHranaServer({
    path,
    port: Number(arg("port") ?? 0),
    authToken: arg("auth-token"),
    busyTimeoutMs: arg("busy-timeout") ? Number(arg("busy-timeout")) : undefined,
    streamIdleMs: arg("stream-idle") ? Number(arg("stream-idle")) : undefined,
  });
  process.stdout.write(`${JSON.stringify({ msg: "hrana server listening", url: s.url })}\n`);
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void s.stop().then(() => process.exit(0)));
}
