// What every facade's error mapping needs: native field paths restated in the vendor's words, and a log
// line for what it could not answer.
import type { Logger } from "../../log.ts";

/**
 * A native field path as the vendor's request named it: the first `[native prefix, vendor name]` of `table`
 * that is the path or a parent of it (`target.container.env.X` → `env.X`); undefined when none is.
 */
export function renameField(field: string, table: readonly (readonly [string, string])[]): string | undefined {
  const hit = table.find(([native]) => field === native || field.startsWith(`${native}.`));
  return hit && hit[1] + field.slice(hit[0].length);
}

/** Logs what a facade could not answer (it then answers its vendor's 5xx). */
export function logFailure(log: Logger, api: string, err: unknown, path: string): void {
  log.error(`${api} request failed`, { error: err instanceof Error ? (err.stack ?? err.message) : String(err), path });
}
