// What a client command is handed: its parsed line, a client for the server, output, the time, Ctrl-C.
import { readFileSync } from "node:fs";
import process from "node:process";
import { CliError, EXIT, usageError } from "./args.ts";
import type { Client } from "./client.ts";

export interface Ctx {
  args: string[];
  flags: Record<string, string | true>;
  /** The values of repeatable flags (--env, --arg), in order. */
  lists: Record<string, string[]>;
  json: boolean;
  /** The client for --server/TOCK_SERVER and --token/TOCK_TOKEN, made on first use. */
  client(): Client;
  out(text: string): Promise<void>;
  err(text: string): Promise<void>;
  /** Whether stderr is a terminal (a progress bar is drawn only there). */
  stderrTTY: boolean;
  now(): number;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

/** Writes and resolves once the text is handed to the system: nothing is lost when the process exits next. */
export function writer(stream: NodeJS.WriteStream): (text: string) => Promise<void> {
  return (text) =>
    new Promise((resolve) => {
      if (text === "") return resolve();
      stream.write(text, () => resolve());
    });
}

/** The text of FILE, or of stdin for "-"; a file that cannot be read is a usage error naming it. */
export async function readInput(file: string): Promise<string> {
  if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks).toString("utf8");
  }
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw usageError(`cannot read ${file}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : (e as Error).message}`);
  }
}

/** JSON text parsed, or a usage error naming where it came from and where it breaks. */
export function parseJson(text: string, from: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${from} is not valid JSON: ${(e as Error).message}`, EXIT.usage);
  }
}

export const printJson = (ctx: Ctx, value: unknown) => ctx.out(`${JSON.stringify(value, null, 2)}\n`);
