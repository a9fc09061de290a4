// Durations as Dapr spells them: Go's time.ParseDuration on the way in, protojson's Duration on the way out.

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("1h30m", "1.5s", "300ms"), not negative, in ms; null when it is not one. */
export function goDuration(text: string): number | null {
  if (text === "0") return 0;
  // Unambiguous number patterns and a length cap keep these regexes linear.
  if (text.length > 64 || !/^\+?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(text)) return null;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) ms += Number(m[1]) * GO_UNITS[m[2]];
  return Number.isFinite(ms) && ms <= 100 * 365 * 86_400_000 ? Math.round(ms) : null;
}

/** A duration as protojson writes google.protobuf.Duration: "10s", "0.200s", "120s". */
export function protoDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const frac = ms % 1000;
  return frac === 0 ? `${s}s` : `${s}.${String(frac).padStart(3, "0")}s`;
}
