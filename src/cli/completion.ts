// `tock completion bash|zsh|fish`: a completion script made from the command table (spec.ts), so a new
// command or flag is completed without touching this file. zsh runs the bash function through bashcompinit.
import { usageError } from "./args.ts";
import type { Ctx } from "./context.ts";
import { type CommandSpec, COMMANDS, type FlagSpec, flagsOf, GLOBAL_FLAGS, SHELLS } from "./spec.ts";

/** The server-side commands (main.ts), with their flags, for completion only. */
const SERVER_COMMANDS: { path: string[]; flags: string[] }[] = [
  { path: ["serve"], flags: ["--config", "--port", "--db"] },
  { path: ["migrate"], flags: ["--config", "--db"] },
  { path: ["check-config"], flags: ["--config", "--print"] },
  { path: ["keys", "create"], flags: ["--role", "--namespace", "--all-namespaces", "--name", "--expires", "--config", "--db"] },
  { path: ["keys", "list"], flags: ["--json", "--config", "--db"] },
  { path: ["keys", "revoke"], flags: ["--config", "--db"] },
  { path: ["backup"], flags: ["--config", "--db"] },
  { path: ["version"], flags: [] },
];

const longFlags = (flags: FlagSpec[]) => flags.map((f) => `--${f.name}`);
const key = (path: string[]) => path.join(" ");
const firstWords = () => [...new Set([...COMMANDS, ...SERVER_COMMANDS].map((c) => c.path[0]))];
const subsOf = (word: string) => [...COMMANDS, ...SERVER_COMMANDS].filter((c) => c.path[0] === word && c.path.length > 1).map((c) => c.path[1]);
const withSubs = () => firstWords().filter((w) => subsOf(w).length > 0);

function bash(): string {
  const flagCases = [
    ...COMMANDS.map((c) => `    "${key(c.path)}") echo "${longFlags(flagsOf(c)).join(" ")}" ;;`),
    ...SERVER_COMMANDS.map((c) => `    "${key(c.path)}") echo "${[...c.flags, "--help"].join(" ")}" ;;`),
  ];
  const valued = [...new Set([...COMMANDS.flatMap(flagsOf), ...GLOBAL_FLAGS].filter((f) => f.value).flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]))];
  const serverValued = ["--config", "-c", "--port", "-p", "--db", "--role", "--name", "--expires"];
  const choiceCases = COMMANDS.flatMap((c) => c.flags.filter((f) => f.choices).map((f) => `    "${key(c.path)} --${f.name}") COMPREPLY=($(compgen -W "${f.choices!.join(" ")}" -- "$cur")) ;;`));
  const fileFlags = COMMANDS.flatMap((c) => c.flags.filter((f) => f.file).flatMap((f) => [`"${key(c.path)} --${f.name}"`, ...(f.short ? [`"${key(c.path)} -${f.short}"`] : [])]));
  const argCases = COMMANDS.filter((c) => c.complete).map((c) => `    "${key(c.path)}") ${c.complete === "file" ? 'COMPREPLY=($(compgen -f -- "$cur"))' : `COMPREPLY=($(compgen -W "${(c.complete as string[]).join(" ")}" -- "$cur"))`} ;;`);
  return `# bash completion for tock: source it, or save it as /etc/bash_completion.d/tock
# (made by \`tock completion bash\`)
_tock_flags() {
  case "$1" in
${flagCases.join("\n")}
    *) echo "--help" ;;
  esac
}
_tock() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" sub="" i w
  [ "$COMP_CWORD" -gt 0 ] && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      ${[...valued, ...serverValued].join("|")}) ((i++)) ;;
      -*) ;;
      *) if [ -z "$cmd" ]; then cmd="$w"; elif [ -z "$sub" ]; then sub="$w"; fi ;;
    esac
  done
  local path="$cmd"
  case "$cmd" in ${withSubs().join("|")}) path="$cmd \${sub}" ;; esac
  COMPREPLY=()
  case "$path $prev" in
${choiceCases.join("\n")}
    ${fileFlags.join("|")}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  [ \${#COMPREPLY[@]} -gt 0 ] && return
  case "$prev" in ${[...valued, ...serverValued].join("|")}) return ;; esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_tock_flags "$path")" -- "$cur"))
  elif [ -z "$cmd" ]; then
    COMPREPLY=($(compgen -W "${firstWords().join(" ")}" -- "$cur"))
  elif [ -z "$sub" ]; then
    case "$cmd" in
${withSubs().map((w) => `      ${w}) COMPREPLY=($(compgen -W "${subsOf(w).join(" ")}" -- "$cur")) ;;`).join("\n")}
    esac
  fi
  [ \${#COMPREPLY[@]} -gt 0 ] && return
  case "$path" in
${argCases.join("\n")}
  esac
}
complete -F _tock tock
`;
}

function zsh(): string {
  return `# zsh completion for tock: in ~/.zshrc, source <(tock completion zsh)
# (made by \`tock completion zsh\`; it runs the bash completion through zsh's bashcompinit)
autoload -U +X compinit && { (( $+functions[compdef] )) || compinit; }
autoload -U +X bashcompinit && bashcompinit
${bash()
  .split("\n")
  .filter((l) => !l.startsWith("# "))
  .join("\n")}`;
}

const fishQuote = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

function fishFlag(cond: string, f: FlagSpec): string {
  const parts = ["complete -c tock"];
  if (cond) parts.push(`-n ${fishQuote(cond)}`);
  parts.push(`-l ${f.name}`);
  if (f.short) parts.push(`-s ${f.short}`);
  if (f.choices) parts.push(`-x -a ${fishQuote(f.choices.join(" "))}`);
  else if (f.file) parts.push("-r -F");
  else if (f.value) parts.push("-x");
  parts.push(`-d ${fishQuote(f.help)}`);
  return parts.join(" ");
}

function fish(): string {
  const cond = (c: CommandSpec | { path: string[] }) =>
    c.path.length === 1 ? `__fish_seen_subcommand_from ${c.path[0]}` : `__fish_seen_subcommand_from ${c.path[0]}; and __fish_seen_subcommand_from ${c.path[1]}`;
  const lines = [
    "# fish completion for tock: save it as ~/.config/fish/completions/tock.fish",
    "# (made by `tock completion fish`)",
    "complete -c tock -f",
    `complete -c tock -n __fish_use_subcommand -a ${fishQuote(firstWords().join(" "))}`,
    ...withSubs().map((w) => `complete -c tock -n ${fishQuote(`__fish_seen_subcommand_from ${w}; and not __fish_seen_subcommand_from ${subsOf(w).join(" ")}`)} -a ${fishQuote(subsOf(w).join(" "))}`),
    ...GLOBAL_FLAGS.map((f) => fishFlag("", f)),
    ...COMMANDS.flatMap((c) => c.flags.map((f) => fishFlag(cond(c), f))),
    ...COMMANDS.filter((c) => c.complete).map((c) => `complete -c tock -n ${fishQuote(cond(c))} ${c.complete === "file" ? "-F" : `-a ${fishQuote((c.complete as string[]).join(" "))}`}`),
    ...SERVER_COMMANDS.flatMap((c) => c.flags.map((f) => `complete -c tock -n ${fishQuote(cond(c))} -l ${f.slice(2)}${["--config", "--db"].includes(f) ? " -r -F" : ""}`)),
  ];
  return `${lines.join("\n")}\n`;
}

export function completionScript(shell: string): string {
  switch (shell) {
    case "bash":
      return bash();
    case "zsh":
      return zsh();
    case "fish":
      return fish();
  }
  throw usageError(`no completion for ${JSON.stringify(shell)}: give one of ${SHELLS.join(", ")}`);
}

export const completionCommand = (ctx: Ctx) => ctx.out(completionScript(ctx.args[0]));
