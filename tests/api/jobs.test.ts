import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClock } from "../../src/clock.ts";
import { type TestEnv, testEnv } from "../helpers.ts";

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
let env: TestEnv;
const clock = new TestClock(T0);

beforeAll(async () => {
  env = await testEnv({ clock });
});
afterAll(() => env.close());

const job = (over: Record<string, unknown> = {}) => ({
  schedule: "*/5 * * * *",
  target: { http: { url: "http://127.0.0.1:9/hook" } },
  ...over,
});

describe("PUT /api/v1/namespaces/{ns}/jobs/{name}", () => {
  test("creates a job (201) and answers it as stored, with nextFireAt and counters", async () => {
    const res = await env.call("PUT", "/api/v1/namespaces/default/jobs/report", job({ memo: "nightly", labels: { team: "a" }, payload: { x: 1 } }));
    expect(res.status).toBe(201);
    expect(res.headers.get("etag")).toBe('"1"');
    expect(res.body).toMatchObject({
      namespace: "default",
      name: "report",
      schedule: "*/5 * * * *",
      timezone: "UTC",
      enabled: true,
      status: "scheduled",
      target: { http: { url: "http://127.0.0.1:9/hook", method: "POST" } },
      overlap: "forbid",
      misfire: "once",
      payload: { x: 1 },
      memo: "nightly",
      labels: { team: "a" },
      firedCount: 0,
      nextFireAt: "2026-06-01T12:05:00.000Z",
      createdAt: "2026-06-01T12:00:00.000Z",
      updatedAt: "2026-06-01T12:00:00.000Z",
    });
  });

  test("replaces an existing job (200) and keeps its creation time", async () => {
    clock.advance(1000);
    const res = await env.call("PUT", "/api/v1/namespaces/default/jobs/report", job({ schedule: "0 * * * *" }));
    expect(res.status).toBe(200);
    expect(res.body.schedule).toBe("0 * * * *");
    expect(res.body.createdAt).toBe("2026-06-01T12:00:00.000Z");
    expect(res.body.updatedAt).toBe("2026-06-01T12:00:01.000Z");
    expect(res.body.nextFireAt).toBe("2026-06-01T13:00:00.000Z");
    expect(res.body.version).toBe(2);
  });

  test("If-None-Match: * refuses to replace (409), If-Match checks the version (409)", async () => {
    const a = await env.call("PUT", "/api/v1/namespaces/default/jobs/report", job(), { "if-none-match": "*" });
    expect(a.status).toBe(409);
    expect(a.body.error.code).toBe("conflict");
    const b = await env.call("PUT", "/api/v1/namespaces/default/jobs/report", job(), { "if-match": '"1"' });
    expect(b.status).toBe(409);
    const c = await env.call("PUT", "/api/v1/namespaces/default/jobs/report", job({ memo: "v3" }), { "if-match": '"2"' });
    expect(c.status).toBe(200);
    expect(c.body.version).toBe(3);
    const d = await env.call("PUT", "/api/v1/namespaces/default/jobs/absent", job(), { "if-match": '"1"' });
    expect(d.status).toBe(404);
    expect((await env.call("GET", "/api/v1/namespaces/default/jobs/absent")).status).toBe(404);
  });

  test("accepts every schedule kind", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["every", { schedule: "@every 1h30m" }, "every"],
      ["once-duration", { schedule: undefined, dueTime: "30s" }, "once"],
      ["once-instant", { schedule: undefined, dueTime: "2026-07-01T00:00:00Z" }, "once"],
      ["iso", { schedule: "R5/2026-06-01T00:00:00Z/P1D" }, "iso8601"],
      ["manual", { schedule: undefined }, "manual"],
      ["nickname", { schedule: "@daily", timezone: "America/New_York" }, "cron"],
      ["seconds", { schedule: "*/10 * * * * *" }, "cron"],
      ["tcp", { target: { tcp: { addr: "127.0.0.1:9", body: "aGVsbG8=", ack: "b2s=" } } }, "cron"],
    ];
    for (const [name, over, kind] of cases) {
      const res = await env.call("PUT", `/api/v1/namespaces/kinds/jobs/${name}`, job(over));
      expect(res.status, name).toBe(201);
      expect(res.body.scheduleKind, name).toBe(kind);
    }
    const manual = await env.call("GET", "/api/v1/namespaces/kinds/jobs/manual");
    expect(manual.body.status).toBe("manual");
    expect(manual.body.nextFireAt).toBeNull();
  });
});

describe("bad input", () => {
  const bad: [string, unknown, number, string | undefined][] = [
    ["unknown field", job({ shedule: "x" }), 400, "shedule"],
    ["bad cron", job({ schedule: "61 * * * *" }), 400, "schedule"],
    ["cron that never fires", job({ schedule: "0 0 31 2 *" }), 400, "schedule"],
    ["zero period", job({ schedule: "R5/PT0S" }), 400, "schedule"],
    ["@every 0s", job({ schedule: "@every 0s" }), 400, "schedule"],
    ["bad timezone", job({ timezone: "Mars/Olympus" }), 400, "timezone"],
    ["no target", { schedule: "@hourly" }, 400, "target"],
    ["two targets", job({ target: { http: { url: "http://a/" }, tcp: { addr: "a:1", body: "" } } }), 400, "target"],
    ["relative url", job({ target: { http: { url: "/hook" } } }), 400, "target.http.url"],
    ["ftp url", job({ target: { http: { url: "ftp://x/y" } } }), 400, "target.http.url"],
    ["bad method", job({ target: { http: { url: "http://a/", method: "FETCH" } } }), 400, "target.http.method"],
    ["reserved header", job({ target: { http: { url: "http://a/", headers: { "webhook-id": "x" } } } }), 400, "target.http.headers"],
    ["bad tcp addr", job({ target: { tcp: { addr: "nohost", body: "" } } }), 400, "target.tcp.addr"],
    ["bad base64", job({ target: { tcp: { addr: "a:1", body: "!!" } } }), 400, "target.tcp.body"],
    ["bad timeout", job({ timeout: "soon" }), 400, "timeout"],
    ["negative repeats", job({ repeats: -1 }), 400, "repeats"],
    ["bad retry", job({ retry: { times: 2, backoff: "random" } }), 400, "retry.backoff"],
    ["bad overlap", job({ overlap: "sometimes" }), 400, "overlap"],
    ["bad misfire", job({ misfire: "twice" }), 400, "misfire"],
    ["bad dueTime", job({ dueTime: "tomorrow" }), 400, "dueTime"],
    ["bad ttl", job({ ttl: "forever" }), 400, "ttl"],
    ["not an object", [1, 2], 400, undefined],
  ];
  for (const [name, body, status, field] of bad) {
    test(`${name}: ${status} naming ${field ?? "the body"}, nothing written`, async () => {
      const res = await env.call("PUT", "/api/v1/namespaces/bad/jobs/x", body);
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe("invalid");
      expect(typeof res.body.error.message).toBe("string");
      if (field) expect(res.body.error.field).toBe(field);
      const list = await env.call("GET", "/api/v1/namespaces/bad/jobs");
      expect(list.body.items).toEqual([]);
    });
  }

  test("malformed JSON is 400, another content type 415, a huge body 413", async () => {
    const a = await env.call("PUT", "/api/v1/namespaces/bad/jobs/x", "{not json");
    expect(a.status).toBe(400);
    expect(a.body.error.field).toBe("body");
    const b = await env.call("PUT", "/api/v1/namespaces/bad/jobs/x", "schedule=1", { "content-type": "application/x-www-form-urlencoded" });
    expect(b.status).toBe(415);
    expect(b.body.error.code).toBe("unsupported_media_type");
    const huge = JSON.stringify(job({ memo: "x".repeat(2 * 1024 * 1024) }));
    const c = await env.call("PUT", "/api/v1/namespaces/bad/jobs/x", huge);
    expect(c.status).toBe(413);
    expect(c.body.error.code).toBe("too_large");
    expect((await env.call("GET", "/api/v1/namespaces/bad/jobs")).body.items).toEqual([]);
  });

  test("bad names, ids and query parameters are 400; unknown routes 404", async () => {
    expect((await env.call("PUT", "/api/v1/namespaces/bad/jobs/-x", job())).body.error.field).toBe("name");
    expect((await env.call("PUT", `/api/v1/namespaces/${"n".repeat(300)}/jobs/x`, job())).body.error.field).toBe("namespace");
    expect((await env.call("GET", "/api/v1/runs/abc")).status).toBe(400);
    expect((await env.call("GET", "/api/v1/runs/999999")).status).toBe(404);
    expect((await env.call("GET", "/api/v1/namespaces/default/jobs?limit=0")).body.error.field).toBe("limit");
    expect((await env.call("GET", "/api/v1/namespaces/default/jobs?cursor=zzz")).body.error.field).toBe("cursor");
    expect((await env.call("GET", "/api/v1/namespaces/default/jobs/report/runs?status=done")).body.error.field).toBe("status");
    const nf = await env.call("GET", "/api/v1/nope");
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe("not_found");
  });
});

describe("listing, paging, removal", () => {
  test("lists by name with prefix and cursor paging", async () => {
    for (const n of ["a1", "a2", "a3", "b1"]) expect((await env.call("PUT", `/api/v1/namespaces/list/jobs/${n}`, job())).status).toBe(201);
    const p1 = await env.call("GET", "/api/v1/namespaces/list/jobs?limit=2");
    expect(p1.body.items.map((j: { name: string }) => j.name)).toEqual(["a1", "a2"]);
    expect(p1.body.nextCursor).toBeString();
    const p2 = await env.call("GET", `/api/v1/namespaces/list/jobs?limit=2&cursor=${p1.body.nextCursor}`);
    expect(p2.body.items.map((j: { name: string }) => j.name)).toEqual(["a3", "b1"]);
    expect(p2.body.nextCursor).toBeNull();
    const pre = await env.call("GET", "/api/v1/namespaces/list/jobs?prefix=a");
    expect(pre.body.items.map((j: { name: string }) => j.name)).toEqual(["a1", "a2", "a3"]);
    const other = await env.call("GET", "/api/v1/namespaces/elsewhere/jobs");
    expect(other.body).toEqual({ items: [], nextCursor: null });
  });

  test("DELETE removes a job (204), then 404", async () => {
    expect((await env.call("DELETE", "/api/v1/namespaces/list/jobs/b1")).status).toBe(204);
    expect((await env.call("GET", "/api/v1/namespaces/list/jobs/b1")).status).toBe(404);
    expect((await env.call("DELETE", "/api/v1/namespaces/list/jobs/b1")).status).toBe(404);
  });
});

describe("pause, resume, trigger, runs", () => {
  test("pause clears nextFireAt; resume computes it from now", async () => {
    await env.call("PUT", "/api/v1/namespaces/p/jobs/j", job({ schedule: "@every 1m" }));
    const paused = await env.call("POST", "/api/v1/namespaces/p/jobs/j/pause");
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ enabled: false, status: "paused", nextFireAt: null });
    clock.advance(10 * 60_000);
    const resumed = await env.call("POST", "/api/v1/namespaces/p/jobs/j/resume");
    expect(resumed.body.enabled).toBe(true);
    expect(Date.parse(resumed.body.nextFireAt)).toBeGreaterThan(clock.now());
    expect(Date.parse(resumed.body.nextFireAt) - clock.now()).toBeLessThanOrEqual(60_000);
  });

  test("trigger queues a manual run (202) visible in the job's runs and by id", async () => {
    const t = await env.call("POST", "/api/v1/namespaces/p/jobs/j/trigger");
    expect(t.status).toBe(202);
    expect(t.body).toMatchObject({ namespace: "p", jobName: "j", status: "queued", trigger: "manual", attempt: 1 });
    const t2 = await env.call("POST", "/api/v1/namespaces/p/jobs/j/trigger");
    expect(t2.body.id).not.toBe(t.body.id);
    const runs = await env.call("GET", "/api/v1/namespaces/p/jobs/j/runs?limit=1");
    expect(runs.body.items).toHaveLength(1);
    expect(runs.body.items[0].id).toBe(t2.body.id);
    const more = await env.call("GET", `/api/v1/namespaces/p/jobs/j/runs?limit=1&cursor=${runs.body.nextCursor}`);
    expect(more.body.items[0].id).toBe(t.body.id);
    const one = await env.call("GET", `/api/v1/runs/${t.body.id}`);
    expect(one.body).toMatchObject({ id: t.body.id, jobName: "j", status: "queued", webhookId: String(t.body.id) });
    for (const k of ["scheduledAt", "startedAt", "endedAt", "result", "error"]) expect(k in one.body).toBe(true);
    expect((await env.call("POST", "/api/v1/namespaces/p/jobs/none/trigger")).status).toBe(404);
  });
});

describe("system", () => {
  test("healthz answers; readyz says not ready while the scheduler is stopped", async () => {
    expect((await env.call("GET", "/healthz")).status).toBe(200);
    const r = await env.call("GET", "/readyz");
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ database: "ok", scheduler: "stopped" });
  });

  test("schedule preview lists next fire times and flags DST gaps", async () => {
    const res = await env.call("GET", "/api/v1/schedule/preview?spec=30%202%20*%20*%20*&timezone=America/New_York&count=3");
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(3);
    const bad = await env.call("GET", "/api/v1/schedule/preview?spec=nope");
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBeString();
  });
});

describe("text that is not Unicode", () => {
  test("a lone surrogate escape anywhere in a body is a 400 naming the field, and nothing is stored", async () => {
    const body = '{"target":{"http":{"url":"http://127.0.0.1:9/x"}},"labels":{"team":"a\\ud800b"}}';
    const res = await env.call("PUT", "/api/v1/namespaces/u/jobs/j", body);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe("labels.team");
    const memo = await env.call("PUT", "/api/v1/namespaces/u/jobs/j", '{"target":{"http":{"url":"http://127.0.0.1:9/x"}},"memo":"\\udfff"}');
    expect(memo.body.error.field).toBe("memo");
    expect((await env.call("GET", "/api/v1/namespaces/u/jobs/j")).status).toBe(404);
    const ok = await env.call("PUT", "/api/v1/namespaces/u/jobs/j", { target: { http: { url: "http://127.0.0.1:9/x" } }, memo: "\u{1F600} fine" });
    expect(ok.status).toBe(201);
  });
});
