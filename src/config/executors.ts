// The [executors] section of tock.toml: HTTP and TCP callbacks, and the process, script and container jobs
// an operator may turn on.
import * as v from "valibot";
import { duration, GiB, got, int, optionalText, section, size, strings, text } from "./fields.ts";

/** An argv prefix: a path or name, or an array of the program and its first arguments. */
const Argv = v.pipe(
  v.union([v.pipe(text(), v.transform((s) => [s])), v.pipe(strings("strings", 32), v.minLength(1, "must not be empty"))], (i) => `must be a program ("python3") or an array such as ["python3", "-u"]${got(i)}`),
);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const Process = section({
  // A scheduler that runs commands is a remote shell for whoever can reach its API: off unless asked for.
  enabled: v.optional(v.boolean((i) => `must be true or false${got(i)}`), false),
  allowed_commands: v.optional(strings("executable paths", 1000), []),
  pass_env: v.optional(
    v.pipe(strings("environment variable names", 1000), v.check((a) => a.every((n) => ENV_NAME.test(n)), "entries must be environment variable names")),
    ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER"],
  ),
  allow_inherit_env: v.optional(v.boolean((i) => `must be true or false${got(i)}`), false),
  shell: v.optional(Argv, ["/bin/sh", "-c"]),
  working_dir: v.optional(optionalText()),
  kill_grace: v.optional(duration({ zero: true }), "5s"),
  max_log_bytes: v.optional(size(0, GiB), "1MiB"),
  tail_lines: v.optional(int(0, 1000), 20),
});

const LANGUAGE = /^[a-z0-9][a-z0-9+.-]{0,31}$/;

/** Languages a script job may use out of the box; "@runtime" is the runtime running tock (Bun or Deno). */
export const DEFAULT_INTERPRETERS: Record<string, string[]> = {
  shell: ["/bin/sh"],
  bash: ["/bin/bash"],
  python: ["python3"],
  node: ["node"],
  typescript: ["@runtime"],
  javascript: ["@runtime"],
};

const Script = section({
  // Merged over the defaults; an empty array removes a language.
  interpreters: v.optional(
    v.pipe(
      v.record(
        v.pipe(v.string(), v.regex(LANGUAGE, "language names are lower-case letters, digits, '+', '.' or '-'")),
        v.union([v.pipe(text(), v.transform((s) => [s])), strings("strings", 32)], (i) => `must be a program ("python3"), an array such as ["python3", "-u"], or [] to remove the language${got(i)}`),
        (i) => `must be a table of language = program${got(i)}`,
      ),
      v.transform((user) => Object.fromEntries(Object.entries({ ...DEFAULT_INTERPRETERS, ...user }).filter(([, argv]) => argv.length > 0))),
    ),
    {},
  ),
  temp_dir: v.optional(optionalText()),
});

const Container = section({
  cli: v.optional(optionalText()),
  run_args: v.optional(strings("strings", 100), []),
});

export const Executors = section({
  http: v.optional(
    section({
      user_agent: v.optional(text(), "tock"),
      max_response_bytes: v.optional(size(0, GiB), 65536),
    }),
    {},
  ),
  tcp: v.optional(
    section({
      max_response_bytes: v.optional(size(0, GiB), 65536),
      connect_timeout: v.optional(duration({ zero: false }), "5s"),
    }),
    {},
  ),
  process: v.optional(Process, {}),
  script: v.optional(Script, {}),
  container: v.optional(Container, {}),
});

