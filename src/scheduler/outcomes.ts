// Why a run was aborted, and how it then ends.
import type { Final } from "./types.ts";

/** How an aborted run ends, by the reason it was aborted for. */
export function aborted(reason: unknown): { status: Final; error: string } {
  if (reason instanceof TimedOut) return { status: "timed_out", error: `timed out after ${reason.ms} ms` };
  if (reason instanceof Replaced) return { status: "killed", error: `replaced by run ${reason.by} (overlap replace)` };
  if (reason instanceof Cancelled) return { status: "skipped", error: "the job was changed, paused or removed before this run started" };
  return { status: "killed", error: "killed by request" };
}

export class TimedOut extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
  }
}
export class Replaced extends Error {
  constructor(readonly by: number) {
    super(`replaced by run ${by}`);
  }
}
export class Killed extends Error {
  constructor() {
    super("killed");
  }
}
export class Cancelled extends Error {
  constructor() {
    super("cancelled");
  }
}
export class Shutdown extends Error {
  constructor() {
    super("node shutting down");
  }
}
