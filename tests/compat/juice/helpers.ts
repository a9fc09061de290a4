// Shared by the Juice tests: a started test env with processes on and a stand-in docker CLI, the task
// endpoints called as a tenant, and waiting for a task's run to end.
import { afterEach, expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Config, parseConfig } from "../../../src/config.ts";
import { getJobById } from "../../../src/domain/jobs.ts";
import type { RunEvent } from "../../../src/domain/ports.ts";
import type { Logger } from "../../../src/log.ts";
import { type TestEnv, tempDir, testEnv, waitUntil } from "../../helpers.ts";

const DEFAULTS = parseConfig(null, {});
export const TENANT = "10002";
export const H = { "X-Tenant-Id": TENANT };

export interface Env extends TestEnv {
  /** Runs finished so far, by job id (= taskId). */
  finished: Map<number, RunEvent>;
  /** The stand-in docker CLI's record of its last `run`: argv lines, then the `environment` variable. */
  record: string;
}

let cleanups: (() => Promise<void> | void)[] = [];
/** Runs what each test left to clean up (envs, temporary folders), newest first (call once per test file). */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
  });
}
/** Something to clean up after the current test. */
export const afterTest = (fn: () => Promise<void> | void): void => void cleanups.push(fn);

/** A started env with processes on and a stand-in docker CLI that records its argv and prints a line. */
export async function env(
  opts: { start?: boolean; process?: boolean; cli?: boolean; failWrite?: (sql: string) => boolean; dir?: string; log?: Logger; scheduler?: Partial<Config["scheduler"]> } = {},
): Promise<Env> {
  let dir = opts.dir;
  if (!dir) {
    const t = tempDir();
    cleanups.push(t.cleanup);
    dir = t.dir;
  }
  const record = join(dir, "docker-argv.log");
  const cli = join(dir, "docker");
  writeFileSync(cli, `#!/bin/sh\n[ "$1" = run ] || exit 0\nfor a in "$@"; do echo "$a"; done > ${record}\necho "environment=$environment" >> ${record}\necho "hello from the container"\n`, { mode: 0o755 });
  const e = await testEnv({
    dir,
    start: opts.start ?? true,
    failWrite: opts.failWrite,
    log: opts.log,
    config: {
      executors: {
        ...DEFAULTS.executors,
        process: { ...DEFAULTS.executors.process, enabled: opts.process ?? true, killGrace: 300 },
        container: { cli: opts.cli === false ? undefined : cli, runArgs: [] },
      },
      scheduler: { pollInterval: 200, ...opts.scheduler },
    },
  });
  cleanups.push(() => e.close());
  const finished = new Map<number, RunEvent>();
  e.deps.scheduler.events.on("run:finished", (ev) => void finished.set(ev.jobId, ev));
  return Object.assign(e, { finished, record });
}

export const submit = (e: TestEnv, body: unknown, headers: Record<string, string> = H) => e.call("POST", "/v1/tasks", body, headers);
export const query = (e: TestEnv, ids: string, headers: Record<string, string> = H) => e.call("GET", `/v1/tasks?taskIds=${ids}`, undefined, headers);
export const kill = (e: TestEnv, id: string | number, headers: Record<string, string> = H) => e.call("POST", `/v1/tasks/kill?taskId=${id}`, undefined, headers);

/** Submits a task and returns its id once its run has ended. */
export async function run(e: Env, body: Record<string, unknown>): Promise<number> {
  const r = await submit(e, { taskName: "t", ...body });
  expect(r.status).toBe(200);
  const id = r.body.data.taskId;
  await waitUntil(() => e.finished.has(id), `task ${id} to end`, 10_000);
  return id;
}

export const jobOf = async (e: TestEnv, id: number) => getJobById(e.deps, id);

export async function itemOf(e: TestEnv, id: number) {
  const r = await query(e, String(id));
  expect(r.status).toBe(200);
  expect(r.body.data).toHaveLength(1);
  return r.body.data[0];
}
