// Go-style durations ("1h30m", "500ms", "1.5s") to milliseconds. Used by schedules (`@every`), one-shot
// `dueTime`/`ttl` and every duration in the config file.

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/y;

/** Parses a Go-style duration; returns milliseconds, or null when `text` is not one. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === "0") return 0;
  if (s === "") return null;
  let pos = 0;
  let total = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) return null;
    total += Number(m[1]) * UNITS[m[2]];
    pos = PART.lastIndex;
  }
  return Number.isFinite(total) ? Math.round(total) : null;
}

/** Formats milliseconds as the shortest Go-style duration ("1h30m", "500ms"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.round(ms);
  let out = "";
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  if (rest > 0) out += `${rest}ms`;
  return out;
}

/** A duration for people, in its two largest units, the smaller left out when zero: "850ms", "42s", "3m5s", "1d4h" (`sep` between the two). */
export function roughDuration(ms: number, sep = ""): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const units = [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const;
  const i = units.findIndex(([, size]) => ms >= size);
  const [unit, size] = units[i];
  const first = `${Math.floor(ms / size)}${unit}`;
  const next = units[i + 1];
  const second = next ? Math.floor((ms % size) / next[1]) : 0;
  return second > 0 ? `${first}${sep}${second}${next![0]}` : first;
}
