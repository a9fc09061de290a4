// The client commands of the built binary against real servers (the same binary, serving): tables and
// --json, exit codes, export and import between two servers, API keys, following a run's output, Ctrl-C,
// shell completion in real bash, and suggestions for what was mistyped.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir, waitUntil } from "../helpers.ts";
import { api, buildBinary, type Proc, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-e2e-cli-");
const procs: Proc[] = [];
let bin = "";
let a: Proc; // process jobs on: triggers, logs, kills
let b: Proc; // the import target
let k: Proc; // API keys required
let adminKey = "";
let readerKey = "";

const serverEnv = (name: string, extra: Record<string, string> = {}) => ({
  TOCK_DATABASE_URL: `file:${join(dir, `${name}.db`)}`,
  TOCK_SCHEDULER_NODE_ID: name,
  TOCK_SCHEDULER_POLL_INTERVAL: "200ms",
  ...extra,
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary as a user would: no config file, TOCK_SERVER pointing at server A unless `env` says otherwise. */
function tock(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<Result> {
  const child = spawn(bin, args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: dir, TMPDIR: process.env.TMPDIR ?? "/tmp", TZ: "UTC", TOCK_SERVER: a.url, ...opts.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(opts.input ?? "");
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const json = (r: Result) => {
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

/** A job's fields that PUT takes (the server-set ones dropped), for comparing jobs across servers. */
const SERVER_SET = ["id", "scheduleKind", "status", "compat", "nextFireAt", "firedCount", "version", "createdAt", "updatedAt", "waiting"];
const portable = (job: Record<string, unknown>) => Object.fromEntries(Object.entries(job).filter(([key]) => !SERVER_SET.includes(key)));

beforeAll(async () => {
  bin = buildBinary(join(dir, "bin"));
  const keyDb = `file:${join(dir, "k.db")}`;
  const make = (role: string) => spawnSync(bin, ["keys", "create", "--role", role, "--all-namespaces", "--db", keyDb], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH ?? "", TMPDIR: process.env.TMPDIR ?? "/tmp" } }).stdout.trim();
  adminKey = make("admin");
  readerKey = make("reader");
  expect(adminKey).toStartWith("tock_");
  const cwd = join(dir, "bin");
  [a, b, k] = await Promise.all([
    startTock([bin, "serve"], { cwd, env: serverEnv("a", { TOCK_EXECUTORS_PROCESS_ENABLED: "true", TOCK_EXECUTORS_PROCESS_KILL_GRACE: "300ms" }) }),
    startTock([bin, "serve"], { cwd, env: serverEnv("b") }),
    startTock([bin, "serve"], { cwd, env: serverEnv("k", { TOCK_AUTH_MODE: "keys" }) }),
  ]);
  procs.push(a, b, k);
}, 60_000);

afterAll(() => {
  for (const p of procs) p.child.kill("SIGKILL");
  cleanup();
});

describe("the command line itself", () => {
  test("--version and version; --help and jobs --help list the client commands", async () => {
    const v1 = await tock(["--version"]);
    const v2 = await tock(["version"]);
    expect(v1.code).toBe(0);
    expect(v1.stdout).toMatch(/^tock \d+\.\d+\.\d+ \(bun\)\n$/);
    expect(v2.stdout).toBe(v1.stdout);
    const help = await tock(["--help"]);
    expect(help.code).toBe(0);
    for (const line of ["tock jobs ls", "tock jobs import FILE", "tock runs logs ID", "tock preview SPEC", "tock nodes", "tock completion SHELL", "tock serve"]) expect(help.stdout).toContain(line);
    const jobsHelp = await tock(["jobs", "--help"]);
    expect(jobsHelp.code).toBe(0);
    expect(jobsHelp.stdout).toContain("tock jobs export");
    expect(jobsHelp.stdout).not.toContain("tock runs ls");
    const one = await tock(["runs", "logs", "--help"]);
    expect(one.stdout).toContain("Usage: tock runs logs ID [--follow] [--stream S]");
  });

  test("an unknown flag or command suggests the nearest one and exits 2", async () => {
    const flag = await tock(["jobs", "ls", "--namepsace", "x"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe("tock: unknown flag --namepsace for tock jobs ls; did you mean --namespace? (tock jobs ls --help lists its flags)\n");
    const sub = await tock(["jobs", "lst"]);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain("unknown jobs command: lst; did you mean `tock jobs ls`?");
    const cmd = await tock(["jbos", "ls"]);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("unknown command: jbos; did you mean `tock jobs`?");
    const server = await tock(["serve", "--prot", "9000"]);
    expect(server.code).toBe(2);
    expect(server.stderr).toContain("unknown flag --prot; did you mean --port?");
    const missing = await tock(["jobs", "get"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing NS/NAME");
    const badRef = await tock(["jobs", "get", "no-slash"]);
    expect(badRef.code).toBe(2);
    expect(badRef.stderr).toContain("NAMESPACE/NAME");
  });

  test("a server that cannot be reached says so with its URL and exits 5; a bad URL is a usage error", async () => {
    const r = await tock(["jobs", "ls"], { env: { TOCK_SERVER: "http://127.0.0.1:1" } });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe("tock: cannot reach the tock server at http://127.0.0.1:1: connection refused (set --server or TOCK_SERVER)\n");
    const bad = await tock(["jobs", "ls", "--server", "127.0.0.1:8080x"]);
    expect(bad.code).toBe(2);
  });
});

describe("jobs", () => {
  test("put (from a file and from stdin), get, ls as a table and as JSON", async () => {
    const file = join(dir, "hook.json");
    writeFileSync(file, JSON.stringify({ schedule: "*/5 * * * *", timezone: "Europe/Rome", target: { http: { url: "http://127.0.0.1:9/hook" } }, labels: { team: "ops" }, memo: "a hook" }));
    const created = await tock(["jobs", "put", "web/hook", "-f", file]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^created web\/hook \(version 1; scheduled, next fire in \d+m/);
    expect((await tock(["jobs", "put", "web/hook", "-f", file])).stdout).toStartWith("updated web/hook (version 2;");
    const long = { target: { process: { command: ["/bin/echo", "a very long argument that makes the target column wider than it may be shown"] } } };
    expect((await tock(["jobs", "put", "ops/echo", "-f", "-"], { input: JSON.stringify(long) })).code).toBe(0);

    const ls = await tock(["jobs", "ls"]);
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAMESPACE +NAME +STATUS +SCHEDULE +NEXT +TARGET$/);
    expect(lines[1]).toMatch(/^ops +echo +manual +manual +- +process \/bin\/echo a very long.*…$/);
    expect(lines[2]).toMatch(/^web +hook +scheduled +\*\/5 \* \* \* \* \(Europe\/Rome\) +in \d+m\S* +POST http:\/\/127\.0\.0\.1:9\/hook$/);
    // Aligned: every cell starts where its column's header does.
    for (const h of ["NAME", "STATUS", "SCHEDULE", "NEXT", "TARGET"]) {
      const at = lines[0].indexOf(` ${h}`) + 1;
      for (const l of lines.slice(1)) expect([l[at - 1], l[at] !== " "]).toEqual([" ", true]);
    }

    const only = json(await tock(["jobs", "ls", "--namespace", "web", "--json"]));
    expect(only.items.map((j: { name: string }) => j.name)).toEqual(["hook"]);
    expect(only.nextCursor).toBeNull();

    const get = await tock(["jobs", "get", "web/hook"]);
    expect(get.code).toBe(0);
    expect(get.stdout).toContain("job:       web/hook\n");
    expect(get.stdout).toContain("schedule:  */5 * * * * (cron, Europe/Rome)\n");
    expect(get.stdout).toMatch(/next fire: \d{4}-\d\d-\d\d \d\d:\d\d:00 \(in \d+m/);
    expect(get.stdout).toContain("labels:    team=ops\n");
    const asJson = json(await tock(["jobs", "get", "web/hook", "--json"]));
    expect(asJson).toEqual((await api(a.url, "GET", "/api/v1/namespaces/web/jobs/hook")).body);
  });

  test("pause, resume, trigger, rm; a missing job exits 3 and a refused one 1, with the server's message on one line", async () => {
    await tock(["jobs", "put", "life/cycle", "-f", "-"], { input: JSON.stringify({ schedule: "@every 1h", target: { http: { url: "http://127.0.0.1:9/" } } }) });
    expect((await tock(["jobs", "pause", "life/cycle"])).stdout).toBe("paused life/cycle (paused)\n");
    expect((await tock(["jobs", "resume", "life/cycle"])).stdout).toMatch(/^resumed life\/cycle \(scheduled; next fire \S+ \S+ \(in 5\dm\S*\)\)\n$/);
    const triggered = await tock(["jobs", "trigger", "life/cycle", "--json"]);
    expect(json(triggered)).toMatchObject({ namespace: "life", jobName: "cycle", trigger: "manual" });
    expect((await tock(["jobs", "rm", "life/cycle"])).stdout).toBe("removed life/cycle\n");
    const gone = await tock(["jobs", "get", "life/cycle"]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toBe("tock: job life/cycle not found\n");
    const refused = await tock(["jobs", "put", "life/bad", "-f", "-"], { input: JSON.stringify({ target: { http: { url: "ftp://x" } } }) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("tock: target.http.url must be an http:// or https:// URL\n");
    const notJson = await tock(["jobs", "put", "life/bad", "-f", "-"], { input: "{nope" });
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toStartWith("tock: stdin is not valid JSON");
  });
});
