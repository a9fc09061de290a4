// Bounds that keep schedule arithmetic far from overflow and refuse values nobody means.

export const DAY_MS = 86_400_000;
/** Mean Gregorian year and month, for estimates only (never for calendar arithmetic). */
export const YEAR_AVG_MS = 365.2425 * DAY_MS;
export const MONTH_AVG_MS = YEAR_AVG_MS / 12;
/** Longest accepted duration or period: 100 years. */
export const MAX_SPAN_MS = 100 * YEAR_AVG_MS;
/** Earliest and latest accepted instants (1970-01-01 to 9999-12-31, UTC). */
export const MIN_INSTANT = 0;
export const MAX_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Largest repeat count (`repeats`, ISO `Rn`): fits a signed 32-bit column. */
export const MAX_REPEATS = 2_147_483_647;
