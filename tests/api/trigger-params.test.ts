// A trigger's extra input for one run (RunParams): environment and trailing arguments reach a real child
// process, its retries keep them, bad ones are refused; container limits reach the engine's argv.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../src/config.ts";
import { findJobs } from "../../src/domain/jobs.ts";
import { findRuns } from "../../src/domain/runs.ts";
import { read } from "../../src/store/sql.ts";
import { type TestEnv, tempDir, testEnv, withProcesses } from "../helpers.ts";

const executors = (extra: Partial<Config["executors"]> = {}) => withProcesses({}, extra);

let envs: TestEnv[] = [];
async function env(config: NonNullable<Parameters<typeof testEnv>[0]>["config"] = {}): Promise<TestEnv> {
  const e = await testEnv({ start: true, config: { executors: executors(), scheduler: { pollInterval: 200 }, ...config } });
  envs.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(envs.map((e) => e.close()));
  envs = [];
});

/** Triggers `name` with `body`; resolves with the trigger response and every run of its slot once the last has ended. */
async function trigger(e: TestEnv, name: string, body?: unknown, runs = 1) {
  let seen = 0;
  const finished = e.deps.scheduler.events.next("run:finished", (ev) => ev.jobName === name && ++seen === runs, 15_000);
  const t = await e.call("POST", `/api/v1/namespaces/p/jobs/${name}/trigger`, body);
  if (t.status !== 202) return { t, runs: [] };
  await finished;
  await e.deps.scheduler.idle();
  const rows = await read(e.deps.store, { sql: "SELECT id, attempt, status, output_tail FROM runs WHERE job_name = ? ORDER BY attempt", args: [name] });
  return { t, runs: rows };
}

describe("run params", () => {
  test("env and args of a trigger reach that run only: argv gets the args, the environment the variables", async () => {
    const e = await env();
    const put = await e.call("PUT", "/api/v1/namespaces/p/jobs/argv", {
      target: { process: { command: ["/bin/sh", "-c", 'echo "args=$*" "x=$X" "y=$Y"', "sh"], env: { X: "job", Y: "kept" } } },
    });
    expect(put.status).toBe(201);
    const { t, runs } = await trigger(e, "argv", { env: { X: "run" }, args: ["a b", "c"] });
    // The variables' values are write-only: the run shows which were given, not what they were.
    expect(t.body.params).toEqual({ env: { X: "<secret>" }, args: ["a b", "c"] });
    expect(runs[0].output_tail).toBe("args=a b c x=run y=kept");
    // A trigger without a body runs the job as stored.
    const plain = await trigger(e, "argv");
    expect(plain.t.body.params).toBeNull();
    const last = await read(e.deps.store, { sql: "SELECT output_tail FROM runs WHERE id = ?", args: [plain.t.body.id] });
    expect(last[0].output_tail).toBe("args= x=job y=kept");
  });

  test("a shell string gets the args as $1, $2; a script gets them after its own", async () => {
    const e = await env();
    await e.call("PUT", "/api/v1/namespaces/p/jobs/sh", { target: { process: { shell: 'echo "1=$1 2=$2 n=$#"' } } });
    expect((await trigger(e, "sh", { args: ["one", "two"] })).runs[0].output_tail).toBe("1=one 2=two n=2");
    await e.call("PUT", "/api/v1/namespaces/p/jobs/script", { target: { script: { language: "shell", content: 'echo "$@ $P"', args: ["first"] } } });
    expect((await trigger(e, "script", { args: ["second"], env: { P: "p" } })).runs[0].output_tail).toBe("first second p");
  });

  test("retries of a triggered run keep its params", async () => {
    const e = await env({ scheduler: { pollInterval: 200, minEvery: 100 } }); // retries 100 ms apart
    await e.call("PUT", "/api/v1/namespaces/p/jobs/retry", {
      target: { process: { command: ["/bin/sh", "-c", 'echo "v=$V"; exit 3'] } },
      retry: { times: 1, interval: "100ms", backoff: "fixed" },
    });
    const { runs } = await trigger(e, "retry", { env: { V: "given" } }, 2);
    expect(runs.map((r) => [r.attempt, r.status, r.output_tail])).toEqual([
      [1, "failed", "v=given"],
      [2, "failed", "v=given"],
    ]);
  });

  test("bad params are a 400 naming the field, and queue nothing", async () => {
    const e = await env();
    await e.call("PUT", "/api/v1/namespaces/p/jobs/bad", { target: { process: { command: ["/bin/true"] } } });
    for (const [body, field] of [
      [{ env: { "1X": "v" } }, "env"],
      [{ args: "not a list" }, "args"],
      [{ extra: 1 }, "extra"],
      [[1, 2], undefined],
      ["{", "body"],
    ] as const) {
      const r = await e.call("POST", "/api/v1/namespaces/p/jobs/bad/trigger", body);
      expect(r.status).toBe(400);
      if (field) expect(r.body.error.message).toContain(field);
    }
    const rows = await read(e.deps.store, { sql: "SELECT count(*) AS n FROM runs", args: [] });
    expect(Number(rows[0].n)).toBe(0);
  });
});

test("params are held to the server's target rules when triggered, not when the run fires", async () => {
  const e = await env({ executors: withProcesses({ allowedCommands: ["/bin/sh"] }) });
  await e.call("PUT", "/api/v1/namespaces/p/jobs/ok", { target: { process: { command: ["/bin/sh", "-c", "true"] } } });
  const r = await e.call("POST", "/api/v1/namespaces/p/jobs/ok/trigger", { env: { LD_PRELOAD: "/tmp/x.so" } });
  expect(r.status).toBe(400);
  expect(r.body.error.message).toContain("LD_PRELOAD");
  const rows = await read(e.deps.store, { sql: "SELECT count(*) AS n FROM runs", args: [] });
  expect(Number(rows[0].n)).toBe(0);
});

describe("container resources", () => {
  test("cpus and memory reach the engine as --cpus and --memory, before the operator's run_args", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const record = join(dir, "argv.txt");
      const cli = join(dir, "docker");
      writeFileSync(cli, `#!/bin/sh\nfor a in "$@"; do echo "$a"; done > ${record}\n`, { mode: 0o755 });
      const e = await env({ executors: executors({ container: { cli, runArgs: ["--memory=1g"] } }) });
      const put = await e.call("PUT", "/api/v1/namespaces/p/jobs/c", { target: { container: { image: "alpine", resources: { cpus: 0.5, memory: "256m" } } } });
      expect(put.status).toBe(201);
      expect((await trigger(e, "c")).runs[0].status).toBe("succeeded");
      const argv = readFileSync(record, "utf8").trim().split("\n");
      expect(argv.slice(argv.indexOf("--cpus=0.5"), argv.indexOf("--memory=1g") + 1)).toEqual(["--cpus=0.5", "--memory=256m", "--memory=1g"]);
      expect(argv.indexOf("--memory=1g")).toBeLessThan(argv.indexOf("alpine"));
      for (const resources of [{ cpus: 0 }, { memory: "lots" }, { gpus: 1 }]) {
        const bad = await e.call("PUT", "/api/v1/namespaces/p/jobs/c2", { target: { container: { image: "alpine", resources } } });
        expect(bad.status).toBe(400);
        expect(bad.body.error.field).toStartWith("target.container.resources");
      }
    } finally {
      cleanup();
    }
  });
});

describe("numbered pages for the compat facades", () => {
  test("findJobs filters by namespace, API and target kind and counts; findRuns pages newest first", async () => {
    const e = await env();
    for (const n of ["a", "b", "c"]) await e.call("PUT", `/api/v1/namespaces/one/jobs/${n}`, { target: { http: { url: "http://127.0.0.1:9/" } } });
    await e.call("PUT", "/api/v1/namespaces/two/jobs/p", { target: { process: { command: ["/bin/true"] } } });
    const page = await findJobs(e.deps, { namespace: "one", offset: 1, limit: 1 });
    expect(page.count).toBe(3);
    expect(page.items.map((j) => j.name)).toEqual(["b"]);
    expect((await findJobs(e.deps, { targetKinds: ["process"], offset: 0, limit: 10 })).items.map((j) => j.name)).toEqual(["p"]);
    expect((await findJobs(e.deps, { api: "alauda", offset: 0, limit: 10 })).count).toBe(0);
    await e.call("PUT", "/api/v1/namespaces/two/jobs/p", { target: { process: { command: ["/bin/true"] } } });
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await e.call("POST", "/api/v1/namespaces/two/jobs/p/trigger")).body.id);
    const job = (await e.call("GET", "/api/v1/namespaces/two/jobs/p")).body;
    const runs = await findRuns(e.deps, job.id, { offset: 0, limit: 2 });
    expect(runs.count).toBe(3);
    expect(runs.items.map((r) => r.id)).toEqual([ids[2], ids[1]]);
  });
});
