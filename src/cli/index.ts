// The client commands of the binary (jobs, runs, preview, nodes, completion): parse, run, print, exit code.
// main.ts hands them every command line whose command is one of these; they never read a config file or
// open a database, only the server's API (--server/TOCK_SERVER, --token/TOCK_TOKEN).
import process from "node:process";
import { CliError, EXIT, parseClient, usageLine } from "./args.ts";
import { Client } from "./client.ts";
import { completionCommand } from "./completion.ts";
import { type Ctx, writer } from "./context.ts";
import { importJobs } from "./import.ts";
import { jobsCommand } from "./jobs.ts";
import { nodesCommand } from "./nodes.ts";
import { previewCommand } from "./preview.ts";
import { runsCommand } from "./runs.ts";
import { CLIENT_WORDS, type CommandSpec, COMMANDS, GLOBAL_FLAGS } from "./spec.ts";

export { CLIENT_WORDS };

const pad = (s: string, w: number) => (s.length >= w ? `${s}  ` : s.padEnd(w));

/** The client commands, one line each, for `tock --help` and `tock jobs --help`. */
export function clientUsage(word?: string): string {
  const shown = COMMANDS.filter((c) => word === undefined || c.path[0] === word);
  const lines = shown.map((c) => `  ${pad(["tock", ...c.path, ...c.args].join(" "), 34)}${c.summary}`);
  const globals = GLOBAL_FLAGS.map((f) => `  ${pad(`--${f.name}${f.value ? ` ${f.value}` : ""}`, 34)}${f.help}`);
  return `${lines.join("\n")}\n\nEvery client command takes:\n${globals.join("\n")}\n`;
}

function commandHelp(c: CommandSpec): string {
  const flags = [...c.flags, ...GLOBAL_FLAGS].map((f) => `  ${pad(`${f.short ? `-${f.short}, ` : ""}--${f.name}${f.value ? ` ${f.value}` : ""}`, 30)}${f.help}`);
  return `${c.summary}\n\nUsage: ${usageLine(c)}\n\nFlags:\n${flags.join("\n")}\n`;
}

/** Which command line is a client command: its first word (past --server/--token and their values) is one. */
export function isClientCommand(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    if (t === "--server" || t === "--token") i++;
    else if (!t.startsWith("-")) return CLIENT_WORDS.includes(t);
  }
  return false;
}

/** Runs one client command line; resolves with the exit code, once everything is written. */
export async function runClient(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const out = writer(process.stdout);
  const err = writer(process.stderr);
  const stop = new AbortController();
  // The first Ctrl-C stops the command where it is (exit 130); a second one exits at once.
  const onSigint = () => (stop.signal.aborted ? process.exit(EXIT.interrupted) : stop.abort());
  process.on("SIGINT", onSigint);
  try {
    const parsed = parseClient(argv);
    const { command, flags } = parsed;
    if (!command) {
      // `tock jobs --help` asks for this; a bare `tock jobs` gets it on stderr, as a usage error.
      await (flags.help ? out : err)(`Usage:\n${clientUsage(parsed.words[0])}`);
      return flags.help ? EXIT.ok : EXIT.usage;
    }
    if (flags.help) {
      await out(commandHelp(command));
      return EXIT.ok;
    }
    let client: Client | undefined;
    const ctx: Ctx = {
      args: parsed.args,
      flags,
      lists: parsed.lists,
      json: flags.json === true,
      client: () => (client ??= new Client({ server: flags.server as string | undefined, token: flags.token as string | undefined, timeout: flags.timeout as string | undefined, env, signal: stop.signal })),
      out,
      err,
      stderrTTY: process.stderr.isTTY === true,
      now: () => Date.now(),
      signal: stop.signal,
    };
    const [word, sub] = command.path;
    let code: number | void;
    if (word === "jobs") code = sub === "import" ? await importJobs(ctx) : await jobsCommand(sub, ctx);
    else if (word === "runs") code = await runsCommand(sub, ctx);
    else if (word === "preview") code = await previewCommand(ctx);
    else if (word === "nodes") code = await nodesCommand(ctx);
    else code = await completionCommand(ctx);
    return code ?? EXIT.ok;
  } catch (e) {
    if (e instanceof CliError) {
      if (e.exitCode !== EXIT.interrupted) await err(`tock: ${e.message}\n`);
      return e.exitCode;
    }
    if (stop.signal.aborted) return EXIT.interrupted;
    await err(`tock: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failed;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
