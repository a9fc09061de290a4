// The Dapr Jobs facade: the reference document's own examples, current Dapr's flat body, GET field by field,
// DELETE, every refusal in Dapr's error shape, and jobs really delivered to an HTTP sink acting as the app
// (POST /job/<name>) while a TestClock moves time.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { TestClock } from "../../../src/clock.ts";
import { daprName } from "../../../src/compat/dapr/names.ts";
import { read } from "../../../src/store/sql.ts";
import { startSink, type TestEnv, testEnv } from "../../helpers.ts";

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0); // a whole minute
const A = "/v1.0-alpha1/jobs";

/** The app: answers 500 on paths containing "fail", 200 otherwise. */
const app = startSink((req) => new Response(req.path.includes("fail") ? "boom" : "ok", { status: req.path.includes("fail") ? 500 : 200 }));
afterAll(() => app.stop());

let env: TestEnv;
let clock: TestClock;
beforeEach(async () => {
  app.requests.length = 0;
  clock = new TestClock(T0);
  env = await testEnv({
    clock,
    config: {
      compat: { daprAppUrl: `${app.url}/` },
      // No jitter: a constant failure policy is then exactly constant.
      scheduler: { lookahead: 2000, defaultRetry: { times: 0, interval: 1000, backoff: "fixed", maxInterval: 60_000, jitter: 0 } },
    },
  });
});
afterEach(() => env.close());

async function moveTo(at: number) {
  clock.set(at);
  await env.deps.scheduler.tick();
  await env.deps.scheduler.idle();
}

const runsOf = (name: string) => read(env.deps.store, { sql: "SELECT attempt, trigger, status, scheduled_at FROM runs WHERE job_name = ? ORDER BY id", args: [name] });
const daprJobs = async () => (await env.call("GET", "/api/v1/namespaces/dapr/jobs")).body.items.map((j: { name: string }) => j.name);

describe("the reference document's examples", () => {
  test("POST jobforjabba (dueTime 30s, data) answers 202 with no body; GET returns name, dueTime and data", async () => {
    const post = await env.call("POST", `${A}/jobforjabba`, { job: { data: { HanSolo: "Running spice" }, dueTime: "30s" } });
    expect(post.status).toBe(202);
    expect(post.body).toBeNull();
    const get = await env.call("GET", `${A}/jobforjabba`, undefined, { "content-type": "application/json" });
    expect(get.status).toBe(202); // the document's code for GET, too
    expect(get.headers.get("content-type")).toStartWith("application/json");
    expect(get.body).toEqual({ name: "jobforjabba", dueTime: "30s", data: { HanSolo: "Running spice" } });
  });

  test("the request body example (a @type/expression data object) is kept as given", async () => {
    const data = { "@type": "type.googleapis.com/google.type.Expr", expression: "<expression>" };
    expect((await env.call("POST", `${A}/expr`, { job: { data, dueTime: "30s" } })).status).toBe(202);
    expect((await env.call("GET", `${A}/expr`)).body).toEqual({ name: "expr", dueTime: "30s", data });
  });

  test("a Dapr job is a native HTTP job in the configured namespace, POSTing to <app>/job/<name>", async () => {
    await env.call("POST", `${A}/jobforjabba`, { job: { data: { HanSolo: "Running spice" }, dueTime: "30s" } });
    const native = await env.call("GET", "/api/v1/namespaces/dapr/jobs/jobforjabba");
    expect(native.status).toBe(200);
    expect(native.body).toMatchObject({
      namespace: "dapr",
      name: "jobforjabba",
      scheduleKind: "once",
      dueTime: "30s",
      nextFireAt: new Date(T0 + 30_000).toISOString(),
      target: { http: { url: `${app.url}/job/jobforjabba`, method: "POST", headers: { "content-type": "application/json" } } },
      payload: { HanSolo: "Running spice" },
      retry: { times: 3, interval: "1s", backoff: "fixed" }, // Dapr's default failure policy
      compat: { api: "dapr" },
    });
  });

  test("DELETE answers 202 with no body; the job is gone from both APIs", async () => {
    await env.call("POST", `${A}/jobforjabba`, { job: { data: { HanSolo: "Running spice" }, dueTime: "30s" } });
    const del = await env.call("DELETE", `${A}/jobforjabba`, undefined, { "content-type": "application/json" });
    expect(del.status).toBe(202);
    expect(del.body).toBeNull();
    expect((await env.call("GET", "/api/v1/namespaces/dapr/jobs/jobforjabba")).status).toBe(404);
    const get = await env.call("GET", `${A}/jobforjabba`);
    expect(get.status).toBe(404); // daprd: 500 with the same errorCode
    expect(get.body).toMatchObject({ errorCode: "DAPR_SCHEDULER_GET_JOB", message: expect.stringContaining("failed to get job") });
  });
});

describe("current Dapr's flat body", () => {
  test("every field round-trips through GET, under /v1.0 as well as /v1.0-alpha1", async () => {
    const body = { schedule: "@every 1m", repeats: 5, dueTime: "1000s", ttl: "123s", data: "{\"value\":\"Running spice\"}", failure_policy: { constant: { max_retries: 3, interval: "10s" } } };
    expect((await env.call("POST", "/v1.0/jobs/flat", body)).status).toBe(202);
    const want = { name: "flat", schedule: "@every 1m", repeats: 5, dueTime: "1000s", ttl: "123s", data: "{\"value\":\"Running spice\"}", failurePolicy: { constant: { interval: "10s", maxRetries: 3 } } };
    for (const base of ["/v1.0/jobs", A]) {
      const get = await env.call("GET", `${base}/flat`);
      expect(get.status).toBe(202);
      expect(get.body).toEqual(want);
      expect(Object.keys(get.body)).toEqual(["name", "schedule", "repeats", "dueTime", "ttl", "data", "failurePolicy"]); // protojson field order
    }
    // The ttl counts from the dueTime (Dapr's rule), so the native job ends 1000s + 123s after creation.
    const native = (await env.call("GET", "/api/v1/namespaces/dapr/jobs/flat")).body;
    expect(native).toMatchObject({ schedule: "@every 1m", repeats: 5, dueTime: "1000s", endAt: new Date(T0 + 1_123_000).toISOString(), retry: { times: 3, interval: "10s", backoff: "fixed" } });
  });

  test("camelCase and proto field names are both read; GET writes camelCase; unknown fields are ignored", async () => {
    await env.call("POST", `${A}/proto`, { schedule: "0 15 3 * * *", due_time: "10s", failurePolicy: { constant: { maxRetries: 0, interval: "0.5s" } }, color: "blue" });
    expect((await env.call("GET", `${A}/proto`)).body).toEqual({ name: "proto", schedule: "0 15 3 * * *", dueTime: "10s", failurePolicy: { constant: { interval: "0.500s", maxRetries: 0 } } });
    await env.call("POST", `${A}/dropped`, { dueTime: "2026-07-01T00:00:00Z", failure_policy: { drop: {} } });
    expect((await env.call("GET", `${A}/dropped`)).body).toEqual({ name: "dropped", dueTime: "2026-07-01T00:00:00Z", failurePolicy: { drop: {} } });
    const native = (await env.call("GET", "/api/v1/namespaces/dapr/jobs/dropped")).body;
    expect(native).toMatchObject({ nextFireAt: "2026-07-01T00:00:00.000Z", retry: { times: 0 } });
  });

  test("@every keeps the period given, sub-second too, as daprd does since Dapr 1.16", async () => {
    for (const [name, spec] of [["every", "@every 1.5s"], ["fast", "@every 200ms"], ["faster", "@every 1ms"]]) {
      expect((await env.call("POST", `${A}/${name}`, { schedule: spec })).status).toBe(202);
      expect((await env.call("GET", `${A}/${name}`)).body).toEqual({ name, schedule: spec });
    }
    const native = async (name: string) => (await env.call("GET", `/api/v1/namespaces/dapr/jobs/${name}`)).body;
    expect(await native("every")).toMatchObject({ schedule: "@every 1s500ms", nextFireAt: new Date(T0 + 1_500).toISOString() });
    expect(await native("fast")).toMatchObject({ schedule: "@every 200ms", nextFireAt: new Date(T0 + 200).toISOString() });
    expect(await native("faster")).toMatchObject({ schedule: "@every 1ms", nextFireAt: new Date(T0 + 1).toISOString() });
    // The native API keeps its own floor ([scheduler] min_every, 1s by default).
    const put = await env.call("PUT", "/api/v1/namespaces/dapr/jobs/native-fast", { schedule: "@every 200ms", target: { http: { url: `${app.url}/x` } } });
    expect({ status: put.status, field: put.body.error?.field }).toEqual({ status: 400, field: "schedule" });
  });

  test("[compat] dapr_min_every is the Dapr jobs' floor: shorter is refused, naming it", async () => {
    const floored = await testEnv({ clock, config: { compat: { ...env.deps.config.compat, daprMinEvery: 100 } } });
    try {
      const r = await floored.call("POST", `${A}/tight`, { schedule: "@every 50ms" });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ errorCode: "DAPR_SCHEDULER_SCHEDULE_JOB", message: expect.stringContaining("at least 100ms") });
      expect((await floored.call("POST", `${A}/ok`, { schedule: "@every 100ms" })).status).toBe(202);
    } finally {
      await floored.close();
    }
  });

  test("any name daprd accepts: scheduled, read back and deleted under it (my||job@name, spaces, dots, non-ASCII)", async () => {
    for (const name of ["my||job@name", "a b", "..hidden", "dapr:raw", "naïve-名字", "x".repeat(200)]) {
      const path = `${A}/${encodeURIComponent(name)}`;
      expect({ name, status: (await env.call("POST", path, { schedule: "@daily", data: name })).status }).toEqual({ name, status: 202 });
      expect((await env.call("GET", path)).body).toEqual({ name, schedule: "@daily", data: name });
    }
    // Native names cannot hold them all: those are kept under an encoding of their own, none under another's.
    const stored = await daprJobs();
    expect(stored).toHaveLength(6);
    expect(stored).toContain("x".repeat(200));
    expect(stored.filter((n: string) => n.startsWith("dapr:")).length).toBe(5);
    expect((await env.call("DELETE", `${A}/${encodeURIComponent("my||job@name")}`)).status).toBe(202);
    expect((await env.call("GET", `${A}/${encodeURIComponent("my||job@name")}`)).status).toBe(404);
    expect(await daprJobs()).toHaveLength(5);
  });

  test("a CRON_TZ= prefix becomes the native time zone; GET returns the schedule as given", async () => {
    await env.call("POST", `${A}/ny`, { schedule: "CRON_TZ=America/New_York 0 0 9 * * *" });
    expect((await env.call("GET", `${A}/ny`)).body).toEqual({ name: "ny", schedule: "CRON_TZ=America/New_York 0 0 9 * * *" });
    const native = (await env.call("GET", "/api/v1/namespaces/dapr/jobs/ny")).body;
    expect(native).toMatchObject({ schedule: "0 0 9 * * *", timezone: "America/New_York", nextFireAt: "2026-06-01T13:00:00.000Z" });
  });

  test("overwrite: without it an existing job is a 409 and stays as it was; with it the job is replaced", async () => {
    await env.call("POST", `${A}/ow`, { schedule: "@daily" });
    for (const body of [{ schedule: "@weekly", repeats: 3 }, { schedule: "@weekly", overwrite: false }, { job: { schedule: "@weekly" } }]) {
      const r = await env.call("POST", `${A}/ow`, body);
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ errorCode: "DAPR_SCHEDULER_SCHEDULE_JOB", message: expect.stringContaining("already exists") });
    }
    expect((await env.call("GET", `${A}/ow`)).body).toEqual({ name: "ow", schedule: "@daily" });
    expect((await env.call("POST", `${A}/ow`, { schedule: "@weekly", repeats: 3, overwrite: true })).status).toBe(202);
    expect((await env.call("GET", `${A}/ow`)).body).toEqual({ name: "ow", schedule: "@weekly", repeats: 3 });
    expect((await env.call("POST", `${A}/ow`, { job: { schedule: "@hourly" }, overwrite: true })).status).toBe(202);
    expect((await env.call("GET", `${A}/ow`)).body).toEqual({ name: "ow", schedule: "@hourly" });
  });

  test("a native job in the Dapr namespace is readable through the Dapr API", async () => {
    const put = await env.call("PUT", "/api/v1/namespaces/dapr/jobs/native", {
      schedule: "0 9 * * *",
      timezone: "Europe/Paris",
      repeats: 2,
      payload: { a: 1 },
      retry: { times: 0 },
      target: { http: { url: "http://127.0.0.1:1/x" } },
    });
    expect(put.status).toBe(201);
    expect((await env.call("GET", `${A}/native`)).body).toEqual({ name: "native", schedule: "CRON_TZ=Europe/Paris 0 9 * * *", repeats: 2, data: { a: 1 }, failurePolicy: { drop: {} } });
    await env.call("PUT", "/api/v1/namespaces/dapr/jobs/native2", { dueTime: "5m", retry: { times: 2, interval: "1m30s" }, target: { http: { url: "http://127.0.0.1:1/x" } } });
    expect((await env.call("GET", `${A}/native2`)).body).toEqual({ name: "native2", dueTime: "5m", failurePolicy: { constant: { interval: "90s", maxRetries: 2 } } });
  });

  test("DELETE of an unknown job succeeds, as in Dapr", async () => {
    const r = await env.call("DELETE", "/v1.0/jobs/never-was");
    expect(r.status).toBe(202);
    expect(r.body).toBeNull();
  });
});

describe("refusals in Dapr's error shape, changing nothing", () => {
  const errorInfo = (code: string) => [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: code, domain: "dapr.io", metadata: { namespace: "dapr" } }];
  const cases: [string, string, unknown, number, string, string][] = [
    // [what, path, body, status, errorCode, message fragment]
    ["malformed JSON", "j", "{bad", 400, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body"],
    ["an array body", "j", [1], 400, "ERR_MALFORMED_REQUEST", "JSON object"],
    ["a string body", "j", '"x"', 400, "ERR_MALFORMED_REQUEST", "JSON object"],
    ["a lone surrogate", "j", '{"dueTime":"1s","data":"\\ud800"}', 400, "ERR_MALFORMED_REQUEST", "data"],
    ["schedule not a string", "j", { schedule: 5 }, 400, "ERR_MALFORMED_REQUEST", "schedule: must be a string"],
    ["dueTime not a string", "j", { dueTime: 30 }, 400, "ERR_MALFORMED_REQUEST", "dueTime"],
    ["dueTime given twice", "j", { dueTime: "1s", due_time: "2s" }, 400, "ERR_MALFORMED_REQUEST", "given twice"],
    ["negative repeats", "j", { schedule: "@daily", repeats: -1 }, 400, "ERR_MALFORMED_REQUEST", "repeats"],
    ["fractional repeats", "j", { schedule: "@daily", repeats: 1.5 }, 400, "ERR_MALFORMED_REQUEST", "repeats"],
    ["repeats past uint32", "j", { schedule: "@daily", repeats: 4294967296 }, 400, "ERR_MALFORMED_REQUEST", "repeats"],
    ["repeats as words", "j", { schedule: "@daily", repeats: "five" }, 400, "ERR_MALFORMED_REQUEST", "repeats"],
    ["overwrite not a boolean", "j", { schedule: "@daily", overwrite: "yes" }, 400, "ERR_MALFORMED_REQUEST", "overwrite"],
    ["job not an object", "j", { job: "x" }, 400, "ERR_MALFORMED_REQUEST", "job"],
    ["job and flat fields together", "j", { job: { dueTime: "1s" }, schedule: "@daily" }, 400, "ERR_MALFORMED_REQUEST", "not both"],
    ["failure_policy not an object", "j", { dueTime: "1s", failure_policy: "drop" }, 400, "ERR_MALFORMED_REQUEST", "failurePolicy"],
    ["constant and drop", "j", { dueTime: "1s", failure_policy: { drop: {}, constant: {} } }, 400, "ERR_MALFORMED_REQUEST", "not both"],
    ["a bad interval", "j", { dueTime: "1s", failure_policy: { constant: { interval: "soon" } } }, 400, "ERR_MALFORMED_REQUEST", "interval"],
    ["a name in the body", "j", { name: "other", schedule: "@daily" }, 400, "DAPR_SCHEDULER_JOB_NAME", "Set the job name in the url only"],
    ["an empty body", "j", undefined, 400, "DAPR_SCHEDULER_SCHEDULE_EMPTY", "Schedule is empty"],
    ["neither schedule nor dueTime", "j", { data: 1, repeats: 2 }, 400, "DAPR_SCHEDULER_SCHEDULE_EMPTY", "Schedule is empty"],
    ["a blank name", "%20", { schedule: "@daily" }, 400, "DAPR_SCHEDULER_JOB_NAME_EMPTY", "Name is empty"],
    ["a name with a backslash", "a%5Cb", { schedule: "@daily" }, 400, "DAPR_SCHEDULER_JOB_NAME", "is invalid"],
    ["a name with #", "a%23b", { schedule: "@daily" }, 400, "DAPR_SCHEDULER_JOB_NAME", "is invalid"],
    ["a name with ?", "a%3Fb", { schedule: "@daily" }, 400, "DAPR_SCHEDULER_JOB_NAME", "is invalid"],
    ["a name with a control character", "a%01b", { schedule: "@daily" }, 400, "DAPR_SCHEDULER_JOB_NAME", "is invalid"],
    ["a name too long to keep", `${"%7C".repeat(98)}`, { schedule: "@daily" }, 400, "DAPR_SCHEDULER_JOB_NAME", "too long"],
    ["CRON_TZ= with @every (Dapr 1.18.3)", "j", { schedule: "CRON_TZ=Europe/Rome @every 1h" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "cannot be given with @every"],
    ["TZ= with @every", "j", { schedule: "TZ=UTC @every 500ms" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "cannot be given with @every"],
    ["a 5-field cron", "j", { schedule: "* * * * *" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "expected exactly 6 fields, found 5"],
    ["an ISO 8601 series as schedule", "j", { schedule: "R5/PT1H" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "expected exactly 6 fields"],
    ["an upper-case descriptor", "j", { schedule: "@DAILY" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "unrecognized descriptor"],
    ["@every without a duration", "j", { schedule: "@every soon" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "failed to parse duration"],
    ["a cron field out of range", "j", { schedule: "61 * * * * *" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "schedule"],
    ["an unknown zone", "j", { schedule: "TZ=Mars/Base 0 0 9 * * *" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "bad location"],
    ["repeats 0", "j", { schedule: "@daily", repeats: 0 }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "greater than 0"],
    ["repeats past tock's limit", "j", { schedule: "@daily", repeats: 2147483648 }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "repeats"],
    ["repeats without a schedule", "j", { dueTime: "1s", repeats: 3 }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "must have a schedule to repeat"],
    ["ttl without a schedule", "j", { dueTime: "1s", ttl: "1h" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "must have a schedule to have a ttl"],
    ["ttl before the dueTime", "j", { schedule: "@daily", dueTime: "2026-07-01T00:00:00Z", ttl: "2026-06-15T00:00:00Z" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "ttl"],
    ["a dueTime that is no time", "j", { dueTime: "tomorrow" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "dueTime"],
    ["a dueTime without offset", "j", { dueTime: "2026-07-01T00:00:00" }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "dueTime"],
    ["a huge schedule", "j", { schedule: `${"1".repeat(100_000)}x` }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "at most 200 characters"],
    ["a huge interval", "j", { dueTime: "1s", failure_policy: { constant: { interval: `${"1".repeat(100_000)}x` } } }, 400, "ERR_MALFORMED_REQUEST", "interval"],
    ["too many retries", "j", { dueTime: "1s", failure_policy: { constant: { max_retries: 5000 } } }, 400, "DAPR_SCHEDULER_SCHEDULE_JOB", "maxRetries"],
  ];
  for (const [what, name, body, status, errorCode, fragment] of cases) {
    test(`${what}: ${status} ${errorCode}`, async () => {
      const r = await env.call("POST", `${A}/${name}`, body);
      expect({ status: r.status, errorCode: r.body?.errorCode }).toEqual({ status, errorCode });
      expect(r.body.message).toContain(fragment);
      if (errorCode.startsWith("ERR_")) expect(Object.keys(r.body)).toEqual(["errorCode", "message"]); // daprd's legacy shape
      else expect(r.body.details).toEqual(errorInfo(errorCode));
      expect(await daprJobs()).toEqual([]);
    });
  }

  test("no name in the path: 400 Name is empty, for every method", async () => {
    for (const method of ["POST", "GET", "DELETE"]) {
      for (const path of [A, `${A}/`, "/v1.0/jobs/"]) {
        const r = await env.call(method, path, method === "POST" ? { dueTime: "1s" } : undefined);
        expect({ method, path, status: r.status, body: r.body }).toEqual({ method, path, status: 400, body: { errorCode: "DAPR_SCHEDULER_JOB_NAME_EMPTY", message: "Name is empty", details: errorInfo("DAPR_SCHEDULER_JOB_NAME_EMPTY") } });
      }
    }
  });

  test("other methods: 405 with an Allow header", async () => {
    for (const method of ["PUT", "PATCH"]) {
      const r = await env.call(method, `${A}/j`, { dueTime: "1s" });
      expect({ status: r.status, allow: r.headers.get("allow"), body: r.body }).toEqual({ status: 405, allow: "DELETE, GET, POST", body: null });
    }
    expect(await daprJobs()).toEqual([]);
  });

  test("\".\" and \"..\" are no names (a URL resolves them before any server sees them; refused all the same)", () => {
    for (const name of [".", "..", " .. "]) expect(() => daprName(name)).toThrow(/is invalid/);
    expect(daprName(" ...x ")).toBe("...x");
  });

  test("GET and DELETE of a name daprd refuses: 400 DAPR_SCHEDULER_JOB_NAME", async () => {
    for (const method of ["GET", "DELETE"]) {
      const r = await env.call(method, `${A}/a%5Cb`);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ errorCode: "DAPR_SCHEDULER_JOB_NAME", details: errorInfo("DAPR_SCHEDULER_JOB_NAME") });
    }
  });

  test("with no dapr_app_url configured, a good job is refused 503 naming the key; a bad one is still a 400", async () => {
    const bare = await testEnv({ clock });
    try {
      const r = await bare.call("POST", `${A}/j`, { dueTime: "1s" });
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ errorCode: "ERR_APP_CHANNEL_NIL", message: expect.stringContaining("dapr_app_url") });
      expect((await bare.call("POST", `${A}/j`, { dueTime: "never" })).status).toBe(400);
      expect((await bare.call("GET", "/api/v1/namespaces/dapr/jobs")).body.items).toEqual([]);
    } finally {
      await bare.close();
    }
  });
});

describe("delivery to the app", () => {
  beforeEach(() => env.deps.scheduler.start());

  test("a 6-field cron fires on its seconds field; repeats caps the deliveries; each is POST /job/<name> with the data", async () => {
    // "15 * * * * *": second 15 of every minute (seconds first, as in Dapr), twice.
    expect((await env.call("POST", `${A}/tick`, { schedule: "15 * * * * *", repeats: 2, data: { n: 1 } })).status).toBe(202);
    await moveTo(T0 + 14_999);
    expect(app.requests).toHaveLength(0);
    await moveTo(T0 + 15_000);
    await moveTo(T0 + 74_999);
    expect(app.requests).toHaveLength(1);
    await moveTo(T0 + 75_000);
    await moveTo(T0 + 135_000);
    await moveTo(T0 + 195_000);
    expect((await runsOf("tick")).map((r) => Number(r.scheduled_at) - T0)).toEqual([15_000, 75_000]);
    expect(app.requests).toHaveLength(2);
    for (const req of app.requests) {
      expect(req).toMatchObject({ method: "POST", path: "/job/tick", body: '{"n":1}' });
      expect(req.headers["content-type"]).toBe("application/json");
    }
    const runIds = (await read(env.deps.store, "SELECT id FROM runs WHERE job_name = 'tick' ORDER BY id")).map((r) => String(r.id));
    expect(app.requests.map((r) => r.headers["webhook-id"])).toEqual(runIds);
  });

  test("@every 500ms fires every 500 ms: each slot once, never early", async () => {
    expect((await env.call("POST", `${A}/half`, { schedule: "@every 500ms", repeats: 4 })).status).toBe(202);
    for (let t = 0; t <= 2_500; t += 250) await moveTo(T0 + t);
    expect((await runsOf("half")).map((r) => Number(r.scheduled_at) - T0)).toEqual([500, 1_000, 1_500, 2_000]);
    expect(app.requests.map((r) => r.path)).toEqual(["/job/half", "/job/half", "/job/half", "/job/half"]);
    const started = await read(env.deps.store, "SELECT scheduled_at, started_at FROM runs WHERE job_name = 'half'");
    for (const r of started) expect(Number(r.started_at)).toBeGreaterThanOrEqual(Number(r.scheduled_at));
  });

  test("a name with characters HTTP needs encoded is delivered at /job/<name>, encoded", async () => {
    expect((await env.call("POST", `${A}/${encodeURIComponent("my||job@name")}`, { dueTime: "1s", data: 1 })).status).toBe(202);
    await moveTo(T0 + 1_000);
    await moveTo(T0 + 2_000);
    expect(app.requests.map((r) => r.path)).toEqual(["/job/my%7C%7Cjob@name"]);
  });

  test("a dueTime one-shot delivers the document's data object once, at its time", async () => {
    const data = { "@type": "type.googleapis.com/google.type.Expr", expression: "<expression>" };
    await env.call("POST", `${A}/jobforjabba`, { job: { data, dueTime: "30s" } });
    await moveTo(T0 + 29_999);
    expect(app.requests).toHaveLength(0);
    await moveTo(T0 + 30_000);
    await moveTo(T0 + 90_000);
    expect(app.requests).toHaveLength(1);
    expect(app.requests[0]).toMatchObject({ method: "POST", path: "/job/jobforjabba" });
    expect(JSON.parse(app.requests[0].body)).toEqual(data);
    expect((await env.call("GET", "/api/v1/namespaces/dapr/jobs/jobforjabba")).body).toMatchObject({ status: "finished", firedCount: 1 });
  });

  test("a job without data is delivered with an empty body; a string data as a JSON string", async () => {
    await env.call("POST", `${A}/empty`, { dueTime: "1s" });
    await env.call("POST", `${A}/text`, { dueTime: "1s", data: "someData" });
    await moveTo(T0 + 1_000);
    const byPath = Object.fromEntries(app.requests.map((r) => [r.path, r]));
    expect(byPath["/job/empty"].body).toBe("");
    expect(byPath["/job/empty"].headers["content-type"]).toBe("application/json");
    expect(byPath["/job/text"].body).toBe('"someData"');
  });

  test("failure_policy constant retries a 500 maxRetries times, interval apart, with the same body", async () => {
    await env.call("POST", `${A}/fail-constant`, { dueTime: "10s", data: [1, 2], failure_policy: { constant: { interval: "3s", max_retries: 2 } } });
    await moveTo(T0 + 10_000);
    await moveTo(T0 + 12_999);
    expect(app.requests).toHaveLength(1);
    await moveTo(T0 + 13_000);
    await moveTo(T0 + 16_000);
    await moveTo(T0 + 60_000);
    const runs = await runsOf("fail-constant");
    expect(runs.map((r) => [r.attempt, r.trigger, r.status])).toEqual([
      [1, "schedule", "failed"],
      [2, "retry", "failed"],
      [3, "retry", "failed"],
    ]);
    expect(app.requests.map((r) => [r.path, r.body])).toEqual(Array(3).fill(["/job/fail-constant", "[1,2]"]));
  });

  test("failure_policy drop does not retry", async () => {
    await env.call("POST", `${A}/fail-drop`, { dueTime: "10s", failure_policy: { drop: {} } });
    for (const t of [10_000, 11_000, 15_000, 60_000]) await moveTo(T0 + t);
    expect((await runsOf("fail-drop")).map((r) => [r.attempt, r.status])).toEqual([[1, "failed"]]);
    expect(app.requests).toHaveLength(1);
  });

  test("with no failure_policy, Dapr's default: 3 retries 1 second apart", async () => {
    await env.call("POST", `${A}/fail-default`, { dueTime: "10s" });
    for (let t = 10_000; t <= 20_000; t += 1_000) await moveTo(T0 + t);
    expect((await runsOf("fail-default")).map((r) => [r.attempt, Number(r.scheduled_at) - T0])).toEqual([
      [1, 10_000],
      [2, 10_000],
      [3, 10_000],
      [4, 10_000],
    ]);
    expect(app.requests).toHaveLength(4);
  });
});
