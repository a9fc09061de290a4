// The Alauda jobs facade (Alauda's jobs API reference): the document's own payloads, container
// runs through a stand-in container CLI that records what it was asked to run, and the error cases.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { splitCommand } from "../../../src/compat/alauda/container.ts";
import { execId, runIdOf } from "../../../src/compat/alauda/execs.ts";
import { TestClock } from "../../../src/clock.ts";
import { type TestEnv, tempDir, testEnv, withProcesses } from "../../helpers.ts";


// The stand-in `docker`: records its argv (one per line) and DB_HOST, as the container would see them, to
// argv-<run id>.log, then prints two lines to stdout and one to stderr. SLEEP makes it run that long.
const bin = tempDir("tock-alauda-");
afterAll(() => bin.cleanup());
const CLI = join(bin.dir, "docker");
writeFileSync(
  CLI,
  `#!/bin/sh
[ "$1" = run ] || exit 0
f="${bin.dir}/argv-$TOCK_RUN_ID.log"
for a in "$@"; do echo "$a"; done > "$f"
echo "DB_HOST=$DB_HOST" >> "$f"
echo "Start pulling image"
[ -n "$SLEEP" ] && exec sleep "$SLEEP"
echo "Start running!"
echo "a warning" >&2
`,
  { mode: 0o755 },
);
const argvOf = (runId: number) => readFileSync(join(bin.dir, `argv-${runId}.log`), "utf8").trim().split("\n");

const executors = (cli = CLI) => withProcesses({}, { container: { cli, runArgs: [] } });

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

// The document's examples, verbatim.
const CREATE = {
  name: "test",
  namespace: "chennanfei",
  command: "bash",
  docker_image_repo: "index.alauda.cn/chennanfei/job_image",
  docker_image_tag: "latest",
  resource_size: "XXS",
  is_schedule_active: false,
  schedule_mode: null,
  runtime_vars: { DB_HOST: "localhost" },
};
const UPDATE = {
  name: "test2",
  command: "/bin bash",
  docker_image_tag: "trusty",
  resource_size: "XS",
  is_schedule_active: false,
  schedule_mode: null,
  runtime_vars: { DB_HOST: "127.0.0.1" },
};

const JOB_KEYS = ["command", "created_at", "created_by", "docker_image_repo", "docker_image_tag", "id", "is_schedule_active", "name", "namespace", "region_name", "resource_size", "runtime_vars", "schedule_mode", "updated_at"];
const EXEC_KEYS = ["command", "created_at", "created_by", "docker_image_repo", "docker_image_tag", "duration", "ended_at", "id", "job", "region_name", "resource_size", "runtime_vars", "started_at", "status", "trigger_mode"];
const MICROS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function created(e: TestEnv, body: Record<string, unknown> = CREATE) {
  const r = await e.call("POST", "/v1/jobs", body);
  expect(r.status).toBe(201);
  return r.body;
}

/** Triggers an exec and waits for its run to end; returns the trigger's answer. */
async function execFinished(e: TestEnv, jobId: number) {
  const finished = e.deps.scheduler.events.next("run:finished", () => true, 15_000);
  const r = await e.call("POST", `/v1/jobs/${jobId}/execs`);
  expect(r.status).toBe(201);
  await finished;
  await e.deps.scheduler.idle();
  return r.body;
}

/** Asserts an Alauda error answer naming `field` (when given). */
function expectError(r: { status: number; body: any }, status: number, code: string, field?: string) {
  expect(r.status).toBe(status);
  expect(r.body.errors).toHaveLength(1);
  expect(r.body.errors[0]).toMatchObject({ source: "tock", code });
  expect(typeof r.body.errors[0].message).toBe("string");
  if (field) expect(Object.keys(r.body.errors[0].fields[0])).toEqual([field]);
}

describe("jobs", () => {
  test("the document's create example: 201 with every field, and a native container job behind it", async () => {
    const e = await env();
    const job = await created(e);
    expect(Object.keys(job).sort()).toEqual(JOB_KEYS);
    expect(job).toMatchObject({
      created_by: "chennanfei",
      command: "bash",
      docker_image_repo: "index.alauda.cn/chennanfei/job_image",
      docker_image_tag: "latest",
      name: "test",
      region_name: "BEIJING1",
      namespace: "chennanfei",
      resource_size: "XXS",
      // The document's answer shows a schedule its request did not send; tock answers with what was sent.
      schedule_mode: null,
      is_schedule_active: false,
      runtime_vars: { DB_HOST: "localhost" },
    });
    expect(Number.isSafeInteger(job.id) && job.id > 0).toBe(true);
    expect(job.created_at).toMatch(MICROS);
    expect(job.updated_at).toMatch(MICROS);

    const native = (await e.call("GET", "/api/v1/namespaces/chennanfei/jobs")).body.items;
    expect(native).toHaveLength(1);
    expect(native[0].name).toMatch(/^alauda-[0-9a-z]{16}$/);
    const one = await e.call("GET", `/api/v1/namespaces/chennanfei/jobs/${native[0].name}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: job.id,
      schedule: null,
      scheduleKind: "manual",
      enabled: false,
      target: { container: { image: "index.alauda.cn/chennanfei/job_image", tag: "latest", args: ["bash"], env: { DB_HOST: "localhost" }, resources: { cpus: 0.125, memory: "128m" } } },
      compat: { api: "alauda", name: "test", command: "bash", resource_size: "XXS", region_name: "BEIJING1", created_by: "chennanfei" },
    });
    expect(one.body.target.container.command).toBeUndefined();
  });

  test("GET /v1/jobs/{id} shows one job; GET /v1/jobs?namespace= lists them DRF-style, with the list example's millisecond Z times", async () => {
    const e = await env();
    const a = await created(e);
    const b = await created(e, { ...CREATE, name: "第二个任务", runtime_vars: {} });
    await created(e, { ...CREATE, namespace: "someone-else" });

    const one = await e.call("GET", `/v1/jobs/${a.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(a);

    const list = await e.call("GET", "/v1/jobs?namespace=chennanfei");
    expect(list.status).toBe(200);
    expect(Object.keys(list.body).sort()).toEqual(["count", "next", "previous", "results"]);
    expect(list.body).toMatchObject({ count: 2, previous: null, next: null });
    expect(list.body.results.map((j: any) => [j.id, j.name])).toEqual([
      [a.id, "test"],
      [b.id, "第二个任务"],
    ]);
    const item = list.body.results[0];
    expect(Object.keys(item).sort()).toEqual(JOB_KEYS);
    expect(item.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(item.created_at)).toBe(Date.parse(a.created_at));
    expect({ ...item, created_at: a.created_at, updated_at: a.updated_at }).toEqual(a);
  });

  test("the document's update example changes the fields it sends and keeps the rest (200, every field)", async () => {
    const e = await env();
    const job = await created(e);
    await new Promise((r) => setTimeout(r, 5)); // a later updated_at
    const r = await e.call("PUT", `/v1/jobs/${job.id}`, UPDATE);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(JOB_KEYS);
    expect(r.body).toMatchObject({
      id: job.id,
      docker_image_repo: "index.alauda.cn/chennanfei/job_image",
      name: "test2",
      region_name: "BEIJING1",
      created_at: job.created_at,
      namespace: "chennanfei",
      created_by: "chennanfei",
      resource_size: "XS",
      schedule_mode: null,
      docker_image_tag: "trusty",
      command: "/bin bash",
      is_schedule_active: false,
      runtime_vars: { DB_HOST: "127.0.0.1" },
    });
    expect(r.body.updated_at).toMatch(MICROS);
    expect(Date.parse(r.body.updated_at)).toBeGreaterThan(Date.parse(job.updated_at));
    expect((await e.call("GET", `/v1/jobs/${job.id}`)).body).toEqual(r.body);

    const [native] = (await e.call("GET", "/api/v1/namespaces/chennanfei/jobs")).body.items;
    expect(native.target.container).toEqual({ image: "index.alauda.cn/chennanfei/job_image", tag: "trusty", args: ["/bin", "bash"], env: { DB_HOST: "127.0.0.1" }, resources: { cpus: 0.25, memory: "256m" } });

    // A partial update keeps what it does not name; a schedule turns the job scheduled.
    const again = await e.call("PUT", `/v1/jobs/${job.id}`, { is_schedule_active: true, schedule_mode: "R/2099-01-01T00:00:00Z/P1D" });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ name: "test2", command: "/bin bash", is_schedule_active: true, schedule_mode: "R/2099-01-01T00:00:00Z/P1D" });
    const scheduled = (await e.call("GET", `/api/v1/namespaces/chennanfei/jobs/${native.name}`)).body;
    expect(scheduled).toMatchObject({ enabled: true, scheduleKind: "iso8601", nextFireAt: "2099-01-01T00:00:00.000Z" });
  });

  test("DELETE /v1/jobs/{id} answers 204; the job is gone from both APIs", async () => {
    const e = await env();
    const job = await created(e);
    const [native] = (await e.call("GET", "/api/v1/namespaces/chennanfei/jobs")).body.items;
    const r = await e.call("DELETE", `/v1/jobs/${job.id}`);
    expect(r.status).toBe(204);
    expect(r.body).toBeNull();
    expectError(await e.call("GET", `/v1/jobs/${job.id}`), 404, "resource_not_exist");
    expectError(await e.call("DELETE", `/v1/jobs/${job.id}`), 404, "resource_not_exist");
    expect((await e.call("GET", `/api/v1/namespaces/chennanfei/jobs/${native.name}`)).status).toBe(404);
  });

  test("native container jobs of the namespace render from their native fields; other targets are not Alauda jobs", async () => {
    const e = await env();
    const put = await e.call("PUT", "/api/v1/namespaces/chennanfei/jobs/nightly", {
      schedule: "0 3 * * *",
      target: { container: { image: "alpine", command: ["/bin/sh", "-c"], args: ["echo 'hi there'"], resources: { cpus: 0.25, memory: "256m" } } },
    });
    expect(put.status).toBe(201);
    const http = await e.call("PUT", "/api/v1/namespaces/chennanfei/jobs/hook", { target: { http: { url: "http://127.0.0.1:9/x" } } });
    const list = (await e.call("GET", "/v1/jobs?namespace=chennanfei")).body;
    expect(list.count).toBe(1);
    const job = (await e.call("GET", `/v1/jobs/${put.body.id}`)).body;
    expect(job).toMatchObject({
      id: put.body.id,
      name: "nightly",
      namespace: "chennanfei",
      created_by: "chennanfei",
      command: `/bin/sh -c 'echo '"'"'hi there'"'"''`,
      docker_image_repo: "alpine",
      docker_image_tag: "latest",
      resource_size: "XS",
      region_name: "BEIJING1",
      schedule_mode: "0 3 * * *",
      is_schedule_active: true,
      runtime_vars: {},
    });
    expect(splitCommand(job.command)).toEqual(["/bin/sh", "-c", "echo 'hi there'"]);
    expectError(await e.call("GET", `/v1/jobs/${http.body.id}`), 404, "resource_not_exist");

    // Sent back with its cron schedule unchanged, an update keeps the native schedule and policies.
    const upd = await e.call("PUT", `/v1/jobs/${put.body.id}`, { ...job, name: "每晚" });
    expect(upd.status).toBe(200);
    expect(upd.body).toMatchObject({ name: "每晚", schedule_mode: "0 3 * * *", command: job.command });
    const native = (await e.call("GET", "/api/v1/namespaces/chennanfei/jobs/nightly")).body;
    expect(native).toMatchObject({ schedule: "0 3 * * *", compat: { api: "alauda", name: "每晚" } });
    expect(native.target.container).toMatchObject({ args: ["/bin/sh", "-c", "echo 'hi there'"] });
  });

  test("pages: page_size, absolute next and previous links, page=last, and a page past the end is 404", async () => {
    const e = await env();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await created(e, { ...CREATE, namespace: "pg", name: `j${i}` })).id);
    const p1 = (await e.call("GET", "/v1/jobs?namespace=pg&page_size=2")).body;
    expect(p1).toMatchObject({ count: 5, previous: null, next: "http://localhost/v1/jobs?namespace=pg&page_size=2&page=2" });
    expect(p1.results.map((j: any) => j.id)).toEqual(ids.slice(0, 2));
    const p2 = (await e.call("GET", p1.next)).body;
    expect(p2).toMatchObject({ previous: "http://localhost/v1/jobs?namespace=pg&page_size=2", next: "http://localhost/v1/jobs?namespace=pg&page_size=2&page=3" });
    expect(p2.results.map((j: any) => j.id)).toEqual(ids.slice(2, 4));
    const p3 = (await e.call("GET", p2.next)).body;
    expect(p3).toMatchObject({ previous: "http://localhost/v1/jobs?namespace=pg&page_size=2&page=2", next: null });
    expect(p3.results.map((j: any) => j.id)).toEqual(ids.slice(4));
    expect((await e.call("GET", "/v1/jobs?namespace=pg&page_size=2&page=last")).body.results.map((j: any) => j.id)).toEqual(ids.slice(4));
    expect((await e.call("GET", "/v1/jobs?namespace=pg")).body.results).toHaveLength(5); // default page size 20
    expectError(await e.call("GET", "/v1/jobs?namespace=pg&page_size=2&page=4"), 404, "resource_not_exist");
    expect((await e.call("GET", "/v1/jobs?namespace=empty")).body).toEqual({ count: 0, previous: null, results: [], next: null });
  });
});

describe("execs", () => {
  test("POST /execs runs the container now: 201 W/M; the CLI gets image:tag, the command's argv, the variables and the size's limits", async () => {
    const e = await env();
    const job = await created(e);
    await e.call("PUT", `/v1/jobs/${job.id}`, UPDATE);
    const exec = await execFinished(e, job.id);
    expect(Object.keys(exec).sort()).toEqual(EXEC_KEYS);
    expect(exec).toMatchObject({
      job: job.id,
      docker_image_repo: "index.alauda.cn/chennanfei/job_image",
      status: "W",
      started_at: null,
      ended_at: null,
      runtime_vars: { DB_HOST: "127.0.0.1" },
      resource_size: "XS",
      created_by: "chennanfei",
      docker_image_tag: "trusty",
      command: "/bin bash",
      trigger_mode: "M",
      duration: null,
      region_name: "BEIJING1",
    });
    expect(exec.id).toMatch(UUID);
    expect(exec.created_at).toMatch(MICROS);

    const runId = runIdOf(exec.id)!;
    const argv = argvOf(runId);
    expect(argv.slice(0, 3)).toEqual(["run", "--rm", "--name"]);
    expect(argv.slice(4, 8)).toEqual(["--cpus=0.25", "--memory=256m", "-e", "DB_HOST"]);
    expect(argv).toContain("TOCK_RUN_ID");
    expect(argv.slice(-4)).toEqual(["index.alauda.cn/chennanfei/job_image:trusty", "/bin", "bash", "DB_HOST=127.0.0.1"]);
    expect(argv).not.toContain("--entrypoint");

    // Finished: F, with its times and duration, in the list and in the detail.
    const list = await e.call("GET", `/v1/jobs/${job.id}/execs`);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ count: 1, previous: null, next: null });
    const item = list.body.results[0];
    expect(Object.keys(item).sort()).toEqual(EXEC_KEYS);
    expect(item).toMatchObject({ id: exec.id, job: job.id, status: "F", created_at: exec.created_at, trigger_mode: "M", command: "/bin bash" });
    expect(item.started_at).toMatch(MICROS);
    expect(item.ended_at).toMatch(MICROS);
    expect(item.duration).toEqual({ hours: 0, minutes: 0, seconds: Math.floor((Date.parse(item.ended_at) - Date.parse(item.started_at)) / 1000) });

    const detail = await e.call("GET", `/v1/jobs/${job.id}/execs/${exec.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ ...item, job: expect.any(Object) });
    expect(detail.body.job).toEqual({
      docker_image_repo: "index.alauda.cn/chennanfei/job_image",
      name: "test2",
      region_name: "BEIJING1",
      created_at: job.created_at,
      namespace: "chennanfei",
      updated_at: expect.stringMatching(MICROS),
      created_by: "chennanfei",
      resource_size: "XS",
      schedule_mode: null,
      docker_image_tag: "trusty",
      command: "/bin bash",
      email_enabled: false,
      is_schedule_active: false,
      id: job.id,
      runtime_vars: '{"DB_HOST": "127.0.0.1"}', // the document's quirk: a JSON string, Python-style
    });
  }, 15_000);

  test("logs are the run's lines as {message, time}, filtered by start_time and end_time (Unix seconds, inclusive)", async () => {
    const e = await env();
    const job = await created(e, { ...CREATE, runtime_vars: { DB_HOST: "数据库" } });
    const exec = await execFinished(e, job.id);
    const url = `/v1/jobs/${job.id}/execs/${exec.id}/logs`;
    const all = await e.call("GET", `${url}?start_time=&end_time=`);
    expect(all.status).toBe(200);
    expect(all.body.map((l: any) => l.message)).toEqual(expect.arrayContaining(["Start pulling image", "Start running!", "a warning"]));
    for (const l of all.body) {
      expect(Object.keys(l).sort()).toEqual(["message", "time"]);
      expect(Number.isInteger(l.time)).toBe(true);
    }
    const t = all.body[0].time;
    expect((await e.call("GET", `${url}?start_time=${t}&end_time=${t + 5}`)).body).toEqual(all.body.filter((l: any) => l.time <= t + 5));
    expect((await e.call("GET", `${url}?start_time=${t + 3600}`)).body).toEqual([]);
    expect((await e.call("GET", `${url}?end_time=${t - 1}`)).body).toEqual([]);
    expect((await e.call("GET", `${url}?end_time=${t}`)).body.length).toBeGreaterThan(0); // end_time's whole second counts

    // Non-ASCII variables: the embedded job's runtime_vars string escapes them as Python's json.dumps does.
    const detail = (await e.call("GET", `/v1/jobs/${job.id}/execs/${exec.id}`)).body;
    expect(detail.job.runtime_vars).toBe('{"DB_HOST": "\\u6570\\u636e\\u5e93"}');
    expect(JSON.parse(detail.job.runtime_vars)).toEqual({ DB_HOST: "数据库" });
  }, 15_000);

  test("DELETE of a finished exec answers 204; of a running one stops it first, then deletes it", async () => {
    const e = await env();
    const job = await created(e);
    const done = await execFinished(e, job.id);
    expect((await e.call("DELETE", `/v1/jobs/${job.id}/execs/${done.id}`)).status).toBe(204);
    expectError(await e.call("GET", `/v1/jobs/${job.id}/execs/${done.id}`), 404, "resource_not_exist");
    expectError(await e.call("GET", `/v1/jobs/${job.id}/execs/${done.id}/logs`), 404, "resource_not_exist");
    expect((await e.call("GET", `/v1/jobs/${job.id}/execs`)).body.count).toBe(0);

    await e.call("PUT", `/v1/jobs/${job.id}`, { runtime_vars: { SLEEP: "30" } });
    const started = e.deps.scheduler.events.next("run:started", () => true, 10_000);
    const slow = (await e.call("POST", `/v1/jobs/${job.id}/execs`)).body;
    await started;
    expect((await e.call("GET", `/v1/jobs/${job.id}/execs/${slow.id}`)).body.status).toBe("R");
    const t0 = Date.now();
    expect((await e.call("DELETE", `/v1/jobs/${job.id}/execs/${slow.id}`)).status).toBe(204);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expectError(await e.call("GET", `/v1/jobs/${job.id}/execs/${slow.id}`), 404, "resource_not_exist");
  }, 15_000);

  test("an exec id is a UUID carrying the run id; ids tock did not issue, and execs of another job, are 404", async () => {
    expect(execId(1)).toBe("a1a0da00-0000-4000-8000-000000000001");
    expect(execId(Number.MAX_SAFE_INTEGER)).toMatch(UUID);
    expect(runIdOf(execId(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(runIdOf(execId(48879).toUpperCase())).toBe(48879);
    expect(runIdOf("a1a0da00-0000-4000-8fff-ffffffffffff")).toBeNull(); // past 2^53 - 1
    expect(runIdOf("a1a0da00-0000-4000-8000-000000000000")).toBeNull();
    expect(runIdOf("64b2d045-2881-4293-9bcd-bdc04b953115")).toBeNull();

    const e = await env();
    const a = await created(e);
    const b = await created(e);
    const exec = await execFinished(e, a.id);
    for (const bad of [`/v1/jobs/${b.id}/execs/${exec.id}`, `/v1/jobs/${a.id}/execs/64b2d045-2881-4293-9bcd-bdc04b953115`, `/v1/jobs/${a.id}/execs/${execId(999_999)}`, `/v1/jobs/${a.id}/execs/1`]) {
      expectError(await e.call("GET", bad), 404, "resource_not_exist");
      expectError(await e.call("DELETE", bad), 404, "resource_not_exist");
      expectError(await e.call("GET", `${bad}/logs`), 404, "resource_not_exist");
    }
    expect((await e.call("GET", `/v1/jobs/${a.id}/execs/${exec.id}`)).status).toBe(200);
  }, 15_000);

  test("a schedule_mode job fires at its ISO 8601 slots (test clock) with trigger_mode S; an inactive one never fires", async () => {
    const T0 = Date.UTC(2015, 11, 31, 15, 0, 0);
    const clock = new TestClock(T0);
    const e = await env({ clock, config: { scheduler: { lookahead: 2000, pollInterval: 1000, misfireThreshold: 5000 } } });
    const moveTo = async (at: number) => {
      clock.set(at);
      await e.deps.scheduler.tick();
      await e.deps.scheduler.idle();
    };
    const mode = "R2/2015-12-31T16:00:23.446Z/PT1H";
    const on = await created(e, { ...CREATE, is_schedule_active: true, schedule_mode: mode });
    const off = await created(e, { ...CREATE, is_schedule_active: false, schedule_mode: mode });
    expect(on).toMatchObject({ schedule_mode: mode, is_schedule_active: true });
    const slot = Date.parse("2015-12-31T16:00:23.446Z");
    await moveTo(slot - 5_000); // before the scheduler claims the slot ahead of time
    expect((await e.call("GET", `/v1/jobs/${on.id}/execs`)).body.count).toBe(0);
    await moveTo(slot);
    await moveTo(slot + 3_600_000);
    await moveTo(slot + 7_200_000); // R2: no third
    const execs = (await e.call("GET", `/v1/jobs/${on.id}/execs`)).body;
    expect(execs.count).toBe(2);
    expect(execs.results.map((x: any) => [x.created_at, x.status, x.trigger_mode])).toEqual([
      ["2015-12-31T17:00:23.446000+00:00", "F", "S"],
      ["2015-12-31T16:00:23.446000+00:00", "F", "S"],
    ]);
    for (const x of execs.results) expect(existsSync(join(bin.dir, `argv-${runIdOf(x.id)}.log`))).toBe(true);
    expect((await e.call("GET", `/v1/jobs/${off.id}/execs`)).body.count).toBe(0);
  }, 15_000);
});

describe("errors", () => {
  test("a bad create body is a 400 naming the field, in Alauda's error shape, and creates nothing", async () => {
    const e = await env();
    const cases: [unknown, string][] = [
      ["{not json", "body"],
      [[], "body"],
      ["null", "body"],
      ["", "body"],
      [{ ...CREATE, name: undefined }, "name"],
      [{ ...CREATE, name: 42 }, "name"],
      [{ ...CREATE, name: "  " }, "name"],
      [{ ...CREATE, name: "x".repeat(201) }, "name"],
      ['{"name": "\\ud800", "namespace": "n", "docker_image_repo": "alpine"}', "name"],
      [{ ...CREATE, namespace: undefined }, "namespace"],
      [{ ...CREATE, namespace: "bad ns!" }, "namespace"],
      [{ ...CREATE, namespace: ["chennanfei"] }, "namespace"],
      [{ ...CREATE, docker_image_repo: undefined }, "docker_image_repo"],
      [{ ...CREATE, docker_image_repo: "alpine:3.20" }, "docker_image_repo"],
      [{ ...CREATE, docker_image_repo: "alpine@sha256:abc" }, "docker_image_repo"],
      [{ ...CREATE, docker_image_repo: "-v/etc:/x" }, "docker_image_repo"],
      [{ ...CREATE, docker_image_tag: "bad tag" }, "docker_image_tag"],
      [{ ...CREATE, command: "bash -c 'unclosed" }, "command"],
      [{ ...CREATE, command: "bash \\" }, "command"],
      [{ ...CREATE, command: ["bash"] }, "command"],
      [{ ...CREATE, resource_size: "M" }, "resource_size"],
      [{ ...CREATE, region_name: "SHANGHAI" }, "region_name"],
      [{ ...CREATE, is_schedule_active: "yes" }, "is_schedule_active"],
      [{ ...CREATE, schedule_mode: "*/5 * * * *" }, "schedule_mode"],
      [{ ...CREATE, schedule_mode: "R1/2015-12-31T16:00:23.446Z/PT1H" }, "schedule_mode"], // its only slot is past
      [{ ...CREATE, schedule_mode: "R/2026-01-01T00:00:00Z/PT0S" }, "schedule_mode"],
      [{ ...CREATE, schedule_mode: 3600 }, "schedule_mode"],
      [{ ...CREATE, runtime_vars: { A: 1 } }, "runtime_vars.A"],
      [{ ...CREATE, runtime_vars: { "1BAD": "x" } }, "runtime_vars.1BAD"],
      [{ ...CREATE, runtime_vars: { DOCKER_HOST: "tcp://evil:2375" } }, "runtime_vars.DOCKER_HOST"],
      [{ ...CREATE, runtime_vars: ["A=1"] }, "runtime_vars"],
    ];
    for (const [body, field] of cases) {
      const r = await e.call("POST", "/v1/jobs", body);
      expectError(r, 400, "invalid_args", field);
    }
    expect((await e.call("GET", "/api/v1/namespaces/chennanfei/jobs")).body.items).toEqual([]);
    // Unknown and read-only keys are ignored, as Alauda's API did.
    expect((await e.call("POST", "/v1/jobs", { ...CREATE, id: 7, created_at: "x", email_enabled: true, color: "red" })).status).toBe(201);
  });

  test("ids that are not a job's: 404; other methods: 405; other paths under /v1/jobs: 404; all in Alauda's shape", async () => {
    const e = await env();
    const job = await created(e);
    for (const id of ["abc", "0", "-1", "1.5", "1e3", "9007199254740992", "99999999999999999999", "424242"]) {
      expectError(await e.call("GET", `/v1/jobs/${id}`), 404, "resource_not_exist");
      expectError(await e.call("PUT", `/v1/jobs/${id}`, UPDATE), 404, "resource_not_exist");
      expectError(await e.call("DELETE", `/v1/jobs/${id}`), 404, "resource_not_exist");
      expectError(await e.call("POST", `/v1/jobs/${id}/execs`), 404, "resource_not_exist");
      expectError(await e.call("GET", `/v1/jobs/${id}/execs`), 404, "resource_not_exist");
    }
    expectError(await e.call("PATCH", `/v1/jobs/${job.id}`, UPDATE), 405, "method_not_allowed");
    expectError(await e.call("DELETE", "/v1/jobs"), 405, "method_not_allowed");
    expectError(await e.call("PUT", `/v1/jobs/${job.id}/execs`), 405, "method_not_allowed");
    expectError(await e.call("GET", `/v1/jobs/${job.id}/nothing`), 404, "resource_not_exist");
    expectError(await e.call("GET", "/v1/jobs/"), 404, "resource_not_exist");
  });

  test("list and logs parameters: a missing or bad namespace, page, page_size, start_time or end_time is a 400", async () => {
    const e = await env();
    const job = await created(e);
    expectError(await e.call("GET", "/v1/jobs"), 400, "invalid_args", "namespace");
    expectError(await e.call("GET", "/v1/jobs?namespace="), 400, "invalid_args", "namespace");
    expectError(await e.call("GET", "/v1/jobs?namespace=a%20b"), 400, "invalid_args", "namespace");
    for (const page of ["0", "-1", "abc", "1.5", "99999999999"]) expectError(await e.call("GET", `/v1/jobs?namespace=x&page=${page}`), 400, "invalid_args", "page");
    for (const size of ["0", "101", "x"]) expectError(await e.call("GET", `/v1/jobs?namespace=x&page_size=${size}`), 400, "invalid_args", "page_size");
    expectError(await e.call("GET", `/v1/jobs/${job.id}/execs?page=0`), 400, "invalid_args", "page");
    expectError(await e.call("GET", `/v1/jobs/${job.id}/execs?page=2`), 404, "resource_not_exist");

    const exec = await execFinished(e, job.id);
    const url = `/v1/jobs/${job.id}/execs/${exec.id}/logs`;
    for (const q of ["start_time=abc", "start_time=-5", "start_time=1.5", "start_time=2015-12-28T00:00:00Z", "start_time=123456789012"]) {
      expectError(await e.call("GET", `${url}?${q}`), 400, "invalid_args", "start_time");
    }
    expectError(await e.call("GET", `${url}?end_time=x`), 400, "invalid_args", "end_time");
    expectError(await e.call("GET", `${url}?start_time=1451350945&end_time=1451350944`), 400, "invalid_args", "end_time");
  }, 15_000);

  test("a bad update is a 4xx naming the field and changes nothing", async () => {
    const e = await env();
    const job = await created(e);
    const before = (await e.call("GET", `/v1/jobs/${job.id}`)).body;
    const cases: [unknown, string][] = [
      [{ namespace: "elsewhere" }, "namespace"],
      [{ resource_size: "XL" }, "resource_size"],
      [{ schedule_mode: "@every 5m" }, "schedule_mode"],
      [{ docker_image_tag: "" }, "docker_image_tag"],
      [{ runtime_vars: { PATH: "/evil" } }, "runtime_vars.PATH"],
      [{ name: null }, "name"],
      ["[1]", "body"],
      ["", "body"],
    ];
    for (const [body, field] of cases) expectError(await e.call("PUT", `/v1/jobs/${job.id}`, body), 400, "invalid_args", field);
    expect((await e.call("GET", `/v1/jobs/${job.id}`)).body).toEqual(before);
    // A native job with a dueTime cannot be expressed by Alauda's fields: 409, unchanged.
    const once = await e.call("PUT", "/api/v1/namespaces/chennanfei/jobs/once", { dueTime: "1h", target: { container: { image: "alpine" } } });
    expectError(await e.call("PUT", `/v1/jobs/${once.body.id}`, { name: "x" }), 409, "resource_state_conflict");
    expect((await e.call("GET", "/api/v1/namespaces/chennanfei/jobs/once")).body.version).toBe(once.body.version);
  });

  test("without a container engine configured, creating a job is a 400 and nothing is created", async () => {
    const e = await env({ config: { executors: executors("") } });
    const r = await e.call("POST", "/v1/jobs", CREATE);
    expectError(r, 400, "invalid_args");
    expect(r.body.errors[0].message).toContain("no container engine");
    expect(r.body.errors[0].fields).toBeUndefined();
    expect((await e.call("GET", "/v1/jobs?namespace=chennanfei")).body.count).toBe(0);
  });
});
