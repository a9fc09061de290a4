// Deno smoke test: the same sources served by `deno run`; a job created over HTTP calls a real sink.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startSink, tempDir } from "../helpers.ts";
import { api, type Proc, ROOT, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-deno-");
const sink = startSink();
let proc: Proc | undefined;
afterAll(() => {
  proc?.child.kill("SIGKILL");
  sink.stop();
  cleanup();
});

test("tock runs on Deno: create a job, its callback arrives", async () => {
  proc = await startTock([join(ROOT, "node_modules/.bin/deno"), "run", "-A", join(ROOT, "src/main.ts"), "serve"], {
    cwd: ROOT,
    env: { TOCK_DATABASE_URL: `file:${join(dir, "tock.db")}`, TOCK_SCHEDULER_NODE_ID: "deno-node", TOCK_SCHEDULER_POLL_INTERVAL: "200ms", DENO_NO_UPDATE_CHECK: "1" },
    timeoutMs: 60_000,
  });
  expect(proc.logs.join("\n")).toContain('"runtime":"deno"');
  const put = await api(proc.url, "PUT", "/api/v1/namespaces/deno/jobs/hello", { dueTime: "500ms", payload: { from: "deno" }, target: { http: { url: `${sink.url}/deno` } } });
  expect(put.status).toBe(201);
  await sink.waitFor(1, 15_000);
  expect(sink.requests[0]).toMatchObject({ path: "/deno", body: JSON.stringify({ from: "deno" }) });
  expect(sink.requests[0].headers["webhook-id"]).toMatch(/^\d+$/);
  const runs = await api(proc.url, "GET", "/api/v1/namespaces/deno/jobs/hello/runs");
  expect(runs.body.items[0].jobName).toBe("hello");
  proc.child.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
}, 90_000);
