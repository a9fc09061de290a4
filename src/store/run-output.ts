// The SQL of run output (table run_logs): the lines of many runs go in with one INSERT.
import { type Batch, batchOf } from "./group-writer.ts";

/** One stored line: its run, its number within the run, when, the stream ("stdout", "stderr", "tock"). */
export type LogLine = [runId: number, seq: number, at: number, stream: string, line: string];

export function insertLines(lines: LogLine[]): Batch<void> {
  return batchOf([
    {
      sql: `INSERT INTO run_logs (run_id, seq, at, stream, line)
            SELECT l.value->>0, l.value->>1, l.value->>2, l.value->>3, l.value->>4 FROM json_each(?) AS l`,
      args: [JSON.stringify(lines)],
    },
  ]);
}
