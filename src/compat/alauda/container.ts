// An Alauda job is a native container job: its `command` string is the container's argv, its
// `resource_size` the container's limits. These convert between the two.
import { invalid } from "../../domain/errors.ts";
import type { ContainerTarget } from "../../domain/schemas.ts";
import type { JobView } from "../../domain/views.ts";

/**
 * Alauda's container sizes (XXS and XS are the two its jobs offered) as engine limits: the CPU share and
 * memory of its service sizes, doubling from XXS (0.125 CPU, 128 MiB).
 */
export const SIZES = {
  XXS: { cpus: 0.125, memory: "128m" },
  XS: { cpus: 0.25, memory: "256m" },
} as const;
export type Size = keyof typeof SIZES;

/** A native container target, as far as Alauda's fields reach it. */
export type Container = Pick<ContainerTarget, "image" | "tag" | "command" | "args" | "env" | "resources">;

/** The job's container target; undefined when it runs something else (it is then no Alauda job). */
export const containerOf = (job: JobView) => (job.target as { container?: Container }).container;

/** The size whose limits `resources` are exactly, or null. */
export function sizeOf(resources: Container["resources"]): Size | null {
  for (const size of Object.keys(SIZES) as Size[]) {
    if (resources?.cpus === SIZES[size].cpus && resources?.memory === SIZES[size].memory) return size;
  }
  return null;
}

/**
 * Splits a command string into argv the way a POSIX shell splits words (no expansion): blanks separate,
 * single quotes keep everything, double quotes keep all but \" \\ \$ \`, a backslash outside quotes escapes
 * the next character. "bash" is ["bash"]; "/bin bash" is ["/bin", "bash"].
 */
export function splitCommand(s: string): string[] {
  const out: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "\\" && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) word += s[++i];
      else word += ch;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(word);
      word = "";
      inWord = false;
    } else {
      inWord = true;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch !== "\\") word += ch;
      else if (i + 1 < s.length) word += s[++i];
      else throw invalid("command ends with a lone backslash", "command");
    }
  }
  if (quote) throw invalid(`command has an unclosed ${quote} quote`, "command");
  if (inWord) out.push(word);
  return out;
}

/** argv as a command string that splitCommand reads back as the same argv. */
export function joinCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'"'"'`)}'`)).join(" ");
}
