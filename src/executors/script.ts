// Script jobs: the content is written to a private temp file and run by the interpreter the config names
// for its language, through the process core (same environment rules, process group and grace). The temp
// folder is removed after every run, whatever happened.
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { selfRunner } from "../runtime/spawn.ts";
import { present } from "./which.ts";
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

const FOLDER_PREFIX = "tock-script-";

/**
 * Removes the script folders that tock processes left behind when they died (kill -9, a crash) before
 * removing them: those in `tempRoot` named for a process that is no longer alive. A folder of a live process
 * (another tock on this host, or a reused process id) is left alone. Returns how many were removed.
 */
export async function sweepScriptFolders(tempRoot: string = tmpdir()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(tempRoot);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = new RegExp(`^${FOLDER_PREFIX}(\\d+)-`).exec(name);
    if (!m || alive(Number(m[1]))) continue;
    await rm(join(tempRoot, name), { recursive: true, force: true }).then(() => removed++, () => {});
  }
  return removed;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}

export function scriptFileName(language: string): string {
  return `script${EXTENSIONS[language] ?? ""}`;
}

export function createScriptExecutor(opts: ScriptExecutorOptions): Executor {
  const env = opts.env ?? process.env;
  const passed = pickEnv(env, opts.passEnv);
  const self = selfRunner();
  const tempRoot = opts.tempDir ?? tmpdir();

  // Languages whose interpreter is here: a node claims script runs of those only.
  const languages = Object.entries(opts.interpreters).filter(([, argv]) => argv.length > 0 && (argv[0] === RUNTIME_INTERPRETER || present(argv[0], env.PATH)));
  return {
    offers: languages.map(([language]) => `script:${language}`),
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
        // mkdtemp makes the folder 0700: only tock's user can read the script. The process id in its name
        // lets a later start remove it if this process dies before it does (sweepScriptFolders).
        dir = await mkdtemp(join(tempRoot, `${FOLDER_PREFIX}${process.pid}-`));
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
