// Alauda job executions ("execs") are native runs. An exec id is a UUID that carries the run id, so no
// mapping is stored.
import { MAX_ID } from "../common/ids.ts";

/**
 * `a1a0da00-0000-4000-8xxx-xxxxxxxxxxxx`: a version 4, RFC 4122 variant UUID whose last 15 hex digits are
 * the run id (any id up to 2^53 - 1 fits), so a client sees the UUID the document shows and tock reads the
 * run back without a lookup table.
 */
const EXEC_ID = /^a1a0da00-0000-4000-8([0-9a-f]{3})-([0-9a-f]{12})$/i;

export function execId(runId: number): string {
  const hex = runId.toString(16).padStart(15, "0");
  return `a1a0da00-0000-4000-8${hex.slice(0, 3)}-${hex.slice(3)}`;
}

/** The run of an exec id, or null when the text is not an exec id tock issues. */
export function runIdOf(raw: string): number | null {
  const m = EXEC_ID.exec(raw);
  if (!m) return null;
  const n = BigInt(`0x${m[1]}${m[2]}`);
  return n >= 1n && n <= BigInt(MAX_ID) ? Number(n) : null;
}
