// SchedulerX's OpenAPI: jobs made and read through the vendor's endpoints with parameters as a form body, a
// query string or JSON; the native job they become; real scripts fired by execute and by the schedule.
import { describe, expect, test } from "bun:test";
import { findJobs } from "../../../src/domain/jobs.ts";
import { TestClock } from "../../../src/clock.ts";
import { closeEnvs, create, DEFAULTS, env, execute, executors, expectError, expectOk, FULL, FULL_INFO, getInfo, NATIVE_NS, NS, sx } from "./helpers.ts";

closeEnvs();

describe("jobs", () => {
  test.each(["form", "query", "json"] as const)("create with every documented field (%s) and get them all back", async (how) => {
    const e = await env();
    const jobId = await create(e, FULL, how);
    const r = await sx(e, "/openapi/job/v1/get", { ...NS, jobId }, how);
    expectOk(r, { jobId, ...FULL_INFO });
    // The native job: namespace + group, the translated schedule and policies.
    const jobs = await findJobs(e.deps, { namespace: NATIVE_NS, offset: 0, limit: 10 });
    expect(jobs.count).toBe(1);
    const native = (await e.call("GET", `/api/v1/namespaces/${NATIVE_NS}/jobs/${jobs.items[0]!.name}`)).body;
    expect(native).toMatchObject({
      id: jobId,
      name: expect.stringMatching(/^schedulerx-[0-9a-z]{16}$/),
      schedule: "0 0/10 * * * *",
      enabled: true,
      target: { script: { language: "shell", content: FULL.content, env: { SCHEDULERX_JOB_PARAMETERS: "test" } } },
      overlap: "forbid",
      maxConcurrency: 2,
      retry: { times: 3, interval: "20s", backoff: "fixed" },
      timeout: "1h",
      memo: "Test",
      compat: { api: "schedulerx", name: "helloworld", executeMode: "standalone", namespaceSource: "schedulerx" },
    });
  });

  test("a create with only the required fields gets the documented defaults", async () => {
    const e = await env();
    const jobId = await create(e, { jobType: "python", name: "py", timeType: 100, content: "print(1)" });
    expect(await getInfo(e, jobId)).toEqual({
      jobId,
      jobType: "python",
      className: null,
      jarUrl: null,
      content: "print(1)",
      name: "py",
      description: "",
      status: 1,
      executeMode: "standalone",
      parameters: null,
      maxConcurrency: 1,
      maxAttempt: 0,
      attemptInterval: 30,
      mapTaskXAttrs: { pageSize: 100, consumerSize: 5, queueSize: 10000, dispatcherSize: 5, taskMaxAttempt: 0, taskAttemptInterval: 0 },
      timeConfig: { timeType: 100, timeExpression: null, calendar: null, dataOffset: 0 },
      jobMonitorInfo: { monitorConfig: { timeoutEnable: false, timeout: 7200, timeoutKillEnable: false, failEnable: false, sendChannel: "sms" }, contactInfo: [] },
    });
    const [job] = (await findJobs(e.deps, { namespace: NATIVE_NS, offset: 0, limit: 1 })).items;
    // api: no schedule; no timeout kill: the longest native timeout; no retry.
    expect(job).toMatchObject({ schedule: null, scheduleKind: "manual", timeout: "24d", retry: { times: 0, interval: "30s", backoff: "fixed" }, overlap: "forbid", maxConcurrency: null });
  });

  test("fix_rate and second_delay become @every; contactInfo may be Spring-style indexed fields", async () => {
    const e = await env();
    const rate = await create(e, { jobType: "shell", name: "r", content: "true", timeType: 3, timeExpression: "30" });
    const delay = await create(e, {
      jobType: "shell",
      name: "d",
      content: "true",
      timeType: 4,
      timeExpression: "5",
      "contactInfo[0].userName": "a",
      "contactInfo[1].userPhone": "139",
    });
    const jobs = (await findJobs(e.deps, { namespace: NATIVE_NS, offset: 0, limit: 10 })).items;
    expect(jobs.map((j) => [j.id, j.schedule])).toEqual([
      [rate, "@every 30s"],
      [delay, "@every 5s"],
    ]);
    expect((await getInfo(e, delay)).jobMonitorInfo.contactInfo).toEqual([
      { userName: "a", userPhone: null },
      { userName: null, userPhone: "139" },
    ]);
  });

  test("update changes the given fields only; the job keeps its id, name and other settings", async () => {
    const e = await env();
    const jobId = await create(e, FULL);
    const nativeName = (await findJobs(e.deps, { namespace: NATIVE_NS, offset: 0, limit: 1 })).items[0]!.name;
    const r = await sx(e, "/openapi/v1/job/update", { ...NS, jobId, description: "changed", timeExpression: "0 30 9 ? * MON-FRI", maxAttempt: 0, timeoutKillEnable: false, parameters: "p2", content: "echo 2" });
    expectOk(r);
    expect(await getInfo(e, jobId)).toEqual({
      jobId,
      ...FULL_INFO,
      description: "changed",
      content: "echo 2",
      parameters: "p2",
      maxAttempt: 0,
      timeConfig: { ...FULL_INFO.timeConfig, timeExpression: "0 30 9 ? * MON-FRI" },
      jobMonitorInfo: { ...FULL_INFO.jobMonitorInfo, monitorConfig: { ...FULL_INFO.jobMonitorInfo.monitorConfig, timeoutKillEnable: false } },
    });
    const native = (await e.call("GET", `/api/v1/namespaces/${NATIVE_NS}/jobs/${nativeName}`)).body;
    expect(native).toMatchObject({ id: jobId, schedule: "0 30 9 * * 1,2,3,4,5", memo: "changed", timeout: "24d", retry: { times: 0, interval: "20s" }, maxConcurrency: 2 });
    // The job type cannot change; an update with nothing to change changes nothing.
    expectError(await sx(e, "/openapi/v1/job/update", { ...NS, jobId, jobType: "python" }), 400, "jobType cannot be changed");
    expectOk(await sx(e, "/openapi/v1/job/update", { ...NS, jobId }));
    expect((await e.call("GET", `/api/v1/namespaces/${NATIVE_NS}/jobs/${nativeName}`)).body.version).toBe(native.version);
  });

  test("disable and enable switch status; delete removes the job", async () => {
    const e = await env();
    const jobId = await create(e, FULL);
    expectOk(await sx(e, "/openapi/v1/job/disable", { ...NS, jobId }));
    expect((await getInfo(e, jobId)).status).toBe(0);
    expect((await findJobs(e.deps, { namespace: NATIVE_NS, offset: 0, limit: 1 })).items[0]).toMatchObject({ enabled: false, status: "paused" });
    expectOk(await sx(e, "/openapi/v1/job/enable", { ...NS, jobId }, "json"));
    expect((await getInfo(e, jobId)).status).toBe(1);
    expectOk(await sx(e, "/openapi/v1/job/delete", { ...NS, jobId }, "query"));
    expectError(await sx(e, "/openapi/job/v1/get", { ...NS, jobId }), 404, `jobId=${jobId} is not existed`);
    expect((await findJobs(e.deps, { namespace: NATIVE_NS, offset: 0, limit: 1 })).count).toBe(0);
  });

  test("namespace and groupId may come as the vendor Go client's headers", async () => {
    const e = await env();
    const headers = { "content-type": "application/json", "schedulerx-namespace": NS.namespace, "openapi-groupid": NS.groupId };
    const r = await e.call("POST", "/openapi/v1/job/create", { jobType: "shell", content: "true", name: "h", executeMode: "standalone", timeType: 100 }, headers);
    expectOk(r, expect.any(Number));
    expect((await getInfo(e, r.body.data)).name).toBe("h");
    expect((await e.call("POST", "/openapi/job/v1/get", { jobId: r.body.data }, headers)).body.data.name).toBe("h");
  });

  test("a native job in the namespace's group is readable and updatable through SchedulerX", async () => {
    const e = await env();
    const put = await e.call("PUT", `/api/v1/namespaces/${NATIVE_NS}/jobs/native1`, {
      schedule: "@every 1m",
      target: { script: { language: "bash", content: "echo native", args: ["x"] } },
      timeout: "10m",
      memo: "made natively",
    });
    expect(put.status).toBe(201);
    const info = await getInfo(e, put.body.id);
    expect(info).toMatchObject({
      jobType: "bash",
      content: "echo native",
      name: "native1",
      description: "made natively",
      status: 1,
      executeMode: "standalone",
      timeConfig: { timeType: 3, timeExpression: "60", calendar: null, dataOffset: 0 },
      jobMonitorInfo: { monitorConfig: { timeout: 600, timeoutKillEnable: true } },
    });
    expectOk(await sx(e, "/openapi/v1/job/update", { ...NS, jobId: put.body.id, description: "via schedulerx" }));
    const native = (await e.call("GET", `/api/v1/namespaces/${NATIVE_NS}/jobs/native1`)).body;
    // Only the description changed: the target (with its args), schedule and timeout are as they were.
    expect(native).toMatchObject({ memo: "via schedulerx", schedule: "@every 1m", timeout: "10m", target: { script: { language: "bash", content: "echo native", args: ["x"] } } });
    expect(native.compat).toMatchObject({ api: "schedulerx", name: "native1" });
  });
});

describe("java and execute modes", () => {
  test("java jobs are refused unless a Java runner is configured", async () => {
    const e = await env();
    expectError(await sx(e, "/openapi/v1/job/create", { ...NS, jobType: "java", className: "com.alibaba.test.TestJob", name: "j", executeMode: "standalone", timeType: 100 }), 400, "jobType java", "schedulerx_java_command");
    expect((await findJobs(e.deps, { offset: 0, limit: 1 })).count).toBe(0);
  });

  test("with a Java runner, a java job runs it with the className, the jarUrl and the parameters", async () => {
    const runner = ["/bin/sh", "-c", 'echo "class=$0 jar=$1 p=$SCHEDULERX_JOB_PARAMETERS i=$SCHEDULERX_INSTANCE_PARAMETERS last=$2"'];
    const e = await env({ config: { executors: executors(), scheduler: { pollInterval: 200 }, compat: { ...DEFAULTS.compat, schedulerxJavaCommand: runner } } });
    expectError(await sx(e, "/openapi/v1/job/create", { ...NS, jobType: "java", name: "j", executeMode: "standalone", timeType: 100 }), 400, "className is required");
    const jobId = await create(e, { jobType: "java", className: "com.alibaba.test.TestJob", jarUrl: "https://oss.example.com/test.jar", name: "j", timeType: 100, parameters: "jp" });
    expect(await getInfo(e, jobId)).toMatchObject({ jobType: "java", className: "com.alibaba.test.TestJob", jarUrl: "https://oss.example.com/test.jar", content: null, parameters: "jp" });
    const detail = await execute(e, jobId, "ip");
    expect(detail).toMatchObject({ status: 4, result: "class=com.alibaba.test.TestJob jar=https://oss.example.com/test.jar p=jp i=ip last=ip" });
  });

  test("go needs an interpreter in [executors.script.interpreters]", async () => {
    const without = await env();
    expectError(await sx(without, "/openapi/v1/job/create", { ...NS, jobType: "go", content: "package main", name: "g", executeMode: "standalone", timeType: 100 }), 400, "jobType go", "[executors.script.interpreters]");
    // A stand-in interpreter, so the test needs no Go toolchain.
    const withGo = await env({ config: { executors: executors({ go: ["/bin/sh"] }), scheduler: { pollInterval: 200 } } });
    const jobId = await create(withGo, { jobType: "go", content: 'echo "go ran with $1"', name: "g", timeType: 100 });
    expect(await execute(withGo, jobId, "x")).toMatchObject({ status: 4, result: "go ran with x" });
  });

  test.each(["broadcast", "broadcatst"])("executeMode %p makes a native broadcast job (each instance on every node); standalone undoes it", async (mode) => {
    const e = await env();
    const jobId = await create(e, { jobType: "shell", content: "true", name: "b", executeMode: mode, timeType: 100 });
    expect((await getInfo(e, jobId)).executeMode).toBe(mode);
    expect((await findJobs(e.deps, { offset: 0, limit: 1 })).items[0].broadcast).toBe(true);
    expectOk(await sx(e, "/openapi/v1/job/update", { ...NS, jobId, executeMode: "standalone" }));
    expect((await getInfo(e, jobId)).executeMode).toBe("standalone");
    expect((await findJobs(e.deps, { offset: 0, limit: 1 })).items[0].broadcast).toBe(false);
  });

  test.each([
    ["parallel", "not supported"],
    ["grid", "not supported"],
    ["batch", "not supported"],
    ["everywhere", "must be standalone"],
  ])("executeMode %p is refused (%s)", async (mode, why) => {
    const e = await env();
    expectError(await sx(e, "/openapi/v1/job/create", { ...NS, jobType: "shell", content: "true", name: "m", executeMode: mode, timeType: 100 }), 400, "executeMode", why);
    expect((await findJobs(e.deps, { offset: 0, limit: 1 })).count).toBe(0);
  });
});

describe("instances", () => {
  test("execute runs a shell script with instanceParameters as a variable and an argument", async () => {
    const e = await env();
    const jobId = await create(e, { jobType: "shell", name: "s", timeType: 100, parameters: "job-p", content: 'echo "env=$SCHEDULERX_INSTANCE_PARAMETERS arg=$1 job=$SCHEDULERX_JOB_PARAMETERS"' });
    const detail = await execute(e, jobId, "a b", "json");
    expect(detail).toEqual({
      instanceId: expect.any(Number),
      jobId,
      status: 4,
      startDate: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      endDate: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      scheduleDate: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      dataDate: detail.scheduleDate,
      executor: "openapi",
      workAddr: "test-node",
      result: "env=a b arg=a b job=job-p",
      progress: "complete",
      timeType: 100,
      triggerType: 3,
    });
    // Without instanceParameters the script gets neither.
    expect((await execute(e, jobId)).result).toBe("env= arg= job=job-p");
    // An ended instance cannot be killed.
    expectError(await sx(e, "/openapi/v1/instance/kill", { ...NS, jobId, instanceId: detail.instanceId }), 409, `instanceId=${detail.instanceId} is not running`);
  });

  test("execute runs a python script with instanceParameters as a variable and an argument", async () => {
    const e = await env();
    const jobId = await create(e, { jobType: "python", name: "p", timeType: 100, content: 'import os, sys\nprint(os.environ["SCHEDULERX_INSTANCE_PARAMETERS"], sys.argv[1])' });
    expect(await execute(e, jobId, "{\"k\": 1}")).toMatchObject({ status: 4, result: '{"k": 1} {"k": 1}' });
  });

  test("empty parameters and instanceParameters form values count as absent", async () => {
    const e = await env();
    const jobId = await create(e, { jobType: "shell", name: "p", content: 'echo "argc=$# var=${SCHEDULERX_INSTANCE_PARAMETERS-unset}"', timeType: 100, parameters: "" });
    expect((await sx(e, "/openapi/job/v1/get", { ...NS, jobId }, "get")).body.data.parameters).toBeNull();
    expect((await execute(e, jobId, "")).result).toContain("argc=0 var=unset");
  });

  test("a running instance is listed, shown running, and killed", async () => {
    const e = await env();
    const jobId = await create(e, { jobType: "shell", name: "sleeper", timeType: 100, content: "sleep 30" });
    const started = e.deps.scheduler.events.next("run:started", () => true, 10_000);
    const instanceId = (await sx(e, "/openapi/v1/job/execute", { ...NS, jobId })).body.data;
    await started;
    const running = (await sx(e, "/openapi/v1/instance/get", { ...NS, jobId, jobInstanceId: instanceId })).body.data;
    expect(running).toMatchObject({ instanceId, status: 3, endDate: null, result: null, progress: "running", triggerType: 3 });
    const list = await sx(e, "/openapi/v1/instance/getList", { jobId }, "get");
    expectOk(list, [running]);
    // maxConcurrency 1: an instance executed while one runs is rejected.
    const skipped = e.deps.scheduler.events.next("run:finished", () => true, 10_000);
    const second = (await sx(e, "/openapi/v1/job/execute", { ...NS, jobId })).body.data;
    await skipped;
    expect((await sx(e, "/openapi/v1/instance/get", { ...NS, jobId, jobInstanceId: second })).body.data).toMatchObject({ status: 9, result: expect.stringContaining("overlap") });
    expectOk(await sx(e, "/openapi/v1/instance/kill", { ...NS, jobId, instanceId }));
    const killed = (await sx(e, "/openapi/v1/instance/get", { ...NS, jobId, jobInstanceId: instanceId })).body.data;
    expect(killed).toMatchObject({ status: 5, result: "killed by request", progress: "complete", endDate: expect.any(String) });
    // Killing it again is idempotent; an unknown instance is not found.
    expectOk(await sx(e, "/openapi/v1/instance/kill", { ...NS, jobId, instanceId }));
    expectError(await sx(e, "/openapi/v1/instance/kill", { ...NS, jobId, instanceId: instanceId + 100 }), 404, `instanceId=${instanceId + 100}`);
  }, 15_000);

  test("getList returns the last 10 instances, newest first; retries are system retries", async () => {
    const e = await env();
    const jobId = await create(e, { jobType: "shell", name: "f", timeType: 100, content: "echo no; exit 3", maxAttempt: 1, attemptInterval: 1 });
    let seen = 0;
    const both = e.deps.scheduler.events.next("run:finished", () => ++seen === 2, 15_000);
    await sx(e, "/openapi/v1/job/execute", { ...NS, jobId });
    await both;
    await e.deps.scheduler.idle();
    const list = (await sx(e, "/openapi/v1/instance/getList", { ...NS, jobId })).body.data;
    expect(list.map((d: any) => [d.status, d.triggerType, d.result])).toEqual([
      [5, 5, "exit code 3"],
      [5, 3, "exit code 3"],
    ]);
    // Twelve more instances (a paused job may be executed too): only the last 10 are listed.
    expectOk(await sx(e, "/openapi/v1/job/disable", { ...NS, jobId }));
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) ids.push((await sx(e, "/openapi/v1/job/execute", { ...NS, jobId: String(jobId) })).body.data);
    const last10 = await sx(e, "/openapi/v1/instance/getList", { jobId });
    expect(last10.body.data.map((d: any) => d.instanceId)).toEqual(ids.slice(2).reverse());
  }, 20_000);

  test("instance/getList with only jobId answers SchedulerX's own jobs only, not another API's or a native job's runs", async () => {
    const e = await env();
    const put = await e.call("PUT", "/api/v1/namespaces/tenantB/jobs/secret", { target: { process: { command: ["sh", "-c", "echo TOP-SECRET"] } } });
    const done = e.deps.scheduler.events.next("run:finished", () => true, 15_000);
    await e.call("POST", "/api/v1/namespaces/tenantB/jobs/secret/trigger");
    await done;
    const r = await sx(e, "/openapi/v1/instance/getList", { jobId: put.body.id }, "get");
    expect(r.status).toBe(404);
    expect(JSON.stringify(r.body)).not.toContain("TOP-SECRET");
    const own = await create(e, { jobType: "shell", name: "mine", content: "true", timeType: 100 });
    expect((await sx(e, "/openapi/v1/instance/getList", { jobId: own }, "get")).status).toBe(200);
  });

  test("timeoutKillEnable stops an instance at its timeout", async () => {
    const e = await env();
    const jobId = await create(e, { jobType: "shell", name: "t", timeType: 100, content: "sleep 20", timeout: 1, timeoutKillEnable: true });
    const detail = await execute(e, jobId);
    expect(detail).toMatchObject({ status: 5, result: "timed out after 1000 ms" });
  }, 15_000);
});

describe("on schedule", () => {
  const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

  test("a cron job fires at its slots with scheduleDate, dataDate and triggerType 1; disabled it does not fire", async () => {
    const clock = new TestClock(T0);
    const e = await env({ clock, config: { executors: executors(), scheduler: { lookahead: 2000, pollInterval: 1000 } } });
    const moveTo = async (at: number) => {
      clock.set(at);
      await e.deps.scheduler.tick();
      await e.deps.scheduler.idle();
    };
    const list = async () => (await sx(e, "/openapi/v1/instance/getList", { ...NS, jobId })).body.data;
    const jobId = await create(e, { jobType: "shell", name: "cron", content: "echo tick", timeType: 1, timeExpression: "0/10 * * * * ?", dataOffset: 3600 });
    await moveTo(T0 + 10_000);
    expect(await list()).toEqual([
      expect.objectContaining({
        jobId,
        status: 4,
        scheduleDate: "2026-06-01 12:00:10",
        dataDate: "2026-06-01 11:00:10",
        startDate: "2026-06-01 12:00:10",
        endDate: "2026-06-01 12:00:10",
        executor: "system",
        result: "tick",
        timeType: 1,
        triggerType: 1,
      }),
    ]);
    expectOk(await sx(e, "/openapi/v1/job/disable", { ...NS, jobId }));
    await moveTo(T0 + 20_000);
    await moveTo(T0 + 30_000);
    expect(await list()).toHaveLength(1);
    expectOk(await sx(e, "/openapi/v1/job/enable", { ...NS, jobId }));
    await moveTo(T0 + 40_000);
    expect((await list()).map((d: any) => d.scheduleDate)).toEqual(["2026-06-01 12:00:40", "2026-06-01 12:00:10"]);
  });

  test("second_delay fires every n seconds", async () => {
    const clock = new TestClock(T0);
    const e = await env({ clock, config: { executors: executors(), scheduler: { lookahead: 2000, pollInterval: 1000 } } });
    const jobId = await create(e, { jobType: "shell", name: "delay", content: "true", timeType: 4, timeExpression: "5" });
    for (let t = 1000; t <= 15_000; t += 1000) {
      clock.set(T0 + t);
      await e.deps.scheduler.tick();
      await e.deps.scheduler.idle();
    }
    const list = (await sx(e, "/openapi/v1/instance/getList", { ...NS, jobId })).body.data;
    expect(list.map((d: any) => [d.scheduleDate, d.timeType, d.triggerType])).toEqual([
      ["2026-06-01 12:00:15", 4, 1],
      ["2026-06-01 12:00:10", 4, 1],
      ["2026-06-01 12:00:05", 4, 1],
    ]);
  });
});
