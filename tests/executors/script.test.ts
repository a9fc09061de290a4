// The script executor with real interpreters: shell and the runtime's own TypeScript ("@runtime"), the
// private temp file, and its removal whatever happened.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_INTERPRETERS } from "../../src/config/schema.ts";
import { createScriptExecutor, type ScriptExecutorOptions, sweepScriptFolders } from "../../src/executors/script.ts";
import type { ExecRequest, LogStream, RunOutput } from "../../src/executors/types.ts";
import { collector } from "./collect.ts";

const root = mkdtempSync(join(tmpdir(), "tock-script-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));


/** An executor writing into a fresh temp dir of its own, so the test can see that it ends up empty. */
function setup(overrides: Partial<ScriptExecutorOptions> = {}) {
  const tempDir = mkdtempSync(join(root, "t-"));
  const exec = createScriptExecutor({
    passEnv: ["PATH", "HOME"],
    shell: ["/bin/sh", "-c"],
    killGrace: 300,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SECRET_TOKEN: "hunter2" },
    interpreters: DEFAULT_INTERPRETERS,
    tempDir,
    ...overrides,
  });
  return { exec, tempDir, left: () => readdirSync(tempDir) };
}

function request(target: Record<string, unknown>, output?: RunOutput, payload: unknown = null): ExecRequest {
  return { runId: 9, key: "9", namespace: "ns", jobName: "job", scheduledAt: Date.UTC(2026, 0, 1), attempt: 1, target, payload, output };
}

test("runs a shell script with its args, env and payload, from a private file removed afterwards", async () => {
  const { exec, tempDir, left } = setup();
  const c = collector();
  const content = [
    'echo "hello $1 $2 $FOO run=$TOCK_RUN_ID secret=${SECRET_TOKEN:-none}"',
    'echo "file=$(basename "$0") mode=$(stat -c %a "$0") dir=$(stat -c %a "$(dirname "$0")")"',
    'case "$0" in "' + tempDir + '"/*) echo inside;; esac',
    "cat",
    "echo oops >&2",
    "exit 4",
  ].join("\n");
  const o = await exec.execute(request({ language: "shell", content, args: ["a b", "c"], env: { FOO: "foo" } }, c.output, { n: 1 }), new AbortController().signal);
  expect(o).toMatchObject({ status: "failed", error: "exit code 4", result: { exitCode: 4 } });
  expect(c.text("stdout")).toBe('hello a b c foo run=9 secret=none\nfile=script.sh mode=600 dir=700\ninside\n{"n":1}');
  expect(c.text("stderr")).toBe("oops\n");
  expect(left()).toEqual([]);
});

test('runs TypeScript with the runtime running tock ("@runtime")', async () => {
  const { exec, left } = setup();
  const c = collector();
  const content = [
    "const answer: number = 6 * 7;",
    'console.log("ts", answer, process.argv[1].endsWith(".ts"), process.argv.slice(2).join(","), process.env.TOCK_JOB_NAME);',
    "console.error(process.env.SECRET_TOKEN ?? 'no secret');",
  ].join("\n");
  const o = await exec.execute(request({ language: "typescript", content, args: ["x", "y"] }, c.output), new AbortController().signal);
  expect(o).toMatchObject({ status: "succeeded" });
  expect(c.text("stdout")).toBe("ts 42 true x,y job\n");
  expect(c.text("stderr")).toBe("no secret\n");
  expect(left()).toEqual([]);
}, 15_000);

test("removes the temp file after an abort", async () => {
  const { exec, left } = setup();
  const c = collector();
  const controller = new AbortController();
  const done = exec.execute(request({ language: "shell", content: 'trap "" TERM; echo ready; sleep 60' }, c.output), controller.signal);
  await c.waitFor("stdout", "ready");
  expect(left().length).toBe(1);
  controller.abort();
  const o = await done;
  expect(o.status).toBe("failed");
  expect(o.error).toContain("aborted");
  expect(left()).toEqual([]);
}, 15_000);

test("removes the temp file when the interpreter cannot start", async () => {
  const { exec, left } = setup({ interpreters: { ...DEFAULT_INTERPRETERS, ghost: ["/nonexistent/interpreter"] } });
  const o = await exec.execute(request({ language: "ghost", content: "boo" }), new AbortController().signal);
  expect(o.status).toBe("failed");
  expect(o.error).toContain("/nonexistent/interpreter");
  expect(left()).toEqual([]);
});

test("a language the config no longer has fails with a clear error", async () => {
  const { exec, left } = setup({ interpreters: { shell: ["/bin/sh"] } });
  const o = await exec.execute(request({ language: "python", content: "print(1)" }), new AbortController().signal);
  expect(o).toEqual({ status: "failed", error: 'no interpreter for language "python" in [executors.script.interpreters]' });
  expect(left()).toEqual([]);
});

test("a temp dir that cannot be used fails the run", async () => {
  const { exec } = setup({ tempDir: "/nonexistent/tmp" });
  const o = await exec.execute(request({ language: "shell", content: "true" }), new AbortController().signal);
  expect(o.status).toBe("failed");
  expect(o.error).toContain("/nonexistent/tmp");
});

test("a start removes the script folders of tock processes that died, and leaves those of live ones", async () => {
  const root = mkdtempSync(join(tmpdir(), "tock-sweep-"));
  try {
    // A process that has exited: its pid names a folder nobody will remove.
    const gone = Bun.spawn(["/bin/true"]);
    await gone.exited;
    const dead = join(root, `tock-script-${gone.pid}-abc123`);
    const mine = join(root, `tock-script-${process.pid}-def456`);
    const other = join(root, "tock-script-xyz789"); // not named for a process: not ours to judge
    const unrelated = join(root, `something-${gone.pid}-else`);
    for (const d of [dead, mine, other, unrelated]) mkdirSync(d);
    writeFileSync(join(dead, "script.sh"), "echo hi");
    expect(await sweepScriptFolders(root)).toBe(1);
    expect(readdirSync(root).sort()).toEqual([`something-${gone.pid}-else`, `tock-script-${process.pid}-def456`, "tock-script-xyz789"]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a script's folder is named for the process running it, so a later start can tell whose it was", async () => {
  const { exec, left } = setup();
  const c = collector();
  const o = await exec.execute(request({ language: "shell", content: 'basename "$(dirname "$0")"' }, c.output), new AbortController().signal);
  expect(o.status).toBe("succeeded");
  expect(c.text("stdout")).toMatch(new RegExp(`^tock-script-${process.pid}-\\w+\\n$`));
  expect(left()).toEqual([]);
});
