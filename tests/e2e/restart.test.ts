// The built binary, run alone outside the project: serve, fire a real sink, survive kill -9.
import { afterAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { startSink, tempDir, waitUntil } from "../helpers.ts";
import { scrapeChecked, value } from "../prometheus.ts";
import { api, buildBinary, type Proc, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-e2e-");
const procs: Proc[] = [];
// /hang answers only after 60 s: a run in flight when the process is killed.
let hang = true;
const sink = startSink(async (req) => {
  if (req.path === "/hang" && hang) await new Promise((r) => setTimeout(r, 60_000));
  return new Response("ok");
});
afterAll(() => {
  for (const p of procs) p.child.kill("SIGKILL");
  sink.stop();
  cleanup();
});

const env = {
  TOCK_DATABASE_URL: `file:${join(dir, "tock.db")}`,
  TOCK_SCHEDULER_NODE_ID: "e2e-node",
  TOCK_SCHEDULER_POLL_INTERVAL: "200ms",
  TOCK_SCHEDULER_LOOKAHEAD: "1s",
  TOCK_SCHEDULER_MISFIRE_THRESHOLD: "1s",
  TOCK_SCHEDULER_SHUTDOWN_GRACE: "1s",
};

test("the built binary fires @every 1s with webhook-id, and keeps every job and run across kill -9", async () => {
  const bin = buildBinary(join(dir, "bin"));
  const first = await startTock([bin, "serve"], { cwd: join(dir, "bin"), env });
  procs.push(first);
  const base = first.url;
  expect((await api(base, "GET", "/readyz")).status).toBe(200);
  // The binary creates its database file readable by its owner only, and SQLite's -wal takes that mode.
  const db = join(dir, "tock.db");
  expect([statSync(db).mode & 0o777, statSync(`${db}-wal`).mode & 0o777]).toEqual([0o600, 0o600]);

  const every = { schedule: "@every 1s", target: { http: { url: `${sink.url}/every` } } };
  expect((await api(base, "PUT", "/api/v1/namespaces/e2e/jobs/every", every)).status).toBe(201);
  expect((await api(base, "PUT", "/api/v1/namespaces/e2e/jobs/skipper", { ...every, misfire: "skip", target: { http: { url: `${sink.url}/skip` } } })).status).toBe(201);
  expect((await api(base, "PUT", "/api/v1/namespaces/e2e/jobs/hang", { dueTime: "1s", timeout: "2m", target: { http: { url: `${sink.url}/hang` } } })).status).toBe(201);

  await waitUntil(() => sink.requests.filter((r) => r.path === "/every").length >= 2 && sink.requests.some((r) => r.path === "/hang"), "first fires");
  const everyReqs = sink.requests.filter((r) => r.path === "/every");
  for (const r of everyReqs) expect(r.headers["webhook-id"]).toMatch(/^\d+$/);
  const before = (await api(base, "GET", "/api/v1/namespaces/e2e/jobs/every/runs?limit=1000")).body.items;
  const hangRun = (await api(base, "GET", "/api/v1/namespaces/e2e/jobs/hang/runs")).body.items[0];
  expect(hangRun.status).toBe("running");
  // Its metrics, in Prometheus's format (promtool's check): the runs that ended, the one in flight.
  const metrics = await scrapeChecked(base);
  expect(value(metrics, "tock_runs_finished_total", { target: "http", status: "succeeded" })).toBeGreaterThanOrEqual(1);
  expect(value(metrics, "tock_runs_in_flight")).toBeGreaterThanOrEqual(1);
  expect(value(metrics, "tock_build_info")).toBe(1);

  first.child.kill("SIGKILL");
  expect(await first.exited).toBe("SIGKILL");
  await new Promise((r) => setTimeout(r, 3_000)); // slots pass while the node is down
  hang = false;
  const downFrom = Date.now() - 3_000;

  const second = await startTock([bin, "serve"], { cwd: join(dir, "bin"), env });
  procs.push(second);
  const base2 = second.url;
  const jobs = (await api(base2, "GET", "/api/v1/namespaces/e2e/jobs")).body.items.map((j: { name: string }) => j.name);
  expect(jobs).toEqual(["every", "hang", "skipper"]);

  // The run in flight at the kill is recorded lost, and a recovery attempt of the same slot delivers it again.
  await waitUntil(async () => (await api(base2, "GET", "/api/v1/namespaces/e2e/jobs/hang/runs")).body.items.some((r: { status: string; trigger: string }) => r.trigger === "recovery" && r.status === "succeeded"), "recovery");
  const hangRuns = (await api(base2, "GET", "/api/v1/namespaces/e2e/jobs/hang/runs")).body.items;
  expect(hangRuns.map((r: { status: string; trigger: string; attempt: number }) => [r.status, r.trigger, r.attempt])).toEqual([
    ["succeeded", "recovery", 2],
    ["lost", "schedule", 1],
  ]);
  const hangIds = sink.requests.filter((r) => r.path === "/hang").map((r) => r.headers["webhook-id"]);
  expect(new Set(hangIds)).toEqual(new Set([String(hangRun.id)]));

  await waitUntil(() => sink.requests.filter((r) => r.path === "/every" && r.at > downFrom + 3_000).length >= 2, "firing again");
  const after = (await api(base2, "GET", "/api/v1/namespaces/e2e/jobs/every/runs?limit=1000")).body.items;
  // Every run recorded before the kill is still there, unchanged or finished.
  const afterIds = new Set(after.map((r: { id: number }) => r.id));
  for (const r of before) expect(afterIds.has(r.id)).toBe(true);
  // No slot fired twice: one first attempt per slot, and the sink saw each webhook-id once.
  const firstAttempts = after.filter((r: { attempt: number }) => r.attempt === 1).map((r: { scheduledAt: string }) => r.scheduledAt);
  expect(new Set(firstAttempts).size).toBe(firstAttempts.length);
  const everyIds = sink.requests.filter((r) => r.path === "/every").map((r) => r.headers["webhook-id"]);
  expect(new Set(everyIds).size).toBe(everyIds.length);
  // Misfire: `once` ran one run for the slots missed while down (and noted the rest); `skip` ran none.
  const coalesced = after.filter((r: { status: string; error: string | null }) => r.status === "skipped" && r.error?.startsWith("misfire"));
  expect(coalesced.length).toBe(1);
  const skipRuns = (await api(base2, "GET", "/api/v1/namespaces/e2e/jobs/skipper/runs?limit=1000")).body.items;
  const skippedDown = skipRuns.filter((r: { status: string }) => r.status === "skipped");
  expect(skippedDown.length).toBe(1);
  const skipFiredWhileDown = skipRuns.filter(
    (r: { status: string; scheduledAt: string }) => r.status === "succeeded" && Date.parse(r.scheduledAt) > downFrom + 1_000 && Date.parse(r.scheduledAt) < downFrom + 2_500,
  );
  expect(skipFiredWhileDown).toEqual([]);

  second.child.kill("SIGTERM");
  expect(await second.exited).toBe(0);
}, 60_000);
