// Reading a run's output lines (table run_logs). Lines are written by the scheduler as they come.
import type { Store } from "./client.ts";
import { read } from "./sql.ts";

export interface LogRow {
  seq: number;
  at: number;
  stream: string;
  line: string;
}

/** Which lines: `since` inclusive and `until` exclusive (ms), `streams` (all when absent). */
export interface LogRange {
  since?: number;
  until?: number;
  streams?: readonly string[];
}

/** Up to `limit` lines of a run after seq `after`, in seq order, within `range` when given. */
export async function logLines(store: Store, runId: number, after: number, limit: number, range: LogRange = {}): Promise<LogRow[]> {
  const args: (string | number)[] = [runId, after];
  let sql = "SELECT seq, at, stream, line FROM run_logs WHERE run_id = ? AND seq > ?";
  if (range.since !== undefined) {
    sql += " AND at >= ?";
    args.push(range.since);
  }
  if (range.until !== undefined) {
    sql += " AND at < ?";
    args.push(range.until);
  }
  if (range.streams) {
    sql += ` AND stream IN (${range.streams.map(() => "?").join(", ")})`;
    args.push(...range.streams);
  }
  sql += " ORDER BY seq LIMIT ?";
  args.push(limit);
  const rows = await read(store, { sql, args });
  return rows.map((r) => ({ seq: Number(r.seq), at: Number(r.at), stream: String(r.stream), line: String(r.line) }));
}
