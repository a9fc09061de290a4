// A run's output lines (run_logs): query parsing, paged listing and live following.
import type { RunEvents } from "./ports.ts";
import type { Store } from "../store/client.ts";
import { type LogRow, logLines } from "../store/logs.ts";
import { runState } from "../store/runs.ts";
import { type Access, FULL_ACCESS, sees } from "./access.ts";
import type { DomainDeps } from "./deps.ts";
import { invalid, notFound } from "./errors.ts";
import { parseRfc3339 } from "../schedule/iso8601.ts";
import { decodeCursor, encodeCursor, iso } from "./ids.ts";
import { FINISHED_STATUSES } from "./runs.ts";

export const LOG_STREAMS = ["stdout", "stderr", "tock"] as const;
export type LogStreamName = (typeof LOG_STREAMS)[number];


export interface LogLine {
  seq: number;
  at: string;
  stream: string;
  line: string;
}

/** Which lines: `since` inclusive and `until` exclusive (ms), `streams` (all when absent). */
export interface LogFilter {
  since?: number;
  until?: number;
  streams?: LogStreamName[];
}

export interface LogPage {
  runId: number;
  status: string;
  items: LogLine[];
  nextCursor: string | null;
}

/** Query parameters as the client sent them (empty counts as absent). */
export interface RawLogFilter {
  since?: string;
  until?: string;
  stream?: string;
}

const UNIX_SECONDS = /^(\d{1,12})(?:\.(\d{1,9}))?$/;
/** Digits of a fraction past the millisecond: RFC 3339 (`…:05.0001Z`) or Unix seconds (`….0001`). */
const SUB_MS = /[.,]\d{3}(\d+)/;

/**
 * An instant given as RFC 3339 (any offset, optional fraction) or Unix seconds, to ms; throws `invalid`
 * naming `field`. A fraction finer than a millisecond rounds up: `at` is whole ms, and for whole `at` both
 * `at >= t` and `at < t` equal the same comparison with ceil(t), so rounding up loses nothing.
 */
export function parseInstant(raw: string, field: string): number {
  const unix = UNIX_SECONDS.exec(raw);
  const ms = unix ? Number(unix[1]) * 1000 + Number((unix[2] ?? "").slice(0, 3).padEnd(3, "0")) : parseRfc3339(raw);
  if (ms === null) throw invalid(`${field} must be an RFC 3339 time (2026-11-21T10:00:00Z) or Unix seconds`, field);
  const rest = SUB_MS.exec(raw)?.[1];
  return rest && /[1-9]/.test(rest) ? ms + 1 : ms;
}

/** `stdout`, `stderr`, `tock` or a comma list of them. */
export function parseStreams(raw: string, field = "stream"): LogStreamName[] {
  const names = raw.split(",").map((s) => s.trim());
  for (const s of names) {
    if (!(LOG_STREAMS as readonly string[]).includes(s)) throw invalid(`${field} must be one of ${LOG_STREAMS.join(", ")}, or a comma list of them`, field);
  }
  return [...new Set(names)] as LogStreamName[];
}

export function parseLogFilter(q: RawLogFilter): LogFilter {
  return {
    since: q.since ? parseInstant(q.since, "since") : undefined,
    until: q.until ? parseInstant(q.until, "until") : undefined,
    streams: q.stream ? parseStreams(q.stream) : undefined,
  };
}

/** The seq a log cursor stands for: lines after it come next. */
export function decodeLogCursor(cursor: string): number {
  const seq = decodeCursor<number>(cursor, "number");
  if (!Number.isSafeInteger(seq) || seq < 0) throw invalid("cursor is not one this server issued", "cursor");
  return seq;
}

const lineOf = (r: LogRow): LogLine => ({ seq: r.seq, at: iso(r.at)!, stream: r.stream, line: r.line });

function matches(f: LogFilter, l: { at: number; stream: string }): boolean {
  return (f.since === undefined || l.at >= f.since) && (f.until === undefined || l.at < f.until) && (f.streams === undefined || (f.streams as string[]).includes(l.stream));
}

/** The run's current status, or null when there is no such run (or the caller may not see it). */
export async function runStatus(store: Store, runId: number, access: Access = FULL_ACCESS): Promise<string | null> {
  const run = await runState(store, runId);
  return run && sees(access, run.namespace) ? run.status : null;
}

/** One page of a run's lines in seq order; the cursor carries the last seq sent. */
export async function listLogs(
  deps: Pick<DomainDeps, "store" | "access">,
  runId: number,
  q: LogFilter & { limit?: number; cursor?: string },
): Promise<LogPage> {
  const limit = q.limit ?? 1000;
  const after = q.cursor ? decodeLogCursor(q.cursor) : 0;
  const status = await runStatus(deps.store, runId, deps.access);
  if (status === null) throw notFound(`run ${runId} not found`);
  const rows = await logLines(deps.store, runId, after, limit + 1, q);
  const items = rows.slice(0, limit).map(lineOf);
  return { runId, status, items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].seq) : null };
}

export interface FollowDeps {
  store: Store;
  access: Access;
  /** The local scheduler's events: wake at once for runs on this node. */
  events: RunEvents;
}

export interface FollowOptions {
  /** Lines after this seq (Last-Event-ID). */
  after?: number;
  /** The database is read this often anyway: the run may run on another node. */
  pollMs?: number;
  /** Rows per read; reads repeat until drained. */
  batch?: number;
}

/** Starts following a run's lines (see followLogs); 404 before anything is sent when there is no such run. */
export async function openFollow(deps: FollowDeps, runId: number, filter: LogFilter, signal: AbortSignal, opts: FollowOptions = {}): Promise<AsyncGenerator<LogLine[], string | null>> {
  if ((await runStatus(deps.store, runId, deps.access)) === null) throw notFound(`run ${runId} not found`);
  return followLogs(deps, runId, filter, signal, opts);
}

/**
 * Yields the run's matching lines, those already stored and then new ones as they are committed, in
 * batches; returns the final status once the run has finished and every line was yielded (null if the
 * run was deleted meanwhile, or on abort). Every listener and timer is gone when it returns.
 *
 * The status is read before the lines: the lines of a run are committed no later than its final status,
 * so when the status read was final, the lines read after it are all there are.
 */
export async function* followLogs(deps: FollowDeps, runId: number, filter: LogFilter, signal: AbortSignal, opts: FollowOptions = {}): AsyncGenerator<LogLine[], string | null> {
  const pollMs = opts.pollMs ?? 1000;
  const batch = opts.batch ?? 1000;
  // The scan position: every row up to it has been read, matching or not (filtered here, so a
  // narrow filter does not rescan the same non-matching rows at every wake).
  let after = opts.after ?? 0;
  let dirty = false;
  let wake: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poke = () => {
    dirty = true;
    wake?.();
  };
  const mine = (e: { runId: number }) => {
    if (e.runId === runId) poke();
  };
  const offLog = deps.events.on("run:log", mine);
  const offFinished = deps.events.on("run:finished", mine);
  signal.addEventListener("abort", poke);
  try {
    while (!signal.aborted) {
      dirty = false;
      const status = await runStatus(deps.store, runId);
      if (status === null) return null;
      for (;;) {
        const rows = await logLines(deps.store, runId, after, batch);
        if (signal.aborted) return null;
        if (rows.length > 0) after = rows[rows.length - 1].seq;
        const lines = rows.filter((r) => matches(filter, r)).map(lineOf);
        if (lines.length > 0) yield lines;
        if (rows.length < batch || signal.aborted) break;
      }
      if (signal.aborted) return null;
      if (FINISHED_STATUSES.has(status)) return status;
      if (!dirty && !signal.aborted) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, pollMs);
        });
        clearTimeout(timer);
        wake = null;
      }
    }
    return null;
  } finally {
    offLog();
    offFinished();
    signal.removeEventListener("abort", poke);
    clearTimeout(timer);
  }
}
