// The client commands as data: names, arguments and flags. The parser, the help text and the shell
// completion scripts are all made from this one table, so they cannot disagree.

export interface FlagSpec {
  name: string;
  short?: string;
  /** What the value is called in help (a flag without one is a switch). */
  value?: string;
  help: string;
  /** The values a shell may offer for it. */
  choices?: string[];
  /** The shell completes file names for it. */
  file?: boolean;
  /** The command cannot do without it. */
  required?: boolean;
  /** May be given more than once; each value is kept, in order. */
  repeat?: boolean;
}

export interface CommandSpec {
  /** ["jobs", "ls"], ["nodes"]. */
  path: string[];
  /** The positional arguments, as help shows them ("NS/NAME", "ID", "SPEC"). */
  args: string[];
  /** How many of them are optional, from the end. */
  optional?: number;
  summary: string;
  flags: FlagSpec[];
  /** The shell offers these for the first argument (completion's shells), or file names. */
  complete?: string[] | "file";
}

export const STATUSES = ["queued", "running", "succeeded", "failed", "timed_out", "killed", "skipped", "lost"];
export const SHELLS = ["bash", "zsh", "fish"];

const namespace: FlagSpec = { name: "namespace", value: "NS", help: "one namespace (default: every namespace the key may see)" };

/** Flags every client command takes. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: "server", value: "URL", help: "the tock server (default $TOCK_SERVER, else http://127.0.0.1:8080)" },
  { name: "token", value: "KEY", help: "the API key (default $TOCK_TOKEN)" },
  { name: "timeout", value: "DURATION", help: "how long the server has to answer each request (default 30s)" },
  { name: "json", help: "print the API's JSON instead of a table" },
  { name: "help", short: "h", help: "show this help" },
];

export const COMMANDS: CommandSpec[] = [
  { path: ["jobs", "ls"], args: [], summary: "list jobs, every page", flags: [namespace] },
  { path: ["jobs", "get"], args: ["NS/NAME"], summary: "show one job", flags: [] },
  { path: ["jobs", "put"], args: ["NS/NAME"], summary: "create or replace a job from a JSON file", flags: [{ name: "file", short: "f", value: "FILE", help: "the job as JSON (- for stdin); what `jobs get --json` prints is taken back", file: true, required: true }] },
  { path: ["jobs", "rm"], args: ["NS/NAME"], summary: "delete a job and its history", flags: [] },
  {
    path: ["jobs", "trigger"],
    args: ["NS/NAME"],
    summary: "queue a run now",
    flags: [
      { name: "env", value: "KEY=VALUE", help: "a variable for this run, over the job's own (repeatable)", repeat: true },
      { name: "arg", value: "VALUE", help: "an argument after the job's own (repeatable, in order)", repeat: true },
    ],
  },
  { path: ["jobs", "pause"], args: ["NS/NAME"], summary: "pause a job", flags: [] },
  { path: ["jobs", "resume"], args: ["NS/NAME"], summary: "resume a paused job", flags: [] },
  { path: ["jobs", "export"], args: [], summary: "every job as JSON on stdout (for jobs import)", flags: [namespace] },
  {
    path: ["jobs", "import"],
    args: ["FILE"],
    summary: "create or update the jobs of an export file (- for stdin); unchanged jobs are left alone",
    complete: "file",
    flags: [
      { name: "namespace", value: "NS", help: "put every job into this namespace instead of its own" },
      { name: "concurrency", value: "N", help: "PUTs in flight at once, for a server that takes no batches (default 8)" },
    ],
  },
  {
    path: ["runs", "ls"],
    args: [],
    summary: "list runs, newest first",
    flags: [
      namespace,
      { name: "job", value: "NAME", help: "one job's runs (NS/NAME, or NAME with --namespace)" },
      { name: "status", value: "S", help: "only runs in these states (comma-separated)", choices: STATUSES },
      { name: "limit", short: "n", value: "N", help: "at most N runs (default 50)" },
    ],
  },
  { path: ["runs", "get"], args: ["ID"], summary: "show one run", flags: [] },
  { path: ["runs", "kill"], args: ["ID"], summary: "end a queued or running run", flags: [] },
  {
    path: ["runs", "logs"],
    args: ["ID"],
    summary: "a run's output lines",
    flags: [
      { name: "follow", short: "f", help: "stream new lines until the run ends (exit code: 0 if it succeeded, 1 if not)" },
      { name: "stream", value: "S", help: "only these streams (stdout, stderr, tock; comma-separated)", choices: ["stdout", "stderr", "tock"] },
    ],
  },
  {
    path: ["preview"],
    args: ["SPEC"],
    summary: "the next fire times of a schedule, computed here (no server needed)",
    flags: [
      { name: "tz", value: "ZONE", help: "IANA time zone (default UTC)" },
      { name: "count", short: "n", value: "N", help: "how many (default 10, at most 1000)" },
    ],
  },
  { path: ["nodes"], args: [], summary: "the nodes sharing the server's database (admin keys)", flags: [] },
  { path: ["completion"], args: ["SHELL"], summary: "a completion script for bash, zsh or fish", complete: SHELLS, flags: [] },
];

/** The first words of the client commands. */
export const CLIENT_WORDS = [...new Set(COMMANDS.map((c) => c.path[0]))];

/** The commands under a first word ("jobs" -> ls, get, …). */
export const subcommandsOf = (word: string) => COMMANDS.filter((c) => c.path[0] === word && c.path.length > 1).map((c) => c.path[1]);

/** Every flag a command takes, its own and the global ones. */
export const flagsOf = (c: CommandSpec) => [...c.flags, ...GLOBAL_FLAGS];
