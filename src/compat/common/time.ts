// The time format more than one vendor writes.

/** RFC 3339 in UTC with milliseconds (DCS, Dapr, Alauda's list items). */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString();
