// The shape of src/, checked: SQL only in store/, imports that point one way between the parts (no cycle,
// none of the edges the layout forbids), and files that stay small unless there is a stated reason.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const SRC = normalize(join(import.meta.dir, "..", "src"));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(p) ? [p] : [];
  });
}

const SOURCES = files(SRC).map((p) => ({ path: relative(SRC, p), text: readFileSync(p, "utf8") }));

/** The part a file belongs to: its top folder under src/, or its own name for a file at the top. */
function partOf(path: string): string {
  const [top, ...rest] = path.split("/");
  if (rest.length > 0) return top;
  return top.replace(/\.tsx?$/, ""); // main, app, node, log, clock, version, config (config.ts is the config folder's entry)
}

/** Every relative import (static, type-only and dynamic) of a file, as a path under src/. */
function importsOf(file: { path: string; text: string }): string[] {
  const found = [...file.text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
  return found.map((spec) => normalize(join(dirname(file.path), spec)));
}

const edges = new Map<string, Map<string, string[]>>(); // from part -> to part -> files making the edge
for (const f of SOURCES) {
  const from = partOf(f.path);
  for (const target of importsOf(f)) {
    const to = partOf(target);
    if (to === from) continue;
    const byTarget = edges.get(from) ?? new Map<string, string[]>();
    edges.set(from, byTarget);
    byTarget.set(to, [...(byTarget.get(to) ?? []), `${f.path} -> ${target}`]);
  }
}

/** Comments out, so that prose about SQL does not count as SQL. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");

describe("the layout of src/", () => {
  test("no SQL statement outside src/store/", () => {
    const sql = /\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|PRAGMA\s+\w)/;
    const outside = SOURCES.filter((f) => partOf(f.path) !== "store" && sql.test(code(f.text))).map((f) => f.path);
    expect(outside).toEqual([]);
  });

  test("nothing outside src/store/ talks to the database driver", () => {
    const driver = SOURCES.filter((f) => partOf(f.path) !== "store" && /from "(@libsql\/client|drizzle-orm[^"]*)"|store\/sql\.ts"/.test(f.text)).map((f) => f.path);
    expect(driver).toEqual([]);
  });

  test("none of the forbidden imports between parts", () => {
    const forbidden: Record<string, string[]> = {
      api: ["store", "scheduler", "executors", "compat", "ui"],
      // The dashboard reads and changes through domain verbs, as the API does, with the API's guard helpers.
      ui: ["store", "scheduler", "executors", "compat", "runtime", "cli", "app", "node", "main"],
      compat: ["store", "scheduler", "executors"],
      domain: ["api", "compat", "ui", "scheduler", "executors", "runtime", "cli", "app", "node", "main"],
      executors: ["store", "domain", "scheduler", "api", "compat"],
      scheduler: ["api", "compat", "app", "node", "main"],
      store: ["api", "compat", "domain", "scheduler", "executors", "schedule", "net", "runtime", "config"],
      schedule: SOURCES.map((f) => partOf(f.path)).filter((p) => p !== "schedule"),
      config: ["api", "compat", "domain", "scheduler", "executors", "store", "runtime"],
      log: SOURCES.map((f) => partOf(f.path)).filter((p) => p !== "log"),
      clock: SOURCES.map((f) => partOf(f.path)).filter((p) => p !== "clock"),
      version: SOURCES.map((f) => partOf(f.path)).filter((p) => p !== "version"),
      metrics: SOURCES.map((f) => partOf(f.path)).filter((p) => p !== "metrics"),
    };
    const found: string[] = [];
    for (const [from, tos] of Object.entries(forbidden)) {
      for (const to of tos) for (const e of edges.get(from)?.get(to) ?? []) found.push(`${from} -> ${to}: ${e}`);
    }
    expect(found).toEqual([]);
  });

  test("nothing imports the app or a facade but the app and the wiring", () => {
    const found: string[] = [];
    for (const [from, tos] of edges) {
      // (bin.ts is the binary's entry: a temp-directory check in front of main.ts.)
      if (["app", "node", "main", "bin"].includes(from)) continue;
      for (const to of ["app", "node", "main"]) for (const e of tos.get(to) ?? []) found.push(e);
      if (from !== "compat") for (const e of tos.get("compat") ?? []) found.push(e);
      for (const e of tos.get("ui") ?? []) found.push(e);
    }
    expect(found).toEqual([]);
  });

  test("the dashboard uses only the API's shared helpers, none of its routes but the log follower", () => {
    const allowed = ["api/auth.ts", "api/deps.ts", "api/http.ts", "api/runs.ts"];
    const found = (edges.get("ui")?.get("api") ?? []).filter((e) => !allowed.some((a) => e.endsWith(`-> ${a}`)));
    expect(found).toEqual([]);
  });

  test("no import cycle between the parts", () => {
    // Tarjan's strongly connected components over the part graph: any component of two or more is a cycle.
    const parts = [...new Set(SOURCES.map((f) => partOf(f.path)))];
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const on = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string) => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      on.add(v);
      for (const w of edges.get(v)?.keys() ?? []) {
        if (!idx.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          on.delete(w);
          scc.push(w);
        } while (w !== v);
        if (scc.length > 1) cycles.push(scc.sort());
      }
    };
    for (const p of parts) if (!idx.has(p)) visit(p);
    expect(cycles).toEqual([]);
  });

  test("no import cycle between the files of one part", () => {
    const graph = new Map(SOURCES.map((f) => [f.path, importsOf(f).filter((t) => partOf(t) === partOf(f.path))]));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const walk = (f: string, path: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") return void cycles.push([...path.slice(path.indexOf(f)), f].join(" -> "));
      state.set(f, "open");
      for (const t of graph.get(f) ?? []) walk(t, [...path, f]);
      state.set(f, "done");
    };
    for (const f of graph.keys()) walk(f, []);
    expect(cycles).toEqual([]);
  });

  test("files stay under ~300 lines unless the reason is written here", () => {
    const REASONS: Record<string, string> = {};
    const long = SOURCES.filter((f) => f.text.split("\n").length > 320 && !(f.path in REASONS)).map((f) => `${f.path} (${f.text.split("\n").length} lines)`);
    expect(long).toEqual([]);
  });
});
