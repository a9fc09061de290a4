// Alauda's `command` is one string; containers take argv. These convert between the two.
import { invalid } from "../../domain/errors.ts";

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
