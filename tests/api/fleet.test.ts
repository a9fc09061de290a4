// Views across jobs and namespaces: the namespaces in use with their job counts, runs across jobs by status
// and time window, what fires next, and a namespace's jobs by next fire time; each scoped to what a key sees.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestClock } from "../../src/clock.ts";
import { createKey } from "../../src/domain/keys.ts";
import { startSink, type TestEnv, testEnv } from "../helpers.ts";

const T0 = Date.UTC(2026, 5, 1, 12);
const clock = new TestClock(T0);
const sink = startSink((req) => new Response("x", { status: req.path.startsWith("/fail") ? 500 : 200 }));
let env: TestEnv;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  env = await testEnv({ clock, start: true, config: { auth: { mode: "keys" } as never } });
  const admin = (await createKey(env.deps, { role: "admin", allNamespaces: true })).token;
  const put = (ns: string, name: string, body: object) => env.call("PUT", `/api/v1/namespaces/${ns}/jobs/${name}`, body, bearer(admin));
  // Namespace a: two one-shots due in 1 s and 2 s (one fails), one hourly; b: one in 3 s; c: a paused job.
  expect((await put("a", "ok", { dueTime: new Date(T0 + 1000).toISOString(), target: { http: { url: `${sink.url}/ok` } } })).status).toBe(201);
  expect((await put("a", "bad", { dueTime: new Date(T0 + 2000).toISOString(), target: { http: { url: `${sink.url}/fail` } } })).status).toBe(201);
  expect((await put("a", "hourly", { schedule: "@every 1h", target: { http: { url: `${sink.url}/h` } } })).status).toBe(201);
  expect((await put("b", "soon", { dueTime: new Date(T0 + 3000).toISOString(), target: { http: { url: `${sink.url}/fail-b` } } })).status).toBe(201);
  expect((await put("c", "paused", { schedule: "@every 1h", enabled: false, target: { http: { url: `${sink.url}/p` } } })).status).toBe(201);
  adminKey = admin;
  // Claimed ahead: the one-shots are queued runs now, the hourly job has its next slot.
  await env.deps.scheduler.tick();
  await env.deps.scheduler.idle();
});
/** A reader key for `namespaces`, known to the server at once. */
async function reader(namespaces: string[]): Promise<string> {
  const { token } = await createKey(env.deps, { role: "reader", namespaces });
  await env.deps.keys.refresh();
  return token;
}
let adminKey = "";
afterAll(async () => {
  await env.close();
  sink.stop();
});

const get = async (path: string, token = adminKey) => env.call("GET", path, undefined, bearer(token));

test("GET /api/v1/namespaces lists the namespaces with their job counts; a scoped key sees its own", async () => {
  expect((await get("/api/v1/namespaces")).body).toEqual({
    items: [
      { namespace: "a", jobs: 3 },
      { namespace: "b", jobs: 1 },
      { namespace: "c", jobs: 1 },
    ],
    nextCursor: null,
  });
  const onlyB = await reader(["b"]);
  expect((await get("/api/v1/namespaces", onlyB)).body.items).toEqual([{ namespace: "b", jobs: 1 }]);
});

test("GET /api/v1/upcoming: what fires next across namespaces, soonest first (runs claimed ahead and jobs' next slots), paged", async () => {
  const names = (items: { namespace: string; name: string }[]) => items.map((j) => `${j.namespace}/${j.name}`);
  const r = await get("/api/v1/upcoming?limit=2");
  expect(names(r.body.items)).toEqual(["a/ok", "a/bad"]);
  expect(r.body.items[0]).toMatchObject({ at: new Date(T0 + 1000).toISOString(), runId: expect.any(Number) });
  const next = await get(`/api/v1/upcoming?limit=10&cursor=${r.body.nextCursor}`);
  expect(names(next.body.items)).toEqual(["b/soon", "a/hourly"]); // the paused job is not in it
  expect(next.body.items[1]).toMatchObject({ at: new Date(T0 + 3_600_000).toISOString(), runId: null });
  expect(next.body.nextCursor).toBeNull();
  const onlyB = await reader(["b"]);
  expect(names((await get("/api/v1/upcoming", onlyB)).body.items)).toEqual(["b/soon"]);
  expect(names((await get("/api/v1/upcoming?namespace=a&limit=1")).body.items)).toEqual(["a/ok"]);
});

test("a namespace's jobs sorted by next fire time, those with none last", async () => {
  // (The one-shots' slots are claimed: they have no next fire any more.)
  const r = await get("/api/v1/namespaces/a/jobs?sort=nextFireAt&limit=2");
  expect(r.body.items.map((j: { name: string }) => j.name)).toEqual(["hourly", "bad"]);
  const rest = await get(`/api/v1/namespaces/a/jobs?sort=nextFireAt&cursor=${r.body.nextCursor}`);
  expect(rest.body.items.map((j: { name: string }) => j.name)).toEqual(["ok"]);
  expect((await get("/api/v1/namespaces/c/jobs?sort=nextFireAt")).body.items.map((j: { name: string }) => j.name)).toEqual(["paused"]);
  const bad = await get("/api/v1/namespaces/a/jobs?sort=size");
  expect(bad.status).toBe(400);
  expect(bad.body.error.field).toBe("sort");
});

test("GET /api/v1/runs: runs across jobs by status and time window, newest slot first, paged", async () => {
  await env.deps.scheduler.tick();
  clock.advance(3500);
  await env.deps.scheduler.idle();
  const failed = await get("/api/v1/runs?status=failed");
  expect(failed.body.items.map((r: { namespace: string; jobName: string }) => `${r.namespace}/${r.jobName}`)).toEqual(["b/soon", "a/bad"]);
  const all = await get("/api/v1/runs?limit=1");
  expect(all.body.items).toHaveLength(1);
  const pages = [all.body.items[0].id];
  let cursor = all.body.nextCursor;
  while (cursor) {
    const p = await get(`/api/v1/runs?limit=1&cursor=${cursor}`);
    pages.push(...p.body.items.map((r: { id: number }) => r.id));
    cursor = p.body.nextCursor;
  }
  expect(pages).toHaveLength(3); // ok, bad, soon (the hourly job's first slot is an hour away)
  expect(new Set(pages).size).toBe(3);
  // A window: "since 1.5 s ago" (slots from T0 + 2 s) holds the last two; an RFC 3339 bound works the same.
  expect((await get("/api/v1/runs?since=1500ms")).body.items.map((r: { jobName: string }) => r.jobName)).toEqual(["soon", "bad"]);
  const until = new Date(T0 + 1500).toISOString();
  expect((await get(`/api/v1/runs?namespace=a&until=${until}`)).body.items.map((r: { jobName: string }) => r.jobName)).toEqual(["ok"]);
  const onlyA = await reader(["a"]);
  expect((await get("/api/v1/runs?status=failed", onlyA)).body.items.map((r: { jobName: string }) => r.jobName)).toEqual(["bad"]);
  for (const [q, field] of [["status=broken", "status"], ["since=yesterday", "since"], ["until=2026-13-01", "until"], ["cursor=zzz", "cursor"]]) {
    const r = await get(`/api/v1/runs?${q}`);
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe(field);
  }
});
