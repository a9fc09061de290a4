// Reading a /metrics exposition in tests: Prometheus's own parser and linter (`promtool check metrics`, from
// Debian's prometheus package) judges the format; `samples` then reads the values of a text it accepted.
import { spawnSync } from "node:child_process";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** promtool run with `args` (and `input` on its stdin): its exit code and what it printed. */
export function promtool(args: string[], input?: string): { status: number | null; out: string } {
  const r = spawnSync("promtool", args, { input, encoding: "utf8" });
  if (r.error) throw new Error(`promtool is needed for this test (Debian: apt-get install prometheus): ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

/** promtool's verdict on an exposition: its exit code and what it printed (lint problems, parse errors). */
export const checkMetrics = (text: string) => promtool(["check", "metrics"], text);

/** The samples of an exposition (one per line: name{labels} value). */
export function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = Object.fromEntries([...(m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample named so whose labels include `labels`; undefined when there is none. */
export function value(all: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

/** Scrapes `base`/metrics, checks it with promtool, and returns its samples. */
export async function scrapeChecked(base: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`, { headers });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${text}`);
  const verdict = checkMetrics(text);
  if (verdict.status !== 0 || verdict.out !== "") throw new Error(`promtool check metrics: ${verdict.out}`);
  return samples(text);
}
