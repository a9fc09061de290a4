// Script jobs: the content is written to a private temp file and run by the interpreter the config names
// for its language, through the process core (same environment rules, process group and grace). The temp
// folder is removed after every run, whatever happened.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { selfRunner } from "../runtime/spawn.ts";
import { jobEnv, payloadBytes, pickEnv, type ProcessExecutorOptions, runCommand } from "./process.ts";
import { errorText, type ExecRequest, type Executor, type Outcome, type ScriptTarget } from "./types.ts";

/** The process options plus the `[executors.script]` keys. */
export interface ScriptExecutorOptions extends ProcessExecutorOptions {
  /** Argv prefix per language; the program "@runtime" is the runtime running tock (Bun or Deno). */
  interpreters: Readonly<Record<string, readonly string[]>>;
  /** Where the private per-run folders are made; undefined: the OS temp dir. */
  tempDir?: string;
}

/** The program name in `interpreters` that stands for the runtime running tock. */
export const RUNTIME_INTERPRETER = "@runtime";

// Interpreters (bun, deno, node) pick the loader by extension, so the file's name must fit the language.
const EXTENSIONS: Record<string, string> = {
  shell: ".sh",
  sh: ".sh",
  bash: ".sh",
  zsh: ".sh",
  python: ".py",
  python3: ".py",
  node: ".js",
  javascript: ".js",
  js: ".js",
  typescript: ".ts",
  ts: ".ts",
  ruby: ".rb",
  perl: ".pl",
  php: ".php",
  lua: ".lua",
  r: ".R",
  powershell: ".ps1",
  go: ".go", // `go run` refuses a file without it
};

export function scriptFileName(language: string): string {
  return `script${EXTENSIONS[language] ?? ""}`;
}

export function createScriptExecutor(opts: ScriptExecutorOptions): Executor {
  const env = opts.env ?? process.env;
  const passed = pickEnv(env, opts.passEnv);
  const self = selfRunner();
  const tempRoot = opts.tempDir ?? tmpdir();

  return {
    async execute(req: ExecRequest, signal: AbortSignal): Promise<Outcome> {
      const target = req.target as ScriptTarget;
      // Checked at creation too, but the config may have changed since.
      const interpreter = Object.hasOwn(opts.interpreters, target.language) ? opts.interpreters[target.language] : undefined;
      if (!interpreter || interpreter.length === 0) {
        return { status: "failed", error: `no interpreter for language "${target.language}" in [executors.script.interpreters]` };
      }
      if (signal.aborted) return { status: "failed", error: "aborted before start" };

      let dir: string;
      let file: string;
      try {
        // mkdtemp makes the folder 0700: only tock's user can read the script.
        dir = await mkdtemp(join(tempRoot, "tock-script-"));
      } catch (e) {
        return { status: "failed", error: `cannot create a temp folder in ${tempRoot}: ${errorText(e)}` };
      }
      try {
        file = join(dir, scriptFileName(target.language));
        await writeFile(file, target.content, { mode: 0o600, flag: "wx" });
        const isSelf = interpreter[0] === RUNTIME_INTERPRETER;
        const prefix = isSelf ? [...self.argv, ...interpreter.slice(1)] : interpreter;
        const envVars = jobEnv(passed, target.env, req);
        if (isSelf) Object.assign(envVars, self.env);
        return await runCommand(
          [...prefix, file, ...(target.args ?? [])],
          { env: envVars, cwd: target.cwd ?? opts.workingDir, stdin: payloadBytes(req.payload), killGrace: opts.killGrace },
          req,
          signal,
        );
      } catch (e) {
        return { status: "failed", error: `cannot write the script: ${errorText(e)}` };
      } finally {
        await rm(dir, { recursive: true, force: true }).catch(() => {});
      }
    },
  };
}
