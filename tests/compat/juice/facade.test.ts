// Juice facade: the document's own payloads through real parts (a stand-in docker CLI, real shell commands, an
// HTTP sink receiving the callbacks), the batch status integers, kills, tenants, and every refusal.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { javaMediumDate } from "../../../src/compat/juice/view.ts";
import { startSink, testEnv, waitUntil, withProcesses } from "../../helpers.ts";
import { afterTest, cleanUpAfterEach, env, H, itemOf, jobOf, kill, query, run, submit, TENANT } from "./helpers.ts";

const JAVA_DATE = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$/;
// Juice's codes
const NOT_NULL = -2127552257;
const NOT_EQUAL = -2127552256;
const INIT = -2127552007;
const DATA_FORMAT = -2127552019;
const NO_RECORD = -2127560608;

cleanUpAfterEach();

describe("the document's examples", () => {
  test("run container: the image runs through the container CLI with args and env; taskId, callback and status as documented", async () => {
    const sink = startSink();
    try {
      const e = await env();
      const r = await submit(e, {
        callbackUrl: `${sink.url}/v5/tasks/callback`,
        taskName: "demo-container",
        env: { name: "environment", value: "dev" },
        args: ["this is a test"],
        container: { docker: { image: "dockerhub.XXXX.com/demo-slice" }, type: "DOCKER" },
      });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: 0, message: "OK", data: { taskId: expect.any(Number) } });
      const id = r.body.data.taskId;
      expect(Number.isSafeInteger(id) && id > 0).toBe(true);

      // A native manual job in the tenant's namespace, with the Juice fields kept.
      const job = await jobOf(e, id);
      expect(job.name).toMatch(/^juice-[0-9a-z]{16}$/);
      const native = await e.call("GET", `/api/v1/namespaces/${TENANT}/jobs/${job.name}`);
      expect(native.status).toBe(200);
      expect(native.body).toMatchObject({
        id,
        namespace: TENANT,
        scheduleKind: "manual",
        timeout: "24d",
        retry: { times: 0 },
        target: { container: { image: "dockerhub.XXXX.com/demo-slice", args: ["this is a test"], env: { environment: "dev" } } },
        compat: { api: "juice", tenant: TENANT, taskName: "demo-container", callbackUrl: `${sink.url}/v5/tasks/callback`, runMode: "CONTAINER" },
      });

      await sink.waitFor(1);
      const argv = readFileSync(e.record, "utf8").trim().split("\n");
      expect(argv.slice(0, 2)).toEqual(["run", "--rm"]);
      expect(argv.slice(argv.indexOf("-e"), argv.indexOf("-e") + 2)).toEqual(["-e", "environment"]);
      expect(argv.slice(-3)).toEqual(["dockerhub.XXXX.com/demo-slice", "this is a test", "environment=dev"]);

      // The callback Juice sends: TaskResult {taskId, result, message}, with the tenant in X-Tenant-ID.
      const cb = sink.requests[0];
      expect(cb.method).toBe("POST");
      expect(cb.path).toBe("/v5/tasks/callback");
      expect(cb.headers["x-tenant-id"]).toBe(TENANT);
      expect(cb.headers["content-type"]).toStartWith("application/json");
      expect(JSON.parse(cb.body)).toEqual({ taskId: id, result: "FINISHED", message: "Container exited with status 0" });

      const runItem = (await e.call("GET", `/api/v1/namespaces/${TENANT}/jobs/${job.name}/runs`)).body.items[0];
      expect(cb.headers["webhook-id"]).toBe(runItem.webhookId);
      const item = await itemOf(e, id);
      const ended = Date.parse(runItem.endedAt);
      expect(item).toEqual({
        taskId: id,
        taskName: "demo-container",
        tenantId: TENANT,
        dockerImage: "dockerhub.XXXX.com/demo-slice",
        taskStatus: 2,
        message: "Container exited with status 0",
        callbackAt: javaMediumDate(ended),
        callbackUrl: `${sink.url}/v5/tasks/callback`,
        submitAt: javaMediumDate(Date.parse(job.createdAt!)),
      });
      expect(item.submitAt).toMatch(JAVA_DATE);
      expect(Object.keys(item)).toEqual(["taskId", "taskName", "tenantId", "dockerImage", "taskStatus", "message", "callbackAt", "callbackUrl", "submitAt"]);
    } finally {
      sink.stop();
    }
  }, 15_000);

  test("run commands: the command runs through the shell with the env; callback and status as documented", async () => {
    const sink = startSink();
    try {
      const e = await env();
      const script = join(e.dir, "entrypoint.sh");
      writeFileSync(script, '#!/bin/sh\necho "running in $environment"\n', { mode: 0o755 });
      const r = await submit(e, { callbackUrl: `${sink.url}/v5/tasks/callback`, taskName: "demo-commands", env: { name: "environment", value: "dev" }, commands: script });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ status: 0, message: "OK", data: { taskId: expect.any(Number) } });
      const id = r.body.data.taskId;
      await sink.waitFor(1);
      expect(JSON.parse(sink.requests[0].body)).toEqual({ taskId: id, result: "FINISHED", message: "Command exited with status 0" });
      expect(sink.requests[0].headers["x-tenant-id"]).toBe(TENANT);

      const job = await jobOf(e, id);
      expect(job.target).toEqual({ process: { shell: script, env: { environment: "dev" }, inheritEnv: false } });
      const runs = await e.call("GET", `/api/v1/namespaces/${TENANT}/jobs/${job.name}/runs`);
      const logs = await e.call("GET", `/api/v1/runs/${runs.body.items[0].id}/logs`);
      expect(logs.body.items.map((l: { line: string }) => l.line)).toContain("running in dev");

      const item = await itemOf(e, id);
      expect(item).toEqual({
        taskId: id,
        taskName: "demo-commands",
        tenantId: TENANT,
        commands: script,
        taskStatus: 2,
        message: "Command exited with status 0",
        callbackAt: expect.stringMatching(JAVA_DATE),
        callbackUrl: `${sink.url}/v5/tasks/callback`,
        submitAt: expect.stringMatching(JAVA_DATE),
      });
    } finally {
      sink.stop();
    }
  }, 15_000);
});

describe("batch status and kill", () => {
  test("finished (2), failed with exit 1 (3) and killed (6), in the order asked; unknown ids, duplicates and other tenants' tasks left out", async () => {
    const sink = startSink();
    try {
      const e = await env();
      const callbackUrl = `${sink.url}/cb`;
      const done = await run(e, { commands: "echo ok", callbackUrl });
      const failed = await run(e, { commands: "echo bad >&2; exit 1", callbackUrl });
      const r = await submit(e, { taskName: "sleeper", commands: "sleep 30", callbackUrl });
      const sleeper = r.body.data.taskId;
      await waitUntil(async () => (await itemOf(e, sleeper)).taskStatus === 1, "the sleeper to run", 5000);
      expect((await itemOf(e, sleeper)).message).toBe("task is running");
      expect((await kill(e, sleeper)).body.data.submitKill).toBe(true);
      const other = await submit(e, { taskName: "theirs", commands: "true" }, { "X-Tenant-Id": "other" });

      const q = await query(e, `${failed}, ${done},999999,${sleeper},${done},${other.body.data.taskId}`);
      expect(q.status).toBe(200);
      expect(q.body.status).toBe(0);
      expect(q.body.message).toBe("OK");
      expect(Array.isArray(q.body.data)).toBe(true);
      expect(q.body.data.map((t: { taskId: number; taskStatus: number }) => [t.taskId, t.taskStatus])).toEqual([
        [failed, 3],
        [done, 2],
        [sleeper, 6],
      ]);
      expect(q.body.data[0].message).toBe("Command exited with status 1");
      expect(q.body.data[2].message).toStartWith("task is killed");
      expect(q.body.data[2].commands).toBe("sleep 30");
      expect(q.body.data.every((t: { callbackAt: string }) => JAVA_DATE.test(t.callbackAt))).toBe(true);

      await sink.waitFor(3);
      const results = Object.fromEntries(sink.requests.map((s) => JSON.parse(s.body)).map((b) => [b.taskId, b.result]));
      expect(results).toEqual({ [done]: "FINISHED", [failed]: "FAILED", [sleeper]: "KILLED" });
      expect((await query(e, "999999")).body).toEqual({ status: 0, message: "OK", data: [] });
    } finally {
      sink.stop();
    }
  }, 15_000);

  test("kill of a running task ends it (submitKill true, 6); a killed or finished task is not killed again (submitKill false with its status)", async () => {
    const e = await env();
    const r = await submit(e, { taskName: "sleeper", commands: "sleep 30" });
    const id = r.body.data.taskId;
    await waitUntil(async () => (await itemOf(e, id)).taskStatus === 1, "the task to run", 5000);
    const k = await kill(e, id);
    expect(k.status).toBe(200);
    expect(k.body).toEqual({ status: 0, message: "OK", data: { submitKill: true, resultMessage: "task is killed", currentStatus: 6 } });
    expect((await itemOf(e, id)).taskStatus).toBe(6);

    const again = await kill(e, id);
    expect(again.status).toBe(200);
    expect(again.body.data).toEqual({ submitKill: false, resultMessage: expect.stringContaining("task is killed"), currentStatus: 6 });

    const done = await run(e, { commands: "true" });
    const late = await kill(e, done);
    expect(late.status).toBe(200);
    expect(late.body).toEqual({ status: 0, message: "OK", data: { submitKill: false, resultMessage: "Command exited with status 0", currentStatus: 2 } });
  }, 15_000);

  test("a kill its node has not carried out yet is accepted: submitKill true with the current status", async () => {
    // Node a runs the task and looks for kill requests once a minute; the kill arrives through node b.
    const a = await env({ scheduler: { nodeId: "node-a", pollInterval: 60_000, shutdownGrace: 100 } });
    const b = await env({ dir: a.dir, start: false, scheduler: { nodeId: "node-b" } });
    const id = (await submit(a, { taskName: "sleeper", commands: "sleep 30" })).body.data.taskId;
    await waitUntil(async () => (await itemOf(a, id)).taskStatus === 1, "the task to run", 5000);
    const k = await kill(b, id);
    expect(k.status).toBe(200);
    expect(k.body).toEqual({ status: 0, message: "OK", data: { submitKill: true, resultMessage: "juice accept kill task command", currentStatus: 1 } });
  }, 15_000);

  test("a task not started yet is NOT_START (-1) with no callbackAt, and a kill ends it at once (6)", async () => {
    const e = await env({ start: false });
    const r = await submit(e, { taskName: "later", commands: "true", callbackUrl: "http://127.0.0.1:9/cb" });
    const id = r.body.data.taskId;
    expect(await itemOf(e, id)).toMatchObject({ taskStatus: -1, message: "task is submit", callbackAt: null, callbackUrl: "http://127.0.0.1:9/cb" });
    const k = await kill(e, id);
    expect(k.body.data).toEqual({ submitKill: true, resultMessage: "task is killed", currentStatus: 6 });
    expect(await itemOf(e, id)).toMatchObject({ taskStatus: 6, callbackAt: expect.stringMatching(JAVA_DATE) });
  });
});

describe("what a task may carry", () => {
  test("resources become container limits, clamped as Juice clamps; the SDK's default Docker fields, runMode, role and an env array are accepted", async () => {
    const e = await env({ start: false });
    const r = await submit(e, {
      taskName: "sdk",
      runMode: "CONTAINER",
      resources: { role: "*", cpu: 2.0, mem: 2048.0 },
      env: [
        { name: "A", value: "1" },
        { name: "B", value: "2" },
      ],
      constraints: { field: "HOSTNAME", values: ["192.168.0.1", "192.168.0.2"] },
      container: { docker: { image: "alpine:3.20", forcePullImage: true, privileged: false, net: "BRIDGE", parameters: [], portMappings: [] }, type: "DOCKER" },
      commands: "ignored: a container wins",
    });
    expect(r.status).toBe(200);
    const job = await jobOf(e, r.body.data.taskId);
    expect(job.target).toEqual({ container: { image: "alpine:3.20", env: { A: "1", B: "2" }, resources: { cpus: 2, memory: "2048m" } } });
    expect(job.compat).toMatchObject({ constraints: { field: "hostname", values: ["192.168.0.1", "192.168.0.2"] }, resources: { cpu: 2, mem: 2048 } });
    expect(await itemOf(e, job.id)).toMatchObject({ taskName: "sdk", dockerImage: "alpine:3.20", callbackUrl: null, callbackAt: null });

    const big = await submit(e, { taskName: "big", resources: { cpu: 100, mem: 1 }, container: { docker: { image: "alpine" } } });
    expect((await jobOf(e, big.body.data.taskId)).target).toEqual({ container: { image: "alpine", resources: { cpus: 16, memory: "256m" } } });
  });

  test("a native job of the tenant's namespace reads as a task", async () => {
    const e = await env({ start: false });
    const put = await e.call("PUT", `/api/v1/namespaces/${TENANT}/jobs/nightly`, { target: { process: { command: ["/bin/echo", "hi"] } } });
    expect(put.status).toBe(201);
    expect(await itemOf(e, put.body.id)).toEqual({
      taskId: put.body.id,
      taskName: "nightly",
      tenantId: TENANT,
      commands: "/bin/echo hi",
      taskStatus: -1,
      message: "task is submit",
      callbackAt: null,
      callbackUrl: null,
      submitAt: expect.stringMatching(JAVA_DATE),
    });
    expect((await kill(e, put.body.id)).body.data).toEqual({ submitKill: false, resultMessage: "task has not run; nothing to kill", currentStatus: -1 });
    const http = await e.call("PUT", `/api/v1/namespaces/${TENANT}/jobs/hook`, { target: { http: { url: "http://127.0.0.1:9/" } } });
    const item = await itemOf(e, http.body.id);
    expect("commands" in item || "dockerImage" in item).toBe(false);
  });
});

describe("tenants", () => {
  test("X-Tenant-Id is required on every endpoint and must be a namespace name", async () => {
    const e = await env({ start: false });
    for (const headers of [{}, { "X-Tenant-Id": "" }, { "X-Tenant-Id": "  " }] as Record<string, string>[]) {
      for (const r of [await submit(e, { taskName: "t", commands: "true" }, headers), await query(e, "1", headers), await kill(e, 1, headers)]) {
        expect(r.status).toBe(400);
        expect(r.body).toEqual({ status: NOT_NULL, message: expect.stringContaining("X-Tenant-Id") });
      }
    }
    for (const bad of ["a b", "-x", "x".repeat(201), "a/b"]) {
      const r = await submit(e, { taskName: "t", commands: "true" }, { "X-Tenant-Id": bad });
      expect(r.status).toBe(400);
      expect(r.body.status).toBe(DATA_FORMAT);
      expect(r.body.message).toContain("X-Tenant-Id");
    }
    expect((await e.deps.store.client.execute("SELECT count(*) AS n FROM jobs")).rows[0].n).toBe(0);
  });

  test("another tenant's task is not found: left out of a query, and not killed", async () => {
    const e = await env({ start: false });
    const id = (await submit(e, { taskName: "mine", commands: "true" })).body.data.taskId;
    expect((await query(e, String(id), { "X-Tenant-Id": "other" })).body.data).toEqual([]);
    const k = await kill(e, id, { "X-Tenant-Id": "other" });
    expect(k.status).toBe(400);
    expect(k.body).toEqual({ status: NO_RECORD, message: "task not exist to kill!" });
    expect((await itemOf(e, id)).taskStatus).toBe(-1);
  });
});

describe("refusals", () => {
  const valid = { taskName: "t", commands: "true" };
  const cases: [string, unknown, number, string][] = [
    ["an empty body", "", NOT_NULL, "requestBody"],
    ["malformed JSON", "{", INIT, "JSON"],
    ["an array body", [valid], INIT, "requestBody"],
    ["a string body", '"x"', INIT, "requestBody"],
    ["no taskName", { commands: "true" }, NOT_NULL, "task name"],
    ["a blank taskName", { taskName: "  ", commands: "true" }, NOT_NULL, "task name"],
    ["a numeric taskName", { taskName: 5, commands: "true" }, INIT, "taskName"],
    ["a taskName too long", { taskName: "x".repeat(256), commands: "true" }, INIT, "taskName"],
    ["a lone surrogate", '{"taskName": "a\\ud800", "commands": "true"}', INIT, "taskName"],
    ["neither container nor commands", { taskName: "t" }, NOT_NULL, "must set docker or command"],
    ["blank commands", { taskName: "t", commands: " " }, NOT_NULL, "must set docker or command"],
    ["commands not a string", { taskName: "t", commands: ["ls"] }, INIT, "commands"],
    ["a docker without image", { taskName: "t", container: { docker: {} } }, NOT_NULL, "docker image"],
    ["an image that is not one", { taskName: "t", container: { docker: { image: "-rm" } } }, INIT, "container.docker.image"],
    ["container not an object", { taskName: "t", container: "alpine" }, INIT, "container"],
    ["an unknown container type", { taskName: "t", container: { type: "RKT", docker: { image: "alpine" } } }, NOT_EQUAL, "container.type"],
    ["privileged", { taskName: "t", container: { docker: { image: "alpine", privileged: true } } }, NOT_EQUAL, "privileged"],
    ["volumes", { taskName: "t", container: { docker: { image: "alpine" }, volumes: [{ containerPath: "/a", hostPath: "/", dvo: "RW" }] } }, NOT_EQUAL, "container.volumes"],
    ["port mappings", { taskName: "t", container: { docker: { image: "alpine", portMappings: [{ containerPort: 80, hostPort: 80 }] } } }, NOT_EQUAL, "portMappings"],
    ["an unknown net", { taskName: "t", container: { docker: { image: "alpine", net: "WIFI" } } }, NOT_EQUAL, "net"],
    ["env as a string", { ...valid, env: "A=1" }, INIT, "env format error"],
    ["env with a blank value", { ...valid, env: { name: "A", value: "" } }, INIT, "env format error"],
    ["env as a plain map", { ...valid, env: { A: "1" } }, INIT, "env format error"],
    ["env with a bad name", { ...valid, env: { name: "A-B", value: "1" } }, INIT, "env.name"],
    ["env steering the container CLI", { taskName: "t", container: { docker: { image: "alpine" } }, env: { name: "DOCKER_HOST", value: "tcp://x" } }, INIT, "env.DOCKER_HOST"],
    ["args not an array", { taskName: "t", container: { docker: { image: "alpine" } }, args: "x" }, INIT, "args"],
    ["a blank arg", { taskName: "t", container: { docker: { image: "alpine" } }, args: ["a", ""] }, INIT, "args format error"],
    ["resources not an object", { ...valid, resources: [1] }, INIT, "resources"],
    ["a string cpu", { ...valid, resources: { cpu: "2" } }, INIT, "resources.cpu"],
    ["constraints without field", { ...valid, constraints: { values: ["a"] } }, NOT_NULL, "constraints.field"],
    ["constraints on another field", { ...valid, constraints: { field: "zone", values: ["a"] } }, NOT_EQUAL, "constraints.field"],
    ["constraints without values", { ...valid, constraints: { field: "hostname", values: [] } }, NOT_NULL, "constraints.values"],
    ["a blank constraint value", { ...valid, constraints: { field: "rack_id", values: ["a", " "] } }, NOT_EQUAL, "constraints.values"],
    ["a callbackUrl that is not http", { ...valid, callbackUrl: "ftp://example.com/cb" }, INIT, "callbackUrl"],
    ["a relative callbackUrl", { ...valid, callbackUrl: "/cb" }, INIT, "callbackUrl"],
    ["NUL in commands", { taskName: "t", commands: "a\u0000b" }, INIT, "commands must not contain NUL"],
    ["NUL in an env value", { ...valid, env: { name: "A", value: "a\u0000b" } }, INIT, "env.A"],
    ["NUL in an arg", { taskName: "t", container: { docker: { image: "alpine" } }, args: ["a\u0000b"] }, INIT, "args.0"],
  ];

  test.each(cases)("submit with %s: 400 in Juice's shape, nothing created", async (_what, body, code, text) => {
    const e = await env({ start: false });
    const r = await submit(e, body);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ status: code, message: expect.stringContaining(text) });
    expect((await e.deps.store.client.execute("SELECT count(*) AS n FROM jobs")).rows[0].n).toBe(0);
  });

  test("a commands task where processes are off, a container task where no engine is configured", async () => {
    const e = await env({ start: false, process: false });
    const c = await submit(e, valid);
    expect(c.status).toBe(400);
    expect(c.body).toEqual({ status: INIT, message: expect.stringMatching(/^commands: .*enabled = true/) });
    const noEngine = await env({ start: false, cli: false });
    const d = await submit(noEngine, { taskName: "t", container: { docker: { image: "alpine" } } });
    expect(d.status).toBe(400);
    expect(d.body).toEqual({ status: INIT, message: expect.stringMatching(/^container: no container engine/) });
  });

  test.each([
    ["no taskIds", "/v1/tasks", NOT_NULL],
    ["empty taskIds", "/v1/tasks?taskIds=", NOT_NULL],
    ["a word", "/v1/tasks?taskIds=1,abc", DATA_FORMAT],
    ["an empty id", "/v1/tasks?taskIds=1,,2", DATA_FORMAT],
    ["a negative id", "/v1/tasks?taskIds=-1", DATA_FORMAT],
    ["a fraction", "/v1/tasks?taskIds=1.5", DATA_FORMAT],
    ["an id past 2^53", "/v1/tasks?taskIds=9007199254740993", DATA_FORMAT],
    ["too many ids", `/v1/tasks?taskIds=${Array.from({ length: 1001 }, (_, i) => i + 1).join(",")}`, DATA_FORMAT],
  ])("query with %s: 400", async (_what, path, code) => {
    const e = await env({ start: false });
    const r = await e.call("GET", path, undefined, H);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ status: code, message: expect.stringContaining("taskIds") });
  });

  test.each([
    ["no taskId", "/v1/tasks/kill", NOT_NULL, "taskId"],
    ["an empty taskId", "/v1/tasks/kill?taskId=", NOT_NULL, "taskId"],
    ["a word", "/v1/tasks/kill?taskId=abc", DATA_FORMAT, "taskId"],
    ["zero", "/v1/tasks/kill?taskId=0", DATA_FORMAT, "taskId"],
    ["an id past 2^53", "/v1/tasks/kill?taskId=9007199254740993", DATA_FORMAT, "taskId"],
    ["an unknown id", "/v1/tasks/kill?taskId=424242", NO_RECORD, "task not exist to kill!"],
  ])("kill with %s: 400", async (_what, path, code, text) => {
    const e = await env({ start: false });
    const r = await e.call("POST", path, undefined, H);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ status: code, message: expect.stringContaining(text) });
  });

  test("a failure inside tock is a 500 in Juice's shape, not the native one", async () => {
    const e = await env({ start: false, failWrite: (sql) => sql.includes("INSERT INTO jobs") });
    const r = await submit(e, valid);
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ status: 500, message: expect.any(String) });
  });

  test("other methods and paths under /v1/tasks answer in Juice's shape, not the native one", async () => {
    const e = await testEnv();
    afterTest(() => e.close());
    const H = { "X-Tenant-Id": "t" };
    for (const [method, path, status] of [["GET", "/v1/tasks/kill?taskId=1", 405], ["PUT", "/v1/tasks", 405], ["DELETE", "/v1/tasks", 405], ["GET", "/v1/tasks/abc", 404]] as const) {
      const r = await e.call(method, path, undefined, H);
      expect({ path, method, status: r.status, keys: Object.keys(r.body) }).toEqual({ path, method, status, keys: ["status", "message"] });
    }
  });

  test("a submission whose run cannot be queued leaves no task behind", async () => {
    const e = await testEnv({
      config: { executors: withProcesses() },
      failWrite: (sql) => sql.includes("INSERT INTO runs"),
    });
    afterTest(() => e.close());
    const r = await e.call("POST", "/v1/tasks", { taskName: "x", commands: "true" }, { "X-Tenant-Id": "t" });
    expect(r.status).toBe(500);
    expect((await e.call("GET", "/api/v1/namespaces/t/jobs")).body.items).toEqual([]);
  });
});
