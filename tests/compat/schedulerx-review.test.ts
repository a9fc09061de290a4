// SchedulerX problems a review reproduced, pinned by the behaviour that was wrong.
import { expect, test } from "bun:test";
import { closeEnvs, create, env, execute, NS, sx } from "./schedulerx-helpers.ts";

closeEnvs();

test("HEAD on a mutating endpoint is refused (405) and changes nothing", async () => {
  const e = await env();
  const jobId = await create(e, { jobType: "shell", name: "j", content: "true", timeType: 100 });
  const qs = new URLSearchParams({ ...NS, jobId: String(jobId) });
  const h = await e.app.request(`/openapi/v1/job/delete?${qs}`, { method: "HEAD" });
  expect(h.status).toBe(405);
  expect((await sx(e, "/openapi/job/v1/get", { ...NS, jobId }, "get")).status).toBe(200);
});

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

test("empty parameters and instanceParameters form values count as absent", async () => {
  const e = await env();
  const jobId = await create(e, { jobType: "shell", name: "p", content: 'echo "argc=$# var=${SCHEDULERX_INSTANCE_PARAMETERS-unset}"', timeType: 100, parameters: "" });
  expect((await sx(e, "/openapi/job/v1/get", { ...NS, jobId }, "get")).body.data.parameters).toBeNull();
  expect((await execute(e, jobId, "")).result).toContain("argc=0 var=unset");
});
