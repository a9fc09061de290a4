// Process and script jobs in the two shipped forms: the built binary run alone (its "@runtime" is the
// binary itself acting as Bun), and the sources on Deno. Output is read back through the logs API, and a
// running process is killed through the kill endpoint.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { api, buildBinary, type Proc, ROOT, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-e2e-proc-");
const procs: Proc[] = [];
afterAll(() => {
  for (const p of procs) p.child.kill("SIGKILL");
  cleanup();
});

const settings = (name: string) => ({
  TOCK_DATABASE_URL: `file:${join(dir, `${name}.db`)}`,
  TOCK_SCHEDULER_NODE_ID: name,
  TOCK_SCHEDULER_POLL_INTERVAL: "200ms",
  TOCK_EXECUTORS_PROCESS_ENABLED: "true",
  TOCK_EXECUTORS_PROCESS_KILL_GRACE: "500ms",
  DENO_NO_UPDATE_CHECK: "1",
});

async function finished(base: string, runId: number) {
  for (let i = 0; i < 200; i++) {
    const run = (await api(base, "GET", `/api/v1/runs/${runId}`)).body;
    if (!["queued", "running"].includes(run.status)) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${runId} did not end`);
}

async function exercise(base: string) {
  // A TypeScript script run by tock's own runtime.
  const script = { script: { language: "typescript", content: "const n: number = 6 * 7;\nconsole.log(`answer ${n}`);\nconsole.error('to stderr');" } };
  expect((await api(base, "PUT", "/api/v1/namespaces/e2e/jobs/ts", { target: script })).status).toBe(201);
  const t = await api(base, "POST", "/api/v1/namespaces/e2e/jobs/ts/trigger");
  const run = await finished(base, t.body.id);
  expect(run).toMatchObject({ status: "succeeded", result: { exitCode: 0 } });
  const logs = await api(base, "GET", `/api/v1/runs/${t.body.id}/logs`);
  expect(logs.body.items.map((l: { stream: string; line: string }) => [l.stream, l.line])).toEqual([
    ["stdout", "answer 42"],
    ["stderr", "to stderr"],
  ]);

  // A long process, killed through the API.
  expect((await api(base, "PUT", "/api/v1/namespaces/e2e/jobs/sleep", { target: { process: { command: ["/bin/sleep", "60"] } } })).status).toBe(201);
  const s = await api(base, "POST", "/api/v1/namespaces/e2e/jobs/sleep/trigger");
  for (let i = 0; i < 100 && (await api(base, "GET", `/api/v1/runs/${s.body.id}`)).body.status !== "running"; i++) await new Promise((r) => setTimeout(r, 50));
  const k = await api(base, "POST", `/api/v1/runs/${s.body.id}/kill`);
  expect(k.status).toBe(200);
  expect(k.body.status).toBe("killed");
}

test("the built binary, run alone, runs a TypeScript script with itself and kills a process on request", async () => {
  const bin = buildBinary(join(dir, "bin"));
  const proc = await startTock([bin, "serve"], { cwd: join(dir, "bin"), env: settings("binary") });
  procs.push(proc);
  await exercise(proc.url);
  proc.child.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
}, 120_000);

test("on Deno, the same: a TypeScript script run by deno, and a kill", async () => {
  const proc = await startTock([join(ROOT, "node_modules/.bin/deno"), "run", "-A", join(ROOT, "src/main.ts"), "serve"], {
    cwd: ROOT,
    env: settings("deno"),
    timeoutMs: 60_000,
  });
  procs.push(proc);
  await exercise(proc.url);
  proc.child.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
}, 90_000);
