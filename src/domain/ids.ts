// Opaque list cursors: base64url of a JSON value, so clients can't depend on their contents.
import { invalid } from "./errors.ts";

export function encodeCursor(value: string | number): string {
  return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export function decodeCursor<T extends string | number>(cursor: string, type: "string" | "number"): T {
  try {
    const value = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (typeof value === type) return value as T;
  } catch {
    // fall through
  }
  throw invalid("cursor is not one this server issued", "cursor");
}

/** Milliseconds to RFC 3339 UTC, or null. */
export const iso = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());
