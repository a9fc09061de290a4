// The client commands of the built binary against real servers (the same binary, serving): tables and
// --json, exit codes, export and import between two servers, API keys, following a run's output, Ctrl-C,
// shell completion in real bash, and suggestions for what was mistyped.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { tempDir, waitUntil } from "../helpers.ts";
import { api, buildBinary, type Proc, type Ran, run as runCommand, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-e2e-cli-");
const procs: Proc[] = [];
let bin = "";
let a: Proc; // process jobs on: triggers, logs, kills
let b: Proc; // the import target (process jobs on too, so that A's move over)
let k: Proc; // API keys required
let adminKey = "";
let readerKey = "";

const serverEnv = (name: string, extra: Record<string, string> = {}) => ({
  TOCK_DATABASE_URL: `file:${join(dir, `${name}.db`)}`,
  TOCK_SCHEDULER_NODE_ID: name,
  TOCK_SCHEDULER_POLL_INTERVAL: "200ms",
  ...extra,
});

/** Runs the binary as a user would: no config file, TOCK_SERVER pointing at server A unless `env` says otherwise. */
function tock(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<Ran> {
  return runCommand([bin, ...args], { cwd: dir, input: opts.input, env: { PATH: process.env.PATH ?? "", HOME: dir, TMPDIR: process.env.TMPDIR ?? "/tmp", TZ: "UTC", TOCK_SERVER: a.url, ...opts.env } });
}

const json = (r: Ran) => {
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
    startTock([bin, "serve"], { cwd, env: serverEnv("b", { TOCK_EXECUTORS_PROCESS_ENABLED: "true" }) }),
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
    const bare = await tock(["jobs"]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe("");
    expect(bare.stderr).toContain("tock jobs ls");
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

  test("a server that takes the connection but never answers, or stalls in its answer: exit 5 after --timeout, naming it", async () => {
    const sockets: Socket[] = [];
    // accepts and says nothing; on the second connection on, sends its headers and the start of a body, then stalls
    const silent = createServer((socket) => {
      if (sockets.push(socket) > 1) socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{");
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const port = (silent.address() as AddressInfo).port;
      const r = await tock(["jobs", "ls", "--timeout", "500ms"], { env: { TOCK_SERVER: `http://127.0.0.1:${port}` } });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 5, stderr: `tock: the tock server at http://127.0.0.1:${port} did not answer GET /api/v1/namespaces within 0.5s (--timeout)\n` });
      expect(sockets.length).toBe(1);
      const stalled = await tock(["jobs", "ls", "--timeout", "500ms"], { env: { TOCK_SERVER: `http://127.0.0.1:${port}` } });
      expect({ code: stalled.code, stderr: stalled.stderr }).toEqual({ code: 5, stderr: `tock: the tock server at http://127.0.0.1:${port} did not answer GET /api/v1/namespaces within 0.5s (--timeout)\n` });
      expect(sockets.length).toBe(2);
      for (const t of ["soon", "0", "25d"]) expect((await tock(["jobs", "ls", "--timeout", t], { env: { TOCK_SERVER: `http://127.0.0.1:${port}` } })).code).toBe(2);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

describe("jobs", () => {
  test("put (from a file and from stdin), get, ls as a table and as JSON", async () => {
    const file = join(dir, "hook.json");
    // Once a year, so that it does not fire (and change version) while the test runs.
    writeFileSync(file, JSON.stringify({ schedule: "0 9 1 1 *", timezone: "Europe/Rome", target: { http: { url: "http://127.0.0.1:9/hook" } }, labels: { team: "ops" }, memo: "a hook" }));
    const created = await tock(["jobs", "put", "web/hook", "-f", file]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^created web\/hook \(version 1; scheduled, next fire in \d+d(\d+h)?\)\n$/);
    expect((await tock(["jobs", "put", "web/hook", "-f", file])).stdout).toStartWith("updated web/hook (version 2;");
    const long = { target: { process: { command: ["/bin/echo", "a very long argument that makes the target column wider than it may be shown"] } } };
    expect((await tock(["jobs", "put", "ops/echo", "-f", "-"], { input: JSON.stringify(long) })).code).toBe(0);

    const ls = await tock(["jobs", "ls"]);
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAMESPACE +NAME +STATUS +SCHEDULE +NEXT +TARGET$/);
    expect(lines[1]).toMatch(/^ops +echo +manual +manual +- +process \/bin\/echo a very long.*…$/);
    expect(lines[2]).toMatch(/^web +hook +scheduled +0 9 1 1 \* \(Europe\/Rome\) +in \d+d(\d+h)? +POST http:\/\/127\.0\.0\.1:9\/hook$/);
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
    expect(get.stdout).toContain("schedule:  0 9 1 1 * (cron, Europe/Rome)\n");
    expect(get.stdout).toMatch(/next fire: \d{4}-01-01 08:00:00 \(in \d+d(\d+h)?\)\n/);
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

describe("export and import", () => {
  test("1,500 jobs exported from one server (every page, every namespace) and imported into another come out the same; a second import changes nothing", async () => {
    // Made on A through the API; more than one page of 1000, over two namespaces.
    const jobs = Array.from({ length: 1500 }, (_, i) => ({
      namespace: i % 3 === 0 ? "bulk-b" : "bulk-a",
      name: `job-${String(i).padStart(4, "0")}`,
      body: { schedule: `${i % 60} * * * *`, timezone: "America/New_York", target: { http: { url: `http://127.0.0.1:9/${i}`, headers: { "x-n": String(i) } } }, retry: { times: 2, interval: "1s" }, labels: { n: String(i) }, enabled: i % 7 !== 0 },
    }));
    const file = join(dir, "bulk-import.json");
    writeFileSync(file, JSON.stringify(jobs.map((j) => ({ namespace: j.namespace, name: j.name, ...j.body }))));
    const seeded = await tock(["jobs", "import", file]); // A, quietly: stderr is not a terminal
    expect(seeded.stderr).toBe("");
    expect(seeded.stdout).toBe("1500 jobs: 1500 created, 0 updated, 0 unchanged, 0 failed\n");

    const exported = await tock(["jobs", "export"]);
    expect(exported.code).toBe(0);
    const fromA = JSON.parse(exported.stdout) as Record<string, unknown>[];
    const bulk = fromA.filter((j) => String(j.namespace).startsWith("bulk-"));
    expect(bulk.length).toBe(1500);
    expect(exported.stderr).toBe(`exported ${fromA.length} jobs\n`);
    const exportFile = join(dir, "export.json");
    writeFileSync(exportFile, exported.stdout);

    const toB = { TOCK_SERVER: b.url };
    const first = await tock(["jobs", "import", exportFile], { env: toB });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`${fromA.length} jobs: ${fromA.length} created, 0 updated, 0 unchanged, 0 failed\n`);
    const onB = json(await tock(["jobs", "export"], { env: toB, input: "" }).then((r) => ({ ...r, stderr: "" })));
    expect(onB.map(portable)).toEqual(fromA.map(portable));

    const versions = onB.map((j: { version: number }) => j.version);
    const again = await tock(["jobs", "import", "-", "--json"], { env: toB, input: exported.stdout });
    expect(json(again)).toEqual({ created: 0, updated: 0, unchanged: fromA.length, failed: [] });
    const after = JSON.parse((await tock(["jobs", "export", "--namespace", "bulk-a"], { env: toB })).stdout);
    expect(after.map((j: { version: number }) => j.version)).toEqual(versions.filter((_: number, i: number) => onB[i].namespace === "bulk-a"));
    // ls follows the pages as well.
    expect(json(await tock(["jobs", "ls", "--namespace", "bulk-a", "--json"], { env: toB })).items.length).toBe(1000);
  }, 60_000);

  test("a changed job is updated, a bad one is named and the rest go on (exit 1); --namespace imports into another namespace", async () => {
    const toB = { TOCK_SERVER: b.url };
    const good = { namespace: "mixed", name: "good", schedule: "@every 1h", target: { http: { url: "http://127.0.0.1:9/a" } } };
    const bad = { namespace: "mixed", name: "bad", target: { http: { url: "ftp://nope" } } };
    const later = { namespace: "mixed", name: "later", target: { http: { url: "http://127.0.0.1:9/b" } } };
    const r = await tock(["jobs", "import", "-"], { env: toB, input: JSON.stringify([good, bad, later, { no: "name" }]) });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("4 jobs: 2 created, 0 updated, 0 unchanged, 2 failed\n");
    expect(r.stderr).toBe("tock: mixed/bad: target.http.url must be an http:// or https:// URL\ntock: item 3 of stdin is not a job with a namespace and a name\ntock: 2 jobs not imported: mixed/bad, item 3\n");
    // Taken back as the server shows them (what export writes), one of them changed.
    const [onGood, onLater] = json(await tock(["jobs", "ls", "--namespace", "mixed", "--json"], { env: toB })).items.sort((x: { name: string }, y: { name: string }) => (x.name < y.name ? -1 : 1));
    const changed = await tock(["jobs", "import", "-"], { env: toB, input: JSON.stringify([{ ...onGood, memo: "changed" }, onLater]) });
    expect(changed.stdout).toBe("2 jobs: 0 created, 1 updated, 1 unchanged, 0 failed\n");
    const moved = await tock(["jobs", "import", "-", "--namespace", "elsewhere"], { env: toB, input: JSON.stringify([good, later]) });
    expect(moved.stdout).toBe("2 jobs: 2 created, 0 updated, 0 unchanged, 0 failed\n");
    expect((await api(b.url, "GET", "/api/v1/namespaces/elsewhere/jobs/good")).status).toBe(200);
    // Two namespaces folded into one, and one job twice: the first of each is put, the others named, exit 1.
    const twin = { ...good, namespace: "other", memo: "the other good" };
    const folded = await tock(["jobs", "import", "-", "--namespace", "folded", "--concurrency", "1"], { env: toB, input: JSON.stringify([good, twin, later, later]) });
    expect(folded.code).toBe(1);
    expect(folded.stdout).toBe("4 jobs: 2 created, 0 updated, 0 unchanged, 2 failed\n");
    expect(folded.stderr).toContain("tock: folded/good: item 1 is folded/good again, like item 0 (from other, item 0 from mixed): only the first is put\n");
    expect(folded.stderr).toContain("tock: folded/later: item 3 is folded/later again, like item 2: only the first is put\n");
    expect((await api(b.url, "GET", "/api/v1/namespaces/folded/jobs/good")).body.memo ?? null).toBe(null); // the first, not its twin
    const missing = await tock(["jobs", "import", join(dir, "nope.json")], { env: toB });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`tock: cannot read ${join(dir, "nope.json")}: no such file\n`);
  });

  test("on a terminal, a progress bar is drawn on stderr and wiped", async () => {
    const file = join(dir, "tty.json");
    writeFileSync(file, JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ namespace: "tty", name: `j${i}`, target: { http: { url: "http://127.0.0.1:9/" } } }))));
    // script(1) gives the command a terminal; its stdout and stderr both land in the transcript.
    const r = spawnSync("script", ["-qfec", `${bin} jobs import ${file}`, "/dev/null"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", TMPDIR: process.env.TMPDIR ?? "/tmp", TOCK_SERVER: b.url } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("importing [##############################] 300/300 100%");
    expect(r.stdout).toContain("\r\x1b[K300 jobs: 300 created, 0 updated, 0 unchanged, 0 failed");
  });
});

/** Waits for a run of server A to reach one of `statuses`. */
const runReaches = (id: number, statuses: string[]) =>
  waitUntil(async () => statuses.includes((await api(a.url, "GET", `/api/v1/runs/${id}`)).body.status), `run ${id} ${statuses.join("|")}`);

describe("runs", () => {
  test("logs --follow prints a run's lines as they come until it ends, exit 0 when it succeeded and 1 when not; ls, get and logs show it after", async () => {
    const shell = "for i in 1 2 3; do echo line $i; sleep 0.2; done; echo oops >&2";
    await tock(["jobs", "put", "follow/ok", "-f", "-"], { input: JSON.stringify({ target: { process: { shell } } }) });
    await tock(["jobs", "put", "follow/bad", "-f", "-"], { input: JSON.stringify({ target: { process: { shell: "echo before; exit 3" } } }) });
    const triggered = await tock(["jobs", "trigger", "follow/ok"]);
    const run = { id: Number(/^triggered follow\/ok: run (\d+), (queued|running)\n$/.exec(triggered.stdout)?.[1]) };
    expect(run.id).toBeGreaterThan(0);
    const followed = await tock(["runs", "logs", String(run.id), "--follow"]);
    expect(followed).toEqual({ code: 0, stdout: "line 1\nline 2\nline 3\noops\n", stderr: "" });

    const failing = json(await tock(["jobs", "trigger", "follow/bad", "--json"]));
    const failed = await tock(["runs", "logs", String(failing.id), "-f"]);
    expect(failed).toEqual({ code: 1, stdout: "before\n", stderr: `tock: run ${failing.id} ended failed\n` });
    const ndjson = await tock(["runs", "logs", String(failing.id), "--follow", "--json"]);
    expect(ndjson.code).toBe(1);
    const events = ndjson.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ stream: "stdout", line: "before" });
    expect(events.at(-1)).toEqual({ runId: failing.id, status: "failed" });

    const logs = await tock(["runs", "logs", String(run.id), "--stream", "stderr"]);
    expect(logs).toEqual({ code: 0, stdout: "oops\n", stderr: "" });
    const logJson = json(await tock(["runs", "logs", String(run.id), "--json"]));
    expect(logJson).toMatchObject({ runId: run.id, status: "succeeded", nextCursor: null });
    expect(logJson.items.map((l: { line: string }) => l.line)).toEqual(["line 1", "line 2", "line 3", "oops"]);

    const ls = await tock(["runs", "ls", "--namespace", "follow"]);
    const rows = ls.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^ID +JOB +STATUS +TRIGGER +ATTEMPT +SCHEDULED +TOOK +NODE +ERROR$/);
    expect(rows[1]).toMatch(new RegExp(`^${failing.id} +follow/bad +failed +manual +1 +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\((now|\\d+s ago)\\) +\\d+ms +a +exit code 3`));
    expect(rows[2]).toMatch(new RegExp(`^${run.id} +follow/ok +succeeded +manual +1 +.* +a +-$`));
    expect(json(await tock(["runs", "ls", "--job", "follow/ok", "--json"])).items.map((r: { id: number }) => r.id)).toEqual([run.id]);
    expect(json(await tock(["runs", "ls", "--namespace", "follow", "--job", "bad", "--status", "failed", "--json"])).items.map((r: { id: number }) => r.id)).toEqual([failing.id]);
    expect(json(await tock(["runs", "ls", "--namespace", "follow", "-n", "1", "--json"])).items.length).toBe(1);
    expect((await tock(["runs", "ls", "--job", "bad"])).code).toBe(2);

    const get = await tock(["runs", "get", String(run.id)]);
    expect(get.stdout).toContain(`run:       ${run.id}\njob:       follow/ok\nstatus:    succeeded\n`);
    expect(get.stdout).toContain("output:    line 1\n           line 2\n");
    expect(json(await tock(["runs", "get", String(run.id), "--json"]))).toEqual((await api(a.url, "GET", `/api/v1/runs/${run.id}`)).body);
    const none = await tock(["runs", "get", "999999"]);
    expect(none.code).toBe(3);
  }, 30_000);

  test("trigger --env and --arg give that run variables and arguments over the job's own", async () => {
    await tock(["jobs", "put", "follow/params", "-f", "-"], { input: JSON.stringify({ target: { process: { shell: 'echo "who=$WHO first=$1 second=$2"', env: { WHO: "job" } } } }) });
    const t = json(await tock(["jobs", "trigger", "follow/params", "--env", "WHO=run", "--arg", "a", "--arg=b c", "--json"]));
    expect(t.params).toEqual({ env: { WHO: "<secret>" }, args: ["a", "b c"] }); // (variables are write-only)
    expect(await tock(["runs", "logs", String(t.id), "--follow"])).toEqual({ code: 0, stdout: "who=run first=a second=b c\n", stderr: "" });
    const plain = json(await tock(["jobs", "trigger", "follow/params", "--json"]));
    expect((await tock(["runs", "logs", String(plain.id), "--follow"])).stdout).toBe("who=job first= second=\n");
    const bad = await tock(["jobs", "trigger", "follow/params", "--env", "WHO"]);
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({ code: 2, stderr: 'tock: --env takes KEY=VALUE (got "WHO")\n' });
  }, 30_000);

  test("Ctrl-C stops a follow cleanly (exit 130, no stack); runs kill ends the run", async () => {
    await tock(["jobs", "put", "follow/long", "-f", "-"], { input: JSON.stringify({ target: { process: { shell: "echo started; exec sleep 60" } } }) });
    const run = json(await tock(["jobs", "trigger", "follow/long", "--json"]));
    const child = spawn(bin, ["runs", "logs", String(run.id), "--follow"], { cwd: dir, env: { PATH: process.env.PATH ?? "", TMPDIR: process.env.TMPDIR ?? "/tmp", TOCK_SERVER: a.url }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const closed = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    await waitUntil(() => out.includes("started\n"), "the first line");
    child.kill("SIGINT");
    expect(await closed).toBe(130);
    expect(err).toBe("");
    expect(out).toBe("started\n");

    const killed = await tock(["runs", "kill", String(run.id)]);
    expect(killed).toEqual({ code: 0, stdout: `killed run ${run.id} (follow/long)\n`, stderr: "" });
    await runReaches(run.id, ["killed"]);
    const again = await tock(["runs", "logs", String(run.id), "--follow"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`tock: run ${run.id} ended killed\n`);
  }, 30_000);
});

describe("API keys, preview, nodes", () => {
  test("a key-protected server: no key exits 4 pointing at --token and TOCK_TOKEN; --token and TOCK_TOKEN work; a reader may not list nodes", async () => {
    const env = { TOCK_SERVER: k.url };
    const none = await tock(["jobs", "ls"], { env });
    expect(none.code).toBe(4);
    expect(none.stderr).toBe("tock: an API key is required (Authorization: Bearer <key>): give an API key with --token or TOCK_TOKEN\n");
    const wrong = await tock(["jobs", "ls", "--token", "tock_wrong"], { env });
    expect(wrong.code).toBe(4);
    // A key with a line break pasted into it is a usage error naming where it came from, not "unreachable".
    const pasted = await tock(["jobs", "ls", "--token", "tock_a\nb"], { env });
    expect({ code: pasted.code, stderr: pasted.stderr }).toEqual({ code: 2, stderr: expect.stringContaining("the API key from --token has characters no key has") });
    expect((await tock(["jobs", "ls"], { env: { ...env, TOCK_TOKEN: "tock a" } })).stderr).toContain("the API key from TOCK_TOKEN");
    const put = await tock(["jobs", "put", "keyed/one", "-f", "-", "--token", adminKey], { env, input: JSON.stringify({ target: { http: { url: "http://127.0.0.1:9/" } } }) });
    expect(put.stdout).toStartWith("created keyed/one");
    const batch = JSON.stringify([{ namespace: "keyed", name: "two", target: { http: { url: "http://127.0.0.1:9/" } } }]);
    expect((await tock(["jobs", "import", "-"], { env, input: batch })).code).toBe(4);
    const asReader = await tock(["jobs", "import", "-"], { env: { ...env, TOCK_TOKEN: readerKey }, input: batch });
    expect(asReader.code).toBe(1);
    expect(asReader.stderr).toStartWith("tock: keyed/two: ");
    expect(asReader.stderr).toContain("(the API key from --token or TOCK_TOKEN does not allow it)");
    expect((await tock(["jobs", "import", "-", "--token", adminKey], { env, input: batch })).stdout).toBe("1 job: 1 created, 0 updated, 0 unchanged, 0 failed\n");
    const viaEnv = await tock(["jobs", "ls", "--json"], { env: { ...env, TOCK_TOKEN: readerKey } });
    expect(json(viaEnv).items.map((j: { name: string }) => j.name)).toEqual(["one", "two"]);
    const reader = await tock(["nodes"], { env: { ...env, TOCK_TOKEN: readerKey } });
    expect(reader.code).toBe(4);
    expect(reader.stderr).toContain("(the API key from --token or TOCK_TOKEN does not allow it)");
    const nodes = await tock(["nodes"], { env: { ...env, TOCK_TOKEN: adminKey } });
    expect(nodes.code).toBe(0);
    expect(nodes.stdout).toMatch(/^NODE +VERSION +STARTED +HEARTBEAT +RUNNING +EXECUTORS +SCRIPTS\nk +\d+\.\d+\.\d+ +\S+ \S+ \((now|\d+s ago)\) +(now|\d+s ago) +0 +http,tcp +-\n$/);
    expect(json(await tock(["nodes", "--json"], { env: { ...env, TOCK_TOKEN: adminKey } })).items[0]).toMatchObject({ id: "k", executors: ["http", "tcp"] });
  });

  test("preview computes what the server's preview answers, with DST notes, and needs no server", async () => {
    const spec = "R4/2030-03-09T02:30:00/P1D";
    const local = await tock(["preview", spec, "--tz", "America/New_York", "-n", "3"], { env: { TOCK_SERVER: "http://127.0.0.1:1" } });
    expect(local.code).toBe(0);
    const rows = local.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^# +UTC +LOCAL \(America\/New_York\) +WHEN +NOTE$/);
    expect(rows[2]).toMatch(/^2 +2030-03-10T07:00:00.000Z +2030-03-10T03:00:00-04:00 +in \d+d(\d+h)? +dst-gap: that local time does not exist/);
    expect(rows.length).toBe(4);
    const asJson = json(await tock(["preview", spec, "--tz", "America/New_York", "--json"]));
    const served = await api(a.url, "GET", `/api/v1/schedule/preview?spec=${encodeURIComponent(spec)}&timezone=America/New_York`);
    expect(asJson).toEqual(served.body);
    const bad = await tock(["preview", "61 * * * *"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toStartWith("tock: spec: ");
    expect((await tock(["preview", "@every 1h", "--tz", "Mars/Base"])).stderr).toStartWith("tock: --tz: ");
  });
});

describe("completion", () => {
  test("bash: sourced into real bash, it completes commands, subcommands, flags and their values", () => {
    const script = join(dir, "tock.bash");
    const gen = spawnSync(bin, ["completion", "bash"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", TMPDIR: process.env.TMPDIR ?? "/tmp" } });
    expect(gen.status).toBe(0);
    writeFileSync(script, gen.stdout);
    const complete = (line: string) => {
      const words = line.split(" ");
      const r = spawnSync("bash", ["--norc", "--noprofile", "-c", `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _tock; printf '%s\\n' "\${COMPREPLY[@]}"`, "bash", script], { cwd: dir, encoding: "utf8" });
      expect(r.stderr).toBe("");
      return r.stdout.split("\n").filter(Boolean);
    };
    expect(complete("tock jo")).toEqual(["jobs"]);
    expect(complete("tock jobs ")).toEqual(["ls", "get", "put", "rm", "trigger", "pause", "resume", "export", "import"]);
    expect(complete("tock jobs ls --na")).toEqual(["--namespace"]);
    expect(complete("tock --server http://x runs ls --status f")).toEqual(["failed"]);
    expect(complete("tock runs logs 12 --f")).toEqual(["--follow"]);
    expect(complete("tock completion ")).toEqual(["bash", "zsh", "fish"]);
    expect(complete("tock se")).toEqual(["serve"]);
    writeFileSync(join(dir, "jobfile.json"), "{}");
    expect(complete("tock jobs put x/y -f jobf")).toEqual(["jobfile.json"]);
    expect(complete("tock jobs import jobf")).toEqual(["jobfile.json"]);
  });

  test("zsh and fish scripts parse (where those shells are installed)", () => {
    for (const [shell, check] of [
      ["zsh", ["-n"]],
      ["fish", ["--no-execute"]],
    ] as const) {
      const gen = spawnSync(bin, ["completion", shell], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", TMPDIR: process.env.TMPDIR ?? "/tmp" } });
      expect(gen.status).toBe(0);
      expect(gen.stdout).toContain(shell === "zsh" ? "bashcompinit" : "complete -c tock");
      if (spawnSync("which", [shell]).status !== 0) continue;
      const file = join(dir, `tock.${shell}`);
      writeFileSync(file, gen.stdout);
      const r = spawnSync(shell, [...check, file], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    }
    const other = spawnSync(bin, ["completion", "tcsh"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", TMPDIR: process.env.TMPDIR ?? "/tmp" } });
    expect(other.status).toBe(2);
    expect(other.stderr).toBe('tock: no completion for "tcsh": give one of bash, zsh, fish\n');
  });
});

// Last: it leaves 6,000 jobs on server a.
describe("the server's limits", () => {
  test("the binary's server takes a batch larger than max_body (up to max_batch_body), and still holds single requests to max_body", async () => {
    const jobs = Array.from({ length: 6000 }, (_, i) => ({ name: `big-${i}`, schedule: "0 3 * * *", target: { http: { url: "http://127.0.0.1:9/hook", headers: { "x-tenant": `tenant-${i}` } } }, memo: "x".repeat(120) }));
    const body = JSON.stringify({ jobs });
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const r = await fetch(`${a.url}/api/v1/namespaces/bulk/jobs:batch`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { created: number }).created).toBe(6000);
    const single = await fetch(`${a.url}/api/v1/namespaces/bulk/jobs/one`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ target: { http: { url: "http://127.0.0.1:9/" } }, memo: "x".repeat(1024 * 1024 + 10) }) });
    expect(single.status).toBe(413);
    expect(((await single.json()) as { error: { message: string } }).error.message).toContain("max_body");
  });
});
