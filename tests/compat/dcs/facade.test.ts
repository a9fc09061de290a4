// The DCS facade against DCS's RESTful API document: its own example payloads, real
// firings (HTTP sink, TCP server) with time moved by a TestClock, every error status, the in-flight cap,
// and a DCS job seen by the native API and fired once per slot by two nodes on one database.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { putJob } from "../../../src/domain/jobs.ts";
import { TestClock } from "../../../src/clock.ts";
import { read } from "../../../src/store/sql.ts";
import { startSink, startTcpServer, tempDir, type TestEnv, testEnv, waitUntil } from "../../helpers.ts";

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const MIN = 60_000;
const SCHEDULER = { lookahead: 2000, pollInterval: 1000, misfireThreshold: 5000, defaultRetry: { times: 0, interval: 1000, backoff: "fixed" as const, maxInterval: 60_000, jitter: 0 } };

const sink = startSink();
let failures = 0; // the flaky sink answers 500 this many times, then 200
const flaky = startSink(() => (failures-- > 0 ? new Response("down", { status: 500 }) : new Response("ok")));
const slow = startSink(async () => {
  await new Promise((r) => setTimeout(r, 400));
  return new Response("late");
});
afterAll(() => {
  sink.stop();
  flaky.stop();
  slow.stop();
});

/** The document's PUT body, with a real host and port. */
const example = (url = `${sink.url}/path`) => ({
  expr: "* * * * *",
  callback: {
    http: { url, header: { "Content-Type": "application/x-www-form-urlencoded" }, body: "xda=lafayl&cet=hvesud" },
    timeout: "3s",
    retryTimes: 2,
    retryInterval: "3s",
  },
  times: 12,
  memo: "...",
});
/** The document's TCP callback (body and ack as given there). */
const TCP_BODY = "qgBTpMtbXWnzVCXMv50OLA==";
const TCP_ACK = "LI67iYenlxY=";

let env: TestEnv;
let clock: TestClock;
async function fresh(config = {}) {
  clock = new TestClock(T0);
  env = await testEnv({ clock, config: { scheduler: SCHEDULER, ...config } });
  await env.deps.scheduler.start();
}

/** Moves the clock to `at` and lets the scheduler claim, fire and record everything due. */
async function moveTo(at: number, envs: TestEnv[] = [env]) {
  clock.set(at);
  await Promise.all(envs.map((e) => e.deps.scheduler.tick()));
  for (const e of envs) await e.deps.scheduler.idle();
}

const his = async (ns: string, name: string) => (await env.call("GET", `/jobs/${ns}/${name}/his`)).body;
const utc = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

describe("the document's example payloads", () => {
  beforeEach(() => fresh());
  afterEach(() => env.close());

  test("PUT answers 200 {msg: OK}; GET renders every field as the document shows; the native API sees the job", async () => {
    const put = await env.call("PUT", "/jobs/team/report", example());
    expect(put).toMatchObject({ status: 200, body: { msg: "OK" } });

    const get = await env.call("GET", "/jobs/team/report");
    expect(get.status).toBe(200);
    expect(get.body).toEqual({ ns: "team", name: "report", ...example() });
    expect(Object.keys(get.body)).toEqual(["ns", "name", "expr", "callback", "times", "memo"]);
    expect(Object.keys(get.body.callback)).toEqual(["http", "timeout", "retryTimes", "retryInterval"]);

    const native = await env.call("GET", "/api/v1/namespaces/team/jobs/report");
    expect(native.status).toBe(200);
    expect(native.body).toMatchObject({
      namespace: "team",
      name: "report",
      schedule: "* * * * *",
      scheduleKind: "cron",
      timezone: "UTC",
      repeats: 12,
      target: { http: { url: `${sink.url}/path`, method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "xda=lafayl&cet=hvesud" } },
      timeout: "3s",
      retry: { times: 2, interval: "3s", backoff: "fixed" },
      memo: "...",
      compat: { api: "dcs" },
      nextFireAt: "2026-06-01T12:01:00.000Z",
    });
    const list = await env.call("GET", "/api/v1/namespaces/team/jobs");
    expect(list.body.items.map((j: { name: string }) => j.name)).toEqual(["report"]);
  });

  test("the HTTP callback POSTs the document's header and body each minute; times: 12 stops it; /his lists the newest 10", async () => {
    sink.requests.length = 0;
    await env.call("PUT", "/jobs/team/report", example());
    for (let k = 1; k <= 14; k++) await moveTo(T0 + k * MIN);

    expect(sink.requests).toHaveLength(12);
    for (const r of sink.requests) {
      expect(r).toMatchObject({ method: "POST", path: "/path", body: "xda=lafayl&cet=hvesud" });
      expect(r.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    }
    const h = await his("team", "report");
    expect(h.ns).toBe("team");
    expect(h.name).toBe("report");
    expect(h.times).toBe(12);
    // Newest first, RFC 3339 in the document's form: executions 12 down to 3 (history size 10).
    expect(h.records).toEqual(Array.from({ length: 10 }, (_, i) => ({ startAt: utc(T0 + (12 - i) * MIN), endAt: utc(T0 + (12 - i) * MIN), msg: "" })));
    expect((await env.call("GET", "/jobs/team/report")).status).toBe(200); // finished, still readable
  });

  test("the TCP callback sends the document's body and checks its ack; a wrong ack is the record's msg", async () => {
    const body = Buffer.from(TCP_BODY, "base64");
    const good = await startTcpServer({ expect: body.length, reply: () => Buffer.from(TCP_ACK, "base64") });
    const bad = await startTcpServer({ expect: body.length, reply: () => Buffer.from("nope!!!!") });
    try {
      const tcp = (port: number) => ({ expr: "@every 5m", callback: { tcp: { addr: `127.0.0.1:${port}`, body: TCP_BODY, ack: TCP_ACK } } });
      expect((await env.call("PUT", "/jobs/team/good", tcp(good.port))).status).toBe(200);
      expect((await env.call("PUT", "/jobs/team/bad", tcp(bad.port))).status).toBe(200);
      expect((await env.call("GET", "/jobs/team/good")).body).toEqual({ ns: "team", name: "good", ...tcp(good.port) });

      await moveTo(T0 + 5 * MIN - 1);
      expect(good.received).toHaveLength(0); // periodic: the first call is one period after the PUT
      await moveTo(T0 + 5 * MIN);
      expect(good.received.map((b) => b.toString("base64"))).toEqual([TCP_BODY]);
      expect(bad.received.map((b) => b.toString("base64"))).toEqual([TCP_BODY]);
      expect(await his("team", "good")).toEqual({ ns: "team", name: "good", times: 1, records: [{ startAt: utc(T0 + 5 * MIN), endAt: utc(T0 + 5 * MIN), msg: "" }] });
      const h = await his("team", "bad");
      expect(h.times).toBe(1);
      expect(h.records).toHaveLength(1);
      expect(h.records[0].msg).toContain("ack mismatch");
    } finally {
      await good.stop();
      await bad.stop();
    }
  });
});

describe("callback policies", () => {
  beforeEach(() => fresh());
  afterEach(() => env.close());

  test("a failing callback is retried retryTimes times, retryInterval apart; /his folds the retries into one record", async () => {
    failures = 2;
    flaky.requests.length = 0;
    await env.call("PUT", "/jobs/team/flaky", { expr: "* * * * *", callback: { http: { url: flaky.url }, retryTimes: 2, retryInterval: "3s" }, times: 1 });
    await moveTo(T0 + MIN); // attempt 1: 500
    expect(flaky.requests).toHaveLength(1);
    // While the retry waits, the execution has not ended; msg is the error so far.
    expect((await his("team", "flaky")).records).toEqual([{ startAt: utc(T0 + MIN), endAt: null, msg: "HTTP 500" }]);
    await moveTo(T0 + MIN + 2_999);
    expect(flaky.requests).toHaveLength(1);
    await moveTo(T0 + MIN + 3_000); // attempt 2: 500
    expect(flaky.requests).toHaveLength(2);
    await moveTo(T0 + MIN + 5_999);
    expect(flaky.requests).toHaveLength(2); // fixed interval, not doubled
    await moveTo(T0 + MIN + 6_000); // attempt 3: 200
    expect(flaky.requests).toHaveLength(3);
    expect(new Set(flaky.requests.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect(await his("team", "flaky")).toEqual({ ns: "team", name: "flaky", times: 1, records: [{ startAt: utc(T0 + MIN), endAt: utc(T0 + MIN + 6_000), msg: "" }] });
  });

  test("retries run out: the last error is the msg; without retryTimes a failure is not retried", async () => {
    failures = 100;
    flaky.requests.length = 0;
    await env.call("PUT", "/jobs/team/down", { expr: "* * * * *", callback: { http: { url: `${flaky.url}/down` }, retryTimes: 1, retryInterval: "1s" }, times: 1 });
    await env.call("PUT", "/jobs/team/once", { expr: "* * * * *", callback: { http: { url: `${flaky.url}/once` } }, times: 1 });
    await moveTo(T0 + MIN);
    await moveTo(T0 + MIN + 1_000);
    await moveTo(T0 + MIN + 60_000);
    expect(flaky.requests.filter((r) => r.path === "/down")).toHaveLength(2);
    expect(flaky.requests.filter((r) => r.path === "/once")).toHaveLength(1);
    expect((await his("team", "down")).records).toEqual([{ startAt: utc(T0 + MIN), endAt: utc(T0 + MIN + 1_000), msg: "HTTP 500" }]);
    expect((await his("team", "once")).records).toEqual([{ startAt: utc(T0 + MIN), endAt: utc(T0 + MIN), msg: "HTTP 500" }]);
    failures = 0;
  });

  test("a callback past its timeout is abandoned, and /his says so", async () => {
    await env.call("PUT", "/jobs/team/slow", { expr: "* * * * *", callback: { http: { url: slow.url }, timeout: "100ms" } });
    // The timeout runs on the scheduler's clock: moved past it while the callback is in flight.
    const started = env.deps.scheduler.events.next("run:started", (e) => e.jobName === "slow");
    clock.set(T0 + MIN);
    await env.deps.scheduler.tick();
    await started;
    clock.advance(100);
    await env.deps.scheduler.idle();
    const [record] = (await his("team", "slow")).records;
    expect(record.msg).toBe("timed out after 100 ms");
    expect(record.endAt).not.toBeNull();
  });

  test("times limits executions of a periodic job; times 0 or absent means no limit", async () => {
    sink.requests.length = 0;
    await env.call("PUT", "/jobs/team/two", { expr: "@every 10s", callback: { http: { url: `${sink.url}/two` } }, times: 2 });
    await env.call("PUT", "/jobs/team/free", { expr: "@every 10s", callback: { http: { url: `${sink.url}/free` } }, times: 0 });
    for (let k = 1; k <= 5; k++) await moveTo(T0 + k * 10_000);
    expect(sink.requests.filter((r) => r.path === "/two")).toHaveLength(2);
    expect(sink.requests.filter((r) => r.path === "/free")).toHaveLength(5);
    expect((await his("team", "two")).times).toBe(2);
    expect((await his("team", "free")).times).toBe(5);
    expect((await env.call("GET", "/jobs/team/free")).body).not.toHaveProperty("times");
  });

  test("slots missed while no node ran: one catch-up call, and a record of the skipped slots", async () => {
    sink.requests.length = 0;
    await env.call("PUT", "/jobs/team/late", { expr: "@every 10s", callback: { http: { url: `${sink.url}/late` } } });
    await env.deps.scheduler.stop(); // down while five slots pass
    clock.set(T0 + 55_000);
    const { Scheduler } = await import("../../../src/scheduler/scheduler.ts");
    env.deps.scheduler = new Scheduler({ ...env.deps, config: env.deps.config.scheduler });
    await env.deps.scheduler.start();
    await env.deps.scheduler.idle();
    expect(sink.requests.filter((r) => r.path === "/late")).toHaveLength(1);
    const { records } = await his("team", "late");
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual({ startAt: utc(T0 + 55_000), endAt: utc(T0 + 55_000), msg: "" });
    expect(records[1]).toEqual({ startAt: utc(T0 + 55_000), endAt: utc(T0 + 55_000), msg: expect.stringContaining("missed slot(s) not run") });
  });

  test("a cron expr with seconds, CRON_TZ and a nickname fire where they should", async () => {
    sink.requests.length = 0;
    await env.call("PUT", "/jobs/team/secs", { expr: "*/20 * * * * *", callback: { http: { url: `${sink.url}/secs` } } });
    await env.call("PUT", "/jobs/team/ny", { expr: "CRON_TZ=America/New_York 0 9 * * *", callback: { http: { url: `${sink.url}/ny` } } });
    await env.call("PUT", "/jobs/team/hourly", { expr: "TZ=UTC @hourly", callback: { http: { url: `${sink.url}/hourly` } } });
    const next = async (name: string) => (await env.call("GET", `/api/v1/namespaces/team/jobs/${name}`)).body.nextFireAt;
    expect(await next("secs")).toBe("2026-06-01T12:00:20.000Z");
    expect(await next("ny")).toBe("2026-06-01T13:00:00.000Z"); // 09:00 EDT
    expect(await next("hourly")).toBe("2026-06-01T13:00:00.000Z");
    await moveTo(T0 + 20_000);
    expect(sink.requests.map((r) => r.path)).toEqual(["/secs"]);
    expect((await env.call("GET", "/jobs/team/ny")).body.expr).toBe("CRON_TZ=America/New_York 0 9 * * *");
    expect((await env.call("GET", "/jobs/team/hourly")).body.expr).toBe("@hourly"); // UTC is the default zone
  });
});

describe("replace, delete, not found", () => {
  beforeAll(() => fresh());
  afterAll(() => env.close());

  test("PUT replaces a job (200 again); DELETE answers 200 twice; then GET and /his are 404 {msg: not found}", async () => {
    expect((await env.call("PUT", "/jobs/team/j", example())).body).toEqual({ msg: "OK" });
    const again = await env.call("PUT", "/jobs/team/j", { expr: "@every 5m", callback: { tcp: { addr: "127.0.0.1:9", body: "", ack: "" } } });
    expect(again).toMatchObject({ status: 200, body: { msg: "OK" } });
    expect((await env.call("GET", "/jobs/team/j")).body).toEqual({ ns: "team", name: "j", expr: "@every 5m", callback: { tcp: { addr: "127.0.0.1:9", body: "", ack: "" } } });
    expect((await env.call("GET", "/api/v1/namespaces/team/jobs/j")).body.version).toBe(2);

    for (let i = 0; i < 2; i++) expect(await env.call("DELETE", "/jobs/team/j")).toMatchObject({ status: 200, body: { msg: "OK" } });
    expect(await env.call("GET", "/jobs/team/j")).toMatchObject({ status: 404, body: { msg: "not found" } });
    expect(await env.call("GET", "/jobs/team/j/his")).toMatchObject({ status: 404, body: { msg: "not found" } });
    expect((await env.call("GET", "/api/v1/namespaces/team/jobs/j")).status).toBe(404);
  });

  test("other methods are 405 with Allow; other paths under /jobs are 404, all as {msg}", async () => {
    const post = await env.call("POST", "/jobs/team/j", example());
    expect(post).toMatchObject({ status: 405, body: { msg: "method not allowed" } });
    expect(post.headers.get("allow")).toBe("GET, PUT, DELETE");
    expect((await env.call("DELETE", "/jobs/team/j/his")).status).toBe(405);
    expect(await env.call("GET", "/jobs/team")).toMatchObject({ status: 404, body: { msg: "not found" } });
    expect(await env.call("GET", "/jobs/team/j/his/x")).toMatchObject({ status: 404, body: { msg: "not found" } });
  });

  test("unknown fields are ignored and null optional fields are absent, as a Go decoder does", async () => {
    const put = await env.call("PUT", "/jobs/team/loose", { expr: "* * * * *", extra: 1, callback: { http: { url: sink.url, header: null, body: null, x: 1 }, tcp: null, timeout: null, retryTimes: null }, times: null, memo: null });
    expect(put.status).toBe(200);
    expect((await env.call("GET", "/jobs/team/loose")).body).toEqual({ ns: "team", name: "loose", expr: "* * * * *", callback: { http: { url: sink.url } } });
  });

  test("any Content-Type is read as JSON; durations may use tock's d unit and read back in shortest form", async () => {
    const body = { expr: "* * * * *", callback: { http: { url: sink.url }, timeout: "1d", retryTimes: 1, retryInterval: "90000ms" } };
    expect((await env.call("PUT", "/jobs/team/typed", JSON.stringify(body), { "content-type": "text/plain" })).status).toBe(200);
    expect((await env.call("GET", "/jobs/team/typed")).body.callback).toEqual({ http: { url: sink.url }, timeout: "1d", retryTimes: 1, retryInterval: "90000ms" });
  });

  test("zero values are left out of GET, as omitempty writes them; retries without an interval show the 1s used", async () => {
    const zero = { expr: "* * * * *", callback: { http: { url: sink.url, header: {}, body: "" }, retryTimes: 0, retryInterval: "5s" }, times: 0, memo: "" };
    await env.call("PUT", "/jobs/team/zero", zero);
    expect((await env.call("GET", "/jobs/team/zero")).body).toEqual({ ns: "team", name: "zero", expr: "* * * * *", callback: { http: { url: sink.url } } });
    await env.call("PUT", "/jobs/team/dflt", { expr: "* * * * *", callback: { http: { url: sink.url }, retryTimes: 2 } });
    expect((await env.call("GET", "/jobs/team/dflt")).body.callback).toEqual({ http: { url: sink.url }, retryTimes: 2, retryInterval: "1s" });
  });
});

describe("bad input", () => {
  beforeAll(() => fresh());
  afterAll(() => env.close());

  const http = { http: { url: "http://127.0.0.1:9/x" } };
  const cb = (over: Record<string, unknown>) => ({ expr: "* * * * *", callback: { ...http, ...over } });
  const tcp = (over: Record<string, unknown>) => ({ expr: "* * * * *", callback: { tcp: { addr: "127.0.0.1:9", body: TCP_BODY, ack: TCP_ACK, ...over } } });

  // 400: the body is not a DCS job (JSON, types, required fields, one callback, syntax of every value).
  const invalid: [string, unknown, string][] = [
    ["empty body", "", "body must be a JSON object"],
    ["malformed JSON", "{\"expr\":", "body is not valid JSON"],
    ["an array", [], "body must be an object"],
    ["null", "null", "body must be an object"],
    ["a lone surrogate", '{"expr":"\\ud800 * * * *","callback":{"http":{"url":"http://x/"}}}', "lone surrogate"],
    ["no expr", { callback: http }, "expr is required"],
    ["expr a number", { expr: 5, callback: http }, "expr must be a string"],
    ["expr empty", { expr: " ", callback: http }, "expr must not be empty"],
    ["expr with 3 fields", { expr: "* * *", callback: http }, "expr: a cron expression has 5 fields"],
    ["expr out of range", { expr: "61 * * * *", callback: http }, "expr: invalid cron expression"],
    ["expr with 7 fields (Quartz)", { expr: "0 0 12 * * ? 2026", callback: http }, "has 7"],
    ["expr an ISO 8601 interval", { expr: "R/2026-01-01T00:00:00Z/PT1H", callback: http }, "expr:"],
    ["@every without duration", { expr: "@every", callback: http }, "needs a Go duration"],
    ["@every negative", { expr: "@every -5m", callback: http }, "needs a Go duration"],
    ["@reboot", { expr: "@reboot", callback: http }, "unknown nickname"],
    ["unknown time zone", { expr: "CRON_TZ=Mars/Base * * * * *", callback: http }, "not an IANA time zone"],
    ["no callback", { expr: "* * * * *" }, "callback is required"],
    ["callback an array", { expr: "* * * * *", callback: [] }, "callback must be an object"],
    ["neither http nor tcp", { expr: "* * * * *", callback: { timeout: "3s" } }, "callback must have exactly one of http or tcp"],
    ["both http and tcp", cb({ tcp: { addr: "h:1", body: "", ack: "" } }), "callback must have exactly one of http or tcp"],
    ["no url", { expr: "* * * * *", callback: { http: {} } }, "callback.http.url is required"],
    ["ftp url", cb({ http: { url: "ftp://x/y" } }), "callback.http.url must be an absolute http"],
    ["relative url", cb({ http: { url: "/path" } }), "callback.http.url must be an absolute http"],
    ["header an array", cb({ http: { url: "http://x/", header: ["a"] } }), "callback.http.header must be an object"],
    ["header value a number", cb({ http: { url: "http://x/", header: { "X-A": 1 } } }), "callback.http.header.X-A must be a string"],
    ["header name with a space", cb({ http: { url: "http://x/", header: { "X A": "1" } } }), "is not a valid header name"],
    ["header value with CRLF", cb({ http: { url: "http://x/", header: { "X-A": "1\r\nX-B: 2" } } }), "must be Latin-1 text with no control characters"],
    ["header value past Latin-1", cb({ http: { url: "http://x/", header: { "X-A": "中文" } } }), "callback.http.header.X-A must be Latin-1"],
    ["tcp addr with a host no address can have", cb({ tcp: { addr: "host_x:80", body: "AA==", ack: "AA==" } }), "callback.tcp.addr must be <host>:<port>"],
    ["body a number", cb({ http: { url: "http://x/", body: 5 } }), "callback.http.body must be a string"],
    ["tcp without addr", { expr: "* * * * *", callback: { tcp: { body: "", ack: "" } } }, "callback.tcp.addr is required"],
    ["tcp addr without port", tcp({ addr: "localhost" }), "callback.tcp.addr must be <host>:<port>"],
    ["tcp body not base64", tcp({ body: "not base64!" }), "callback.tcp.body must be base64"],
    ["tcp without ack", { expr: "* * * * *", callback: { tcp: { addr: "h:1", body: "" } } }, "callback.tcp.ack is required"],
    ["timeout in words", cb({ timeout: "3 seconds" }), "callback.timeout must be a Go duration"],
    ["timeout a number", cb({ timeout: 3 }), "callback.timeout must be a string"],
    ["timeout negative", cb({ timeout: "-1s" }), "callback.timeout must be a Go duration"],
    ["retryTimes negative", cb({ retryTimes: -1 }), "callback.retryTimes must be a whole number"],
    ["retryTimes fractional", cb({ retryTimes: 1.5 }), "callback.retryTimes must be a whole number"],
    ["retryTimes a string", cb({ retryTimes: "2" }), "callback.retryTimes must be a number"],
    ["retryTimes huge", cb({ retryTimes: 1e300 }), "callback.retryTimes must be a whole number"],
    ["retryInterval bad", cb({ retryInterval: "soon" }), "callback.retryInterval must be a Go duration"],
    ["times negative", { ...cb({}), times: -1 }, "times must be a whole number"],
    ["times past 2^53", { ...cb({}), times: 2 ** 53 }, "times must be a whole number"],
    ["times a string", { ...cb({}), times: "12" }, "times must be a number"],
    ["memo a number", { ...cb({}), memo: 5 }, "memo must be a string"],
  ];
  for (const [what, body, msg] of invalid) {
    test(`400 for ${what}, and nothing is stored`, async () => {
      const r = await env.call("PUT", "/jobs/bad/j", body);
      expect(r.status).toBe(400);
      expect(Object.keys(r.body)).toEqual(["msg"]);
      expect(r.body.msg).toContain(msg);
      expect((await env.call("GET", "/jobs/bad/j")).status).toBe(404);
    });
  }

  // 422: a valid DCS job that tock cannot take (names, limits, headers it sets itself).
  const unprocessable: [string, string, unknown, string][] = [
    ["ns not a native name", "/jobs/-bad/j", cb({}), "ns must be 1-200 characters"],
    ["name too long", `/jobs/bad/${"n".repeat(201)}`, cb({}), "name must be 1-200 characters"],
    ["@every below scheduler.min_every", "/jobs/bad/j", { expr: "@every 100ms", callback: http }, "expr: @every must be at least 1s"],
    ["timeout 0s", "/jobs/bad/j", cb({ timeout: "0s" }), "callback.timeout must be longer than 0s"],
    ["timeout over 24 days", "/jobs/bad/j", cb({ timeout: "25d" }), "callback.timeout must be at most 24 days"],
    ["retryInterval 0s", "/jobs/bad/j", cb({ retryTimes: 1, retryInterval: "0s" }), "callback.retryInterval must be longer than 0s"],
    ["retryTimes over 1000", "/jobs/bad/j", cb({ retryTimes: 1001 }), "callback.retryTimes"],
    ["times over 2^31-1", "/jobs/bad/j", { ...cb({}), times: 2 ** 31 }, "times"],
    ["memo over 4096 characters", "/jobs/bad/j", { ...cb({}), memo: "m".repeat(4097) }, "memo"],
    ["a Host header", "/jobs/bad/j", cb({ http: { url: "http://x/", header: { Host: "y" } } }), "callback.http.header may not set Host"],
    ["a port past 65535", "/jobs/bad/j", tcp({ addr: "127.0.0.1:70000" }), "callback.tcp.addr port must be 1-65535"],
  ];
  for (const [what, path, body, msg] of unprocessable) {
    test(`422 for ${what}, and nothing is stored`, async () => {
      const r = await env.call("PUT", path, body);
      expect(r.status).toBe(422);
      expect(Object.keys(r.body)).toEqual(["msg"]);
      expect(r.body.msg).toContain(msg);
      expect((await env.call("GET", "/api/v1/namespaces/bad/jobs")).body.items).toEqual([]);
    });
  }

  test("422 for a bad ns or name on GET, DELETE and /his too", async () => {
    for (const [method, path] of [["GET", "/jobs/bad/-x"], ["DELETE", "/jobs/bad/-x"], ["GET", "/jobs/-bad/x/his"], ["GET", "/jobs/bad/%ED%A0%80"]]) {
      const r = await env.call(method, path);
      expect(r.status).toBe(422);
      expect(Object.keys(r.body)).toEqual(["msg"]);
    }
  });

  test("a bad PUT does not change the job it would replace", async () => {
    await env.call("PUT", "/jobs/keep/j", example());
    expect((await env.call("PUT", "/jobs/keep/j", { ...example(), expr: "* *" })).status).toBe(400);
    expect((await env.call("PUT", "/jobs/keep/j", { ...example(), expr: "@every 1ms" })).status).toBe(422);
    expect((await env.call("GET", "/jobs/keep/j")).body).toEqual({ ns: "keep", name: "j", ...example() });
    expect((await env.call("GET", "/api/v1/namespaces/keep/jobs/j")).body.version).toBe(1);
  });
});

describe("native jobs through DCS", () => {
  beforeAll(() => fresh());
  afterAll(() => env.close());

  test("a native cron job with a time zone and a JSON payload renders in DCS's shape", async () => {
    const put = await env.call("PUT", "/api/v1/namespaces/nat/jobs/cron", {
      schedule: "0 9 * * 1-5",
      timezone: "Europe/Paris",
      target: { http: { url: "http://127.0.0.1:9/n" } },
      payload: { a: 1 },
      retry: { times: 3, interval: "2s" },
      timeout: "90s",
    });
    expect(put.status).toBe(201);
    expect((await env.call("GET", "/jobs/nat/cron")).body).toEqual({
      ns: "nat",
      name: "cron",
      expr: "CRON_TZ=Europe/Paris 0 9 * * 1-5",
      callback: { http: { url: "http://127.0.0.1:9/n", header: { "Content-Type": "application/json" }, body: '{"a":1}' }, timeout: "1m30s", retryTimes: 3, retryInterval: "2s" },
    });
  });

  test("a DCS job replaced through the native API (compat cleared) still renders", async () => {
    await env.call("PUT", "/jobs/nat/both", example());
    await env.call("PUT", "/api/v1/namespaces/nat/jobs/both", { schedule: "@every 1m", target: { tcp: { addr: "127.0.0.1:9", body: "" } } });
    expect((await env.call("GET", "/jobs/nat/both")).body).toEqual({ ns: "nat", name: "both", expr: "@every 1m", callback: { tcp: { addr: "127.0.0.1:9", body: "" } } });
  });

  test("422 for a native job DCS cannot express; its /his still works", async () => {
    await env.call("PUT", "/api/v1/namespaces/nat/jobs/once", { dueTime: "1h", target: { http: { url: "http://127.0.0.1:9/" } } });
    await env.call("PUT", "/api/v1/namespaces/nat/jobs/iso", { schedule: "R/2026-01-01T00:00:00Z/PT1H", target: { http: { url: "http://127.0.0.1:9/" } } });
    await env.call("PUT", "/api/v1/namespaces/nat/jobs/get", { schedule: "* * * * *", target: { http: { url: "http://127.0.0.1:9/", method: "GET" } } });
    const once = await env.call("GET", "/jobs/nat/once");
    expect(once.status).toBe(422);
    expect(once.body.msg).toContain("has a once schedule");
    expect((await env.call("GET", "/jobs/nat/iso")).body.msg).toContain("has a iso8601 schedule");
    expect((await env.call("GET", "/jobs/nat/get")).body).toEqual({ msg: "job nat/get calls its URL with GET; DCS HTTP callbacks are always POST" });
    expect(await env.call("GET", "/jobs/nat/once/his")).toMatchObject({ status: 200, body: { ns: "nat", name: "once", times: 0, records: [] } });
  });

  test("422 for a native process job", async () => {
    const { dir, cleanup } = tempDir();
    const proc = await testEnv({ dir, config: { executors: { ...env.deps.config.executors, process: { ...env.deps.config.executors.process, enabled: true } } } });
    try {
      await putJob(proc.deps, "nat", "proc", { schedule: "* * * * *", target: { process: { command: ["true"] } } });
      const r = await proc.call("GET", "/jobs/nat/proc");
      expect(r).toMatchObject({ status: 422, body: { msg: "job nat/proc runs a process target; DCS callbacks can only be http or tcp" } });
    } finally {
      await proc.close();
      cleanup();
    }
  });
});

describe("the concurrency cap (the document's DDoS defence)", () => {
  beforeAll(() => fresh({ compat: { dcsMaxRequests: 2 } }));
  afterAll(() => env.close());

  /** A PUT whose body is held open until `release`; `reading` resolves once the handler reads it (past the cap). */
  function heldPut(path: string) {
    const text = new TextEncoder().encode(JSON.stringify(example()));
    let release!: () => void;
    let reading!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started = new Promise<void>((r) => (reading = r));
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(ctl) {
          reading();
          await gate;
          ctl.enqueue(text);
          ctl.close();
        },
      },
      { highWaterMark: 0 },
    );
    // With a Content-Length the body limit lets the request through unread: the DCS handler reads it.
    const res = env.app.request(path, { method: "PUT", body, headers: { "content-type": "application/json", "content-length": String(text.length) }, duplex: "half" } as RequestInit);
    return { res, started, release };
  }

  test("past dcs_max_requests in flight, DCS routes answer 429 {msg}; capacity comes back as requests end, errors included", async () => {
    const a = heldPut("/jobs/cap/a");
    const b = heldPut("/jobs/cap/b");
    await Promise.all([a.started, b.started]);
    for (const [method, path] of [["PUT", "/jobs/cap/c"], ["GET", "/jobs/cap/a"], ["DELETE", "/jobs/cap/a"], ["GET", "/jobs/cap/a/his"]]) {
      const r = await env.call(method, path, method === "PUT" ? example() : undefined);
      expect(r.status).toBe(429);
      expect(Object.keys(r.body)).toEqual(["msg"]);
      expect(r.body.msg).toContain("too many concurrent requests");
    }
    expect((await env.call("GET", "/api/v1/namespaces/cap/jobs")).status).toBe(200); // the native API is not capped
    a.release();
    b.release();
    expect(await (await a.res).json()).toEqual({ msg: "OK" });
    expect((await b.res).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await env.call("PUT", "/jobs/cap/c", "{")).status).toBe(400); // errors free their slot
    expect((await env.call("PUT", "/jobs/cap/c", example())).status).toBe(200);
    expect((await env.call("GET", "/api/v1/namespaces/cap/jobs")).body.items.map((j: { name: string }) => j.name)).toEqual(["a", "b", "c"]);
  });
});

describe("history on a scheduler that claims slots ahead of their time", () => {
  const stops: (() => unknown)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  test("/his counts executions, not the slots the scheduler claimed ahead of their time", async () => {
    const e = await testEnv({ start: true, config: { scheduler: { lookahead: 5000, pollInterval: 200 } } });
    const calls = startSink();
    stops.push(() => e.close(), () => calls.stop());
    expect((await e.call("PUT", "/jobs/ns/t", { expr: "@every 1s", callback: { http: { url: calls.url } } })).status).toBe(200);
    await waitUntil(() => calls.requests.length >= 1, "the first call", 5000);
    const his = await e.call("GET", "/jobs/ns/t/his");
    // Up to five slots are claimed at once; at most the one being called back may not have reached the sink.
    expect(his.body.times).toBeGreaterThanOrEqual(1);
    expect(his.body.times - calls.requests.length).toBeLessThanOrEqual(1);
  });
});

describe("cross-API: a DCS job on two nodes", () => {
  const { dir, cleanup } = tempDir();
  let a: TestEnv;
  let b: TestEnv;
  beforeAll(async () => {
    clock = new TestClock(T0);
    a = await testEnv({ dir, clock, config: { scheduler: { ...SCHEDULER, nodeId: "node-a" } } });
    b = await testEnv({ dir, clock, config: { scheduler: { ...SCHEDULER, nodeId: "node-b" } } });
    await a.deps.scheduler.start();
    await b.deps.scheduler.start();
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    cleanup();
  });

  test("is listed by the native API of the other node and fires exactly once per slot", async () => {
    sink.requests.length = 0;
    const put = await a.call("PUT", "/jobs/shared/tick", { expr: "* * * * *", callback: { http: { url: `${sink.url}/tick` } } });
    expect(put.status).toBe(200);
    const list = await b.call("GET", "/api/v1/namespaces/shared/jobs");
    expect(list.body.items.map((j: { name: string; compat: unknown }) => [j.name, j.compat])).toEqual([["tick", { api: "dcs" }]]);

    for (let k = 1; k <= 5; k++) {
      await moveTo(T0 + k * MIN, [a, b]);
      expect(sink.requests.filter((r) => r.path === "/tick")).toHaveLength(k); // this slot: one call, not two
    }
    const runs = await read(a.deps.store, "SELECT scheduled_at, node_id, status FROM runs WHERE job_name = 'tick' ORDER BY scheduled_at");
    expect(runs.map((r) => [Number(r.scheduled_at) - T0, r.status])).toEqual([1, 2, 3, 4, 5].map((k) => [k * MIN, "succeeded"]));
    expect(new Set(sink.requests.map((r) => r.headers["webhook-id"])).size).toBe(5);
    const h = (await b.call("GET", "/jobs/shared/tick/his")).body;
    expect(h.times).toBe(5);
    expect(h.records.map((r: { startAt: string }) => r.startAt)).toEqual([5, 4, 3, 2, 1].map((k) => utc(T0 + k * MIN)));
  });
});
