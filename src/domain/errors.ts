// Domain errors know nothing of HTTP: each carries a code that the native API and every
// compat facade map to their own status codes and shapes.
import { isStorageFailure, outcomeUnknown } from "../store/busy.ts";

export type ErrorCode =
  | "invalid"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "unavailable";

/** One refused item of a batch: its place in the request, its name when it had one, and why. */
export interface ItemProblem {
  index: number;
  name?: string;
  field?: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** Every refused item of a batch request (each named, not only the first). */
    readonly items?: ItemProblem[],
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const invalid = (message: string, field?: string) => new DomainError("invalid", message, field);
export const notFound = (message: string) => new DomainError("not_found", message);
export const conflict = (message: string) => new DomainError("conflict", message);
export const unauthorized = (message: string) => new DomainError("unauthorized", message);
export const forbidden = (message: string) => new DomainError("forbidden", message);

/**
 * A database that cannot take the request now (locked past [database] busy_timeout, full, read-only, its file
 * gone) as the domain error every API answers 503 (with Retry-After); any other error as it is.
 */
export function domainErrorOf(err: unknown): unknown {
  if (err instanceof DomainError || !isStorageFailure(err)) return err;
  const why = err instanceof Error ? err.message : String(err);
  const changed = outcomeUnknown(err) ? "the request may or may not have been applied" : "nothing was changed";
  return new DomainError("unavailable", `the database cannot take requests now (${why}); ${changed}: retry shortly`);
}
