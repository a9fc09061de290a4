// `tock jobs import` against a server from before batch writes (POST …/jobs:batch answers 404 "no route"):
// it puts the jobs one by one instead. The server is a real HTTP server playing that older API's part.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, run } from "../e2e/process.ts";

const seen: string[] = [];
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    const { pathname } = new URL(req.url);
    seen.push(`${req.method} ${pathname}`);
    if (req.method === "GET" && pathname === "/api/v1/namespaces/old/jobs") return Response.json({ items: [], nextCursor: null });
    if (req.method === "PUT" && pathname.startsWith("/api/v1/namespaces/old/jobs/")) return Response.json({}, { status: 201 });
    return Response.json({ error: { code: "not_found", message: `no route for ${req.method} ${pathname}` } }, { status: 404 });
  },
});
afterAll(() => server.stop(true));

test("a server without batches gets one PUT per job, and the import says the same", async () => {
  const jobs = Array.from({ length: 5 }, (_, i) => ({ namespace: "old", name: `j${i}`, target: { http: { url: "http://127.0.0.1:9/" } } }));
  const { code, stdout, stderr } = await run([process.execPath, join(ROOT, "src/main.ts"), "jobs", "import", "-"], { input: JSON.stringify(jobs), env: { PATH: process.env.PATH ?? "", TOCK_SERVER: `http://127.0.0.1:${server.port}` } });
  expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "5 jobs: 5 created, 0 updated, 0 unchanged, 0 failed\n", stderr: "" });
  expect(seen.filter((s) => s === "POST /api/v1/namespaces/old/jobs:batch")).toHaveLength(1); // asked once
  expect(seen.filter((s) => s.startsWith("PUT ")).sort()).toEqual(jobs.map((j) => `PUT /api/v1/namespaces/old/jobs/${j.name}`));
}, 30_000);
