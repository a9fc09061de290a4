// Parsing a client command line against the table in spec.ts: which command, its arguments and its flags.
// Anything it does not know is a usage error (exit 2) that suggests the nearest name.
import { nearest } from "../config/load.ts";
import { type CommandSpec, COMMANDS, type FlagSpec, flagsOf, GLOBAL_FLAGS, subcommandsOf } from "./spec.ts";

/** What the exit code of a client command means (docs/cli.md lists them). */
export const EXIT = {
  ok: 0,
  /** The server refused or failed the request, a run did not succeed, some jobs of an import failed. */
  failed: 1,
  /** The command line is wrong: an unknown command or flag, a missing argument, a bad value. */
  usage: 2,
  notFound: 3,
  /** No API key, a key that does not work, or one whose role or namespaces do not allow it (401, 403). */
  unauthorized: 4,
  /** The server could not be reached (refused, no such host, timed out). */
  unreachable: 5,
  /** Stopped by Ctrl-C. */
  interrupted: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** The HTTP status that caused it, if a server answered. */
    readonly status?: number,
    /** A batch's refused items, as the server listed them (error.items). */
    readonly items?: { index: number; message: string; field?: string }[],
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);

export interface Parsed {
  /** Null when only a group was named (`tock jobs`): its help is due. */
  command: CommandSpec | null;
  /** The words naming the command ("jobs", "ls"). */
  words: string[];
  args: string[];
  flags: Record<string, string | true>;
  /** The values of repeatable flags, in order. */
  lists: Record<string, string[]>;
}

const isFlag = (t: string) => t.startsWith("-") && t !== "-";
const globalValued = new Set(GLOBAL_FLAGS.filter((f) => f.value).map((f) => `--${f.name}`));

/** The indexes of the words naming the command: the first one or two tokens that are not flags or global flags' values. */
function commandWords(argv: string[]): number[] {
  const found: number[] = [];
  for (let i = 0; i < argv.length && found.length < 2; i++) {
    const t = argv[i];
    if (t === "--") break;
    if (isFlag(t)) {
      if (globalValued.has(t)) i++;
      continue;
    }
    found.push(i);
    if (found.length === 1 && subcommandsOf(t).length === 0) break;
  }
  return found;
}

export function parseClient(argv: string[]): Parsed {
  const at = commandWords(argv);
  const words = at.map((i) => argv[i]);
  const rest = argv.filter((_, i) => !at.includes(i));
  const subs = subcommandsOf(words[0]);
  let command: CommandSpec | null = null;
  if (subs.length === 0) command = COMMANDS.find((c) => c.path[0] === words[0]) ?? null;
  else if (words.length === 2) {
    command = COMMANDS.find((c) => c.path[0] === words[0] && c.path[1] === words[1]) ?? null;
    if (!command) {
      const guess = nearest(words[1], subs, 3);
      throw usageError(`unknown ${words[0]} command: ${words[1]}${guess ? `; did you mean \`tock ${words[0]} ${guess}\`?` : ""} (tock ${words[0]} --help lists them)`);
    }
  }
  const known = command ? flagsOf(command) : GLOBAL_FLAGS;
  const { args, flags, lists } = parseFlags(rest, known, command ? `tock ${command.path.join(" ")}` : `tock ${words[0]}`);
  if (command && !flags.help) {
    const max = command.args.length;
    const min = max - (command.optional ?? 0);
    if (args.length < min) throw usageError(`tock ${command.path.join(" ")}: missing ${command.args.slice(args.length).join(" ")}\nusage: ${usageLine(command)}`);
    if (args.length > max) throw usageError(`tock ${command.path.join(" ")}: unexpected argument ${JSON.stringify(args[max])}\nusage: ${usageLine(command)}`);
    const absent = command.flags.find((f) => f.required && flags[f.name] === undefined);
    if (absent) throw usageError(`tock ${command.path.join(" ")}: --${absent.name} ${absent.value} is required\nusage: ${usageLine(command)}`);
  }
  return { command, words, args, flags, lists };
}

function parseFlags(tokens: string[], known: FlagSpec[], where: string): Pick<Parsed, "args" | "flags" | "lists"> {
  const args: string[] = [];
  const flags: Record<string, string | true> = {};
  const lists: Record<string, string[]> = {};
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === "--") {
      args.push(...tokens.slice(i + 1));
      break;
    }
    if (!isFlag(t)) {
      args.push(t);
      continue;
    }
    const eq = t.indexOf("=");
    const given = eq > 0 ? t.slice(0, eq) : t;
    const spec = given.startsWith("--") ? known.find((f) => `--${f.name}` === given) : known.find((f) => f.short && `-${f.short}` === given);
    if (!spec) {
      const names = known.map((f) => `--${f.name}`);
      const guess = nearest(given.startsWith("--") ? given : `-${given}`, names, 3);
      throw usageError(`unknown flag ${given} for ${where}${guess ? `; did you mean ${guess}?` : ""} (${where} --help lists its flags)`);
    }
    if (!spec.value) {
      if (eq > 0) throw usageError(`${given} takes no value`);
      flags[spec.name] = true;
      continue;
    }
    const value = eq > 0 ? t.slice(eq + 1) : tokens[++i];
    if (value === undefined) throw usageError(`${given} needs a value (${spec.value})`);
    flags[spec.name] = value;
    if (spec.repeat) (lists[spec.name] ??= []).push(value);
  }
  return { args, flags, lists };
}

export const usageLine = (c: CommandSpec) => {
  const args = c.args.map((a, i) => (i >= c.args.length - (c.optional ?? 0) ? `[${a}]` : a));
  const flags = c.flags.map((f) => (f.required ? `--${f.name} ${f.value}` : f.value ? `[--${f.name} ${f.value}]${f.repeat ? "..." : ""}` : `[--${f.name}]`));
  return ["tock", ...c.path, ...args, ...flags].join(" ");
};

/** `tock jobs ls --limit 5`: a whole number from min to max, or a usage error naming the flag. */
export function intFlag(flags: Parsed["flags"], name: string, def: number, min: number, max: number): number {
  const raw = flags[name];
  if (raw === undefined) return def;
  if (typeof raw !== "string" || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw usageError(`--${name} must be a whole number from ${min} to ${max}`);
  return Number(raw);
}

/** `NS/NAME` split, or a usage error. */
export function jobRef(ref: string): { ns: string; name: string } {
  const slash = ref.indexOf("/");
  if (slash <= 0 || slash === ref.length - 1 || ref.indexOf("/", slash + 1) !== -1) throw usageError(`name a job as NAMESPACE/NAME (got ${JSON.stringify(ref)})`);
  return { ns: ref.slice(0, slash), name: ref.slice(slash + 1) };
}

/** A run id, or a usage error. */
export function runRef(ref: string): string {
  if (!/^\d{1,15}$/.test(ref)) throw usageError(`a run id is a positive whole number (got ${JSON.stringify(ref)})`);
  return ref;
}
