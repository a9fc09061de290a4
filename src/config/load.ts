// Reads tock.toml, overlays environment variables and command-line flags, validates once and either returns
// the Config or throws a ConfigError listing every problem with where it came from.
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import process from "node:process";
import { parse, TomlError } from "smol-toml";
import * as v from "valibot";
import { describe } from "./fields.ts";
import { type Config, ConfigSchema, KEYS, type KeyInfo, tableAt } from "./schema.ts";

export interface ConfigIssue {
  /** A dotted key path ("scheduler.lease"), "env TOCK_…", "flag --…", or "file:line:column" for syntax. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], fileName?: string) {
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`);
    super(`invalid configuration${fileName ? ` in ${fileName}` : ""}:\n${lines.join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** Command-line flags that override a key. */
export interface ConfigFlags {
  port?: number;
  db?: string;
}

const FLAG_KEYS: { [F in keyof Required<ConfigFlags>]: string[] } = {
  port: ["server", "port"],
  db: ["database", "url"],
};

/** TOCK_<PATH> with dots as underscores: scheduler.default_retry.times -> TOCK_SCHEDULER_DEFAULT_RETRY_TIMES. */
export function envName(path: readonly string[]): string {
  return `TOCK_${path.join("_").toUpperCase()}`;
}

// Mapped from the known keys, because "_" both joins sections and sits inside key names.
const ENV_KEYS: ReadonlyMap<string, KeyInfo> = new Map(KEYS.map((key) => [envName(key.path), key]));

/** TOCK_* variables that are not config keys: the config file's path, and the CLI client's server and key. */
const NOT_KEYS: ReadonlySet<string> = new Set(["TOCK_CONFIG", "TOCK_SERVER", "TOCK_TOKEN"]);

/** An unknown TOCK_* variable, reported like an unknown key: with the nearest one, when one is near. */
function unknownVariable(name: string): string {
  const guess = nearest(name, ENV_KEYS.keys(), 3);
  return guess ? `unknown variable; did you mean ${guess}?` : "unknown variable: no configuration key has this name (TOCK_ followed by a key's path, e.g. TOCK_SCHEDULER_LEASE)";
}

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Sets `path` in `root`, creating tables on the way; false when the file put a non-table in the way. */
function setIn(root: Table, path: readonly string[], value: unknown): boolean {
  let table = root;
  for (const key of path.slice(0, -1)) {
    if (table[key] === undefined) table[key] = {};
    const next = table[key];
    if (!isTable(next)) return false;
    table = next;
  }
  table[path[path.length - 1]] = value;
  return true;
}

function coerce(text: string, kind: KeyInfo["kind"]): { value: unknown } | { error: string } {
  switch (kind) {
    case "string":
      return { value: text };
    case "number": {
      const n = Number(text.trim());
      return text.trim() !== "" && Number.isFinite(n) ? { value: n } : { error: `must be a number, got ${describe(text)}` };
    }
    case "json":
      // A list or table as JSON; anything else is passed on as a string, for the schema to judge.
      try {
        return { value: JSON.parse(text) };
      } catch {
        return { value: text };
      }
    case "boolean": {
      const t = text.trim().toLowerCase();
      if (t === "true" || t === "1") return { value: true };
      if (t === "false" || t === "0") return { value: false };
      return { error: `must be true or false, got ${describe(text)}` };
    }
  }
}

/** The candidate nearest to `word` within `max` edits, for a "did you mean" (none when none is that near). */
export function nearest(word: string, candidates: Iterable<string>, max: number): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of candidates) {
    const d = editDistance(word, k);
    if (d <= max && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

const showKey = (key: string) => (/^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key));

/**
 * Every key of the file that the schema does not know, at any depth, with a guess at the intended one
 * (valibot's strictObject stops at the first unknown key of a table).
 */
function unknownKeys(table: Table, path: string[], issues: ConfigIssue[]): void {
  const known = tableAt(path);
  if (!known) return;
  for (const [key, value] of Object.entries(table)) {
    const at = [...path, key];
    if (Object.hasOwn(known, key)) {
      if (isTable(value)) unknownKeys(value, at, issues);
      // v.object would take an array or a date as an empty table; other non-tables it reports itself.
      else if (tableAt(at) && typeof value === "object") {
        issues.push({ path: at.join("."), message: `must be a table, got ${describe(value)}` });
      }
      continue;
    }
    const guess = nearest(key.toLowerCase(), Object.keys(known), 2);
    const where = path.length ? `[${path.join(".")}]` : "the top level";
    issues.push({
      path: at.map(showKey).join("."),
      message: guess ? `unknown key; did you mean "${guess}"?` : `unknown key; ${where} has ${Object.keys(known).join(", ")}`,
    });
  }
}

/**
 * Builds the Config from the text of a TOML file (null: no file), environment variables and flags, in that
 * order of precedence over the defaults. Pure apart from the host name and process id of the default node id.
 */
export function parseConfig(
  tomlText: string | null,
  env: Record<string, string | undefined>,
  flags: ConfigFlags = {},
  fileName?: string,
): Config {
  const issues: ConfigIssue[] = [];
  // Where a key's value came from when it was not the file, so its issue names the env var or flag.
  const sources = new Map<string, string>();

  let raw: Table = {};
  if (tomlText !== null) {
    try {
      raw = parse(tomlText.replace(/^\uFEFF/, ""));
    } catch (e) {
      if (!(e instanceof TomlError)) throw e;
      const reason = e.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      issues.push({ path: `${fileName ?? "toml"}:${e.line}:${e.column}`, message: `TOML syntax error: ${reason}` });
    }
  }
  unknownKeys(raw, [], issues);

  for (const [name, text] of Object.entries(env)) {
    const key = ENV_KEYS.get(name);
    if (!key && name.startsWith("TOCK_") && !NOT_KEYS.has(name)) issues.push({ path: `env ${name}`, message: unknownVariable(name) });
    if (!key || text === undefined) continue;
    const coerced = coerce(text, key.kind);
    if ("error" in coerced) issues.push({ path: `env ${name}`, message: coerced.error });
    else if (setIn(raw, key.path, coerced.value)) sources.set(key.path.join("."), `env ${name}`);
  }

  for (const flag of Object.keys(FLAG_KEYS) as (keyof ConfigFlags)[]) {
    const value = flags[flag];
    if (value !== undefined && setIn(raw, FLAG_KEYS[flag], value)) sources.set(FLAG_KEYS[flag].join("."), `flag --${flag}`);
  }

  const result = v.safeParse(ConfigSchema, raw, { abortEarly: false });
  for (const issue of result.issues ?? []) {
    const dotted = v.getDotPath(issue) ?? "(root)";
    issues.push({ path: sources.get(dotted) ?? dotted, message: issue.message });
  }
  if (!result.success || issues.length > 0) throw new ConfigError(issues, fileName);
  return withDefaultNodeId(result.output);
}

/**
 * The default node id is the host name and port: two processes on one host must not share an id (each
 * would take the other's runs for its own), and a port is the host's to one process (a port picked at
 * random, 0, gives way to the process id).
 */
function withDefaultNodeId(cfg: Config): Config {
  if (cfg.scheduler.nodeId !== "") return cfg;
  return { ...cfg, scheduler: { ...cfg.scheduler, nodeId: `${hostname()}:${cfg.server.port || process.pid}` } };
}

export interface LoadOptions {
  /** Path of the TOML file; else $TOCK_CONFIG; else ./tock.toml when it exists. */
  file?: string;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  flags?: ConfigFlags;
}

/** The configuration file `loadConfig` reads with these options, or null when none (defaults, environment, flags). */
export function configFile(opts: Pick<LoadOptions, "file" | "env"> = {}): string | null {
  const env = opts.env ?? process.env;
  const file = opts.file ?? (env.TOCK_CONFIG || "tock.toml");
  return opts.file !== undefined || env.TOCK_CONFIG || existsSync(file) ? file : null;
}

/** Reads and validates the configuration; throws ConfigError. A file named explicitly must exist. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const fromEnv = opts.file === undefined && !!env.TOCK_CONFIG;
  const explicit = opts.file !== undefined || fromEnv;
  const file = opts.file ?? (env.TOCK_CONFIG || "tock.toml");
  let text: string | null = null;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (explicit || code !== "ENOENT") {
      const why = code === "ENOENT" ? "file not found" : `cannot read the file (${(e as Error).message})`;
      throw new ConfigError([{ path: fromEnv ? "env TOCK_CONFIG" : file, message: `${why}: ${file}` }]);
    }
  }
  return parseConfig(text, env, opts.flags, text === null ? undefined : file);
}
