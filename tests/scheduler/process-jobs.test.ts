// Process, script and container jobs through the API and the real scheduler: real child processes, output
// into run_logs, timeouts and kills of whole process trees, creation-time refusals.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config.ts";
import { killRun } from "../../src/domain/kill.ts";
import { noScheduler } from "../../src/domain/ports.ts";
import { LINE_OVERHEAD, MAX_LINE } from "../../src/scheduler/output.ts";
import { read } from "../../src/store/sql.ts";
import { alive, startSink, type TestEnv, tempDir, testEnv, waitUntil, withProcesses } from "../helpers.ts";

const DEFAULTS = parseConfig(null, {});

const executors = withProcesses;

let envs: TestEnv[] = [];
async function env(opts: Parameters<typeof testEnv>[0] = {}): Promise<TestEnv> {
  const e = await testEnv({ start: true, ...opts, config: { executors: executors(), scheduler: { pollInterval: 200 }, ...opts.config } });
  envs.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(envs.map((e) => e.close()));
  envs = [];
});

/** Creates a manual job with `target` and fires it; returns the run id once the run has ended. */
async function runJob(e: TestEnv, name: string, target: unknown, job: Record<string, unknown> = {}): Promise<any> {
  const put = await e.call("PUT", `/api/v1/namespaces/p/jobs/${name}`, { target, ...job });
  expect(put.status).toBe(201);
  return fire(e, name);
}

/** Fires an existing job now; returns its run once it has ended. */
async function fire(e: TestEnv, name: string): Promise<any> {
  const finished = e.deps.scheduler.events.next("run:finished", (ev) => ev.jobName === name, 15_000);
  const t = await e.call("POST", `/api/v1/namespaces/p/jobs/${name}/trigger`);
  expect(t.status).toBe(202);
  await finished;
  await e.deps.scheduler.idle();
  return (await e.call("GET", `/api/v1/runs/${t.body.id}`)).body;
}

async function logsOf(e: TestEnv, runId: number) {
  return read(e.deps.store, { sql: "SELECT seq, at, stream, line FROM run_logs WHERE run_id = ? ORDER BY seq", args: [runId] });
}

describe("output", () => {
  test("stdout and stderr are stored line by line, in order, with times; the tail and exit code are kept on the run", async () => {
    const e = await env();
    const run = await runJob(e, "out", {
      process: { command: ["/bin/sh", "-c", "echo one; echo two >&2; sleep 0.2; echo three; printf 'no newline'"] },
    });
    expect(run).toMatchObject({ status: "succeeded", result: { exitCode: 0 } });
    expect(run.outputTail).toContain("three\nno newline");
    const lines = await logsOf(e, run.id);
    const out = lines.filter((l) => l.stream === "stdout").map((l) => l.line);
    expect(out).toEqual(["one", "three", "no newline"]);
    expect(lines.filter((l) => l.stream === "stderr").map((l) => l.line)).toEqual(["two"]);
    expect(lines.map((l) => Number(l.seq))).toEqual(lines.map((_, i) => i + 1));
    const at = (text: string) => Number(lines.find((l) => l.line === text)!.at);
    // Times are when each line came, not when the run ended.
    expect(at("three") - at("one")).toBeGreaterThanOrEqual(150);
  }, 15_000);

  test("output past max_log_bytes is dropped and noted, and the process is not stopped for it", async () => {
    const e = await env({ config: { executors: executors({ maxLogBytes: 4096 }) } });
    const run = await runJob(e, "loud", {
      process: { command: ["/bin/sh", "-c", 'i=0; while [ $i -lt 200 ]; do echo "line $i of a fairly long output, padded to fifty"; i=$((i+1)); done; echo done'] },
    });
    expect(run.status).toBe("succeeded");
    // The tail has the last lines, stored or not, and tock's note of what the cap dropped.
    expect(run.outputTail).toMatch(/padded to fifty\ndone\n\[tock\] \d+ more line\(s\)/);
    const lines = await logsOf(e, run.id);
    const stored = lines.filter((l) => l.stream === "stdout");
    // Each line costs its bytes plus a fixed overhead: a flood of empty lines cannot fill the table either.
    const cost = stored.reduce((n, l) => n + Buffer.byteLength(String(l.line)) + LINE_OVERHEAD, 0);
    expect(cost).toBeLessThanOrEqual(4096);
    expect(stored.length).toBeGreaterThan(30);
    expect(stored.length).toBeLessThan(200);
    const notes = lines.filter((l) => l.stream === "tock").map((l) => String(l.line));
    expect(notes[0]).toContain("log cap of 4096 bytes");
    expect(notes.at(-1)).toMatch(/^\d+ more line\(s\), \d+ bytes, over the log cap/);
  }, 15_000);

  test("a line longer than the line limit is stored in pieces, never cutting a character in two", async () => {
    const e = await env();
    // An emoji is two UTF-16 units: after one ASCII byte, every piece boundary falls inside a pair.
    const script = `process.stdout.write("a" + "\u{1F600}".repeat(${MAX_LINE}) + "\\nend\\n")`;
    const run = await runJob(e, "emoji", { script: { language: "javascript", content: script } });
    expect(run.status).toBe("succeeded");
    const lines = (await logsOf(e, run.id)).map((l) => String(l.line));
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((l) => l.isWellFormed() && l.length <= MAX_LINE)).toBe(true);
    expect(lines.slice(0, -1).join("")).toBe(`a${"\u{1F600}".repeat(MAX_LINE)}`);
    expect(lines.at(-1)).toBe("end");
    expect(run.outputTail.isWellFormed()).toBe(true);
    expect((await e.call("GET", `/api/v1/runs/${run.id}/logs`)).status).toBe(200);
  }, 15_000);

  test("a failing command fails the run with its exit code", async () => {
    const e = await env();
    const run = await runJob(e, "fails", { process: { command: ["/bin/sh", "-c", "echo bad >&2; exit 3"] } });
    expect(run).toMatchObject({ status: "failed", result: { exitCode: 3 } });
    expect(run.error).toContain("3");
    expect(run.outputTail).toBe("bad");
  }, 15_000);

  test("a secret in tock's own environment is not visible to a job; the run's own variables are", async () => {
    process.env.TOCK_TEST_SECRET = "hunter2";
    try {
      const e = await env();
      const run = await runJob(e, "env", { process: { command: ["/usr/bin/env"], env: { GREETING: "hi" } } });
      const text = (await logsOf(e, run.id)).map((l) => String(l.line));
      expect(text.some((l) => l.includes("hunter2"))).toBe(false);
      expect(text).toContain("GREETING=hi");
      expect(text).toContain(`TOCK_RUN_ID=${run.id}`);
      expect(text.some((l) => l.startsWith("PATH="))).toBe(true);
    } finally {
      delete process.env.TOCK_TEST_SECRET;
    }
  }, 15_000);

  test("a shell script job runs its content from a temp file", async () => {
    const e = await env();
    const run = await runJob(e, "script", { script: { language: "shell", content: 'echo "from $0"\necho second' } });
    expect(run.status).toBe("succeeded");
    const text = (await logsOf(e, run.id)).map((l) => String(l.line));
    expect(text[0]).toMatch(/^from \/.+/);
    expect(text[1]).toBe("second");
    expect(existsSync(text[0].slice(5))).toBe(false); // removed after the run
  }, 15_000);
});

describe("container jobs", () => {
  test("run through the container CLI found on PATH (a stand-in that records its argv), env values not on the command line", async () => {
    const { dir, cleanup } = tempDir();
    const record = join(dir, "argv.log");
    writeFileSync(join(dir, "docker"), `#!/bin/sh\nfor a in "$@"; do echo "$a"; done > ${record}\necho "API_KEY=$API_KEY" >> ${record}\necho "hello from the container"\n`, { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${dir}:${path}`;
    try {
      const e = await env({ config: { executors: executors({}, { container: { cli: "docker", runArgs: ["--network=none"] } }) } });
      const run = await runJob(e, "box", { container: { image: "alpine", tag: "3.20", command: ["/bin/sh", "-c"], args: ["echo hi"], env: { API_KEY: "k-123" } } });
      expect(run.status).toBe("succeeded");
      expect(run.outputTail).toBe("hello from the container");
      const lines = readFileSync(record, "utf8").trim().split("\n");
      const name = lines[3];
      expect(name).toMatch(new RegExp(`^tock-run-${run.id}-[0-9a-f]{8}$`));
      expect(lines.slice(0, 3)).toEqual(["run", "--rm", "--name"]);
      expect(lines.slice(4)).toEqual([
        "--network=none",
        "-e", "API_KEY",
        ...["TOCK_RUN_ID", "TOCK_NAMESPACE", "TOCK_JOB_NAME", "TOCK_SCHEDULED_AT", "TOCK_ATTEMPT", "TOCK_WEBHOOK_ID"].flatMap((n) => ["-e", n]),
        "--entrypoint", "/bin/sh", "alpine:3.20", "-c", "echo hi",
        "API_KEY=k-123", // the last line: the value, read from the CLI's environment
      ]);
      const bad = await e.call("PUT", "/api/v1/namespaces/p/jobs/box2", { target: { container: { image: "alpine", env: { DOCKER_HOST: "tcp://evil:2375" } } } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe("target.container.env.DOCKER_HOST");
    } finally {
      process.env.PATH = path;
      cleanup();
    }
  }, 15_000);
});

describe("timeouts, kills and stopping", () => {
  /** A process tree that ignores SIGTERM: the shell and a grandchild write their pids to `file`. */
  const stubborn = (file: string) => ["/bin/sh", "-c", `trap '' TERM; (trap '' TERM; sleep 60) & echo $$ $! > ${file}; sleep 60; wait`];

  /** Creates a job running `stubborn`, fires it and waits until the tree is up; returns the run id and pids. */
  async function startStubborn(e: TestEnv, name: string): Promise<{ runId: number; pids: number[] }> {
    const file = join(e.dir, `pids-${name}`);
    await e.call("PUT", `/api/v1/namespaces/p/jobs/${name}`, { target: { process: { command: stubborn(file) } } });
    const started = e.deps.scheduler.events.next("run:started", (ev) => ev.jobName === name, 10_000);
    const t = await e.call("POST", `/api/v1/namespaces/p/jobs/${name}/trigger`);
    await started;
    await waitUntil(() => existsSync(file) && readFileSync(file, "utf8").includes(" "), "the pids file", 5000);
    return { runId: t.body.id, pids: readFileSync(file, "utf8").trim().split(/\s+/).map(Number) };
  }

  test("a timeout kills the whole process tree, even one that ignores SIGTERM", async () => {
    const e = await env();
    const file = join(e.dir, "pids-timeout");
    const run = await runJob(e, "slow", { process: { command: stubborn(file) } }, { timeout: "700ms" });
    expect(run.status).toBe("timed_out");
    const pids = readFileSync(file, "utf8").trim().split(/\s+/).map(Number);
    expect(pids).toHaveLength(2);
    await waitUntil(() => pids.every((p) => !alive(p)), "the process tree to be gone", 3000);
    const notes = (await logsOf(e, run.id)).filter((l) => l.stream === "tock").map((l) => String(l.line));
    expect(notes.join("\n")).toContain("SIGTERM");
  }, 15_000);

  test("kill ends a running process (killed), is idempotent, and is a 409 for a run that ended otherwise", async () => {
    const e = await env();
    const { runId, pids } = await startStubborn(e, "sleepy");
    const k = await e.call("POST", `/api/v1/runs/${runId}/kill`);
    expect(k.status).toBe(200);
    expect(k.body).toMatchObject({ id: runId, status: "killed", error: "killed by request" });
    expect(pids.every((p) => !alive(p))).toBe(true);
    const again = await e.call("POST", `/api/v1/runs/${runId}/kill`);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("killed");
    expect(Date.parse(again.body.killRequestedAt)).toBeGreaterThan(0);

    const ok = await runJob(e, "quick", { process: { command: ["/bin/true"] } });
    const late = await e.call("POST", `/api/v1/runs/${ok.id}/kill`);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("conflict");
    expect((await e.call("POST", "/api/v1/runs/999999/kill")).status).toBe(404);
    expect((await e.call("POST", "/api/v1/runs/abc/kill")).status).toBe(400);
  }, 20_000);

  test("kill aborts an HTTP attempt in flight", async () => {
    const sink = startSink(() => new Promise<Response>((r) => setTimeout(() => r(new Response("late")), 30_000)));
    try {
      const e = await env();
      await e.call("PUT", "/api/v1/namespaces/p/jobs/hook", { target: { http: { url: `${sink.url}/slow` } }, timeout: "1m" });
      const t = await e.call("POST", "/api/v1/namespaces/p/jobs/hook/trigger");
      await sink.waitFor(1);
      const k = await e.call("POST", `/api/v1/runs/${t.body.id}/kill`);
      expect(k.status).toBe(200);
      expect(k.body).toMatchObject({ status: "killed", error: "killed by request" });
    } finally {
      sink.stop();
    }
  }, 15_000);

  test("a kill that arrives while a timed-out process is stopping ends it killed, and it is not retried", async () => {
    const e = await env({ config: { executors: executors({ killGrace: 1500 }), scheduler: { pollInterval: 200, minEvery: 100 } } });
    await e.call("PUT", "/api/v1/namespaces/p/jobs/late-kill", {
      target: { process: { command: ["/bin/sh", "-c", "trap '' TERM; sleep 5 & wait; sleep 5 & wait"] } },
      timeout: "300ms",
      retry: { times: 2, interval: "100ms", backoff: "fixed" },
    });
    const t = await e.call("POST", "/api/v1/namespaces/p/jobs/late-kill/trigger");
    await waitUntil(async () => (await logsOf(e, t.body.id)).some((l) => String(l.line).includes("SIGTERM")), "the timeout's SIGTERM", 5000);
    const k = await e.call("POST", `/api/v1/runs/${t.body.id}/kill`);
    expect(k.status).toBe(200);
    expect(k.body).toMatchObject({ status: "killed", error: "killed by request" });
    await new Promise((r) => setTimeout(r, 300)); // a retry would be due by now
    await e.deps.scheduler.idle();
    const runs = await read(e.deps.store, { sql: "SELECT status FROM runs WHERE job_name = 'late-kill'", args: [] });
    expect(runs.map((r) => r.status)).toEqual(["killed"]);
  }, 15_000);

  test("a run marked running but not started, killed through another node, ends killed when its node stops", async () => {
    const e = await env({ config: { executors: executors(), scheduler: { pollInterval: 60_000, maxInFlight: 1, shutdownGrace: 200 } } });
    await e.call("PUT", "/api/v1/namespaces/p/jobs/hog", { target: { process: { command: ["/bin/sleep", "30"] } }, timeout: "1h" });
    await e.call("PUT", "/api/v1/namespaces/p/jobs/victim", { target: { process: { command: ["/bin/true"] } } });
    const hogStarted = e.deps.scheduler.events.next("run:started", (ev) => ev.jobName === "hog");
    await e.call("POST", "/api/v1/namespaces/p/jobs/hog/trigger");
    await hogStarted;
    const ready = e.deps.scheduler.events.next("run:ready", (ev) => ev.jobName === "victim");
    const v = await e.call("POST", "/api/v1/namespaces/p/jobs/victim/trigger");
    await ready; // marked running, waiting for capacity
    // Stored as another node's API would, without telling this node's scheduler.
    const k = await killRun({ ...e.deps, scheduler: noScheduler }, v.body.id);
    expect(k.ended).toBe(false);
    await e.deps.scheduler.stop();
    const row = (await e.call("GET", `/api/v1/runs/${v.body.id}`)).body;
    expect(row).toMatchObject({ status: "killed", error: "killed by request before it started" });
  }, 20_000);

  test("a queued run that is killed ends at once and never starts", async () => {
    const e = await env({ start: false });
    await e.call("PUT", "/api/v1/namespaces/p/jobs/later", { target: { process: { command: ["/bin/true"] } } });
    const t = await e.call("POST", "/api/v1/namespaces/p/jobs/later/trigger");
    const k = await e.call("POST", `/api/v1/runs/${t.body.id}/kill`);
    expect(k.status).toBe(200);
    expect(k.body).toMatchObject({ status: "killed", startedAt: null });
    let started = 0;
    e.deps.scheduler.events.on("run:started", () => started++);
    await e.deps.scheduler.start();
    await e.deps.scheduler.tick();
    await e.deps.scheduler.idle();
    expect(started).toBe(0);
    expect((await e.call("GET", `/api/v1/runs/${t.body.id}`)).body.status).toBe("killed");
  }, 15_000);

  test("a kill sent to another node is carried out by the node running the run", async () => {
    const a = await env({ config: { executors: executors(), scheduler: { nodeId: "node-a", pollInterval: 200 } } });
    const b = await env({ dir: a.dir, start: false, config: { executors: executors(), scheduler: { nodeId: "node-b", pollInterval: 200 } } });
    await a.call("PUT", "/api/v1/namespaces/p/jobs/remote", { target: { process: { command: ["/bin/sleep", "60"] } } });
    const started = a.deps.scheduler.events.next("run:started", (ev) => ev.jobName === "remote", 10_000);
    const t = await a.call("POST", "/api/v1/namespaces/p/jobs/remote/trigger");
    await started;
    const finished = a.deps.scheduler.events.next("run:finished", (ev) => ev.jobName === "remote", 10_000);
    const k = await b.call("POST", `/api/v1/runs/${t.body.id}/kill`);
    expect([200, 202]).toContain(k.status);
    expect((await finished).status).toBe("killed");
    await a.deps.scheduler.idle();
    expect((await a.call("GET", `/api/v1/runs/${t.body.id}`)).body).toMatchObject({ status: "killed", nodeId: "node-a" });
  }, 20_000);

  test("a run whose kill was requested is not recovered when its node dies: it ends killed", async () => {
    const e = await env({ start: false });
    await e.call("PUT", "/api/v1/namespaces/p/jobs/orphan", { target: { process: { command: ["/bin/true"] } }, retry: { times: 3 } });
    const t = await e.call("POST", "/api/v1/namespaces/p/jobs/orphan/trigger");
    // As if a node that has since died had started it, and a kill had been requested meanwhile.
    await e.deps.store.client.execute({
      sql: "UPDATE runs SET status = 'running', node_id = 'dead-node', lease_until = 1, kill_requested_at = 1 WHERE id = ?",
      args: [t.body.id],
    });
    await e.deps.scheduler.start();
    await e.deps.scheduler.idle();
    const runs = await read(e.deps.store, { sql: "SELECT status FROM runs WHERE job_name = 'orphan'", args: [] });
    expect(runs.map((r) => r.status)).toEqual(["killed"]);
  }, 15_000);

  test("stopping the node ends the processes still running after the grace: none outlives tock", async () => {
    const e = await env({ config: { executors: executors(), scheduler: { shutdownGrace: 100, pollInterval: 200 } } });
    const { runId, pids } = await startStubborn(e, "long");
    await e.deps.scheduler.stop();
    expect(pids.every((p) => !alive(p))).toBe(true);
    const run = (await e.call("GET", `/api/v1/runs/${runId}`)).body;
    expect(run.status).toBe("lost"); // and a recovery attempt is queued for the next start
  }, 15_000);
});

describe("refused at creation", () => {
  test("a job created before the config was tightened fails with the reason when it fires, and does not run", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const loose = await testEnv({ dir, start: true, config: { executors: executors({ allowInheritEnv: true }) } });
      const put = await loose.call("PUT", "/api/v1/namespaces/p/jobs/env", { target: { process: { command: ["/usr/bin/env"], inheritEnv: true } } });
      expect(put.status).toBe(201);
      await loose.close();
      const strict = await testEnv({ dir, start: true, config: { executors: executors({ allowInheritEnv: false }), scheduler: { pollInterval: 200 } } });
      envs.push(strict); // closed after the test, before the folder goes
      const run = await fire(strict, "env");
      expect(run.status).toBe("failed");
      expect(run.error).toContain("refused by this node's config");
      expect(run.error).toContain("inheritEnv");
      expect(await logsOf(strict, run.id)).toEqual([]);
      await strict.close();
    } finally {
      cleanup();
    }
  }, 15_000);

  test.each([
    ["process jobs while they are turned off", {}, { process: { command: ["/bin/true"] } }, "target.process"],
    ["a script job while processes are turned off", {}, { script: { language: "shell", content: "true" } }, "target.script"],
  ])("%s", async (_what, _cfg, target, field) => {
    const e = await env({ config: { executors: DEFAULTS.executors } });
    const r = await e.call("PUT", "/api/v1/namespaces/p/jobs/x", { target });
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe(field);
    expect(r.body.error.message).toContain("enabled = true");
    expect((await e.call("GET", "/api/v1/namespaces/p/jobs/x")).status).toBe(404);
  });

  test("a container job where no container engine is configured", async () => {
    const e = await env();
    const r = await e.call("PUT", "/api/v1/namespaces/p/jobs/c", { target: { container: { image: "alpine", tag: "3.20" } } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ field: "target.container" });
    expect(r.body.error.message).toContain("cli");
  });

  test("a script language with no interpreter, a command outside the allowlist, a shell string, inheritEnv", async () => {
    const e = await env({ config: { executors: executors({ allowedCommands: ["/bin/true"] }) } });
    const bad = async (target: unknown, field: string) => {
      const r = await e.call("PUT", "/api/v1/namespaces/p/jobs/x", { target });
      expect(r.status).toBe(400);
      expect(r.body.error.field).toBe(field);
    };
    await bad({ script: { language: "cobol", content: "x" } }, "target.script.language");
    await bad({ process: { command: ["/bin/sh", "-c", "true"] } }, "target.process.command.0");
    await bad({ process: { shell: "true" } }, "target.process.shell");
    await bad({ process: { command: ["/bin/true"], inheritEnv: true } }, "target.process.inheritEnv");
    await bad({ process: { command: ["/bin/true"], shell: "true" } }, "target.process");
    await bad({ process: { command: [] } }, "target.process.command");
    await bad({ process: { command: ["/bin/true"], cwd: "relative" } }, "target.process.cwd");
    // With an allowlist, interpreters and the container CLI must be on it, and no variable may make an
    // allowed program run other code.
    await bad({ script: { language: "shell", content: "id" } }, "target.script.language");
    for (const name of ["LD_PRELOAD", "BASH_ENV", "PATH", "NODE_OPTIONS", "PYTHONPATH"]) {
      await bad({ process: { command: ["/bin/true"], env: { [name]: "x" } } }, `target.process.env.${name}`);
    }
    expect((await e.call("PUT", "/api/v1/namespaces/p/jobs/x", { target: { process: { command: ["/bin/true"] } } })).status).toBe(201);
  });
});
