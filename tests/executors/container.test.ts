// The container executor against a stand-in CLI (a shell script that records how it was called), so the
// exact argv, the environment handed over and the engine calls on abort are visible without an engine.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContainerExecutor, type ContainerExecutorOptions } from "../../src/executors/container.ts";
import type { ExecRequest, LogStream, RunOutput } from "../../src/executors/types.ts";
import { collector } from "./collect.ts";

const dir = mkdtempSync(join(tmpdir(), "tock-container-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each call appends one record: "call" lines, its arguments one per line, then the env values it saw.
// Image "slow" sleeps like a running container; "stubborn" also ignores SIGTERM.
const cli = join(dir, "fake-docker");
writeFileSync(
  cli,
  `#!/bin/sh
log="$(dirname "$0")/calls.log"
{ echo "== call"; for a in "$@"; do echo "arg:$a"; done
  echo "env:FOO=\${FOO-unset}"; echo "env:SECRET_TOKEN=\${SECRET_TOKEN-unset}"; echo "env:TOCK_RUN_ID=\${TOCK_RUN_ID-unset}"; } >> "$log"
case " $* " in
  *" slow "*) echo started; sleep 60 ;;
  *" stubborn "*) trap "" TERM; echo started; sleep 60 ;;
  *" run "*) echo "container says hi"; cat; echo; echo "warning" >&2 ;;
esac
`,
  { mode: 0o755 },
);
const log = join(dir, "calls.log");

interface Call {
  args: string[];
  env: Record<string, string>;
}

function calls(): Call[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8").split("== call\n").slice(1).map((block) => {
    const lines = block.trimEnd().split("\n");
    const args = lines.filter((l) => l.startsWith("arg:")).map((l) => l.slice(4));
    const env = Object.fromEntries(lines.filter((l) => l.startsWith("env:")).map((l) => l.slice(4).split("=", 2)));
    return { args, env };
  });
}

const options: ContainerExecutorOptions = {
  passEnv: ["PATH"],
  shell: ["/bin/sh", "-c"],
  killGrace: 300,
  env: { PATH: process.env.PATH, SECRET_TOKEN: "hunter2" },
  cli,
  runArgs: ["--network=none"],
};
const exec = createContainerExecutor(options);


function request(target: Record<string, unknown>, output?: RunOutput, payload: unknown = null): ExecRequest {
  return { runId: 5, key: "5", namespace: "ns", jobName: "job", scheduledAt: Date.UTC(2026, 0, 1), attempt: 1, target, payload, output };
}

const TOCK_VARS = ["TOCK_RUN_ID", "TOCK_NAMESPACE", "TOCK_JOB_NAME", "TOCK_SCHEDULED_AT", "TOCK_ATTEMPT", "TOCK_WEBHOOK_ID"];

test("runs `<cli> run --rm` with a unique name, env names only, entrypoint, image:tag and arguments", async () => {
  rmSync(log, { force: true });
  const c = collector();
  const target = { image: "alpine", tag: "3.20", command: ["/bin/echo", "a b"], args: ["c"], env: { FOO: "s3cret-value" } };
  const o = await exec.execute(request(target, c.output, { p: 1 }), new AbortController().signal);
  expect(o).toMatchObject({ status: "succeeded", result: { exitCode: 0 } });
  const name = o.result!.container as string;
  expect(name).toMatch(/^tock-run-5-[0-9a-f]{8}$/);
  expect(c.text("stdout")).toBe('container says hi\n{"p":1}\n');
  expect(c.text("stderr")).toBe("warning\n");

  const [call] = calls();
  expect(call.args).toEqual([
    "run", "--rm", "--name", name, "-i", "--network=none",
    "-e", "FOO", ...TOCK_VARS.flatMap((v) => ["-e", v]),
    "--entrypoint", "/bin/echo", "alpine:3.20", "a b", "c",
  ]);
  // Values reach the CLI through its environment, never its command line; tock's secret reaches neither.
  expect(call.env).toEqual({ FOO: "s3cret-value", SECRET_TOKEN: "unset", TOCK_RUN_ID: "5" });
  expect(call.args.join("\n")).not.toContain("s3cret-value");

  // Another run of the same id gets another name.
  const again = await exec.execute(request({ image: "alpine" }), new AbortController().signal);
  expect(again.result!.container).not.toBe(name);
  expect(calls()[1].args).toEqual(["run", "--rm", "--name", again.result!.container as string, "--network=none", ...TOCK_VARS.flatMap((v) => ["-e", v]), "alpine"]);
});

test("a CLI that is missing is a failed outcome", async () => {
  const missing = createContainerExecutor({ ...options, cli: "/nonexistent/docker" });
  const o = await missing.execute(request({ image: "alpine" }), new AbortController().signal);
  expect(o.status).toBe("failed");
  expect(o.error).toContain("/nonexistent/docker");
});

test("abort stops the CLI and asks the engine to kill the container by name", async () => {
  rmSync(log, { force: true });
  const c = collector();
  const controller = new AbortController();
  const done = exec.execute(request({ image: "slow" }, c.output), controller.signal);
  await c.waitFor("stdout", "started");
  controller.abort();
  const o = await done;
  expect(o.status).toBe("failed");
  const name = o.result!.container as string;
  const [run, kill, ...rest] = calls();
  expect(run.args).toContain(name);
  expect(kill.args).toEqual(["kill", name]);
  expect(rest).toEqual([]);
}, 15_000);

test("when the grace runs out the container is also force-removed", async () => {
  rmSync(log, { force: true });
  const c = collector();
  const controller = new AbortController();
  const started = performance.now();
  const done = exec.execute(request({ image: "stubborn" }, c.output), controller.signal);
  await c.waitFor("stdout", "started");
  controller.abort();
  const o = await done;
  expect(performance.now() - started).toBeLessThan(3_000);
  expect(o).toMatchObject({ status: "failed", result: { signal: "SIGKILL" } });
  const name = o.result!.container as string;
  expect(calls().slice(1).map((call) => call.args)).toEqual([["kill", name], ["rm", "-f", name]]);
}, 15_000);
