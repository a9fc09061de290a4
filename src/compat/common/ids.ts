// Numeric ids and generated native names, for the vendors whose jobs have numeric ids and free-text names
// (Alauda, Juice, SchedulerX): the id is the native job's or run's, the vendor's name is kept in compat.

/** Largest id a facade hands out or accepts: survives a JSON round trip in any client (2^53 - 1). */
export const MAX_ID = Number.MAX_SAFE_INTEGER;

/**
 * A positive integer id from text (path, query or form), or null when it is not one. Digits only, no
 * sign, no exponent, at most 2^53 - 1.
 */
export function parseId(raw: unknown): number | null {
  if (typeof raw === "number") return Number.isSafeInteger(raw) && raw > 0 ? raw : null;
  if (typeof raw !== "string" || !/^\d{1,16}$/.test(raw.trim())) return null;
  const n = Number(raw.trim());
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/**
 * A fresh native job name: `<prefix>-<16 random base-36 characters>`. The vendor's own name is kept in the
 * job's compat fields.
 */
export function generatedName(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}-${Array.from(bytes, (b) => (b % 36).toString(36)).join("")}`;
}
