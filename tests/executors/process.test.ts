// The process executor with real child processes: output as it comes, exits, environment allowlist, stdin,
// and stopping a whole process group (grandchildren that ignore SIGTERM included).
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProcessExecutor, type ProcessExecutorOptions } from "../../src/executors/process.ts";
import type { ExecRequest, LogStream, RunOutput } from "../../src/executors/types.ts";
import { alive } from "../helpers.ts";
import { collector } from "./collect.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-process-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tockEnv = { PATH: process.env.PATH, HOME: "/home/tock", SECRET_TOKEN: "hunter2", PASSED: "yes" };
const options: ProcessExecutorOptions = { passEnv: ["PATH", "HOME", "PASSED", "UNSET_ONE"], shell: ["/bin/sh", "-c"], killGrace: 300, env: tockEnv };
const exec = createProcessExecutor(options);


function request(target: Record<string, unknown>, output?: RunOutput, payload: unknown = null): ExecRequest {
  return { runId: 42, key: "42-key", namespace: "ns", jobName: "job", scheduledAt: Date.UTC(2026, 0, 2, 3, 4, 5), attempt: 2, target, payload, output };
}

const run = (target: Record<string, unknown>, output?: RunOutput, payload: unknown = null) =>
  exec.execute(request(target, output, payload), new AbortController().signal);

/** Gone, or a zombie nobody reaped yet (it runs nothing). */
const gone = (pid: number) => !alive(pid);

/** SIGKILL is delivered at once, but dying takes a moment (the pipes close before the process is a zombie). */
async function goneSoon(pid: number): Promise<boolean> {
  for (let i = 0; i < 20 && !gone(pid); i++) await Bun.sleep(10);
  return gone(pid);
}

const pidsIn = (file: string) => readFileSync(file, "utf8").trim().split("\n").map(Number);

test("hands over stdout and stderr chunks in order, each as it arrives", async () => {
  const c = collector();
  const script = "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; sleep 0.4; echo late";
  const started = performance.now();
  const o = await run({ command: ["/bin/sh", "-c", script] }, c.output);
  expect(o).toMatchObject({ status: "succeeded", result: { exitCode: 0, signal: null } });
  expect(c.text("stdout")).toBe("out1\nout2\nout3\nout4\nout5\nlate\n");
  expect(c.text("stderr")).toBe("err1\nerr2\nerr3\nerr4\nerr5\n");
  // The first lines reached the sink long before the process ended.
  expect(c.chunks[0].at - started).toBeLessThan(300);
  expect(c.chunks.at(-1)!.at - c.chunks[0].at).toBeGreaterThan(300);
});

test("keeps exit codes and signals, and fails on anything but exit code 0", async () => {
  expect(await run({ command: ["/bin/true"] })).toMatchObject({ status: "succeeded", result: { exitCode: 0, signal: null } });
  const three = await run({ command: ["/bin/sh", "-c", "exit 3"] });
  expect(three).toMatchObject({ status: "failed", error: "exit code 3", result: { exitCode: 3, signal: null } });
  const segv = await run({ command: ["/bin/sh", "-c", "kill -SEGV $$"] });
  expect(segv).toMatchObject({ status: "failed", error: "killed by signal SIGSEGV", result: { exitCode: null, signal: "SIGSEGV" } });
});

test("a program that cannot start is a failed outcome, not a crash", async () => {
  const missing = await run({ command: ["/nonexistent/program", "x"] });
  expect(missing.status).toBe("failed");
  expect(missing.error).toContain('"/nonexistent/program"');
  expect(missing.error).toContain("not found");

  const notExecutable = join(dir, "plain.txt");
  writeFileSync(notExecutable, "hello");
  chmodSync(notExecutable, 0o644);
  const denied = await run({ command: [notExecutable] });
  expect(denied).toMatchObject({ status: "failed" });
  expect(denied.error).toContain("permission denied");

  const noCwd = await run({ command: ["/bin/true"], cwd: "/nonexistent/dir" });
  expect(noCwd.status).toBe("failed");
  expect(noCwd.error).toContain("working directory /nonexistent/dir");

  const notOnPath = await run({ command: ["no-such-program-tock"] });
  expect(notOnPath.status).toBe("failed");
});

test("the job sees only passed variables, its own and tock's run variables", async () => {
  const c = collector();
  const o = await run({ command: ["/usr/bin/env"], env: { FOO: "bar", TOCK_RUN_ID: "forged" } }, c.output);
  expect(o.status).toBe("succeeded");
  const seen = Object.fromEntries(c.text("stdout").trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  expect(seen).toEqual({
    PATH: process.env.PATH!,
    HOME: "/home/tock",
    PASSED: "yes",
    FOO: "bar",
    TOCK_RUN_ID: "42",
    TOCK_NAMESPACE: "ns",
    TOCK_JOB_NAME: "job",
    TOCK_SCHEDULED_AT: "2026-01-02T03:04:05.000Z",
    TOCK_ATTEMPT: "2",
    TOCK_WEBHOOK_ID: "42-key",
  });
  expect(c.text("stdout")).not.toContain("hunter2");
});

test("inheritEnv passes tock's whole environment", async () => {
  const c = collector();
  await run({ command: ["/usr/bin/env"], inheritEnv: true }, c.output);
  expect(c.text("stdout")).toContain("SECRET_TOKEN=hunter2\n");
  expect(c.text("stdout")).toContain("TOCK_RUN_ID=42\n");
});

test("the payload is JSON on stdin; without one stdin is empty", async () => {
  const c = collector();
  await run({ command: ["/bin/cat"] }, c.output, { a: 1, s: "x" });
  expect(c.text("stdout")).toBe('{"a":1,"s":"x"}');

  const empty = collector();
  expect(await run({ command: ["/bin/cat"] }, empty.output)).toMatchObject({ status: "succeeded" });
  expect(empty.text("stdout")).toBe("");
});

test("a child that never reads a payload bigger than the pipe does not hang the run", async () => {
  const c = collector();
  const o = await run({ command: ["/bin/sh", "-c", "sleep 0.1; echo done"] }, c.output, { big: "x".repeat(4 << 20) });
  expect(o.status).toBe("succeeded");
  expect(c.text("stdout")).toBe("done\n");
}, 10_000);

test("runs in the target's cwd, else in the configured working dir", async () => {
  const c = collector();
  await run({ command: ["/bin/pwd"], cwd: dir }, c.output);
  expect(c.text("stdout")).toBe(`${dir}\n`);

  const sub = mkdtempSync(join(dir, "wd-"));
  const inWorkingDir = createProcessExecutor({ ...options, workingDir: sub });
  const d = collector();
  await inWorkingDir.execute(request({ command: ["/bin/pwd"] }, d.output), new AbortController().signal);
  expect(d.text("stdout")).toBe(`${sub}\n`);
});

test("a shell string runs through the configured shell", async () => {
  const c = collector();
  const o = await run({ shell: "echo $((6 * 7)) | tr 4 X; echo \"$FOO\" >&2", env: { FOO: "from env" } }, c.output);
  expect(o.status).toBe("succeeded");
  expect(c.text("stdout")).toBe("X2\n");
  expect(c.text("stderr")).toBe("from env\n");

  const bash = createProcessExecutor({ ...options, shell: ["/bin/sh", "-e", "-c"] });
  const failed = await bash.execute(request({ shell: "false; echo unreachable" }), new AbortController().signal);
  expect(failed).toMatchObject({ status: "failed", error: "exit code 1" });
});

test("abort stops a process that ignores SIGTERM and all its grandchildren within the grace", async () => {
  const pidfile = join(dir, "abort.pids");
  const c = collector();
  const controller = new AbortController();
  // Ignored signals stay ignored across exec: every process here ignores SIGTERM.
  const script = `trap "" TERM; echo $$ >> ${pidfile}; sleep 60 & echo $! >> ${pidfile};
    sh -c 'sleep 60 & echo $! >> ${pidfile}; wait' & echo $! >> ${pidfile}; echo ready; wait`;
  const done = exec.execute(request({ shell: script }, c.output), controller.signal);
  await c.waitFor("stdout", "ready");
  while (pidsIn(pidfile).length < 4) await Bun.sleep(10);
  const pids = pidsIn(pidfile);
  expect(pids.every((p) => !gone(p))).toBe(true);

  const abortedAt = performance.now();
  controller.abort();
  const o = await done;
  const took = performance.now() - abortedAt;
  expect(took).toBeGreaterThanOrEqual(250);
  expect(took).toBeLessThan(1500);
  expect(o).toMatchObject({ status: "failed", result: { signal: "SIGKILL" } });
  expect(o.error).toContain("aborted");
  expect(c.notes.some((n) => n.includes("SIGTERM"))).toBe(true);
  expect(c.notes.some((n) => n.includes("SIGKILL"))).toBe(true);
  for (const pid of pids) expect(await goneSoon(pid)).toBe(true);
}, 15_000);

test("abort of a process that exits on SIGTERM does not wait out the grace", async () => {
  const patient = createProcessExecutor({ ...options, killGrace: 5_000 });
  const c = collector();
  const controller = new AbortController();
  const done = patient.execute(request({ shell: "echo ready; sleep 60" }, c.output), controller.signal);
  await c.waitFor("stdout", "ready");
  const abortedAt = performance.now();
  controller.abort();
  const o = await done;
  expect(performance.now() - abortedAt).toBeLessThan(1_000);
  expect(o).toMatchObject({ status: "failed", result: { signal: "SIGTERM" } });
}, 15_000);

test("abort gives a grandchild that ignores SIGTERM the grace, then kills it, after its parent died at once", async () => {
  const pidfile = join(dir, "orphan.pids");
  const c = collector();
  const controller = new AbortController();
  const done = exec.execute(request({ shell: `(trap "" TERM; exec sleep 60) & echo $! > ${pidfile}; echo ready; wait` }, c.output), controller.signal);
  await c.waitFor("stdout", "ready");
  const [pid] = pidsIn(pidfile);
  const abortedAt = performance.now();
  controller.abort();
  const o = await done;
  const took = performance.now() - abortedAt;
  expect(o).toMatchObject({ status: "failed", result: { signal: "SIGTERM" } });
  expect(took).toBeGreaterThanOrEqual(250);
  expect(took).toBeLessThan(1_500);
  expect(await goneSoon(pid)).toBe(true);
}, 15_000);

test("an already aborted signal starts nothing", async () => {
  const controller = new AbortController();
  controller.abort();
  const marker = join(dir, "never");
  const o = await exec.execute(request({ command: ["/usr/bin/touch", marker] }), controller.signal);
  expect(o.status).toBe("failed");
  expect(existsSync(marker)).toBe(false);
});

test("a normal exit kills what it left running in its group, and does not wait for the pipes it holds", async () => {
  const pidfile = join(dir, "leftover.pids");
  const c = collector();
  const started = performance.now();
  const o = await run({ shell: `sleep 30 & echo $! > ${pidfile}; echo bye` }, c.output);
  expect(performance.now() - started).toBeLessThan(1_000);
  expect(o.status).toBe("succeeded");
  expect(c.text("stdout")).toBe("bye\n");
  expect(c.notes.some((n) => n.includes("left running"))).toBe(true);
  expect(await goneSoon(pidsIn(pidfile)[0])).toBe(true);
}, 10_000);

test("a process that left the group holding the pipes stops the reading shortly after exit", async () => {
  const pidfile = join(dir, "escaped.pids");
  const c = collector();
  const started = performance.now();
  // setsid moves the sleep out of the group: the group's SIGKILL cannot reach it, only the drain limit helps.
  const o = await run({ shell: `setsid sh -c 'echo $$ > ${pidfile}.tmp; mv ${pidfile}.tmp ${pidfile}; exec sleep 30' &
    while [ ! -e ${pidfile} ]; do sleep 0.01; done; echo bye` }, c.output);
  try {
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(o.status).toBe("succeeded");
    expect(c.text("stdout")).toBe("bye\n");
    expect(c.notes.some((n) => n.includes("stopped reading output"))).toBe(true);
  } finally {
    process.kill(pidsIn(pidfile)[0], "SIGKILL");
  }
}, 10_000);
