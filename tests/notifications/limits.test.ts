// Notifications held to [notify] min_interval, and a receiver that fails: on a clock the test moves, so the
// window and the backoff are exact whatever the machine's speed.
import { afterAll, expect, test } from "bun:test";
import { TestClock } from "../../src/clock.ts";
import { startSink, testEnv, waitUntil } from "../helpers.ts";

const target = startSink(() => new Response("down", { status: 500 }));
let refusals = 0;
const receiver = startSink((req) => (req.path === "/flaky" && refusals++ < 2 ? new Response("busy", { status: 503 }) : new Response("ok")));
afterAll(() => {
  target.stop();
  receiver.stop();
});

const job = (path: string) => ({ target: { http: { url: `${target.url}/x` } }, notify: [{ on: ["failure"], http: { url: `${receiver.url}${path}` } }] });
const docs = (path: string) => receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body));

test("one job's failures send one notification per min_interval; the next says how many were held back", async () => {
  const clock = new TestClock(Date.now());
  const env = await testEnv({ clock, start: true, config: { scheduler: { pollInterval: 60_000, maxClockSkew: 0 }, notify: { minInterval: 300_000, namespaces: {} } } });
  const list = async () => (await env.call("GET", "/api/v1/namespaces/r/notifications")).body.items as { status: string; document: Record<string, unknown> }[];
  try {
    await env.call("PUT", "/api/v1/namespaces/r/jobs/failing", job("/limited"));
    const fail = async (n: number) => {
      await env.call("POST", "/api/v1/namespaces/r/jobs/failing/trigger");
      await waitUntil(async () => (await list()).filter((i) => i.status !== "pending").length === n, `${n} notifications settled`);
    };
    await fail(1);
    clock.advance(60_000);
    await fail(2);
    await fail(3);
    expect((await list()).map((i) => i.status)).toEqual(["suppressed", "suppressed", "delivered"]);
    expect(docs("/limited").length).toBe(1);
    // Past the window: the next one is sent, saying two were held back.
    clock.advance(300_000);
    await fail(4);
    expect(docs("/limited").length).toBe(2);
    expect(docs("/limited")[1]).toMatchObject({ event: "failure", suppressed: 2 });
    expect((await list())[0]).toMatchObject({ status: "delivered", document: { suppressed: 2 } });
    expect(docs("/limited")[0].suppressed).toBeUndefined();
  } finally {
    await env.close();
  }
});

test("a receiver that fails twice gets the notification on the third attempt, after the backoff", async () => {
  const clock = new TestClock(Date.now());
  const env = await testEnv({ clock, start: true, config: { scheduler: { pollInterval: 60_000, maxClockSkew: 0 }, notify: { minInterval: 0, namespaces: {} } } });
  const item = async () => (await env.call("GET", "/api/v1/namespaces/r/notifications")).body.items[0] as { status: string; attempts: number; lastError: string | null };
  try {
    await env.call("PUT", "/api/v1/namespaces/r/jobs/failing", job("/flaky"));
    await env.call("POST", "/api/v1/namespaces/r/jobs/failing/trigger");
    await waitUntil(async () => (await item())?.attempts === 1, "the first attempt");
    expect(await item()).toMatchObject({ status: "pending", lastError: expect.stringContaining("503") });
    clock.advance(1000); // the first backoff
    await waitUntil(async () => (await item()).attempts === 2, "the second attempt");
    expect((await item()).status).toBe("pending");
    clock.advance(2000);
    await waitUntil(async () => (await item()).status === "delivered", "delivered");
    expect(await item()).toMatchObject({ attempts: 3, lastError: null });
    expect(docs("/flaky").length).toBe(3);
    expect(new Set(receiver.requests.filter((r) => r.path === "/flaky").map((r) => r.headers["webhook-id"])).size).toBe(1);
  } finally {
    await env.close();
  }
});

test("slots missed while no node ran, and not run by the misfire policy, send a misfire notification", async () => {
  const clock = new TestClock(Date.now());
  const env = await testEnv({ clock, config: { scheduler: { pollInterval: 60_000, maxClockSkew: 0, misfireThreshold: 5000 }, notify: { minInterval: 0, namespaces: {} } } });
  try {
    const body = { schedule: "@every 1m", misfire: "skip", target: { http: { url: `${receiver.url}/fine` } }, notify: [{ on: ["misfire"], http: { url: `${receiver.url}/misfire` } }] };
    expect((await env.call("PUT", "/api/v1/namespaces/r/jobs/late", body)).status).toBe(201);
    clock.advance(10 * 60_000 + 10_000); // ten slots pass with no node running
    await env.start();
    await waitUntil(() => docs("/misfire").length === 1, "the misfire notification");
    expect(docs("/misfire")[0]).toMatchObject({ event: "misfire", namespace: "r", job: "late", status: "skipped", error: expect.stringContaining("missed slot") });
  } finally {
    await env.close();
  }
});

test("a run killed before it started sends its killed notification, written with the kill", async () => {
  const env = await testEnv({ config: { notify: { minInterval: 0, namespaces: {} } } });
  try {
    const body = { target: { http: { url: `${receiver.url}/never` } }, notify: [{ on: ["killed"], http: { url: `${receiver.url}/killed` } }] };
    await env.call("PUT", "/api/v1/namespaces/r/jobs/waiting", body);
    const run = (await env.call("POST", "/api/v1/namespaces/r/jobs/waiting/trigger")).body.id; // queued: no node runs yet
    expect((await env.call("POST", `/api/v1/runs/${run}/kill`)).body.status).toBe("killed");
    const [n] = (await env.call("GET", "/api/v1/namespaces/r/notifications")).body.items;
    expect(n).toMatchObject({ event: "killed", status: "pending", document: { event: "killed", job: "waiting", run, status: "killed" } });
    await env.start();
    await waitUntil(() => docs("/killed").length === 1, "the notification sent");
    expect(docs("/never")).toEqual([]);
  } finally {
    await env.close();
  }
});
